/**
 * `CpuKernel` on the WebAssembly SIMD kernel of wasm/kernel-wat.ts, on one thread or on a pool of
 * workers sharing one memory. Environment-neutral: browser.ts and node.ts supply the bytes and
 * the workers.
 *
 * Memory map (byte offsets in the kernel's memory):
 *   0        the pool's work counter (i32)
 *   64       x, packed in blocks of `rows` rows (see wasm/kernel-wat.ts); stays resident
 *   after x  scratch of the current call: packed centroids, |c|^2, labels, distances and each
 *            row's running best between centroid chunks (32 bytes a row); or packed
 *            candidates and the candidate-major distance table
 *
 * x stays resident across calls: the Lloyd loop assigns the same matrix 50 times, and copying
 * 100k x 384 floats (150 MB) each time would cost more than a small assignment. A call whose x
 * is the same Float32Array (same length, same rows x cols, same sampled values) reuses it.
 * Callers must therefore not change a matrix's values in place between calls; pass a new array.
 *
 * An x larger than RESIDENT_X_BYTES packed is not kept: each call packs it chunk by chunk into
 * a window of that size and scores one chunk after another. The packed copy would otherwise
 * double the memory of a large pool (1M x 384: 1.5 GB of rows and 1.5 GB more here), and could
 * not exceed the wasm32 limit of 4 GiB at all.
 */
import { InputError } from '../core/errors.ts';
import type { Assignment, CpuKernel, Matrix } from '../core/types.ts';
import type { KernelPool } from './pool.ts';
import type { KernelFn } from './protocol.ts';
import {
  instantiateKernel,
  PAGE_BYTES,
  type KernelExports,
  type WasmMemory,
  type WasmModule,
} from './wasm-api.ts';

const COUNTER_OFFSET = 0;
const X_OFFSET = 64;
/** cache-line alignment of every region */
const ALIGN = 64;

/**
 * Below this many multiply-adds a call runs on the calling thread. A tiny call through the pool
 * costs 0.030 ms (Node) / 0.045 ms (Chromium) against 0.005-0.007 ms on the calling thread
 * (bench:cpu `dispatch` lines), so splitting pays once half the work takes longer than ~0.04 ms:
 * ~1e6 multiply-adds at the kernel's ~27 G/s (54 GFLOP/s). 4e6 leaves a margin for the workers
 * waking up on a busy machine.
 */
export const POOL_MIN_WORK = 4e6;

/**
 * Centroids are scored in chunks of about CHUNK_BYTES (packed), each chunk against a panel of
 * about PANEL_BYTES of rows before the next chunk, so both stay in L2 (2 MiB a core here)
 * instead of all K x D centroids streaming from memory for every 2 rows. Single-core GFLOP/s
 * (per second of thread CPU time, median of 3, Chromium, relaxed SIMD), chunk / panel:
 *
 *   N 3k x D 1792 x K 10k (72 MB of centroids):  none 10.1 | 256K/64K 23.8 | 256K/256K 41.8 |
 *                                                256K/512K 47.5 | 256K/1M 50.8 | 128K/1M 50.6
 *   N 30k x D 384 x K 1000 (1.5 MB):             none 49.6 | 256K/256K 54.0 | 256K/1M 53.5
 */
export const CHUNK_BYTES = 256 * 1024;
export const PANEL_BYTES = 1024 * 1024;

