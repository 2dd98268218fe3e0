/**
 * The demo service: what the demo page's worker (src/workers/demo.worker.ts) exposes over
 * Comlink, as a plain class: it runs the toys of toys.ts with the chosen k-means backend and
 * streams progress. The demo page (src/ui/demo) types the worker as `Comlink.Remote<DemoService>`
 * and passes callbacks through `Comlink.proxy`; it terminates the worker to cancel a run.
 */
import type { HierarchyProgress } from '../core/hierarchy';
import type { KMeansBackend } from '../core/types';
import { GpuBackend } from '../gpu/gpu-backend';
import type { BackendChoice } from '../core/settings';
import {
  fig3Points,
  cpuBackend,
  runFig3Variant,
  runRings,
  uniformBound,
  type Fig3Result,
  type Fig3Variant,
  type RingsResult,
} from './toys';

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

interface Resolved {
  readonly backend: KMeansBackend;
  readonly note: string;
}

/**
 * auto: WebGPU on a hardware adapter, the CPU otherwise. A software (fallback) adapter such as
 * SwiftShader ran the toy's kernels 5-9x slower than JavaScript here (platform notes), so auto
 * does not pick it; choosing "webgpu" explicitly still uses it.
 */
async function resolve(choice: DemoBackendChoice): Promise<Resolved> {
  if (choice === 'cpu') return { backend: cpuBackend(), note: 'the CPU (JavaScript), as chosen' };
  try {
    const gpu = await GpuBackend.create({ rejectFallback: choice === 'auto' });
    return { backend: gpu, note: `WebGPU (${gpu.adapter})` };
  } catch (e) {
    const why = (e instanceof Error ? e.message : String(e)).replace(/\.$/, '');
    return { backend: cpuBackend(), note: `the CPU (JavaScript); WebGPU was not used: ${why}` };
  }
}

/** At most one progress message per 100 ms: enough for a smooth bar, cheap to post. */
const PROGRESS_INTERVAL_MS = 100;

function throttled(send: (p: DemoProgress) => void): (p: HierarchyProgress) => void {
  let last = -Infinity;
  return (p) => {
    const now = performance.now();
    if (now - last < PROGRESS_INTERVAL_MS) return;
    last = now;
    send(describe(p));
  };
}

function describe(p: HierarchyProgress): DemoProgress {
  const level = `level ${p.level + 1} of ${p.levels}`;
  const step = p.step > 0 ? `, refit ${p.step} of ${p.steps}` : '';
  return { fraction: p.fraction, message: `${level}${step}` };
}

export class DemoService {
  /** the last choice's backend, kept while the choice stays the same */
  private cached: { choice: DemoBackendChoice; resolved: Promise<Resolved> } | null = null;

  private backendFor(choice: DemoBackendChoice): Promise<Resolved> {
    if (this.cached?.choice !== choice) this.cached = { choice, resolved: resolve(choice) };
    return this.cached.resolved;
  }

  /** Runs the variants one after another; resolves when all are done. */
  async fig3(
    request: Fig3Request,
    onResult: (result: Fig3Result) => void,
    onProgress: (id: Fig3Variant['id'], progress: DemoProgress) => void,
  ): Promise<void> {
    const { backend } = await this.backendFor(request.backend);
    const x = fig3Points(request.seed);
    for (const variant of request.variants) {
      const result = await runFig3Variant(x, variant, {
        seed: request.seed,
        iterations: request.iterations,
        backend,
        onProgress: throttled((p) => onProgress(variant.id, p)),
      });
      onResult(result);
    }
  }

  async rings(
    request: RingsRequest,
    onProgress: (progress: DemoProgress) => void,
  ): Promise<RingsResult> {
    const { backend } = await this.backendFor(request.backend);
    return runRings({
      seed: request.seed,
      iterations: request.iterations,
      steps: request.steps,
      backend,
      onProgress: throttled(onProgress),
    });
  }

  /** KL of 300 uniform points, mean and std over 10 draws: the chart's lower bound. */
  async bound(seed: number): Promise<{ mean: number; std: number }> {
    return uniformBound(seed);
  }

  /** The backend `choice` resolves to here, and why, as a phrase without a final period. */
  async backend(choice: DemoBackendChoice): Promise<{ name: string; note: string }> {
    const { backend, note } = await this.backendFor(choice);
    return { name: backend.name, note };
  }
}
