/**
 * The demo worker's contract (Comlink): src/workers/demo.worker.ts implements it, the demo page
 * (src/ui/demo) calls it through `Comlink.wrap<DemoWorkerApi>` and passes callbacks through
 * `Comlink.proxy`. The worker only runs src/demo/toys.ts off the main thread.
 */
import type { BackendChoice } from '../core/settings';
import type { Fig3Result, Fig3Variant, RingsResult } from './toys';

/** Which k-means backend the demo uses: auto = WebGPU on a real GPU, else the CPU. */
export type DemoBackendChoice = BackendChoice;

export interface DemoProgress {
  /** 0..1 over the whole run */
  readonly fraction: number;
  /** e.g. "level 1 of 3, refit 4 of 10" */
  readonly message: string;
}

export interface Fig3Request {
  readonly seed: number;
  readonly iterations: number;
  /** run in this order, each result streamed as soon as it is ready */
  readonly variants: readonly Fig3Variant[];
  readonly backend: DemoBackendChoice;
}

export interface RingsRequest {
  readonly seed: number;
  readonly iterations: number;
  readonly steps: number;
  readonly backend: DemoBackendChoice;
}

export interface DemoWorkerApi {
  /** Runs the variants one after another; resolves when all are done. */
  fig3(
    request: Fig3Request,
    onResult: (result: Fig3Result) => void,
    onProgress: (id: Fig3Variant['id'], progress: DemoProgress) => void,
  ): Promise<void>;
  rings(request: RingsRequest, onProgress: (progress: DemoProgress) => void): Promise<RingsResult>;
  /** KL of 300 uniform points, mean and std over 10 draws: the chart's lower bound. */
  bound(seed: number): Promise<{ mean: number; std: number }>;
  /** The backend `choice` resolves to here, and why, as a phrase without a final period. */
  backend(choice: DemoBackendChoice): Promise<{ name: string; note: string }>;
}
