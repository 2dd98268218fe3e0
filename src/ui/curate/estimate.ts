/**
 * The time estimate shown before a run. The data layer's API gives settings but no cost for
 * edited settings, so this uses the core's flop count (algorithm.md section 7) with the core's
 * default throughput, plus the embedding time at a measured rate. A guide ("about 2 minutes"),
 * never a promise.
 */
import { DEFAULT_FLOPS_PER_SECOND, estimateFlops } from '../../core';
import type { RunSettings } from '../../pipeline/contract';
import { hierarchyConfig } from '../../pipeline/settings';

/**
 * Images per second of the bundled MobileNetV2 at 224 px, onnxruntime-web wasm, one thread,
 * Chromium: 10-12 measured on a 2-core CPU-only machine (platform notes); the low end is used.
 */
export const EMBED_IMAGES_PER_SECOND = 10;

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
  const cluster = estimateFlops(n, d, hierarchyConfig(settings)) / DEFAULT_FLOPS_PER_SECOND;
  return { embed, cluster, total: embed + cluster };
}