/**
 * A panel is also the unit of work one thread takes at a time (Atomics.add), but a job is cut
 * into at least threads x MIN_GRABS_PER_THREAD grabs where it has the rows, so a thread that
 * the OS slows down takes fewer rows instead of holding the others up. Measured with 2 workers
 * on this shared machine (Node, median of 21, twice): 1, 2, 4 and 16 grabs a thread gave
 * 33-83 ms (N 20k x D 128 x K 256) and 113-192 ms (N 4k x D 384 x K 1000), with no order
 * between them beyond the run-to-run spread; 4 keeps the grabs a panel or so in size.
 *
 * Calls of panel size also matter for V8: it runs a function's first calls in its baseline
 * compiler (Liftoff) and swaps in optimised code only for *later* calls, so one huge call stays
 * slow to the end: a first pass over N 30k x D 384 x K 1000 as one call took 5.9 s against
 * 1.9 s for the next ones (Node). In panel-sized calls W1's first pass, which also copies x,
 * takes 1.56 s against 1.41 s (Chromium, relaxed SIMD, one thread).
 */
export const MIN_GRABS_PER_THREAD = 4;

/**
 * Largest packed x kept resident (see the header); larger ones go through a window this size.
 * 256 MiB keeps 100k x 384 (154 MB packed) resident, and holds the packed copy of a 1M x 384
 * pool to a sixth of its 1.5 GB: `strata curate` on it peaked at 1.86 GiB against 3.08 GiB
 * with the whole copy (bench:cli-memory, /usr/bin/time -v, same plan). The window re-packs x in
 * JS every call; 200k x 384 (300 MB), median of 3 interleaved, Node, 2 threads, load 18-26 on
 * the 2-core machine: k = 100, 3.5 s resident vs 4.6 s windowed; k = 1000, 34 s vs 31 s (the
 * packing is lost in the noise once k is in the hundreds, as it is at level 1 of a large pool).
 */
export const RESIDENT_X_BYTES = 256 * 1024 * 1024;

const alignUp = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

/** Values sampled from x to notice a reused array whose contents changed. */
const SAMPLES = 64;

interface ResidentX {
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;
  readonly sample: Uint32Array;
  /** padded row length (multiple of 4, at least 4) */
  readonly d4: number;
  /** row blocks */
  readonly nb: number;
  /** first free byte after x */
  readonly end: number;
}

/** Where a call's x goes: all of it (resident), or chunks of `chunkRows` through a window. */
interface XWindow {
  readonly d4: number;
  /** rows per chunk (all rows when whole) */
  readonly chunkRows: number;
  /** row blocks of the largest chunk */
  readonly nb: number;
  /** first free byte after the x region */
  readonly end: number;
  readonly whole: boolean;
}

/** The part of x in memory for one chunk: its rows [r0, r1), packed in nb blocks. */
interface XChunk {
  readonly d4: number;
  readonly nb: number;
  readonly r0: number;
  readonly r1: number;
}

function sampleOf(data: Float32Array): Uint32Array {
  // Bit patterns, so NaN compares equal to itself.
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  const n = Math.min(SAMPLES, bits.length);
  const out = new Uint32Array(n);
  for (let s = 0; s < n; s++) out[s] = bits[Math.floor(((s + 0.5) * bits.length) / n)];
  return out;
}

