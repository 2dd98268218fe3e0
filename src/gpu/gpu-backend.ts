/**
 * The WebGPU implementation of KMeansBackend: the same greedy k-means++ and Lloyd as the CPU
 * backend (src/core/kmeans.ts), with the heavy passes in WGSL.
 *
 * - k-means++: candidates are drawn on the CPU with the run's seeded Rng from D^2 read back after
 *   every centre (exactly the CPU's draw: float64 prefix sums, the same calls to the generator);
 *   candidate potentials are scored on the GPU as pairwise float32 partial sums per 256 rows and
 *   finished in float64 on the CPU; D^2 is updated on the GPU.
 * - Lloyd: nIters rounds of (stable counting sort by label, compensated per-cluster means, |c|^2,
 *   fused assignment) are all encoded on the GPU; nothing is read back inside the loop (progress
 *   waits for a round to finish without reading anything). Only an early-stop tolerance needs
 *   the objective every round: then 1 float per 256 rows comes back per round.
 * - Rows are uploaded in chunks of at most one storage binding (<= 128 MiB) and every row kernel
 *   runs once per chunk, so N is limited by GPU memory, not by binding sizes.
 * - Every run sits inside validation and out-of-memory error scopes: a kernel that fails
 *   validation throws (GpuValidationError) instead of returning garbage. A lost device throws
 *   GpuDeviceLostError; the worker then finishes on the CPU.
 *
 * Calls are serialised (error scopes are per device, not per call). Uploaded matrices are cached
 * by identity of their Float32Array (the hierarchy reassigns the same input after every
 * resampling step): do not modify a matrix's data while the backend may hold it.
 */
import { CancelledError, throwIfAborted } from '../core/errors.ts';
import { kmeansPlusPlusTrials } from '../core/kmeans.ts';
import { Rng } from '../core/rng.ts';
import type {
  Assignment,
  KMeansBackend,
  KMeansOptions,
  KMeansResult,
  Matrix,
} from '../core/types.ts';
import {
  type GpuRows,
  COPY_DST,
  MAP_READ,
  UNIFORM,
  readBack,
  storageBuffer,
  uniformU32,
  uploadRows,
} from './buffers.ts';
import { type AcquireOptions, type GpuContext, acquireGpu } from './device.ts';
import {
  type AssignKernel,
  type AssignTuning,
  type GpuKernels,
  BLOCK_SUM_ROWS,
  COUNT_ROWS_PER_GROUP,
  KPP_MAX_CANDIDATES,
  KPP_ROWS_PER_GROUP,
  ROW_WORKGROUP,
  compileKernels,
} from './kernels.ts';
import { GpuDeviceLostError, bindGroup, grid, withErrorScopes } from './pipelines.ts';

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

interface Dispatch {
  readonly pipeline: GPUComputePipeline;
  readonly bind: GPUBindGroup;
  readonly x: number;
  readonly y: number;
}

interface Uploaded {
  readonly data: Float32Array;
  readonly rows: GpuRows;
  /** |x|^2 per row (global) */
  readonly xnorm: GPUBuffer;
  lastUse: number;
}

/**
 * k-means++ reads every candidate's D^2 row back (one round trip per centre, potentials summed
 * on the CPU) while they total at most this many bytes; N=100k with 8 candidates is 3.2 MB.
 * Measured on SwiftShader: copying, mapping and summing 480 KB took 1-6 ms, against 45-170 ms for
 * one pass of the GPU-summing kernel over the same 20k rows (its barriers are what cost there).
 * Not measured on a hardware GPU, where the read-back costs PCIe bandwidth (~0.2 ms per MB).
 */
const KPP_READ_ALL_BYTES = 4 * 1024 * 1024;

/** How long a failed GPU wait waits for `device.lost` before reporting its own error. */
const LOST_GRACE_MS = 500;

/** Uploaded matrices kept for reuse (the hierarchy alternates refit subsets and its input). */
const UPLOAD_CACHE_ENTRIES = 2;

