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
import { setFlagsFromString } from 'node:v8';
import type { CpuKernel } from '../core/types.ts';
import {
  buildBestCpuKernel,
  buildWasmKernel,
  type KernelHost,
  type WasmKernelOptions,
} from './create.ts';
import { createNodePool } from './node-pool.ts';
import { webAssembly } from './wasm-api.ts';
import type { WasmKernel } from './wasm-kernel.ts';

export type { WasmKernelOptions } from './create.ts';
export { disposeCpuKernel } from './create.ts';
export { WasmKernel } from './wasm-kernel.ts';

/**
 * (module (func (result v128) (f32x4.relaxed_madd (v128.const 0) (v128.const 0) (v128.const 0)))):
 * validates exactly where relaxed SIMD is on. v128.const is 0xfd 12 and 16 bytes; relaxed_madd
 * is 0xfd 0x105 (LEB128 133 2).
 */
const ZERO_V128 = [253, 12, ...Array<number>(16).fill(0)];
const RELAXED_BODY = [0, ...ZERO_V128, ...ZERO_V128, ...ZERO_V128, 253, 133, 2, 11];
const RELAXED_PROBE = new Uint8Array([
  ...[0, 97, 115, 109, 1, 0, 0, 0], // magic, version
  ...[1, 5, 1, 96, 0, 1, 123], // type section: () -> v128
  ...[3, 2, 1, 0], // function section
  ...[10, RELAXED_BODY.length + 2, 1, RELAXED_BODY.length, ...RELAXED_BODY], // code section
]);

/**
 * Node 20's V8 has relaxed SIMD but runs it only with --experimental-wasm-relaxed-simd (Node 22
 * and Chromium by default). The flag is read when a module is validated or compiled, so turning
 * it on here, before the first kernel compiles, gives the CLI the fused multiply-add kernel the
 * app runs in Chromium: the same arithmetic (and so the same selection for a seed) and about
 * 1.35x the speed, without re-starting node with the flag. Worker threads share the flag.
 */
function enableRelaxedSimd(): void {
  const wasm = webAssembly();
  if (!wasm || wasm.validate(RELAXED_PROBE)) return;
  setFlagsFromString('--experimental-wasm-relaxed-simd');
}

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
  enableRelaxedSimd();
  return (await buildWasmKernel(host, options)).kernel;
}

/** The fastest kernel that works here, and why it was picked (the plain-JS one as a fallback). */
export function createBestCpuKernel(
  options?: WasmKernelOptions,
): Promise<{ kernel: CpuKernel; reason: string }> {
  enableRelaxedSimd();
  return buildBestCpuKernel(host, options);
}
