/**
 * How the cluster stage talks to the cluster worker. The worker runs the core's
 * hierarchicalKMeans (and the near-duplicate search); this port hands it the matrix, the configuration and saved work to resume
 * from, and receives progress, every finished step and level (which the stage stores before the
 * worker goes on), and notices.
 */
import * as Comlink from 'comlink';
import type {
  DedupOptions,
  DedupResult,
  HierarchyConfig,
  HierarchyProgress,
  HierarchyResume,
  Level,
  Matrix,
} from '../core';
import type { BackendChoice } from './contract';
import type { WorkerPool } from './workers';
import type { BackendProbe } from '../cluster/service';

export interface ClusterHooks {
  onProgress(p: HierarchyProgress): void;
  /** 0-based level; awaited by the worker before it continues */
  onStep(level: number, step: number, centroids: Matrix): Promise<void>;
  onLevel(index: number, level: Level): Promise<void>;
  onNotice(message: string): void;
}

export interface ClusterOutcome {
  /** what actually ran, for the run record, e.g. "webgpu (SwiftShader)" or "cpu-js" */
  backend: string;
  /** why that backend */
  reason: string;
  /** the run began on WebGPU and finished on the CPU */
  fellBackToCpu: boolean;
}

export interface ClusterPort {
  run(
    x: Matrix,
    config: HierarchyConfig,
    backend: BackendChoice,
    resume: HierarchyResume | undefined,
    hooks: ClusterHooks,
  ): Promise<ClusterOutcome>;
  /**
   * Near-duplicate groups of the rows, found in the worker (its k-means does the coarse pass).
   * The rows' buffer is handed over to the worker: pass a copy you no longer need.
   */
  findDuplicates(
    x: Matrix,
    opts: DedupOptions,
    backend: BackendChoice,
  ): Promise<DedupResult & { readonly backend: string }>;
  cancel(): void;
  /** which backend 'auto' picks here and the measured throughput */
  probe(): Promise<BackendProbe>;
}

export function workerClusterPort(pool: WorkerPool): ClusterPort {
  return {
    async run(x, config, backend, resume, hooks) {
      const remote = pool.cluster();
      const result = await pool.guard(
        remote.runHierarchy(
          Comlink.transfer(x.data, [x.data.buffer]),
          x.rows,
          x.cols,
          config,
          resume ? { backend, resume } : { backend },
          Comlink.proxy(hooks),
        ),
        'cluster',
      );
      return {
        backend: result.backend,
        reason: result.reason,
        fellBackToCpu: result.fellBackToCpu,
      };
    },
    findDuplicates(x, opts, backend) {
      return pool.guard(
        pool
          .cluster()
          .findDuplicates(Comlink.transfer(x.data, [x.data.buffer]), x.rows, x.cols, opts, backend),
        'cluster',
      );
    },
    cancel() {
      void pool.cluster().cancel();
    },
    probe() {
      return pool.guard(pool.cluster().probe(), 'cluster');
    },
  };
}
