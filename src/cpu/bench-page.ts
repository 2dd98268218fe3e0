/**
 * The Chromium half of `npm run bench:cpu` (bench/cpu-kernel.ts opens bench/cpu-kernel.html,
 * which loads this): exposes `strataCpuBench(spec)` for the driver to call. Not part of the app.
 */
import {
  benchMatrix,
  dispatchSeconds,
  DISPATCH,
  timeKernel,
  WORKLOADS,
} from '../../bench/cpu-kernel-run.ts';
import { jsKernel } from '../core/cpu-kernel-js.ts';
import type { CpuKernel, Matrix } from '../core/types.ts';
import { createWasmKernel, type WasmKernelOptions } from './browser.ts';

export interface PageSpec {
  readonly workload: string;
  readonly kernel: 'js' | 'wasm';
  readonly options?: WasmKernelOptions;
  readonly reps?: number;
}

let data: { key: string; x: Matrix; c: Matrix } | undefined;

async function strataCpuBench(spec: PageSpec) {
  const w = WORKLOADS.find((v) => v.workload === spec.workload);
  if (!w) throw new Error(`unknown workload ${spec.workload}`);
  const key = `${w.N}x${w.D}x${w.K}`;
  if (data?.key !== key) {
    data = { key, x: benchMatrix(w.N, w.D, 1), c: benchMatrix(w.K, w.D, 2) };
  }
  let kernel: CpuKernel = jsKernel;
  let threads = 1;
  let dispose = () => {};
  if (spec.kernel === 'wasm') {
    const k = await createWasmKernel(spec.options);
    kernel = k;
    threads = k.threads;
    dispose = () => k.dispose();
  }
  try {
    const t = await timeKernel(kernel, w, data.x, data.c, spec.reps);
    return {
      env: 'chromium',
      isolated: crossOriginIsolated,
      kernel: kernel.name,
      threads,
      ...w,
      ...t,
    };
  } finally {
    dispose();
  }
}

/** One tiny call on the calling thread against one through a pool of `threads` workers. */
async function strataCpuDispatch(threads: number) {
  const local = await createWasmKernel({ threads: 1 });
  const pooled = await createWasmKernel({ threads, poolMinWork: 0 });
  try {
    const [a, b] = [await dispatchSeconds(local), await dispatchSeconds(pooled)];
    return {
      dispatch: DISPATCH,
      calling_thread_ms: Number((a * 1e3).toFixed(4)),
      pool_ms: Number((b * 1e3).toFixed(4)),
      threads: pooled.threads,
    };
  } finally {
    local.dispose();
    pooled.dispose();
  }
}

Object.assign(globalThis, { strataCpuBench, strataCpuDispatch });
