/**
 * The time estimate shown before a run: the core's cost of the edited settings (plan.ts, the
 * flop count of algorithm.md section 7) at the k-means throughput measured for the suggestion,
 * or the core's default where none was measured, plus the embedding time at a measured rate.
 * A guide ("about 2 minutes"), never a promise.
 */
import { hierarchyConfig, planSeconds, type KMeansThroughput } from '../../core';
import type { RunSettings } from '../../pipeline/contract';

/**
 * Images per second of the bundled MobileNetV2 at 224 px, onnxruntime-web wasm, one thread,
 * Chromium: 10-12 measured on a 2-core CPU-only machine (platform notes); the low end is used.
 */
export const EMBED_IMAGES_PER_SECOND = 10;

/**
 * Seconds an embedding run pays before images flow: starting the lane workers, compiling ORT's
 * wasm, loading the model and its first batch. bench:embed firstBatchSeconds for the default
 * layout: 10.5 s with a batch of 8 at 3.7 img/s (so ~8 s before it) on the 2-core machine at
 * load 7-9; the old estimate left it out, which is why short runs took 2-7x their estimate.
 */
export const EMBED_SETUP_SECONDS = 8;

/**
 * Speed-up of one single-threaded session per core (up to 4, src/embed/provider.ts) over one
 * session, per extra lane: bench:embed measured 1.53-1.57x for 2 lanes at batch 4 and 16
 * (1.06x at batch 8 in the same noisy run), so ~0.5 of a lane's speed per extra lane.
 */
const LANE_GAIN = 0.5;

/** Embedding seconds for `n` images: the fixed cost, then the per-image rate of every lane. */
export function estimateEmbedSeconds(
  n: number,
  cores = globalThis.navigator?.hardwareConcurrency ?? 1,
): number {
  if (n <= 0) return 0;
  const lanes = Math.max(1, Math.min(4, cores));
  return EMBED_SETUP_SECONDS + n / (EMBED_IMAGES_PER_SECOND * (1 + LANE_GAIN * (lanes - 1)));
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
  /** SuggestedSettings.throughput: measured on this device, when it was */
  throughput?: KMeansThroughput,
): RunEstimate {
  const embed = precomputed ? 0 : estimateEmbedSeconds(n);
  const cluster = planSeconds(n, d, hierarchyConfig(settings), throughput);
  return { embed, cluster, total: embed + cluster };
}
