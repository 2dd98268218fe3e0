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
  const embed = precomputed ? 0 : n / EMBED_IMAGES_PER_SECOND;
  const cluster = planSeconds(n, d, hierarchyConfig(settings), throughput);
  return { embed, cluster, total: embed + cluster };
}
