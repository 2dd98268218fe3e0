import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createBestCpuKernel,
  createWasmKernel,
  disposeCpuKernel,
  type WasmKernel,
} from '../../src/cpu/browser.ts';
import {
  SHAPES,
  expectAssignMatchesJs,
  expectDistancesMatch,
  expectPaddingNeverWins,
  expectTiesGoToLowestIndex,
  randomMatrix,
  sameBits,
} from '../unit/cpu-kernel-cases.ts';

let plain: WasmKernel;
let relaxed: WasmKernel;
let pooled: WasmKernel;

beforeAll(async () => {
  plain = await createWasmKernel({ threads: 1, instructions: 'simd' });
  relaxed = await createWasmKernel({ threads: 1, instructions: 'relaxed' });
  // poolMinWork 0: every call, however small, goes through the module Workers.
  pooled = await createWasmKernel({ threads: 2, poolMinWork: 0 });
});

afterAll(() => {
  for (const k of [plain, relaxed, pooled]) k?.dispose();
});

describe('WebAssembly SIMD kernel in Chromium', () => {
  it('runs on a cross-origin isolated page (vite.config.ts COOP/COEP reach the test page)', () => {
    // If this fails, the multi-thread tests below silently lose their workers: fix the headers.
    expect(globalThis.crossOriginIsolated).toBe(true);
    expect(typeof SharedArrayBuffer).toBe('function');
  });

  it('builds plain SIMD, relaxed-SIMD (FMA) and 2-worker kernels', () => {
    expect(plain.name).toBe('wasm-simd');
    expect(relaxed.name).toBe('wasm-relaxed-simd');
    expect(pooled.name).toMatch(/^wasm-(relaxed-)?simd-x2$/);
    expect(pooled.threads).toBe(2);
  });

  for (const [n, d, k] of SHAPES) {
    it(`assigns and measures distances like the JS kernel: N=${n} D=${d} K=${k}`, async () => {
      const x = randomMatrix(n, d, n * 7919 + d);
      const c = randomMatrix(k, d, k * 104729 + d);
      const one = await expectAssignMatchesJs(plain, x, c);
      await expectAssignMatchesJs(relaxed, x, c);
      const two = await expectAssignMatchesJs(pooled, x, c);
      if (pooled.name === 'wasm-relaxed-simd-x2') {
        const same = await expectAssignMatchesJs(relaxed, x, c);
        // Same instructions on every thread: the split of rows changes nothing.
        expect(sameBits(two.got.dist2, same.got.dist2)).toBe(true);
      } else {
        expect(sameBits(two.got.dist2, one.got.dist2)).toBe(true);
      }
      for (const kernel of [plain, relaxed, pooled]) await expectDistancesMatch(kernel, x, c);
    });
  }

  it('never lets a padding centroid win, and breaks ties towards the lowest index', async () => {
    for (const kernel of [plain, relaxed, pooled]) {
      await expectPaddingNeverWins(kernel);
      await expectTiesGoToLowestIndex(kernel);
    }
  });

  it('createBestCpuKernel picks the 2-thread WebAssembly kernel and says why', async () => {
    const { kernel, reason } = await createBestCpuKernel();
    try {
      expect(kernel.name).toMatch(/^wasm-(relaxed-)?simd-x\d+$/);
      expect(reason).toMatch(/^WebAssembly SIMD.* on \d+ threads$/);
    } finally {
      disposeCpuKernel(kernel);
    }
  });
});
