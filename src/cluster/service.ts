/**
 * The cluster service: what the cluster worker (src/workers/cluster.worker.ts) exposes over
 * Comlink, as a plain class, so it can be tested without a worker: pick a k-means backend, GPU or
 * CPU (probe), run the hierarchy on it, stream progress, and finish on the CPU when the GPU goes
 * away mid-run. Callers type the worker as `Comlink.Remote<ClusterRunner>`; the types of its
 * arguments and results are declared here.
 *
 * Backend choice for 'auto':
 *  - no WebGPU, no adapter, or a device that cannot be had -> CPU (the reason says which);
 *  - a software fallback adapter (SwiftShader) -> CPU: on this project's 2-core machine every
 *    WGSL kernel on SwiftShader measured slower than the CPU kernels (see src/gpu/tuning.ts);
 *  - otherwise a short probe (one assignment pass of PROBE_N x PROBE_D onto PROBE_K centroids on
 *    each backend, after a warm-up) -> the faster one.
 * The person can force either; forcing 'webgpu' where there is none runs on the CPU with a notice.
 *
 * The same service finds near-duplicates (findDuplicates): the coarse k-means of that pass runs on
 * the backend the same setting picks, so nothing heavy runs on the page.
 *
 * Device loss or a GPU error mid-run: the levels (and the last step) already finished are kept and
 * handed to the hierarchy as `resume`; the CPU backend finishes the run, and a notice says so.
 */
import { createBestCpuKernel, disposeCpuKernel } from '../cpu/browser.ts';
import {
  backendCoarseAssign,
  findDuplicates,
  type DedupOptions,
  type DedupResult,
} from '../core/dedup.ts';
import { CancelledError, InputError } from '../core/errors.ts';
import { hierarchicalKMeans } from '../core/hierarchy.ts';
import type {
  HierarchyConfig,
  HierarchyProgress,
  HierarchyResume,
  Level,
} from '../core/hierarchy.ts';
import { CpuBackend } from '../core/kmeans.ts';
import { FULL_PROBE, probeThroughput, type KMeansThroughput } from '../core/kmeans-throughput.ts';
import { assertFinite } from '../core/matrix.ts';
import { Rng } from '../core/rng.ts';
import type { BackendChoice } from '../core/settings.ts';
import type { CpuKernel, KMeansBackend, Matrix } from '../core/types.ts';
import { acquireGpu } from '../gpu/device.ts';
import { GpuBackend, GpuDeviceLostError, GpuValidationError } from '../gpu/gpu-backend.ts';

/** Which backend `auto` picks on this device, and why (shown to the person, who may override). */
export interface BackendProbe {
  readonly backend: 'webgpu' | 'cpu';
  /** one sentence for people, e.g. "WebGPU runs on a software fallback adapter ..." */
  readonly reason: string;
  /** the WebGPU adapter in one line, when there is one */
  readonly adapter?: string;
  readonly isFallbackAdapter?: boolean;
  /** measured by the short probe (2*N*K*D / seconds), when it ran */
  readonly gpuFlopsPerSecond?: number;
  readonly cpuFlopsPerSecond?: number;
  /**
   * the CPU kernel's assignment and k-means++ rates from the core's full probe (the command
   * line's), measured whatever backend is picked: the plan resolver's throughput input
   */
  readonly cpuThroughput?: KMeansThroughput;
  /** the CPU kernel the CPU backend uses, e.g. "wasm-relaxed-x2" or "js" */
  readonly cpuKernel: string;
}

export interface RunOptions {
  readonly backend: BackendChoice;
  /** saved work to continue from (may also come as `config.resume`) */
  readonly resume?: HierarchyResume;
}

