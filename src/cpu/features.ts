/** What the engine offers the kernel: SIMD, and memory that threads can share. */
import { webAssembly } from './wasm-api.ts';

/**
 * (module (func (result v128) (i32x4.splat (i32.const 0)))): 29 bytes that validate exactly
 * where WebAssembly SIMD128 is supported.
 */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 8, 1, 6, 0, 65, 0, 253, 17,
  11,
]);

/** Why the kernel cannot run here, or undefined when it can. */
export function simdUnavailable(): string | undefined {
  const wasm = webAssembly();
  if (!wasm) return 'this JavaScript engine has no WebAssembly';
  try {
    if (!wasm.validate(SIMD_PROBE)) return 'this browser does not support WebAssembly SIMD';
  } catch {
    return 'this browser does not support WebAssembly SIMD';
  }
  return undefined;
}

/**
 * Why workers cannot share the kernel's memory, or undefined when they can. Pages need
 * cross-origin isolation (COOP/COEP headers) for SharedArrayBuffer; Node always has it.
 */
export function sharingUnavailable(): string | undefined {
  const g = globalThis as { crossOriginIsolated?: boolean; SharedArrayBuffer?: unknown };
  if (g.crossOriginIsolated === false) {
    return 'no SharedArrayBuffer: the page is not cross-origin isolated (COOP/COEP headers)';
  }
  if (typeof g.SharedArrayBuffer !== 'function') return 'SharedArrayBuffer is unavailable';
  try {
    new (webAssembly()!.Memory)({ initial: 1, maximum: 1, shared: true });
  } catch {
    return 'this engine cannot create shared WebAssembly memory';
  }
  return undefined;
}
