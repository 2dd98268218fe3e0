/**
 * The demo page's worker: runs the toys of src/demo/toys.ts off the main thread with the
 * chosen k-means backend. No logic of its own; the page terminates it to cancel a run.
 */
import * as Comlink from 'comlink';
import type { HierarchyProgress } from '../core/hierarchy';
import type { KMeansBackend } from '../core/types';
import { GpuBackend } from '../gpu/gpu-backend';
import { fig3Points, cpuBackend, runFig3Variant, runRings, uniformBound } from '../demo/toys';
import type { DemoBackendChoice, DemoProgress, DemoWorkerApi } from '../demo/worker-api';

interface Resolved {
  readonly backend: KMeansBackend;
  readonly note: string;
}

let cached: { choice: DemoBackendChoice; resolved: Promise<Resolved> } | null = null;

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

function backendFor(choice: DemoBackendChoice): Promise<Resolved> {
  if (cached?.choice !== choice) cached = { choice, resolved: resolve(choice) };
  return cached.resolved;
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

const api: DemoWorkerApi = {
  async fig3(request, onResult, onProgress) {
    const { backend } = await backendFor(request.backend);
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
  },
  async rings(request, onProgress) {
    const { backend } = await backendFor(request.backend);
    return runRings({
      seed: request.seed,
      iterations: request.iterations,
      steps: request.steps,
      backend,
      onProgress: throttled(onProgress),
    });
  },
  async bound(seed) {
    return uniformBound(seed);
  },
  async backend(choice) {
    const { backend, note } = await backendFor(choice);
    return { name: backend.name, note };
  },
};

Comlink.expose(api);