/** Callbacks the service calls back on (across a worker, pass them wrapped in Comlink.proxy). */
export interface ClusterCallbacks {
  onProgress?(p: HierarchyProgress): void;
  /** after every step of a level; awaited before the run goes on (checkpoint here) */
  onStep?(level: number, step: number, centroids: Matrix): void | Promise<void>;
  /** when a level is complete; awaited before the run goes on */
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

/**
 * Probe size: 2 * 8192 * 128 * 64 = 134 MFLOP per pass, ~30 ms for the plain-JS kernel
 * (4.5 GFLOP/s) and well under that on any real GPU: long enough to time, short enough to run
 * before every session.
 */
const PROBE_N = 8192;
const PROBE_D = 64;
const PROBE_K = 128;

export interface ClusterRunnerOptions {
  /** how to get the GPU backend (tests pass one whose device they control) */
  readonly makeGpu?: () => Promise<GpuBackend>;
}

export class ClusterRunner {
  private readonly makeGpu: () => Promise<GpuBackend>;
  private cpuKernel?: Promise<{ kernel: CpuKernel; reason: string }>;
  private gpu?: Promise<GpuBackend>;
  private probed?: Promise<BackendProbe>;
  private controller?: AbortController;

  constructor(opts: ClusterRunnerOptions = {}) {
    this.makeGpu = opts.makeGpu ?? (() => GpuBackend.create());
  }

  /** The CPU backend (the WebAssembly kernel where it loads, else plain JS). */
  private async cpuBackend(): Promise<{ backend: CpuBackend; kernelReason: string }> {
    this.cpuKernel ??= createBestCpuKernel();
    const k = await this.cpuKernel;
    return { backend: new CpuBackend(k.kernel), kernelReason: k.reason };
  }

