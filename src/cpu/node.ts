/// <reference types="node" />
/**
 * The CPU k-means kernel in Node (the CLI, unit tests, benches): reads the built .wasm files
 * from wasm/build/ and runs threads as worker_threads. Never imported by browser code.
 *
 *   const { kernel, reason } = await createBestCpuKernel();
 *   const backend = new CpuBackend(kernel);   // src/core/kmeans.ts
 *   ...
 *   disposeCpuKernel(kernel);                 // optional: an idle pool does not keep Node alive
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { CpuKernel } from '../core/types.ts';
import {
  buildBestCpuKernel,
  buildWasmKernel,
  type KernelHost,
  type WasmKernelOptions,
} from './create.ts';
import { createNodePool } from './node-pool.ts';
import type { WasmKernel } from './wasm-kernel.ts';

export type { WasmKernelOptions } from './create.ts';
export { disposeCpuKernel } from './create.ts';
export { WasmKernel } from './wasm-kernel.ts';

const host: KernelHost = {
  async load(file) {
    const url = new URL(`../../wasm/build/${file}`, import.meta.url);
    try {
      const bytes = await readFile(url);
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch {
      throw new Error(`the WebAssembly kernel ${file} is not built: run \`npm run assets\``);
    }
  },
  cores: availableParallelism(),
  createPool: createNodePool,
};

/** The WebAssembly SIMD kernel; threads default to every core (worker_threads). */
export async function createWasmKernel(options?: WasmKernelOptions): Promise<WasmKernel> {
  return (await buildWasmKernel(host, options)).kernel;
}

/** The fastest kernel that works here, and why it was picked (the plain-JS one as a fallback). */
export function createBestCpuKernel(
  options?: WasmKernelOptions,
): Promise<{ kernel: CpuKernel; reason: string }> {
  return buildBestCpuKernel(host, options);
}
