/**
 * What every GPU call of one backend shares: the device and its compiled kernels, the cache of
 * uploaded matrices, per-call buffer scopes, and device-loss handling (every wait on the GPU
 * goes through `sync`, which turns a lost device into GpuDeviceLostError so the caller can
 * finish on the CPU).
 */
import type { Matrix } from '../core/types.ts';
import { readBack, uploadRows } from './buffers.ts';
import { CallScope } from './call-scope.ts';
import type { GpuKernels } from './compile.ts';
import type { GpuContext } from './device.ts';
import { submitDispatches } from './kernel.ts';
import { GpuDeviceLostError } from './pipelines.ts';
import { type Uploaded, UploadCache } from './upload-cache.ts';

/** How long a failed GPU wait waits for `device.lost` before reporting its own error. */
const LOST_GRACE_MS = 500;

export class GpuRunContext {
  private readonly cache = new UploadCache();

  constructor(
    readonly gpu: GpuContext,
    readonly kernels: GpuKernels,
    /** largest row chunk in bytes */
    readonly maxChunkBytes: number,
    /** k-means++ reads all candidates' D^2 rows back at once up to this many bytes */
    readonly kppReadAllBytes: number,
  ) {}

  get device(): GPUDevice {
    return this.gpu.device;
  }

  /** A new scope for the buffers of one call; the caller destroys it when the call ends. */
  scope(): CallScope {
    return new CallScope(this.device, this.gpu.limits.maxComputeWorkgroupsPerDimension);
  }

  /** Runs `fn` with a new scope and destroys the scope's buffers when it settles. */
  async inScope<T>(fn: (scope: CallScope) => Promise<T>): Promise<T> {
    const scope = this.scope();
    try {
      return await fn(scope);
    } finally {
      scope.destroy();
    }
  }

  /** Waits for `p`, or throws GpuDeviceLostError if the device is lost first. */
  async sync<T>(p: Promise<T>): Promise<T> {
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

  /** Reads `bytes` of `src` back (through `sync`) as the typed array `make` builds. */
  async readInto<T extends Float32Array | Uint32Array>(
    src: GPUBuffer,
    make: (b: ArrayBuffer) => T,
    bytes: number,
  ): Promise<T> {
    return make(await this.sync(readBack(this.device, src, bytes)));
  }

  /** Throws a RangeError that says what to do when one buffer of `bytes` cannot be bound. */
  checkBinding(bytes: number, what: string): void {
    const limit = this.gpu.limits.maxStorageBufferBindingSize;
    if (bytes > limit) {
      throw new RangeError(
        `${what} needs ${Math.ceil(bytes / 2 ** 20)} MiB in one GPU buffer; this device allows ${Math.floor(limit / 2 ** 20)} MiB. Use fewer clusters or the CPU backend.`,
      );
    }
  }

  /** Uploads x (or reuses the cached upload of the same data) and computes |x|^2. */
  upload(x: Matrix): Uploaded {
    const cached = this.cache.find(x);
    if (cached) return cached;
    this.checkBinding(x.rows * 4, `a matrix of ${x.rows} rows`);
    const scope = this.scope();
    try {
      const rows = scope.own(uploadRows(this.device, x, this.maxChunkBytes, 'rows'));
      const xnorm = scope.storage(x.rows * 4, 'xnorm');
      submitDispatches(this.device, 'row norms', this.kernels.norms.rows(scope, rows, xnorm));
      return this.cache.add({ data: x.data, rows, xnorm, scope });
    } catch (err) {
      scope.destroy();
      throw err;
    }
  }

  /** Destroys every cached upload. */
  dispose(): void {
    this.cache.clear();
  }
}
