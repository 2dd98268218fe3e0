import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { jsKernel } from '../../src/core/cpu-kernel-js.ts';
import { CpuBackend } from '../../src/core/kmeans.ts';
import { readFile } from 'node:fs/promises';
import { InputError } from '../../src/core/errors.ts';
import type { Matrix } from '../../src/core/types.ts';
import { webAssembly } from '../../src/cpu/wasm-api.ts';
import { WasmKernel as Kernel } from '../../src/cpu/wasm-kernel.ts';
import {
  createBestCpuKernel,
  createWasmKernel,
  disposeCpuKernel,
  type WasmKernel,
} from '../../src/cpu/node.ts';
import {
  SHAPES,
  dist64,
  emptyAssignment,
  expectAssignMatchesJs,
  expectDistancesMatch,
  expectPaddingNeverWins,
  expectTiesGoToLowestIndex,
  randomMatrix,
  sameBits,
} from './cpu-kernel-cases.ts';

let single: WasmKernel;
let pooled: WasmKernel;

beforeAll(async () => {
  single = await createWasmKernel({ threads: 1 });
  // poolMinWork 0: every call, however small, goes through the two workers.
  pooled = await createWasmKernel({ threads: 2, poolMinWork: 0 });
});

afterAll(() => {
  single?.dispose();
  pooled?.dispose();
});

