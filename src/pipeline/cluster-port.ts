/**
 * How the cluster stage talks to the cluster worker. The worker runs the core's
 * hierarchicalKMeans; this port hands it the matrix, the configuration and saved work to resume
 * from, and receives progress, every finished step and level (which the stage stores before the
 * worker goes on), and notices.
 */
import * as Comlink from 'comlink';
import type { HierarchyConfig, HierarchyProgress, HierarchyResume, Level, Matrix } from '../core';
import type { BackendChoice } from './api';
import type { WorkerPool } from './workers';

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
}

export interface ClusterPort {
  run(
    x: Matrix,
    config: HierarchyConfig,
    backend: BackendChoice,
    resume: HierarchyResume | undefined,
    hooks: ClusterHooks,
  ): Promise<ClusterOutcome>;
  cancel(): void;
}

/** The cluster worker's Comlink surface as this port uses it. */
interface ClusterRemote {
  runHierarchy(
    x: Float32Array,
    rows: number,
    cols: number,
    config: HierarchyConfig & { resume?: HierarchyResume },
    options: { backend: BackendChoice },
    callbacks: {
      onProgress(p: HierarchyProgress): void;
      onStep(level: number, step: number, centroids: Matrix): Promise<void>;
      onLevel(index: number, level: Level): Promise<void>;
      onNotice(message: string): void;
    },
  ): Promise<{ backend: string }>;
  cancel(): void;
}

export function workerClusterPort(pool: WorkerPool): ClusterPort {
  return {
    async run(x, config, backend, resume, hooks) {
      const remote = pool.cluster<ClusterRemote>();
      const result = await pool.guard(
        remote.runHierarchy(
          Comlink.transfer(x.data, [x.data.buffer]),
          x.rows,
          x.cols,
          resume ? { ...config, resume } : config,
          { backend },
          Comlink.proxy(hooks),
        ),
      );
      return { backend: result.backend };
    },
    cancel() {
      void pool.cluster<ClusterRemote>().cancel();
    },
  };
}