/** Index i with prefix[i-1] <= u < prefix[i]; the CPU backend's search, so draws match. */
function searchPrefix(prefix: Float64Array, u: number): number {
  let lo = 0;
  let hi = prefix.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (prefix[mid] > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function encode(pass: GPUComputePassEncoder, list: readonly Dispatch[]): void {
  for (const d of list) {
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bind);
    pass.dispatchWorkgroups(d.x, d.y);
  }
}

/** Rows of m padded to d4 vec4s each. */
function padded(m: Matrix, d4: number): Float32Array {
  const stride = d4 * 4;
  if (stride === m.cols) return m.data;
  const out = new Float32Array(m.rows * stride);
  for (let i = 0; i < m.rows; i++) {
    out.set(m.data.subarray(i * m.cols, (i + 1) * m.cols), i * stride);
  }
  return out;
}

function unpadded(buf: Float32Array, rows: number, cols: number, d4: number): Float32Array {
  const stride = d4 * 4;
  if (stride === cols) return buf.slice(0, rows * cols);
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) out.set(buf.subarray(i * stride, i * stride + cols), i * cols);
  return out;
}

export class GpuBackend implements KMeansBackend {
  readonly name = 'webgpu';
  readonly gpu: GpuContext;
  readonly kernels: GpuKernels;
  private readonly maxChunkBytes: number;
  private readonly kppReadAllBytes: number;
  private readonly ownsDevice: boolean;
  private readonly cache: Uploaded[] = [];
  private useClock = 0;
  private tail: Promise<unknown> = Promise.resolve();
  private disposed = false;