function sameSample(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Writes rows [0, n) of `data` (n x d, row-major) into `f` at float index `base`, packed in
 * blocks of `group` rows with rows padded to d4 and blocks to `nPad` rows, zeros in the padding.
 */
function pack(
  f: Float32Array,
  base: number,
  data: Float32Array,
  n: number,
  d: number,
  d4: number,
  group: number,
  nPad: number,
): void {
  const q4 = d4 >> 2;
  const step = group * 4;
  const full = d >> 2;
  const rem = d & 3;
  for (let i = 0; i < nPad; i++) {
    const b = (i / group) | 0;
    let o = base + b * group * d4 + (i - b * group) * 4;
    let q = 0;
    if (i < n) {
      let s = i * d;
      for (; q < full; q++, o += step, s += 4) {
        f[o] = data[s];
        f[o + 1] = data[s + 1];
        f[o + 2] = data[s + 2];
        f[o + 3] = data[s + 3];
      }
      if (rem > 0) {
        f[o] = data[s];
        f[o + 1] = rem > 1 ? data[s + 1] : 0;
        f[o + 2] = rem > 2 ? data[s + 2] : 0;
        f[o + 3] = 0;
        o += step;
        q++;
      }
    }
    for (; q < q4; q++, o += step) f[o] = f[o + 1] = f[o + 2] = f[o + 3] = 0;
  }
}

export interface WasmKernelParts {
  readonly name: string;
  readonly module: WasmModule;
  readonly memory: WasmMemory;
  /** the memory's declared maximum, in pages */
  readonly maxPages: number;
  /** workers already initialised with module + memory (memory is then shared) */
  readonly pool?: KernelPool;
  /** calls with fewer multiply-adds run on the calling thread (default POOL_MIN_WORK) */
  readonly poolMinWork?: number;
  /** largest packed x kept resident (default RESIDENT_X_BYTES); tests lower it */
  readonly residentBytes?: number;
}

export class WasmKernel implements CpuKernel {
  readonly name: string;
  /** threads that compute a large call */
  readonly threads: number;
  readonly #memory: WasmMemory;
  readonly #local: KernelExports;
  readonly #pool: KernelPool | undefined;
  readonly #rows: number;
  readonly #poolMinWork: number;
  readonly #maxBytes: number;
  readonly #residentBytes: number;
  #x: ResidentX | undefined;
  /** calls share the scratch region, so they run one after another */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(parts: WasmKernelParts) {
    this.name = parts.name;
    this.#memory = parts.memory;
    this.#local = instantiateKernel(parts.module, parts.memory);
    this.#pool = parts.pool;
    this.#rows = this.#local.rows();
    this.threads = parts.pool?.size ?? 1;
    this.#poolMinWork = parts.poolMinWork ?? POOL_MIN_WORK;
    this.#maxBytes = parts.maxPages * PAGE_BYTES;
    this.#residentBytes = parts.residentBytes ?? RESIDENT_X_BYTES;
  }

  assign(x: Matrix, centroids: Matrix, out: Assignment): Promise<void> {
    return this.#serial(() => this.#assign(x, centroids, out));
  }

  distancesTo(x: Matrix, candidates: Matrix, out: Float32Array): Promise<void> {
    return this.#serial(() => this.#distancesTo(x, candidates, out));
  }

  /** Stops the workers and lets go of x. The kernel cannot be used afterwards. */
  dispose(): void {
    this.#pool?.terminate();
    this.#x = undefined;
  }

  #serial(fn: () => Promise<void>): Promise<void> {
    const result = this.#tail.then(fn);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  async #assign(x: Matrix, c: Matrix, out: Assignment): Promise<void> {
    if (c.cols !== x.cols) {
      throw new RangeError(`centroids have ${c.cols} columns, rows have ${x.cols}`);
    }
    if (out.labels.length !== x.rows || out.dist2.length !== x.rows) {
      throw new RangeError(`assign: output arrays must hold ${x.rows} values`);
    }
    if (x.rows === 0) return;
    if (c.rows === 0) throw new RangeError('assign needs at least one centroid');
    const w = this.#window(x);
    const { d4 } = w;
    const nPad = w.nb * this.#rows;
    const kb = Math.ceil(c.rows / 4);
    const cp = alignUp(w.end);
    const c2p = alignUp(cp + kb * 16 * d4);
    const lp = alignUp(c2p + kb * 16);
    const dp = alignUp(lp + nPad * 4);
    const sp = alignUp(dp + nPad * 4);
    const f = this.#reserve(sp + nPad * 32, x);
    pack(f, cp >> 2, c.data, c.rows, c.cols, d4, 4, kb * 4);
    const c2 = f.subarray(c2p >> 2, (c2p >> 2) + kb * 4);
    for (let j = 0; j < c.rows; j++) {
      let s = 0;
      for (let t = j * c.cols, e = t + c.cols; t < e; t++) s += c.data[t] * c.data[t];
      c2[j] = s;
    }
    // Padding centroids can never be nearest.
    c2.fill(Infinity, c.rows);
    const kc = Math.max(1, Math.floor(CHUNK_BYTES / (16 * d4)));
    for (let r0 = 0; r0 < x.rows; r0 += w.chunkRows) {
      const xc = this.#loadChunk(x, w, r0);
      await this.#run(
        'assign',
        xc,
        [cp, c2p, kb, lp, dp, sp, kc],
        xc.nb * this.#rows * kb * 4 * d4,
      );
      const buf = this.#memory.buffer;
      const m = xc.r1 - xc.r0;
      out.labels.set(new Int32Array(buf, lp, m), r0);
      out.dist2.set(new Float32Array(buf, dp, m), r0);
    }
  }

  async #distancesTo(x: Matrix, cand: Matrix, out: Float32Array): Promise<void> {
    if (cand.cols !== x.cols) {
      throw new RangeError(`candidates have ${cand.cols} columns, rows have ${x.cols}`);
    }
    // Longer is fine: k-means++ reuses one buffer sized for its largest batch of candidates.
    if (out.length < x.rows * cand.rows) {
      throw new RangeError(`distancesTo: output must hold ${x.rows * cand.rows} values`);
    }
    if (x.rows === 0 || cand.rows === 0) return;
    const w = this.#window(x);
    const { d4 } = w;
    const stride = w.nb * this.#rows;
    const mb = Math.ceil(cand.rows / 4);
    const cp = alignUp(w.end);
    const c2p = alignUp(cp + mb * 16 * d4);
    const op = alignUp(c2p + mb * 16);
    const f = this.#reserve(op + mb * 4 * stride * 4, x);
    pack(f, cp >> 2, cand.data, cand.rows, cand.cols, d4, 4, mb * 4);
    // |cand|^2 in wasm, summed like the kernel's dot products: a row equal to a candidate then
    // gets exactly 0.
    this.#local.norms4(cp, mb, d4, c2p);
    for (let r0 = 0; r0 < x.rows; r0 += w.chunkRows) {
      const xc = this.#loadChunk(x, w, r0);
      await this.#run('distTo', xc, [cp, c2p, mb, op, stride], xc.nb * this.#rows * mb * 4 * d4);
      const table = new Float32Array(this.#memory.buffer, op, cand.rows * stride);
      const m = xc.r1 - xc.r0;
      for (let j = 0; j < cand.rows; j++) {
        out.set(table.subarray(j * stride, j * stride + m), j * x.rows + r0);
      }
    }
  }

  /** Runs one kernel export over all row blocks, on the pool when the job is big enough. */
  async #run(fn: KernelFn, xr: XChunk, tail: number[], work: number): Promise<void> {
    const pool = this.#pool;
    const threads = pool && work >= this.#poolMinWork && xr.nb > 1 ? pool.size : 1;
    const panel = Math.max(1, Math.floor(PANEL_BYTES / (xr.d4 * 4 * this.#rows)));
    const spread = Math.ceil(xr.nb / (threads * MIN_GRABS_PER_THREAD));
    const grain = Math.max(1, Math.min(panel, spread));
    if (pool && threads > 1) {
      Atomics.store(new Int32Array(this.#memory.buffer, COUNTER_OFFSET, 1), 0, 0);
      await pool.run({
        fn,
        xp: X_OFFSET,
        d4: xr.d4,
        tail,
        blocks: xr.nb,
        grain,
        counter: COUNTER_OFFSET,
      });
      return;
    }
    const k = this.#local;
    const t = tail;
    for (let b = 0; b < xr.nb; b += grain) {
      const e = Math.min(xr.nb, b + grain);
      if (fn === 'assign') {
        k.assign(X_OFFSET, xr.d4, b, e, t[0], t[1], t[2], t[3], t[4], t[5], t[6]);
      } else {
        k.distTo(X_OFFSET, xr.d4, b, e, t[0], t[1], t[2], t[3], t[4]);
      }
    }
  }

  /** How a call holds x: whole and resident, or through a window (see RESIDENT_X_BYTES). */
  #window(x: Matrix): XWindow {
    if (x.data.length !== x.rows * x.cols) {
      throw new RangeError(`matrix ${x.rows} x ${x.cols} has ${x.data.length} values`);
    }
    const d4 = Math.max(4, Math.ceil(x.cols / 4) * 4);
    const blockBytes = this.#rows * d4 * 4;
    const nbAll = Math.ceil(x.rows / this.#rows);
    if (nbAll * blockBytes <= this.#residentBytes) {
      return { d4, chunkRows: x.rows, nb: nbAll, end: X_OFFSET + nbAll * blockBytes, whole: true };
    }
    const nb = Math.max(1, Math.floor(this.#residentBytes / blockBytes));
    return { d4, chunkRows: nb * this.#rows, nb, end: X_OFFSET + nb * blockBytes, whole: false };
  }

  /** Rows [r0, r0 + chunkRows) of x packed at X_OFFSET (the resident copy when x is whole). */
  #loadChunk(x: Matrix, w: XWindow, r0: number): XChunk {
    if (w.whole) {
      const xr = this.#loadX(x);
      return { d4: xr.d4, nb: xr.nb, r0: 0, r1: x.rows };
    }
    // The window is overwritten: whatever was resident is gone.
    this.#x = undefined;
    const r1 = Math.min(x.rows, r0 + w.chunkRows);
    const m = r1 - r0;
    const nb = Math.ceil(m / this.#rows);
    const f = new Float32Array(this.#memory.buffer);
    const rows = x.data.subarray(r0 * x.cols, r1 * x.cols);
    pack(f, X_OFFSET >> 2, rows, m, x.cols, w.d4, this.#rows, nb * this.#rows);
    return { d4: w.d4, nb, r0, r1 };
  }

  /** x resident in memory, copied only when it is not the one already there. */
  #loadX(x: Matrix): ResidentX {
    const cur = this.#x;
    const sample = sampleOf(x.data);
    if (
      cur &&
      cur.data === x.data &&
      cur.rows === x.rows &&
      cur.cols === x.cols &&
      sameSample(cur.sample, sample)
    ) {
      return cur;
    }
    this.#x = undefined;
    const d4 = Math.max(4, Math.ceil(x.cols / 4) * 4);
    const nb = Math.ceil(x.rows / this.#rows);
    const end = X_OFFSET + nb * this.#rows * d4 * 4;
    const f = this.#reserve(end, x);
    pack(f, X_OFFSET >> 2, x.data, x.rows, x.cols, d4, this.#rows, nb * this.#rows);
    const resident = { data: x.data, rows: x.rows, cols: x.cols, sample, d4, nb, end };
    this.#x = resident;
    return resident;
  }

  /** Grows the memory to hold `bytes`; returns a fresh float view of all of it. */
  #reserve(bytes: number, x: Matrix): Float32Array {
    const have = this.#memory.buffer.byteLength;
    if (bytes > have) {
      const limit = this.#maxBytes;
      const size = (n: number): string =>
        n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : `${Math.ceil(n / 2 ** 20)} MiB`;
      if (bytes > limit) {
        throw new InputError(
          `${x.rows} rows x ${x.cols} dimensions need ${size(bytes)} in the WebAssembly ` +
            `k-means kernel, over its ${size(limit)} limit: use fewer rows or dimensions`,
        );
      }
      try {
        this.#memory.grow(Math.ceil((bytes - have) / PAGE_BYTES));
      } catch {
        throw new InputError(
          `could not reserve ${size(bytes)} for ${x.rows} rows x ${x.cols} dimensions ` +
            `(out of memory): use fewer rows or dimensions`,
        );
      }
    }
    return new Float32Array(this.#memory.buffer);
  }
}
