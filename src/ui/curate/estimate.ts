/**
 * The time estimate shown before a run. The data layer's API gives settings but no cost, so this
 * counts the work the way algorithm.md section 7 does and divides by throughputs measured on a
 * 2-core CPU-only machine (the slowest kind this app targets; a real GPU is far faster). It is a
 * guide ("about 2 minutes"), never a promise.
 */
import type { RunSettings } from '../../pipeline/api';

/**
 * Images per second of the bundled MobileNetV2 at 224 px, onnxruntime-web wasm, one thread,
 * Chromium: 10-12 measured (platform notes); the low end is used.
 */
export const EMBED_IMAGES_PER_SECOND = 10;
/** Plain typed-array JS k-means measured 1.3 GFLOP/s (platform notes, W1/W2 workloads). */
export const CLUSTER_FLOPS_PER_SECOND = 1.3e9;

/** Flops of one full k-means run: k-means++ (~2 + ln k scored candidates a centre) + Lloyd. */
function kmeansFlops(n: number, k: number, d: number, iterations: number): number {
  const kk = Math.min(k, n);
  return 2 * n * kk * d * (iterations + 1 + 2 + Math.log(Math.max(kk, 1)));
}

/** Flops of the whole hierarchy: per level one run on all input, plus m refits when r > 1. */
export function clusterFlops(settings: RunSettings, n: number, d: number): number {
  let input = n;
  let total = 0;
  settings.k.forEach((k, t) => {
    const r = settings.r[t] ?? 1;
    const kk = Math.min(k, input);
    total += kmeansFlops(input, kk, d, settings.iterations);
    if (r > 1) {
      const sample = Math.min(input, kk * r);
      // each step: k-means on the sample, then reassign every input row
      total +=
        settings.resamplingSteps *
        (kmeansFlops(sample, kk, d, settings.iterations) + 2 * input * kk * d);
    }
    input = kk;
  });
  return total;
}

export interface RunEstimate {
  /** seconds to embed (0 for precomputed embeddings) */
  readonly embed: number;
  readonly cluster: number;
  readonly total: number;
}

export function estimateRun(
  settings: RunSettings,
  n: number,
  d: number,
  precomputed: boolean,
): RunEstimate {
  const embed = precomputed ? 0 : n / EMBED_IMAGES_PER_SECOND;
  const cluster = clusterFlops(settings, n, d) / CLUSTER_FLOPS_PER_SECOND;
  return { embed, cluster, total: embed + cluster };
}
