/**
 * The WebGPU implementation of KMeansBackend: the same greedy k-means++ and Lloyd as the CPU
 * backend (src/core/kmeans.ts), with the heavy passes in WGSL. This class checks arguments,
 * serialises calls and gives each call a buffer scope; the work is in seeding.ts (k-means++),
 * lloyd.ts (Lloyd) and the passes under passes/, one per WGSL kernel family.
 *
 * - Rows are uploaded in chunks of at most one storage binding (<= 128 MiB) and every row kernel
 *   runs once per chunk, so N is limited by GPU memory, not by binding sizes.
 * - Every run sits inside validation and out-of-memory error scopes: a kernel that fails
 *   validation throws (GpuValidationError) instead of returning garbage. A lost device throws
 *   GpuDeviceLostError; the worker then finishes on the CPU.
 * - Every buffer a call makes, uniforms included, is destroyed when the call ends.
 *
 * Calls are serialised (error scopes are per device, not per call). Uploaded matrices are cached
 * by identity of their Float32Array (the hierarchy reassigns the same input after every
 * resampling step): do not modify a matrix's data while the backend may hold it.
 */
import { throwIfAborted } from '../core/errors.ts';
import { Rng } from '../core/rng.ts';
import { seedingInput } from '../core/seeding.ts';
import type {
  Assignment,
  KMeansBackend,
  KMeansOptions,
  KMeansResult,
  Matrix,
} from '../core/types.ts';
import { paddedRows, unpaddedRows } from './buffers.ts';
import type { CallScope } from './call-scope.ts';
import { type GpuKernels, compileKernels } from './compile.ts';
import { type AcquireOptions, type GpuContext, acquireGpu } from './device.ts';
import { submitDispatches } from './kernel.ts';
import { accumulatorBytes } from './passes/update.ts';
import { GpuDeviceLostError, withErrorScopes } from './pipelines.ts';
import { GpuRunContext } from './run-context.ts';
import { gpuLloyd } from './lloyd.ts';
import { gpuKMeansPlusPlus } from './seeding.ts';
import { type AssignKernel, type AssignTuning, KPP_READ_ALL_BYTES } from './tuning.ts';

export { GpuDeviceLostError, GpuValidationError } from './pipelines.ts';

/** Thrown by GpuBackend.create when no usable WebGPU device exists; `reason` says why. */
export class GpuUnavailableError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'GpuUnavailableError';
  }
}

export interface GpuBackendOptions extends AcquireOptions {
  /** an existing device context (else one is acquired) */
  readonly gpu?: GpuContext;
  /** 'naive' = the one-thread-per-point baseline (benchmarks only) */
  readonly assignKernel?: AssignKernel;
  readonly tuning?: AssignTuning;
  /** largest row chunk in bytes (default: the device's binding limit, <= 128 MiB) */
  readonly maxChunkBytes?: number;
  /**
   * k-means++ reads all candidates' D^2 rows back at once up to this many bytes (default
   * KPP_READ_ALL_BYTES); tests lower it to cover the two-round-trip path.
   */
  readonly kppReadAllBytes?: number;
}

export class GpuBackend implements KMeansBackend {
  readonly name = 'webgpu';
  readonly gpu: GpuContext;
  readonly kernels: GpuKernels;
  private readonly ctx: GpuRunContext;
  private readonly ownsDevice: boolean;
  private tail: Promise<unknown> = Promise.resolve();
  private disposed = false;

  private constructor(ctx: GpuRunContext, owns: boolean) {
    this.ctx = ctx;
    this.gpu = ctx.gpu;
    this.kernels = ctx.kernels;
    this.ownsDevice = owns;
  }

  /** Acquires a device (unless one is given) and compiles the kernels. */
  static async create(opts: GpuBackendOptions = {}): Promise<GpuBackend> {
    let gpu = opts.gpu;
    let owns = false;
    if (!gpu) {
      const got = await acquireGpu(opts);
      if (!got.ok) throw new GpuUnavailableError(got.reason, got.message);
      gpu = got.gpu;
      owns = true;
    }
    const kernels = await compileKernels(gpu, opts.assignKernel ?? 'tiled', opts.tuning);
    const limit = gpu.limits.maxStorageBufferBindingSize;
    const chunk = Math.min(limit, opts.maxChunkBytes ?? limit);
    const kppReadAll = opts.kppReadAllBytes ?? KPP_READ_ALL_BYTES;
    return new GpuBackend(new GpuRunContext(gpu, kernels, chunk, kppReadAll), owns);
  }

  /** The adapter in one line, for notices and benchmark output. */
  get adapter(): string {
    return this.gpu.label;
  }

  kmeans(x: Matrix, k: number, options: KMeansOptions): Promise<KMeansResult> {
    return this.exclusive(() => this.runKMeans(x, k, options));
  }