describe('WebAssembly SIMD kernel in Node', () => {
  it('builds a SIMD kernel, and a 2-thread one on shared memory', () => {
    expect(single.name).toMatch(/^wasm-(relaxed-)?simd$/);
    expect(single.threads).toBe(1);
    expect(pooled.name).toMatch(/^wasm-(relaxed-)?simd-x2$/);
    expect(pooled.threads).toBe(2);
  });

  for (const [n, d, k] of SHAPES) {
    it(`assigns like the JS kernel: N=${n} D=${d} K=${k}, 1 and 2 threads`, async () => {
      const x = randomMatrix(n, d, n * 7919 + d);
      const c = randomMatrix(k, d, k * 104729 + d);
      const one = await expectAssignMatchesJs(single, x, c);
      const two = await expectAssignMatchesJs(pooled, x, c);
      // Same instructions on every thread: the split of rows changes nothing.
      expect(sameBits(two.got.labels, one.got.labels)).toBe(true);
      expect(sameBits(two.got.dist2, one.got.dist2)).toBe(true);
    });

    it(`computes candidate-major distances: N=${n} D=${d} M=${k}, 1 and 2 threads`, async () => {
      const x = randomMatrix(n, d, n + d);
      const cand = randomMatrix(k, d, k + 3 * d);
      const one = await expectDistancesMatch(single, x, cand);
      const two = await expectDistancesMatch(pooled, x, cand);
      expect(sameBits(two, one)).toBe(true);
    });
  }

  it('gives bit-identical results when x is too large to keep and goes through in chunks', async () => {
    // 1 KiB window: 101 rows of 10 dims (96 bytes a 2-row block) go in 6 chunks of 20 rows.
    const chunked = await createWasmKernel({ threads: 2, poolMinWork: 0, residentBytes: 1024 });
    try {
      const x = randomMatrix(101, 10, 5);
      const c = randomMatrix(37, 10, 6);
      const a = emptyAssignment(x.rows);
      const b = emptyAssignment(x.rows);
      await single.assign(x, c, a);
      await chunked.assign(x, c, b);
      expect(sameBits(b.labels, a.labels)).toBe(true);
      expect(sameBits(b.dist2, a.dist2)).toBe(true);
      const da = new Float32Array(x.rows * 5);
      const db = new Float32Array(x.rows * 5);
      const cand: Matrix = { data: c.data.slice(0, 50), rows: 5, cols: 10 };
      await single.distancesTo(x, cand, da);
      await chunked.distancesTo(x, cand, db);
      expect(sameBits(db, da)).toBe(true);
      // and the same whole k-means
      const opts = { nIters: 4, seed: 2 };
      const ka = await new CpuBackend(single).kmeans(x, 9, opts);
      const kb = await new CpuBackend(chunked).kmeans(x, 9, opts);
      expect(sameBits(kb.centroids.data, ka.centroids.data)).toBe(true);
    } finally {
      chunked.dispose();
    }
  });

  it('never lets a padding centroid win, and breaks ties towards the lowest index', async () => {
    for (const kernel of [single, pooled]) {
      await expectPaddingNeverWins(kernel);
      await expectTiesGoToLowestIndex(kernel);
    }
  });

  it('gives a row its own distance exactly 0 in distancesTo, even far from the origin', async () => {
    const x = randomMatrix(50, 384, 9);
    for (let p = 0; p < x.data.length; p++) x.data[p] += 100;
    const cand: Matrix = { data: x.data.slice(7 * 384, 9 * 384), rows: 2, cols: 384 };
    const out = new Float32Array(100);
    await single.distancesTo(x, cand, out);
    expect(out[7]).toBe(0);
    expect(out[50 + 8]).toBe(0);
  });

  it('keeps x resident across calls and notices a different x', async () => {
    const x1 = randomMatrix(301, 17, 1);
    const x2 = randomMatrix(301, 17, 2);
    const c = randomMatrix(13, 17, 3);
    await expectAssignMatchesJs(pooled, x1, c);
    await expectAssignMatchesJs(pooled, x1, randomMatrix(5, 17, 4));
    await expectDistancesMatch(pooled, x2, c);
    await expectAssignMatchesJs(pooled, x1, c);
    // Same array, new values (a caller refilling a buffer): the sampled values differ.
    x1.data.set(x2.data);
    await expectAssignMatchesJs(pooled, x1, c);
    // Same values, another shape over the same array.
    await expectAssignMatchesJs(
      pooled,
      { data: x1.data, rows: 17, cols: 301 },
      randomMatrix(3, 301, 5),
    );
  });

  it('runs concurrent calls one after another with correct results', async () => {
    const xs = [randomMatrix(200, 33, 1), randomMatrix(150, 33, 2), randomMatrix(99, 33, 3)];
    const c = randomMatrix(21, 33, 4);
    const outs = xs.map((x) => emptyAssignment(x.rows));
    await Promise.all(xs.map((x, i) => pooled.assign(x, c, outs[i])));
    xs.forEach((x, i) => {
      for (let r = 0; r < x.rows; r++) {
        expect(Math.abs(outs[i].dist2[r] - dist64(x, r, c, outs[i].labels[r]))).toBeLessThan(1e-3);
      }
    });
  });

  it('rejects mismatched shapes with a clear message', async () => {
    const x = randomMatrix(10, 4, 1);
    await expect(single.assign(x, randomMatrix(3, 5, 2), emptyAssignment(10))).rejects.toThrow(
      /5 columns, rows have 4/,
    );
    await expect(single.assign(x, randomMatrix(0, 4, 2), emptyAssignment(10))).rejects.toThrow(
      /at least one centroid/,
    );
    await expect(single.assign(x, randomMatrix(3, 4, 2), emptyAssignment(9))).rejects.toThrow(
      /must hold 10/,
    );
    await expect(
      single.distancesTo(x, randomMatrix(2, 4, 2), new Float32Array(19)),
    ).rejects.toThrow(/must hold 20/);
    // The kernel still works after a rejected call.
    await expectAssignMatchesJs(single, x, randomMatrix(3, 4, 2));
  });

  it('refuses an input over its memory limit with a message for people', async () => {
    const wasm = webAssembly()!;
    const bytes = await readFile(new URL('../../wasm/build/kernel-simd.wasm', import.meta.url));
    const module = await wasm.compile(new Uint8Array(bytes));
    // 16 pages = 1 MiB; 1000 x 512 floats need 2 MiB.
    const memory = new wasm.Memory({ initial: 1, maximum: 16 });
    const small = new Kernel({ name: 'small', module, memory, maxPages: 16 });
    const x = randomMatrix(1000, 512, 1);
    const call = small.assign(x, randomMatrix(2, 512, 2), emptyAssignment(1000));
    await expect(call).rejects.toThrow(InputError);
    await expect(call).rejects.toThrow(
      '1000 rows x 512 dimensions need 2 MiB in the WebAssembly k-means kernel, over its 1 MiB limit',
    );
    // Smaller inputs still work on the same kernel.
    await expectAssignMatchesJs(small, randomMatrix(100, 512, 3), randomMatrix(2, 512, 2));
  });

  it('drives CpuBackend k-means to the JS kernel objective on separated blobs', async () => {
    // 6 blobs in 24-D, 1200 rows: k-means++ with the same seed takes the same path.
    const n = 1200;
    const d = 24;
    const centres = randomMatrix(6, d, 77);
    const x = randomMatrix(n, d, 78);
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < d; t++)
        x.data[i * d + t] = x.data[i * d + t] * 0.05 + centres.data[(i % 6) * d + t] * 5;
    }
    const opts = { nIters: 10, seed: 42 };
    const fast = await new CpuBackend(pooled).kmeans(x, 6, opts);
    const ref = await new CpuBackend(jsKernel).kmeans(x, 6, opts);
    expect(Math.abs(fast.objective - ref.objective) / ref.objective).toBeLessThan(1e-4);
    expect(sameBits(fast.assignment.labels, ref.assignment.labels)).toBe(true);
  });

  it('createBestCpuKernel picks the relaxed-SIMD kernel Chromium runs, and says why', async () => {
    // Node 20 runs relaxed SIMD only behind a V8 flag, which node.ts turns on.
    const { kernel, reason } = await createBestCpuKernel({ threads: 2 });
    try {
      expect(kernel.name).toBe('wasm-relaxed-simd-x2');
      expect(reason).toBe('WebAssembly SIMD with fused multiply-add on 2 threads');
    } finally {
      disposeCpuKernel(kernel);
    }
  });

  it('runs on one thread, and says why, where memory cannot be shared', async () => {
    // What a page without COOP/COEP headers reports.
    vi.stubGlobal('crossOriginIsolated', false);
    try {
      const { kernel, reason } = await createBestCpuKernel({ threads: 2 });
      expect(kernel.name).toBe('wasm-relaxed-simd');
      expect(reason).toBe(
        'WebAssembly SIMD with fused multiply-add on 1 thread ' +
          '(no SharedArrayBuffer: the page is not cross-origin isolated (COOP/COEP headers))',
      );
      await expectAssignMatchesJs(kernel, randomMatrix(31, 7, 1), randomMatrix(5, 7, 2));
      disposeCpuKernel(kernel);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('falls back to the JS kernel, with the reason, in an engine without WebAssembly', async () => {
    vi.stubGlobal('WebAssembly', undefined);
    try {
      const { kernel, reason } = await createBestCpuKernel();
      expect(kernel).toBe(jsKernel);
      expect(reason).toBe(
        'plain JavaScript (WebAssembly kernel unavailable: this JavaScript engine has no WebAssembly)',
      );
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
