/**
 * The one place where the CLI picks its CPU arithmetic. `--kernel NAME` looks NAME up here; a new
 * kernel (e.g. WebAssembly SIMD) registers one loader and every command can use it.
 */
import { jsKernel } from '../core/cpu-kernel-js.ts';
import { InputError } from '../core/errors.ts';
import type { CpuKernel } from '../core/types.ts';
import { UsageError } from './command.ts';

/** WebAssembly SIMD when it loads here, else plain JS (the reason goes to stderr). */
export const DEFAULT_KERNEL = 'auto';

/** Loaders by name; async so a kernel can load its module or binary lazily. */
export const kernelLoaders: Record<string, () => Promise<CpuKernel>> = {
  auto: async () => {
    const { createBestCpuKernel } = await import('../cpu/node.ts');
    const { kernel, reason } = await createBestCpuKernel();
    if (kernel === jsKernel) process.stderr.write(`strata: note: kernel ${reason}\n`);
    return kernel;
  },
  js: async () => jsKernel,
  // WebAssembly SIMD on every core (src/cpu); needs the built .wasm files (`npm run assets`).
  wasm: async () => {
    const { createWasmKernel } = await import('../cpu/node.ts');
    try {
      return await createWasmKernel();
    } catch (e) {
      throw new InputError(
        `--kernel wasm is unavailable: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  },
};

/** Releases a kernel's workers so the process can exit (the JS kernel holds none). */
export function releaseKernel(kernel: CpuKernel): void {
  (kernel as CpuKernel & { dispose?: () => void }).dispose?.();
}

export function kernelNames(): string[] {
  return Object.keys(kernelLoaders);
}

/** The explicit `--kernel` value that reproduces a run made with this kernel. */
export function kernelFlag(kernel: CpuKernel): string {
  return kernel === jsKernel ? 'js' : 'wasm';
}

export async function loadKernel(name: string = DEFAULT_KERNEL): Promise<CpuKernel> {
  const load = kernelLoaders[name];
  if (!load) {
    throw new UsageError(`--kernel must be one of ${kernelNames().join(', ')}; got '${name}'`);
  }
  return load();
}