  assign(x: Matrix, centroids: Matrix, signal?: AbortSignal): Promise<Assignment> {
    return this.exclusive(() => this.runAssign(x, centroids, signal));
  }

  /**
   * The "closest" resampling of the hierarchy on the GPU: the r members of every cluster closest
   * to its centroid (all members of a cluster with at most r), clusters in index order, members
   * by (dist2, row). Same rows, same order as the CPU reference in src/core/hierarchy.ts.
   */
  selectClosest(
    labels: Int32Array,
    dist2: Float32Array,
    k: number,
    r: number,
  ): Promise<Int32Array> {
    return this.exclusive(() => this.runSelectClosest(labels, dist2, k, r));
  }

  /**
   * One Lloyd update on its own: the mean of each cluster's rows under `labels`, a cluster with
   * no rows keeping its row of `previous`. The same kernels as inside kmeans(); exposed so tests
   * can hold the compensated float32 sums against float64 means.
   */
  clusterMeans(x: Matrix, labels: Int32Array, previous: Matrix): Promise<Matrix> {
    return this.exclusive(() => this.runClusterMeans(x, labels, previous));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.ctx.dispose();
    if (this.ownsDevice) this.gpu.device.destroy();
  }

  // ---------------------------------------------------------------------------------------------

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(() => {
      if (this.disposed) throw new Error('the WebGPU backend was disposed');
      if (this.gpu.isLost()) throw new GpuDeviceLostError('the GPU device was lost');
      return fn();
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /**
   * Runs `body` inside the device's error scopes (`what` names it in errors) with a new buffer
   * scope, destroyed when `body` settles.
   */
  private scoped<T>(what: string, body: (scope: CallScope) => Promise<T>): Promise<T> {
    return withErrorScopes(this.gpu.device, what, () => this.ctx.inScope(body));
  }

  private async runAssign(x: Matrix, centroids: Matrix, signal?: AbortSignal): Promise<Assignment> {
    throwIfAborted(signal);
    if (x.cols !== centroids.cols) {
      throw new RangeError(
        `dimension mismatch: rows have ${x.cols} columns, centroids ${centroids.cols}`,
      );
    }
    if (centroids.rows === 0) throw new RangeError('cannot assign to zero centroids');
    const n = x.rows;
    if (n === 0) return { labels: new Int32Array(0), dist2: new Float32Array(0) };
    const k = centroids.rows;
    const { ctx, kernels: K } = this;
    return this.scoped(`assigning ${n} rows to ${k} centroids`, async (scope) => {
      const up = ctx.upload(x);
      const d4 = up.rows.d4;
      ctx.checkBinding(k * d4 * 16, `${k} centroids of ${x.cols} dimensions`);
      const cent = scope.storage(k * d4 * 16, 'centroids', paddedRows(centroids, d4));
      const cnorm = scope.storage(k * 4, 'cnorm');
      const labels = scope.storage(n * 4, 'labels');
      const dist2 = scope.storage(n * 4, 'dist2');
      submitDispatches(ctx.device, 'assign', [
        K.norms.centroids(scope, cent, k, d4, cnorm),
        ...K.assign.dispatches(scope, up.rows, up.xnorm, cent, cnorm, k, labels, dist2),
      ]);
      const lab = await ctx.readInto(labels, (b) => new Uint32Array(b), n * 4);
      const d2 = await ctx.readInto(dist2, (b) => new Float32Array(b), n * 4);
      throwIfAborted(signal);
      return { labels: new Int32Array(lab.buffer), dist2: d2 };
    });
  }

  private async runKMeans(
    x: Matrix,
    kWanted: number,
    options: KMeansOptions,
  ): Promise<KMeansResult> {
    if (!(kWanted >= 1) || !Number.isInteger(kWanted)) {
      throw new RangeError(`k must be an integer >= 1, got ${kWanted}`);
    }
    if (x.rows === 0) throw new RangeError('k-means needs at least one row');
    if (!(options.nIters >= 0) || !Number.isInteger(options.nIters)) {
      throw new RangeError(`iterations must be an integer >= 0, got ${options.nIters}`);
    }
    throwIfAborted(options.signal);
    const n = x.rows;
    const k = Math.min(kWanted, n);
    const ctx = this.ctx;
    return withErrorScopes(ctx.device, `k-means (${n} x ${x.cols}, k = ${k})`, async () => {
      const up = ctx.upload(x);
      const d4 = up.rows.d4;
      ctx.checkBinding(k * d4 * 16, `${k} centroids of ${x.cols} dimensions`);
      if (up.rows.chunks.length > 1) {
        ctx.checkBinding(2 * k * d4 * 16, `the running sums of ${k} centroids`);
      }
      // Two buffer scopes: k-means++'s buffers (D^2 rows up to one binding) are gone before
      // Lloyd allocates its own.
      // The CPU backend's seeding rows (seeding.ts): a sample is uploaded on its own and its
      // padded centroids have x's d4, so Lloyd takes them as they are.
      const rng = new Rng(options.seed);
      const seedRows = seedingInput(x, k, options.seed, options.seeding);
      const seedUp = seedRows === x ? up : ctx.upload(seedRows);
      const init = await ctx.inScope((scope) =>
        gpuKMeansPlusPlus(ctx, scope, seedRows, seedUp, k, rng, options.signal),
      );
      return ctx.inScope((scope) => gpuLloyd(ctx, scope, x, up, init, k, options));
    });
  }

  private async runClusterMeans(
    x: Matrix,
    labelsIn: Int32Array,
    previous: Matrix,
  ): Promise<Matrix> {
    const n = x.rows;
    const k = previous.rows;
    if (previous.cols !== x.cols) {
      throw new RangeError(
        `dimension mismatch: rows have ${x.cols} columns, centroids ${previous.cols}`,
      );
    }
    if (labelsIn.length !== n) throw new RangeError(`need ${n} labels, got ${labelsIn.length}`);
    if (k === 0 || n === 0) return { data: previous.data.slice(), rows: k, cols: x.cols };
    for (let i = 0; i < n; i++) {
      if (!(labelsIn[i] >= 0 && labelsIn[i] < k)) {
        throw new RangeError(`label ${labelsIn[i]} of row ${i} is outside [0, ${k})`);
      }
    }
    const { ctx, kernels: K } = this;
    return this.scoped(`cluster means (${n} rows, ${k} clusters)`, async (scope) => {
      const up = ctx.upload(x);
      const d4 = up.rows.d4;
      ctx.checkBinding(2 * k * d4 * 16, `the running sums of ${k} centroids`);
      const cent = scope.storage(k * d4 * 16, 'centroids', paddedRows(previous, d4));
      const labels = scope.storage(n * 4, 'labels', labelsIn);
      const acc = scope.storage(accumulatorBytes(up.rows, k), 'sums');
      const sort = K.sort.plan(scope, n, k, labels);
      submitDispatches(ctx.device, 'cluster means', [
        ...sort.list,
        ...K.update.dispatches(scope, up.rows, k, sort.perm, sort.offsets, acc, cent),
      ]);
      const c = await ctx.readInto(cent, (b) => new Float32Array(b), k * d4 * 16);
      return { data: unpaddedRows(c, k, x.cols, d4), rows: k, cols: x.cols };
    });
  }

  private async runSelectClosest(
    labelsIn: Int32Array,
    dist2In: Float32Array,
    k: number,
    r: number,
  ): Promise<Int32Array> {
    const n = labelsIn.length;
    if (dist2In.length !== n) {
      throw new RangeError(`labels (${n}) and distances (${dist2In.length}) differ in length`);
    }
    if (!(k >= 1) || !Number.isInteger(k))
      throw new RangeError(`k must be an integer >= 1, got ${k}`);
    if (!(r >= 1) || !Number.isInteger(r))
      throw new RangeError(`r must be an integer >= 1, got ${r}`);
    for (let i = 0; i < n; i++) {
      if (!(labelsIn[i] >= 0 && labelsIn[i] < k)) {
        throw new RangeError(`label ${labelsIn[i]} of row ${i} is outside [0, ${k})`);
      }
    }
    if (n === 0) return new Int32Array(0);
    const { ctx, kernels: K } = this;
    return this.scoped(`selecting the ${r} closest rows of ${k} clusters`, async (scope) => {
      const labels = scope.storage(n * 4, 'labels', labelsIn);
      const dist2 = scope.storage(n * 4, 'dist2', dist2In);
      const sort = K.sort.plan(scope, n, k, labels);
      submitDispatches(ctx.device, 'sort by label', sort.list);
      const offsets = await ctx.readInto(sort.offsets, (b) => new Uint32Array(b), (k + 1) * 4);
      const outOffsets = new Uint32Array(k + 1);
      for (let j = 0; j < k; j++) {
        outOffsets[j + 1] = outOffsets[j] + Math.min(r, offsets[j + 1] - offsets[j]);
      }
      const total = outOffsets[k];
      const out = scope.storage(total * 4, 'selected');
      const select = K.selectClosest.dispatch(scope, k, r, {
        perm: sort.perm,
        offsets: sort.offsets,
        dist2,
        outOffsets: scope.storage((k + 1) * 4, 'out offsets', outOffsets),
        scratch: scope.storage(total * 4, 'select scratch'),
        out,
      });
      submitDispatches(ctx.device, 'select closest', [select]);
      const rows = await ctx.readInto(out, (b) => new Uint32Array(b), total * 4);
      return new Int32Array(rows.buffer, 0, total);
    });
  }
}
