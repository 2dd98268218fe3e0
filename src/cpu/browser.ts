/**
 * The CPU k-means kernel in pages and workers: fetches the built .wasm (Vite emits it as an
 * asset) and, where the page is cross-origin isolated, runs one module Worker per core on a
 * shared memory. Use it from a worker (e.g. the cluster worker): on one thread the kernel
 * computes synchronously inside each call, which would freeze a page's main thread.
 */
// no-inline: Vite would inline these 4 KB files as data: URLs, which the app's CSP
// (connect-src 'self') does not let fetch() load.
import relaxedUrl from '../../wasm/build/kernel-relaxed.wasm?url&no-inline';
import relaxedSharedUrl from '../../wasm/build/kernel-relaxed-shared.wasm?url&no-inline';
import simdUrl from '../../wasm/build/kernel-simd.wasm?url&no-inline';
import simdSharedUrl from '../../wasm/build/kernel-simd-shared.wasm?url&no-inline';
import type { CpuKernel } from '../core/types.ts';
import { createBrowserPool } from './browser-pool.ts';
import {
  buildBestCpuKernel,
  buildWasmKernel,
  type KernelHost,
  type WasmKernelOptions,
} from './create.ts';
import type { WasmKernel } from './wasm-kernel.ts';

export type { WasmKernelOptions } from './create.ts';
export { disposeCpuKernel } from './create.ts';
export { WasmKernel } from './wasm-kernel.ts';

const URLS: Record<string, string> = {
  'kernel-simd.wasm': simdUrl,
  'kernel-simd-shared.wasm': simdSharedUrl,
  'kernel-relaxed.wasm': relaxedUrl,
  'kernel-relaxed-shared.wasm': relaxedSharedUrl,
};

const host: KernelHost = {
  async load(file) {
    const url = URLS[file];
    if (!url) throw new Error(`unknown kernel file ${file}`);
    const res = await fetch(url);
    if (!res.ok) throw new Error(`could not load the k-means kernel (${res.status} ${url})`);
    return res.arrayBuffer();
  },
  cores: Math.max(1, navigator.hardwareConcurrency || 1),
  createPool: createBrowserPool,
};

/**
 * The WebAssembly SIMD kernel: one worker per core when the page is cross-origin isolated,
 * otherwise one thread (the caller's).
 */
export async function createWasmKernel(options?: WasmKernelOptions): Promise<WasmKernel> {
  return (await buildWasmKernel(host, options)).kernel;
}

/** The fastest kernel that works here, and why it was picked (the plain-JS one as a fallback). */
export function createBestCpuKernel(
  options?: WasmKernelOptions,
): Promise<{ kernel: CpuKernel; reason: string }> {
  return buildBestCpuKernel(host, options);
}