  /** A GPU backend, or the reason there is none (never throws for a missing GPU). */
  private async gpuBackend(): Promise<GpuBackend | string> {
    if (!this.gpu) {
      this.gpu = this.makeGpu();
      // A failed attempt is retried next time (a driver may come back).
      this.gpu.catch(() => (this.gpu = undefined));
    }
    try {
      const b = await this.gpu;
      if (b.gpu.isLost()) {
        this.gpu = undefined;
        return this.gpuBackend();
      }
      return b;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }

  probe(): Promise<BackendProbe> {
    this.probed ??= this.runProbe();
    return this.probed;
  }

  private async runProbe(): Promise<BackendProbe> {
    const probe = await this.probeBackends();
    const cpu = await this.cpuBackend();
    // The core's full probe, as the command line runs it, on random rows of the probe's width.
    const rng = new Rng(0x7a7e);
    const rows = FULL_PROBE.init?.rows ?? FULL_PROBE.assign.rows;
    const x: Matrix = {
      data: Float32Array.from({ length: rows * PROBE_D }, () => rng.normal()),
      rows,
      cols: PROBE_D,
    };
    const cpuThroughput = await probeThroughput(cpu.backend.kernel, x).catch(() => undefined);
    return cpuThroughput ? { ...probe, cpuThroughput } : probe;
  }

  private async probeBackends(): Promise<BackendProbe> {
    const cpu = await this.cpuBackend();
    const cpuKernel = cpu.backend.kernel.name;
    const got = await acquireGpu();
    if (!got.ok) return { backend: 'cpu', reason: got.message, cpuKernel };
    const adapter = got.gpu.label;
    const isFallbackAdapter = got.gpu.isFallback;
    // acquireGpu gave a probe-only device; the backend keeps its own.
    got.gpu.device.destroy();
    if (isFallbackAdapter) {
      return {
        backend: 'cpu',
        reason: `No graphics card is available to the browser: WebGPU has only a software fallback, slower than the processor, so clustering runs on this device's processor.`,
        adapter,
        isFallbackAdapter,
        cpuKernel,
      };
    }
    const gpu = await this.gpuBackend();
    if (typeof gpu === 'string') {
      return { backend: 'cpu', reason: gpu, adapter, isFallbackAdapter, cpuKernel };
    }
    const rng = new Rng(0x5eed);
    const x: Matrix = {
      data: Float32Array.from({ length: PROBE_N * PROBE_D }, () => rng.normal()),
      rows: PROBE_N,
      cols: PROBE_D,
    };
    const c: Matrix = {
      data: x.data.slice(0, PROBE_K * PROBE_D),
      rows: PROBE_K,
      cols: PROBE_D,
    };
    const flops = 2 * PROBE_N * PROBE_K * PROBE_D;
    const time = async (b: KMeansBackend): Promise<number> => {
      await b.assign(x, c); // warm-up: compile, upload, caches
      const t0 = performance.now();
      await b.assign(x, c);
      return flops / Math.max(1e-6, (performance.now() - t0) / 1000);
    };
    let gpuFlopsPerSecond: number;
    try {
      gpuFlopsPerSecond = await time(gpu);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return {
        backend: 'cpu',
        reason: `The WebGPU probe failed (${why}); clustering runs on the CPU.`,
        adapter,
        isFallbackAdapter,
        cpuKernel,
      };
    }
    // The CPU side through the core's probe (the command line's too), on the same rows.
    const cpuFlopsPerSecond = (
      await probeThroughput(cpu.backend.kernel, x, {
        assign: { rows: PROBE_N, k: PROBE_K },
        init: null,
        minMillis: 0,
      })
    ).assign;
    const g = (v: number) => `${(v / 1e9).toFixed(1)} GFLOP/s`;
    const faster = gpuFlopsPerSecond > cpuFlopsPerSecond;
    return {
      backend: faster ? 'webgpu' : 'cpu',
      reason: faster
        ? `WebGPU (${adapter}) measured ${g(gpuFlopsPerSecond)} against ${g(cpuFlopsPerSecond)} on the CPU.`
        : `The CPU kernel measured ${g(cpuFlopsPerSecond)} against ${g(gpuFlopsPerSecond)} for WebGPU (${adapter}); clustering runs on the CPU.`,
      adapter,
      isFallbackAdapter,
      gpuFlopsPerSecond,
      cpuFlopsPerSecond,
      cpuKernel,
    };
  }

  /** The backend for a setting, and why (a missing GPU falls back to the CPU, with the reason). */
  private async pickBackend(
    choice: BackendChoice,
  ): Promise<{ backend: KMeansBackend; reason: string }> {
    if (choice === 'cpu') {
      const cpu = await this.cpuBackend();
      return { backend: cpu.backend, reason: `CPU chosen in the settings (${cpu.kernelReason}).` };
    }
    const probe = choice === 'auto' ? await this.probe() : undefined;
    if (probe && probe.backend === 'cpu') {
      return { backend: (await this.cpuBackend()).backend, reason: probe.reason };
    }
    const gpu = await this.gpuBackend();
    if (typeof gpu === 'string') {
      return {
        backend: (await this.cpuBackend()).backend,
        reason: `WebGPU was requested but is not available: ${gpu}`,
      };
    }
    return {
      backend: gpu,
      reason: probe ? probe.reason : `WebGPU chosen in the settings (${gpu.adapter}).`,
    };
  }

  /**
   * Near-duplicate groups of the rows (core findDuplicates, which centres and L2-normalises
   * them), with the coarse k-means on the backend the setting picks; a GPU that fails midway
   * hands the whole pass to the CPU. Cancel with cancel(), like a hierarchy run.
   */
  async findDuplicates(
    x: Float32Array,
    rows: number,
    cols: number,
    opts: DedupOptions,
    backendChoice: BackendChoice,
  ): Promise<DedupResult & { readonly backend: string }> {
    if (!(x instanceof Float32Array)) throw new InputError('the rows must be a Float32Array');
    assertFinite({ data: x, rows, cols }, 'embedding');
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    const signal = controller.signal;
    try {
      const { backend } = await this.pickBackend(backendChoice);
      const run = (b: KMeansBackend) =>
        findDuplicates(
          x,
          rows,
          cols,
          opts,
          backendCoarseAssign(b, undefined, undefined, signal),
          signal,
        );
      try {
        return { ...(await run(backend)), backend: backend.name };
      } catch (err) {
        if (signal.aborted) throw new CancelledError('duplicate search was cancelled');
        if (!(err instanceof GpuDeviceLostError || err instanceof GpuValidationError)) throw err;
        this.gpu = undefined;
        const cpu = (await this.cpuBackend()).backend;
        return { ...(await run(cpu)), backend: cpu.name };
      }
    } catch (err) {
      if (signal.aborted) throw new CancelledError('duplicate search was cancelled');
      throw err;
    } finally {
      if (this.controller === controller) this.controller = undefined;
    }
  }

  /** Stops the current run; its runHierarchy rejects with a CancelledError. */
  cancel(): void {
    this.controller?.abort();
  }

  async runHierarchy(
    x: Float32Array,
    rows: number,
    cols: number,
    config: HierarchyConfig & { readonly resume?: HierarchyResume },
    options: RunOptions,
    callbacks: ClusterCallbacks,
  ): Promise<RunOutcome> {
    if (!(x instanceof Float32Array)) throw new InputError('the rows must be a Float32Array');
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) {
      throw new InputError(`a matrix needs at least one row and one column, got ${rows} x ${cols}`);
    }
    if (x.length !== rows * cols) {
      throw new InputError(`${rows} x ${cols} rows need ${rows * cols} values, got ${x.length}`);
    }
    const matrix: Matrix = { data: x, rows, cols };
    assertFinite(matrix, 'embedding');
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    const signal = controller.signal;
    const notice = (m: string): void => void callbacks.onNotice?.(m);

    const { backend: picked, reason } = await this.pickBackend(options.backend);
    let backend = picked;
    const describe = (b: KMeansBackend): string =>
      b instanceof GpuBackend ? `webgpu (${b.adapter})` : b.name;
    notice(`Clustering on ${describe(backend)}: ${reason}`);

    // What is finished, so a fallback resumes instead of starting over.
    const resume = options.resume ?? config.resume;
    const levels: Level[] = resume ? resume.levels.slice() : [];
    let lastStep = resume?.partial;
    const hooks = {
      signal,
      onProgress: (p: Parameters<NonNullable<ClusterCallbacks['onProgress']>>[0]) =>
        void callbacks.onProgress?.(p),
      onWarning: notice,
      onStep: async (level: number, step: number, centroids: Matrix) => {
        lastStep = { level, step, centroids };
        await callbacks.onStep?.(level, step, centroids);
      },
      onLevel: async (index: number, level: Level) => {
        levels[index] = level;
        await callbacks.onLevel?.(index, level);
      },
    };
    const { resume: _drop, ...plainConfig } = config;
    let fellBackToCpu = false;
    try {
      await hierarchicalKMeans(matrix, plainConfig, backend, { ...hooks, resume });
    } catch (err) {
      if (signal.aborted) throw new CancelledError('clustering was cancelled');
      if (!(err instanceof GpuDeviceLostError || err instanceof GpuValidationError)) throw err;
      if (!(backend instanceof GpuBackend)) throw err;
      // Finish on the CPU from what is done; drop the broken GPU backend for later runs.
      this.gpu = undefined;
      fellBackToCpu = true;
      const cpu = (await this.cpuBackend()).backend;
      const done = levels.length;
      const partial = lastStep && lastStep.level === done ? lastStep : undefined;
      notice(
        `The GPU stopped (${err.message}); finishing on the CPU (${cpu.name}) from ${done} finished level(s)${partial ? ` and step ${partial.step} of level ${done + 1}` : ''}.`,
      );
      backend = cpu;
      await hierarchicalKMeans(matrix, plainConfig, cpu, {
        ...hooks,
        resume: { levels: levels.slice(), partial },
      });
    } finally {
      if (this.controller === controller) this.controller = undefined;
    }
    return { backend: describe(backend), reason, fellBackToCpu, levels: levels.length };
  }

  /** Frees GPU buffers and the CPU kernel's workers. */
  async dispose(): Promise<void> {
    const gpu = this.gpu;
    this.gpu = undefined;
    if (gpu) (await gpu.catch(() => undefined))?.dispose();
    if (this.cpuKernel) disposeCpuKernel((await this.cpuKernel).kernel);
    this.cpuKernel = undefined;
  }
}
