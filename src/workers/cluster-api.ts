/**
 * The typed Comlink surface of the cluster worker (cluster.worker.ts). The worker runs the
 * core's hierarchicalKMeans on the WebGPU or the CPU backend, streams progress, every finished
 * step and level to the caller, and can be cancelled; the page's main thread never computes.
 *
 * Usage from a page:
 *   const { api, dispose } = createClusterWorker();
 *   const probe = await api.probe();          // which backend 'auto' picks, and why
 *   await api.runHierarchy(Comlink.transfer(x, [x.buffer]), rows, cols, config,
 *                          { backend: 'auto' }, Comlink.proxy({ onProgress, onLevel, ... }));
 */
import * as Comlink from 'comlink';
import type {
  HierarchyConfig,
  HierarchyProgress,
  HierarchyResume,
  Level,
  Matrix,
} from '../core/index.ts';
import type { BackendChoice } from '../core/settings.ts';

export type { BackendChoice };

/** Which backend `auto` picks on this device, and why (shown to the person, who may override). */
export interface ProbeResult {
  readonly backend: 'webgpu' | 'cpu';
  /** one sentence for people, e.g. "WebGPU runs on a software fallback adapter ..." */
  readonly reason: string;
  /** the WebGPU adapter in one line, when there is one */
  readonly adapter?: string;
  readonly isFallbackAdapter?: boolean;
  /** measured by the short probe (2*N*K*D / seconds), when it ran */
  readonly gpuFlopsPerSecond?: number;
  readonly cpuFlopsPerSecond?: number;
  /** the CPU kernel the CPU backend uses, e.g. "wasm-relaxed-x2" or "js" */
  readonly cpuKernel: string;
}

export interface RunOptions {
  readonly backend: BackendChoice;
  /** saved work to continue from (may also come as `config.resume`) */
  readonly resume?: HierarchyResume;
}

/** Callbacks the worker calls back on (pass them wrapped in Comlink.proxy). */
export interface ClusterCallbacks {
  onProgress?(p: HierarchyProgress): void;
  /** after every step of a level; awaited before the worker goes on (checkpoint here) */
  onStep?(level: number, step: number, centroids: Matrix): void | Promise<void>;
  /** when a level is complete; awaited before the worker goes on */
  onLevel?(index: number, level: Level): void | Promise<void>;
  /** one line for people: the backend picked and why, fallbacks, warnings */
  onNotice?(message: string): void;
}

export interface RunOutcome {
  /** what ran, for the run record, e.g. "webgpu (google swiftshader (fallback adapter))" */
  readonly backend: string;
  /** why that backend */
  readonly reason: string;
  /** true when the run began on WebGPU and finished on the CPU (device lost, GPU error) */
  readonly fellBackToCpu: boolean;
  /** number of levels the run holds at the end (resumed ones included) */
  readonly levels: number;
}

export interface ClusterWorkerApi {
  probe(): Promise<ProbeResult>;
  runHierarchy(
    x: Float32Array,
    rows: number,
    cols: number,
    config: HierarchyConfig & { readonly resume?: HierarchyResume },
    options: RunOptions,
    callbacks: ClusterCallbacks,
  ): Promise<RunOutcome>;
  /** stops the current run; its runHierarchy rejects with an AbortError */
  cancel(): void;
}

/** Starts the cluster worker and wraps it with Comlink. */
export function createClusterWorker(): {
  api: Comlink.Remote<ClusterWorkerApi>;
  worker: Worker;
  dispose(): void;
} {
  const worker = new Worker(new URL('./cluster.worker.ts', import.meta.url), {
    type: 'module',
    name: 'strata-cluster',
  });
  const api = Comlink.wrap<ClusterWorkerApi>(worker);
  return {
    api,
    worker,
    dispose() {
      api[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}