  private constructor(
    gpu: GpuContext,
    kernels: GpuKernels,
    maxChunkBytes: number,
    kppReadAllBytes: number,
    owns: boolean,
  ) {
    this.gpu = gpu;
    this.kernels = kernels;
    this.maxChunkBytes = maxChunkBytes;
    this.kppReadAllBytes = kppReadAllBytes;
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
    return new GpuBackend(gpu, kernels, chunk, opts.kppReadAllBytes ?? KPP_READ_ALL_BYTES, owns);
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
    for (const u of this.cache) this.release(u);
    this.cache.length = 0;
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

  private get device(): GPUDevice {
    return this.gpu.device;
  }

  private grid(groups: number): { x: number; y: number } {
    return grid(groups, this.gpu.limits.maxComputeWorkgroupsPerDimension);
  }

  /** Waits for `p`, or throws GpuDeviceLostError if the device is lost first. */
  private async sync<T>(p: Promise<T>): Promise<T> {
    const lostError = () => new GpuDeviceLostError('the GPU device was lost during the run');
    const lost = this.device.lost.then(() => {
      throw lostError();
    });
    try {
      const v = await Promise.race([p, lost]);
      if (this.gpu.isLost()) throw lostError();
      return v;
    } catch (err) {
      // A map or wait on a dying device rejects (AbortError) a moment before `lost` resolves.
      const late = await Promise.race([
        this.device.lost.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), LOST_GRACE_MS)),
      ]);
      if (late || this.gpu.isLost()) throw lostError();
      throw err;
    }
  }

  private checkBinding(bytes: number, what: string): void {
    const limit = this.gpu.limits.maxStorageBufferBindingSize;
    if (bytes > limit) {
      throw new RangeError(
        `${what} needs ${Math.ceil(bytes / 2 ** 20)} MiB in one GPU buffer; this device allows ${Math.floor(limit / 2 ** 20)} MiB. Use fewer clusters or the CPU backend.`,
      );
    }
  }

  private release(u: Uploaded): void {
    u.rows.destroy();
    u.xnorm.destroy();
  }

  /** Uploads x (or reuses the cached upload of the same data) and computes |x|^2. */
  private upload(x: Matrix): Uploaded {
    for (const u of this.cache) {
      if (u.data === x.data && u.rows.rows === x.rows && u.rows.cols === x.cols) {
        u.lastUse = ++this.useClock;
        return u;
      }
    }
    this.checkBinding(x.rows * 4, `a matrix of ${x.rows} rows`);
    const rows = uploadRows(this.device, x, this.maxChunkBytes, 'rows');
    const xnorm = storageBuffer(this.device, x.rows * 4, 'xnorm');
    const enc = this.device.createCommandEncoder({ label: 'row norms' });
    const pass = enc.beginComputePass();
    encode(pass, this.normsDispatches(rows, xnorm));
    pass.end();
    this.device.queue.submit([enc.finish()]);
    const u: Uploaded = { data: x.data, rows, xnorm, lastUse: ++this.useClock };
    if (this.cache.length >= UPLOAD_CACHE_ENTRIES) {
      let old = 0;
      for (let i = 1; i < this.cache.length; i++) {
        if (this.cache[i].lastUse < this.cache[old].lastUse) old = i;
      }
      this.release(this.cache[old]);
      this.cache.splice(old, 1);
    }
    this.cache.push(u);
    return u;
  }

  private normsDispatches(rows: GpuRows, out: GPUBuffer): Dispatch[] {
    return rows.chunks.map((c) => {
      const g = this.grid(Math.ceil(c.rows / ROW_WORKGROUP));
      const u = uniformU32(this.device, [c.rows, c.rowStart, rows.d4, g.x], 'norms params');
      const bind = bindGroup(
        this.device,
        this.kernels.rowNorms,
        { 0: u, 1: c.buffer, 2: out },
        'norms',
      );
      return { pipeline: this.kernels.rowNorms, bind, ...g };
    });
  }

  private centroidNormsDispatch(cent: GPUBuffer, k: number, d4: number, out: GPUBuffer): Dispatch {
    const g = this.grid(Math.ceil(k / ROW_WORKGROUP));
    const u = uniformU32(this.device, [k, 0, d4, g.x], 'cnorm params');
    const bind = bindGroup(this.device, this.kernels.rowNorms, { 0: u, 1: cent, 2: out }, 'cnorm');
    return { pipeline: this.kernels.rowNorms, bind, ...g };
  }

  private assignDispatches(
    x: Uploaded,
    cent: GPUBuffer,
    cnorm: GPUBuffer,
    k: number,
    labels: GPUBuffer,
    dist2: GPUBuffer,
  ): Dispatch[] {
    const per = this.kernels.assignRowsPerGroup;
    return x.rows.chunks.map((c) => {
      const g = this.grid(Math.ceil(c.rows / per));
      const u = uniformU32(this.device, [c.rows, c.rowStart, x.rows.d4, k, g.x], 'assign params');
      const bind = bindGroup(
        this.device,
        this.kernels.assign,
        { 0: u, 1: c.buffer, 2: x.xnorm, 3: cent, 4: cnorm, 5: labels, 6: dist2 },
        'assign',
      );
      return { pipeline: this.kernels.assign, bind, ...g };
    });
  }

  /** Buffers and dispatches of the stable counting sort of rows by label. */
  private sortDispatches(n: number, k: number, labels: GPUBuffer) {
    const dev = this.device;
    const counts = storageBuffer(dev, k * 4, 'counts');
    const offsets = storageBuffer(dev, (k + 1) * 4, 'offsets');
    const cursor = storageBuffer(dev, k * 4, 'cursor');
    const perm = storageBuffer(dev, n * 4, 'perm');
    const g = this.grid(Math.ceil(n / COUNT_ROWS_PER_GROUP));
    const u = uniformU32(dev, [n, k, g.x, 0], 'sort params');
    const K = this.kernels;
    const list: Dispatch[] = [
      {
        pipeline: K.labelCount,
        bind: bindGroup(dev, K.labelCount, { 0: u, 1: labels, 2: counts }, 'count'),
        ...g,
      },
      {
        pipeline: K.labelScan,
        bind: bindGroup(dev, K.labelScan, { 0: u, 1: counts, 2: offsets, 3: cursor }, 'scan'),
        x: 1,
        y: 1,
      },
      {
        pipeline: K.labelScatter,
        bind: bindGroup(dev, K.labelScatter, { 0: u, 1: labels, 2: cursor, 3: perm }, 'scatter'),
        x: 1,
        y: 1,
      },
    ];
    return {
      counts,
      offsets,
      perm,
      list,
      destroy() {
        counts.destroy();
        offsets.destroy();
        cursor.destroy();
        perm.destroy();
      },
    };
  }

  private updateDispatches(
    x: Uploaded,
    k: number,
    perm: GPUBuffer,
    offsets: GPUBuffer,
    acc: GPUBuffer,
    cent: GPUBuffer,
  ): Dispatch[] {
    const chunks = x.rows.chunks;
    const g = this.grid(k);
    return chunks.map((c, i) => {
      const u = uniformU32(
        this.device,
        [
          k,
          x.rows.d4,
          c.rowStart,
          c.rowStart + c.rows,
          i === 0 ? 1 : 0,
          i === chunks.length - 1 ? 1 : 0,
          g.x,
          0,
        ],
        'update params',
      );
      const bind = bindGroup(
        this.device,
        this.kernels.centroidUpdate,
        { 0: u, 1: c.buffer, 2: perm, 3: offsets, 4: acc, 5: cent },
        'update',
      );
      return { pipeline: this.kernels.centroidUpdate, bind, ...g };
    });
  }

  private async readInto<T extends Float32Array | Uint32Array>(
    src: GPUBuffer,
    make: (b: ArrayBuffer) => T,
    bytes: number,
  ): Promise<T> {
    return make(await this.sync(readBack(this.device, src, bytes)));
  }

  // ---------------------------------------------------------------------------------------------

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
    const dev = this.device;
    return withErrorScopes(dev, `assigning ${n} rows to ${k} centroids`, async () => {
      const up = this.upload(x);
      const d4 = up.rows.d4;
      this.checkBinding(k * d4 * 16, `${k} centroids of ${x.cols} dimensions`);
      const cent = storageBuffer(dev, k * d4 * 16, 'centroids', padded(centroids, d4));
      const cnorm = storageBuffer(dev, k * 4, 'cnorm');
      const labels = storageBuffer(dev, n * 4, 'labels');
      const dist2 = storageBuffer(dev, n * 4, 'dist2');
      try {
        const enc = dev.createCommandEncoder({ label: 'assign' });
        const pass = enc.beginComputePass();
        encode(pass, [
          this.centroidNormsDispatch(cent, k, d4, cnorm),
          ...this.assignDispatches(up, cent, cnorm, k, labels, dist2),
        ]);
        pass.end();
        dev.queue.submit([enc.finish()]);
        const lab = await this.readInto(labels, (b) => new Uint32Array(b), n * 4);
        const d2 = await this.readInto(dist2, (b) => new Float32Array(b), n * 4);
        throwIfAborted(signal);
        return { labels: new Int32Array(lab.buffer), dist2: d2 };
      } finally {
        cent.destroy();
        cnorm.destroy();
        labels.destroy();
        dist2.destroy();
      }
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
    const dev = this.device;
    return withErrorScopes(dev, `k-means (${n} x ${x.cols}, k = ${k})`, async () => {
      const up = this.upload(x);
      const d4 = up.rows.d4;
      this.checkBinding(k * d4 * 16, `${k} centroids of ${x.cols} dimensions`);
      if (up.rows.chunks.length > 1) {
        this.checkBinding(2 * k * d4 * 16, `the running sums of ${k} centroids`);
      }
      const init = await this.kmeansPlusPlus(x, up, k, new Rng(options.seed), options.signal);
      return this.lloyd(x, up, init, k, options);
    });
  }

  /**
   * Greedy k-means++ (see the header); returns k x d4 padded centroids.
   *
   * Small inputs (all candidates' D^2 rows <= kppReadAllBytes, e.g. N=100k with 8 candidates):
   * a barrier-free kernel writes every candidate's new D^2 row, the rows come back in one round
   * trip per centre and the CPU sums them in float64 (exact potentials); keeping a candidate is a
   * GPU buffer copy. Larger inputs: kmeanspp.wgsl sums on the GPU (pairwise partials per 64 rows,
   * finished in float64 here), and only the kept row comes back (a second, copy-only round
   * trip); where even the rows do not fit one binding, D^2 is updated in place by the kernel.
   */
  private async kmeansPlusPlus(
    x: Matrix,
    up: Uploaded,
    k: number,
    rng: Rng,
    signal?: AbortSignal,
  ): Promise<Float32Array> {
    const dev = this.device;
    const n = x.rows;
    const d = x.cols;
    const d4 = up.rows.d4;
    const stride = d4 * 4;
    const centroids = new Float32Array(k * stride);
    const trials = kmeansPlusPlusTrials(k);
    const chunks = up.rows.chunks;
    const blocksPer = chunks.map((c) => Math.ceil(c.rows / KPP_ROWS_PER_GROUP));
    const blocks = blocksPer.reduce((a, b) => a + b, 0);
    const rowsBytes = trials * n * 4;
    const store =
      rowsBytes <= Math.min(this.maxChunkBytes, this.gpu.limits.maxStorageBufferBindingSize);
    const readAll = store && rowsBytes <= this.kppReadAllBytes;
    const K = this.kernels;

    const d2 = storageBuffer(dev, n * 4, 'kpp D2');
    const newD2 = storageBuffer(dev, store ? rowsBytes : 16, 'kpp candidate D2 rows');
    const partials = storageBuffer(dev, KPP_MAX_CANDIDATES * blocks * 4, 'kpp partials');
    const cand = storageBuffer(dev, KPP_MAX_CANDIDATES * stride * 4, 'kpp candidates');
    const candNorm = storageBuffer(dev, KPP_MAX_CANDIDATES * 4, 'kpp candidate norms');
    const stageRows = dev.createBuffer({
      label: 'kpp D2 staging',
      size: Math.max(16, readAll ? rowsBytes : n * 4),
      usage: MAP_READ | COPY_DST,
    });
    const stageP = dev.createBuffer({
      label: 'kpp partials staging',
      size: Math.max(16, trials * blocks * 4),
      usage: MAP_READ | COPY_DST,
    });
    const batches = Math.ceil(trials / KPP_MAX_CANDIDATES);
    const slots = batches * chunks.length;
    const params = Array.from({ length: slots }, () =>
      dev.createBuffer({ label: 'kpp params', size: 48, usage: UNIFORM | COPY_DST }),
    );
    /** The pipeline for a batch of nc candidates; bind groups are made per pipeline. */
    const pipelineFor = (nc: number): GPUComputePipeline =>
      readAll ? K.kmeansppRows[Math.ceil(nc / 4) - 1] : K.kmeanspp;
    const bindCache = new Map<GPUComputePipeline, GPUBindGroup[]>();
    const bindsFor = (pipeline: GPUComputePipeline): GPUBindGroup[] => {
      let b = bindCache.get(pipeline);
      if (!b) {
        b = params.map((u, i) => {
          const chunk = chunks[i % chunks.length].buffer;
          const buffers: Record<number, GPUBuffer> = readAll
            ? { 0: u, 1: chunk, 2: up.xnorm, 3: cand, 4: candNorm, 5: d2, 6: newD2 }
            : { 0: u, 1: chunk, 2: cand, 3: d2, 4: partials, 5: newD2 };
          return bindGroup(dev, pipeline, buffers, 'kpp');
        });
        bindCache.set(pipeline, b);
      }
      return b;
    };
    const candRows = new Float32Array(KPP_MAX_CANDIDATES * stride);
    const candNorms = new Float32Array(KPP_MAX_CANDIDATES);
    const setCandidates = (idx: ArrayLike<number>, from: number, count: number): void => {
      candRows.fill(0);
      candNorms.fill(0);
      for (let t = 0; t < count; t++) {
        const i = idx[from + t];
        let s = 0;
        for (let j = i * d; j < (i + 1) * d; j++) s += x.data[j] * x.data[j];
        candNorms[t] = s;
        candRows.set(x.data.subarray(i * d, i * d + d), t * stride);
      }
      dev.queue.writeBuffer(cand, 0, candRows);
      dev.queue.writeBuffer(candNorm, 0, candNorms);
    };
    /**
     * Scores candidates idx[0..count) against D^2 (or against nothing when `fresh`): one pass
     * per batch of 16 over all chunks. Candidate rows are uploaded per batch, so each batch after
     * the first starts a new submit.
     */
    const score = (
      enc: GPUCommandEncoder,
      idx: ArrayLike<number>,
      count: number,
      fresh: boolean,
      update: boolean,
    ): GPUCommandEncoder => {
      let e = enc;
      for (let bt = 0; bt < Math.ceil(count / KPP_MAX_CANDIDATES); bt++) {
        const t0 = bt * KPP_MAX_CANDIDATES;
        const nc = Math.min(KPP_MAX_CANDIDATES, count - t0);
        if (bt > 0) {
          dev.queue.submit([e.finish()]);
          e = dev.createCommandEncoder({ label: 'kpp' });
        }
        setCandidates(idx, t0, nc);
        const pipeline = pipelineFor(nc);
        const binds = bindsFor(pipeline);
        const pass = e.beginComputePass({ label: 'kpp' });
        pass.setPipeline(pipeline);
        let blockBase = 0;
        chunks.forEach((c, i) => {
          const slot = bt * chunks.length + i;
          const g = this.grid(readAll ? Math.ceil(c.rows / (ROW_WORKGROUP * 4)) : blocksPer[i]);
          const f = fresh ? 1 : 0;
          const values = readAll
            ? [c.rows, c.rowStart, d4, nc, f, t0, n, g.x]
            : [c.rows, c.rowStart, d4, nc, f, store ? 1 : 0, update ? 1 : 0].concat([
                blockBase,
                blocks,
                t0,
                n,
                g.x,
              ]);
          dev.queue.writeBuffer(params[slot], 0, new Uint32Array(values));
          pass.setBindGroup(0, binds[slot]);
          pass.dispatchWorkgroups(g.x, g.y);
          blockBase += blocksPer[i];
        });
        pass.end();
        // GPU-summed potentials of this batch -> staging rows [t0, t0 + nc)
        if (!readAll) e.copyBufferToBuffer(partials, 0, stageP, t0 * blocks * 4, nc * blocks * 4);
      }
      return e;
    };
    const gpuPotentials = async (count: number, out: Float64Array): Promise<void> => {
      await this.sync(stageP.mapAsync(GPUMapMode.READ, 0, count * blocks * 4));
      const p = new Float32Array(stageP.getMappedRange(0, count * blocks * 4));
      for (let t = 0; t < count; t++) {
        let s = 0;
        for (let b = 0; b < blocks; b++) s += p[t * blocks + b];
        out[t] = s;
      }
      stageP.unmap();
    };
    /** pot <- staged row 0 (as float64, like the CPU's potential array). */
    const readRow = async (pot: Float64Array): Promise<void> => {
      await this.sync(stageRows.mapAsync(GPUMapMode.READ, 0, n * 4));
      const v = new Float32Array(stageRows.getMappedRange(0, n * 4));
      for (let i = 0; i < n; i++) pot[i] = v[i];
      stageRows.unmap();
    };

    try {
      const pot = new Float64Array(n);
      const prefix = new Float64Array(n);
      const candIdx = new Int32Array(trials);
      const candPot = new Float64Array(trials);
      const first = rng.int(n);
      centroids.set(x.data.subarray(first * d, first * d + d), 0);
      {
        let enc = dev.createCommandEncoder({ label: 'kpp first centre' });
        enc = score(enc, [first], 1, true, !store);
        if (store) {
          enc.copyBufferToBuffer(newD2, 0, d2, 0, n * 4);
          enc.copyBufferToBuffer(newD2, 0, stageRows, 0, n * 4);
        } else {
          enc.copyBufferToBuffer(d2, 0, stageRows, 0, n * 4);
        }
        dev.queue.submit([enc.finish()]);
        await readRow(pot);
        // Drain the GPU-summed potential of the first centre so stageP is free.
        if (!readAll) await gpuPotentials(1, candPot);
      }
      /** readAll: row of newD2 the GPU must copy to D2 before the next scoring pass. */
      let adopt = -1;
      for (let c = 1; c < k; c++) {
        throwIfAborted(signal);
        let total = 0;
        for (let i = 0; i < n; i++) {
          total += pot[i];
          prefix[i] = total;
        }
        for (let t = 0; t < trials; t++) {
          // Every remaining row coincides with a centre: any row is as good as another.
          candIdx[t] = total > 0 ? searchPrefix(prefix, rng.next() * total) : rng.int(n);
        }
        let enc = dev.createCommandEncoder({ label: 'kpp score' });
        if (adopt >= 0) enc.copyBufferToBuffer(newD2, adopt * n * 4, d2, 0, n * 4);
        enc = score(enc, candIdx, trials, false, false);
        let bestT = 0;
        if (readAll) {
          // One round trip: every candidate's row; potentials summed here in float64.
          enc.copyBufferToBuffer(newD2, 0, stageRows, 0, rowsBytes);
          dev.queue.submit([enc.finish()]);
          await this.sync(stageRows.mapAsync(GPUMapMode.READ, 0, rowsBytes));
          const rows = new Float32Array(stageRows.getMappedRange(0, rowsBytes));
          for (let t = 0; t < trials; t++) {
            let s = 0;
            const o = t * n;
            for (let i = 0; i < n; i++) s += rows[o + i];
            candPot[t] = s;
            if (s < candPot[bestT]) bestT = t;
          }
          if (c + 1 < k) {
            const o = bestT * n;
            for (let i = 0; i < n; i++) pot[i] = rows[o + i];
          }
          stageRows.unmap();
          adopt = bestT;
        } else {
          dev.queue.submit([enc.finish()]);
          await gpuPotentials(trials, candPot);
          for (let t = 1; t < trials; t++) if (candPot[t] < candPot[bestT]) bestT = t;
        }
        const chosen = candIdx[bestT];
        centroids.set(x.data.subarray(chosen * d, chosen * d + d), c * stride);
        if (readAll || c + 1 === k) continue; // the last centre needs no D^2
        if (store) {
          const e = dev.createCommandEncoder({ label: 'kpp keep' });
          e.copyBufferToBuffer(newD2, bestT * n * 4, d2, 0, n * 4);
          e.copyBufferToBuffer(newD2, bestT * n * 4, stageRows, 0, n * 4);
          dev.queue.submit([e.finish()]);
          await readRow(pot);
        } else {
          let e = dev.createCommandEncoder({ label: 'kpp update' });
          e = score(e, [chosen], 1, false, true);
          e.copyBufferToBuffer(d2, 0, stageRows, 0, n * 4);
          dev.queue.submit([e.finish()]);
          await readRow(pot);
          await gpuPotentials(1, candPot);
        }
      }
      return centroids;
    } finally {
      d2.destroy();
      newD2.destroy();
      partials.destroy();
      cand.destroy();
      candNorm.destroy();
      stageRows.destroy();
      stageP.destroy();
      for (const p of params) p.destroy();
    }
  }

  private async lloyd(
    x: Matrix,
    up: Uploaded,
    init: Float32Array,
    k: number,
    options: KMeansOptions,
  ): Promise<KMeansResult> {
    const dev = this.device;
    const n = x.rows;
    const d4 = up.rows.d4;
    const multiChunk = up.rows.chunks.length > 1;
    const cent = storageBuffer(dev, k * d4 * 16, 'centroids', init);
    const cnorm = storageBuffer(dev, k * 4, 'cnorm');
    const labels = storageBuffer(dev, n * 4, 'labels');
    const dist2 = storageBuffer(dev, n * 4, 'dist2');
    const acc = storageBuffer(dev, multiChunk ? 2 * k * d4 * 16 : 32, 'centroid sums');
    const sort = this.sortDispatches(n, k, labels);
    const tol = options.tolerance ?? 0;
    const objBlocks = Math.ceil(n / BLOCK_SUM_ROWS);
    const objPartials = storageBuffer(dev, objBlocks * 4, 'objective partials');
    const objG = this.grid(objBlocks);
    const objDispatch: Dispatch = {
      pipeline: this.kernels.blockSum,
      bind: bindGroup(
        dev,
        this.kernels.blockSum,
        { 0: uniformU32(dev, [n, objG.x, 0, 0], 'sum params'), 1: dist2, 2: objPartials },
        'objective',
      ),
      ...objG,
    };
    const normsC = this.centroidNormsDispatch(cent, k, d4, cnorm);
    const assign = this.assignDispatches(up, cent, cnorm, k, labels, dist2);
    const round: Dispatch[] = [
      ...sort.list,
      ...this.updateDispatches(up, k, sort.perm, sort.offsets, acc, cent),
      normsC,
      ...assign,
    ];
    const objective = async (): Promise<number> => {
      const enc = dev.createCommandEncoder({ label: 'objective' });
      const pass = enc.beginComputePass();
      encode(pass, [objDispatch]);
      pass.end();
      dev.queue.submit([enc.finish()]);
      const p = await this.readInto(objPartials, (b) => new Float32Array(b), objBlocks * 4);
      let s = 0;
      for (let i = 0; i < p.length; i++) s += p[i];
      return s;
    };

    try {
      {
        const enc = dev.createCommandEncoder({ label: 'lloyd init' });
        const pass = enc.beginComputePass();
        encode(pass, [normsC, ...assign]);
        pass.end();
        dev.queue.submit([enc.finish()]);
      }
      let obj = tol > 0 ? await objective() : 0;
      let iterations = 0;
      let pending: Promise<unknown> | undefined;
      let pendingRound = 0;
      for (let r = 1; r <= options.nIters; r++) {
        if (options.signal?.aborted) {
          if (pending) await this.sync(pending);
          throw new CancelledError();
        }
        const enc = dev.createCommandEncoder({ label: `lloyd round ${r}` });
        enc.clearBuffer(sort.counts);
        const pass = enc.beginComputePass();
        encode(pass, round);
        pass.end();
        dev.queue.submit([enc.finish()]);
        iterations = r;
        if (tol > 0) {
          const next = await objective();
          options.onIteration?.(r, options.nIters);
          const change = Math.abs(obj - next) / Math.max(obj, Number.MIN_VALUE);
          obj = next;
          if (change < tol) break;
          continue;
        }
        // Keep one round in flight: wait for the previous round (no data comes back), report it.
        const done = dev.queue.onSubmittedWorkDone();
        if (pending) {
          await this.sync(pending);
          options.onIteration?.(pendingRound, options.nIters);
        }
        pending = done;
        pendingRound = r;
      }
      if (pending) {
        await this.sync(pending);
        options.onIteration?.(pendingRound, options.nIters);
      }
      const lab = await this.readInto(labels, (b) => new Uint32Array(b), n * 4);
      const d2 = await this.readInto(dist2, (b) => new Float32Array(b), n * 4);
      const c = await this.readInto(cent, (b) => new Float32Array(b), k * d4 * 16);
      let total = 0;
      for (let i = 0; i < n; i++) total += d2[i];
      return {
        centroids: { data: unpadded(c, k, x.cols, d4), rows: k, cols: x.cols },
        assignment: { labels: new Int32Array(lab.buffer), dist2: d2 },
        objective: total,
        iterations,
      };
    } finally {
      cent.destroy();
      cnorm.destroy();
      labels.destroy();
      dist2.destroy();
      acc.destroy();
      sort.destroy();
      objPartials.destroy();
    }
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
    const dev = this.device;
    return withErrorScopes(dev, `cluster means (${n} rows, ${k} clusters)`, async () => {
      const up = this.upload(x);
      const d4 = up.rows.d4;
      this.checkBinding(2 * k * d4 * 16, `the running sums of ${k} centroids`);
      const cent = storageBuffer(dev, k * d4 * 16, 'centroids', padded(previous, d4));
      const labels = storageBuffer(dev, n * 4, 'labels', labelsIn);
      const acc = storageBuffer(dev, up.rows.chunks.length > 1 ? 2 * k * d4 * 16 : 32, 'sums');
      const sort = this.sortDispatches(n, k, labels);
      try {
        const enc = dev.createCommandEncoder({ label: 'cluster means' });
        const pass = enc.beginComputePass();
        encode(pass, [
          ...sort.list,
          ...this.updateDispatches(up, k, sort.perm, sort.offsets, acc, cent),
        ]);
        pass.end();
        dev.queue.submit([enc.finish()]);
        const c = await this.readInto(cent, (b) => new Float32Array(b), k * d4 * 16);
        return { data: unpadded(c, k, x.cols, d4), rows: k, cols: x.cols };
      } finally {
        cent.destroy();
        labels.destroy();
        acc.destroy();
        sort.destroy();
      }
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
    const dev = this.device;
    return withErrorScopes(dev, `selecting the ${r} closest rows of ${k} clusters`, async () => {
      const labels = storageBuffer(dev, n * 4, 'labels', labelsIn);
      const dist2 = storageBuffer(dev, n * 4, 'dist2', dist2In);
      const sort = this.sortDispatches(n, k, labels);
      const toFree: GPUBuffer[] = [labels, dist2];
      try {
        const enc = dev.createCommandEncoder({ label: 'sort by label' });
        const pass = enc.beginComputePass();
        encode(pass, sort.list);
        pass.end();
        dev.queue.submit([enc.finish()]);
        const offsets = await this.readInto(sort.offsets, (b) => new Uint32Array(b), (k + 1) * 4);
        const outOffsets = new Uint32Array(k + 1);
        for (let j = 0; j < k; j++) {
          outOffsets[j + 1] = outOffsets[j] + Math.min(r, offsets[j + 1] - offsets[j]);
        }
        const total = outOffsets[k];
        const outOff = storageBuffer(dev, (k + 1) * 4, 'out offsets', outOffsets);
        const scratch = storageBuffer(dev, total * 4, 'select scratch');
        const out = storageBuffer(dev, total * 4, 'selected');
        toFree.push(outOff, scratch, out);
        const g = this.grid(k);
        const u = uniformU32(dev, [k, r, g.x, 0], 'select params');
        const bind = bindGroup(
          dev,
          this.kernels.selectClosest,
          { 0: u, 1: sort.perm, 2: sort.offsets, 3: dist2, 4: outOff, 5: scratch, 6: out },
          'select',
        );
        const enc2 = dev.createCommandEncoder({ label: 'select closest' });
        const pass2 = enc2.beginComputePass();
        encode(pass2, [{ pipeline: this.kernels.selectClosest, bind, ...g }]);
        pass2.end();
        dev.queue.submit([enc2.finish()]);
        const rows = await this.readInto(out, (b) => new Uint32Array(b), total * 4);
        return new Int32Array(rows.buffer, 0, total);
      } finally {
        sort.destroy();
        for (const b of toFree) b.destroy();
      }
    });
  }
}
