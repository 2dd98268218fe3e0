/**
 * Builds a WasmKernel from whatever the environment provides (browser.ts: fetch + Worker;
 * node.ts: readFile + worker_threads): picks the instruction set and the thread count, and says
 * why in one line.
 */
import { KERNEL_FILES, MAX_PAGES, type KernelVariant } from '../../wasm/kernel-wat.ts';
import { sharingUnavailable, simdUnavailable } from './features.ts';
import type { KernelPool } from './pool.ts';
import { webAssembly, type WasmMemory, type WasmModule } from './wasm-api.ts';
import { WasmKernel } from './wasm-kernel.ts';

import { jsKernel } from '../core/cpu-kernel-js.ts';
import type { CpuKernel } from '../core/types.ts';

export type KernelBytes = ArrayBuffer | ArrayBufferView<ArrayBuffer>;

export interface WasmKernelOptions {
  /**
   * Threads that compute (each a worker sharing the kernel's memory). Default: every core where
   * memory can be shared, else 1. 1 computes on the calling thread, with no workers.
   */
  readonly threads?: number;
  /**
   * 'relaxed' uses relaxed-SIMD fused multiply-add; 'simd' plain SIMD128; 'auto' (default)
   * relaxed where the engine has it (Chromium yes, Node 20 only behind a flag). Chromium, one
   * thread, one bench:cpu run: W1 44.4 -> 53.4 GFLOP/s, W2 42.2 -> 54.3. Results stay
   * deterministic on one machine, but may differ in the last bits between CPUs with and without
   * FMA.
   */
  readonly instructions?: 'auto' | 'simd' | 'relaxed';
  /**
   * Calls with fewer multiply-adds than this run on the calling thread, not the workers
   * (default POOL_MIN_WORK in wasm-kernel.ts). Tests set 0 to send every call to the workers.
   */
  readonly poolMinWork?: number;
  /**
   * Largest packed x kept resident in the kernel's memory (default RESIDENT_X_BYTES in
   * wasm-kernel.ts); larger ones are packed chunk by chunk each call. Tests lower it.
   */
  readonly residentBytes?: number;
}

export interface KernelHost {
  /** the bytes of one built kernel file */
  load(file: string): Promise<KernelBytes>;
  /** the machine's cores */
  readonly cores: number;
  createPool(size: number): KernelPool;
}

export interface BuiltKernel {
  readonly kernel: WasmKernel;
  /** which kernel and why, for people ("WebAssembly SIMD on 2 threads") */
  readonly reason: string;
}

/**
 * A worker that never answers must not hang the app: after this long the kernel runs on one
 * thread. Starting 2 workers took 0.5-1.1 s in Node (each compiles its TypeScript through tsx)
 * and 0.05 s in Chromium here, with the machine busy (the createBestCpuKernel tests).
 */
const POOL_START_TIMEOUT_MS = 30_000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

async function compile(host: KernelHost, variant: KernelVariant): Promise<WasmModule | undefined> {
  const bytes = await host.load(KERNEL_FILES[variant].file);
  const wasm = webAssembly()!;
  // Relaxed SIMD is newer than SIMD128: validating the real module is the exact feature test.
  if (!wasm.validate(bytes)) return undefined;
  return wasm.compile(bytes);
}

/**
 * A shared memory reserves its whole maximum up front: ask for 4 GiB (the wasm32 limit), then
 * less where the engine cannot reserve that much address space.
 */
function createMemory(shared: boolean): { memory: WasmMemory; maxPages: number } {
  const wasm = webAssembly()!;
  for (const maxPages of [MAX_PAGES, MAX_PAGES / 2, MAX_PAGES / 4]) {
    try {
      return { memory: new wasm.Memory({ initial: 1, maximum: maxPages, shared }), maxPages };
    } catch {
      // try a smaller reservation
    }
  }
  throw new Error('could not reserve memory for the WebAssembly kernel (1 GiB)');
}

export async function buildWasmKernel(
  host: KernelHost,
  options: WasmKernelOptions = {},
): Promise<BuiltKernel> {
  const noSimd = simdUnavailable();
  if (noSimd) throw new Error(noSimd);
  const wanted = options.threads ?? host.cores;
  if (!(Number.isInteger(wanted) && wanted >= 1)) {
    throw new RangeError(`threads must be a positive integer, got ${wanted}`);
  }
  const noSharing = wanted > 1 ? sharingUnavailable() : undefined;
  const shared = wanted > 1 && !noSharing;
  const instructions = options.instructions ?? 'auto';

  let relaxed = false;
  let module: WasmModule | undefined;
  if (instructions !== 'simd') {
    module = await compile(host, shared ? 'relaxedShared' : 'relaxed');
    relaxed = module !== undefined;
    if (!module && instructions === 'relaxed') {
      throw new Error('this engine does not support relaxed WebAssembly SIMD');
    }
  }
  module ??= await compile(host, shared ? 'simdShared' : 'simd');
  if (!module) throw new Error('the WebAssembly k-means kernel does not validate here');

  const base = relaxed ? 'wasm-relaxed-simd' : 'wasm-simd';
  const what = relaxed ? 'WebAssembly SIMD with fused multiply-add' : 'WebAssembly SIMD';
  const { memory, maxPages } = createMemory(shared);
  if (shared) {
    let pool: KernelPool | undefined;
    try {
      pool = host.createPool(wanted);
      await withTimeout(pool.init(module, memory), POOL_START_TIMEOUT_MS, 'starting workers');
      return {
        kernel: new WasmKernel({
          name: `${base}-x${wanted}`,
          module,
          memory,
          maxPages,
          pool,
          poolMinWork: options.poolMinWork,
          residentBytes: options.residentBytes,
        }),
        reason: `${what} on ${wanted} threads`,
      };
    } catch (err) {
      pool?.terminate();
      const why = err instanceof Error ? err.message : String(err);
      return {
        kernel: new WasmKernel({
          name: base,
          module,
          memory,
          maxPages,
          residentBytes: options.residentBytes,
        }),
        reason: `${what} on 1 thread (workers failed: ${why})`,
      };
    }
  }
  const single = wanted > 1 ? ` (${noSharing})` : '';
  return {
    kernel: new WasmKernel({
      name: base,
      module,
      memory,
      maxPages,
      residentBytes: options.residentBytes,
    }),
    reason: `${what} on 1 thread${single}`,
  };
}

/** The fastest kernel `host` can run, and why it was picked (the plain-JS one as a fallback). */
export async function buildBestCpuKernel(
  host: KernelHost,
  options?: WasmKernelOptions,
): Promise<{ kernel: CpuKernel; reason: string }> {
  try {
    return await buildWasmKernel(host, options);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return {
      kernel: jsKernel,
      reason: `plain JavaScript (WebAssembly kernel unavailable: ${why})`,
    };
  }
}

/** Stops a WasmKernel's workers; does nothing for other kernels. */
export function disposeCpuKernel(kernel: CpuKernel): void {
  (kernel as CpuKernel & { dispose?: () => void }).dispose?.();
}
