/**
 * The WGSL kernels one by one, in real Chromium with WebGPU (SwiftShader on machines without a
 * GPU), against float64 / plain-JS references. These tests FAIL when no adapter is found.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsKernel } from '../../src/core/cpu-kernel-js.ts';
import { buildClusters } from '../../src/core/hierarchy.ts';
import { greedyKMeansPlusPlus } from '../../src/core/kmeans.ts';
import { Rng } from '../../src/core/rng.ts';
import type { Assignment, Matrix } from '../../src/core/types.ts';
import { acquireGpu, MAX_BINDING_BYTES, type GpuContext } from '../../src/gpu/device.ts';
import { GpuBackend, GpuDeviceLostError, GpuValidationError } from '../../src/gpu/gpu-backend.ts';
import { computePipeline, withErrorScopes } from '../../src/gpu/pipelines.ts';

/** k Gaussian blobs (unit noise around centres spread by `spread`), rows in shuffled order. */
function blobs(n: number, d: number, k: number, seed: number, spread = 8): Matrix {
  const rng = new Rng(seed);
  const centres = new Float64Array(k * d);
  for (let i = 0; i < centres.length; i++) centres[i] = rng.normal() * spread;
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = rng.int(k);
    for (let j = 0; j < d; j++) data[i * d + j] = centres[c * d + j] + rng.normal();
  }
  return { data, rows: n, cols: d };
}

function cpuAssign(x: Matrix, c: Matrix): Assignment {
  const out = { labels: new Int32Array(x.rows), dist2: new Float32Array(x.rows) };
  void jsKernel.assign(x, c, out);
  return out;
}

/** Exact squared distance in float64. */
function dist2(x: Matrix, i: number, c: Matrix, j: number): number {
  let s = 0;
  for (let t = 0; t < x.cols; t++) {
    const v = x.data[i * x.cols + t] - c.data[j * c.cols + t];
    s += v * v;
  }
  return s;
}

/**
 * Labels agree, or differ only on near-ties: the GPU's choice is within float32 rounding of the
 * reference's nearest distance. Returns the number of near-tie disagreements.
 */
function expectSameLabels(x: Matrix, c: Matrix, got: Int32Array, want: Int32Array): number {
  let ties = 0;
  for (let i = 0; i < x.rows; i++) {
    if (got[i] === want[i]) continue;
    const a = dist2(x, i, c, got[i]);
    const b = dist2(x, i, c, want[i]);
    const scale = 1e-5 * (1 + Math.abs(b) + rowNorm2(x, i));
    expect(
      Math.abs(a - b),
      `row ${i}: label ${got[i]} vs ${want[i]} is not a near-tie`,
    ).toBeLessThan(scale);
    ties++;
  }
  return ties;
}

function rowNorm2(x: Matrix, i: number): number {
  let s = 0;
  for (let t = 0; t < x.cols; t++) s += x.data[i * x.cols + t] ** 2;
  return s;
}

let gpu: GpuContext;
let backend: GpuBackend;
/** Same device, rows split into chunks of 64 KiB: exercises every multi-chunk code path. */
let chunked: GpuBackend;
let naive: GpuBackend;
/** k-means++ paths: in-place D^2 updates (rows too big for a binding), and two round trips. */
let kppUpdate: GpuBackend;
let kppTwoTrips: GpuBackend;

beforeAll(async () => {
  const got = await acquireGpu();
  if (!got.ok) throw new Error(`no WebGPU device: ${got.message}`);
  gpu = got.gpu;
  backend = await GpuBackend.create({ gpu });
  chunked = await GpuBackend.create({ gpu, maxChunkBytes: 64 * 1024 });
  naive = await GpuBackend.create({ gpu, assignKernel: 'naive' });
  kppUpdate = await GpuBackend.create({ gpu, maxChunkBytes: 16 * 1024 });
  kppTwoTrips = await GpuBackend.create({ gpu, kppReadAllBytes: 0 });
});

afterAll(() => {
  backend?.dispose();
  chunked?.dispose();
  naive?.dispose();
  kppUpdate?.dispose();
  kppTwoTrips?.dispose();
  gpu?.device.destroy();
});

describe('device acquisition', () => {
  it('accepts the adapter the browser has (a fallback one included) and caps bindings at 128 MiB', () => {
    expect(gpu.label.length).toBeGreaterThan(0);
    expect(typeof gpu.isFallback).toBe('boolean');
    expect(gpu.adapterInfo.isFallbackAdapter).toBe(gpu.isFallback);
    expect(gpu.limits.maxStorageBufferBindingSize).toBeLessThanOrEqual(MAX_BINDING_BYTES);
    expect(gpu.limits.maxComputeWorkgroupStorageSize).toBeGreaterThanOrEqual(16384);
    expect(gpu.limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
  });
});

describe('fused assignment', () => {
  const shapes: [number, number, number][] = [
    [1000, 16, 37], // K not a multiple of the 16-centroid tile
    [777, 3, 5], // D not a multiple of 4 (zero padding), N not a multiple of the workgroup
    [300, 1792, 20], // the bundled model's dimension: 28 dimension tiles
    [1, 7, 1],
  ];
  for (const [n, d, k] of shapes) {
    it(`matches the plain-JS kernel on N=${n}, D=${d}, K=${k} (tiled, chunked, naive)`, async () => {
      const x = blobs(n, d, Math.max(1, k >> 1), n + d);
      const c = blobs(k, d, k, k + 1);
      const want = cpuAssign(x, c);
      for (const b of [backend, chunked, naive]) {
        const got = await b.assign(x, c);
        expectSameLabels(x, c, got.labels, want.labels);
        for (let i = 0; i < n; i++) {
          const exact = dist2(x, i, c, got.labels[i]);
          expect(Math.abs(got.dist2[i] - exact)).toBeLessThanOrEqual(
            1e-5 * (1 + rowNorm2(x, i) + exact),
          );
        }
      }
    });
  }

  it('gives exact ties to the lowest centroid index', async () => {
    const x: Matrix = { data: new Float32Array([0, 0, 1, 1]), rows: 2, cols: 2 };
    // centroid 0 and 2 are equally far from both rows; centroid 1 is farther
    const c: Matrix = { data: new Float32Array([1, 0, 5, 5, 0, 1]), rows: 3, cols: 2 };
    for (const b of [backend, naive]) {
      const got = await b.assign(x, c);
      expect(Array.from(got.labels)).toEqual([0, 0]);
    }
  });
});

describe('centroid update (no float atomics)', () => {
  it('equals float64 means to float32 rounding where naive float32 sums drift', async () => {
    // 30k rows in [1000, 1001): a sequential float32 sum rounds every add to the ulp of a running
    // total near 3e7 (2.0), so it drifts by ~1e-3 of the mean.
    const n = 30000;
    const d = 6;
    const rng = new Rng(5);
    const data = new Float32Array(n * d);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = i % 7 === 0 ? 1 : 0;
      for (let j = 0; j < d; j++) data[i * d + j] = 1000 + j + rng.next();
    }
    const x: Matrix = { data, rows: n, cols: d };
    const k = 3; // cluster 2 stays empty
    const previous: Matrix = { data: new Float32Array(k * d).fill(-7), rows: k, cols: d };
    const want = new Float64Array(k * d);
    const counts = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      counts[labels[i]]++;
      for (let j = 0; j < d; j++) want[labels[i] * d + j] += data[i * d + j];
    }
    let naive32 = Math.fround(0);
    for (let i = 0; i < n; i++) if (labels[i] === 0) naive32 = Math.fround(naive32 + data[i * d]);
    const naiveErr = Math.abs(naive32 / counts[0] - want[0] / counts[0]);
    for (const b of [backend, chunked]) {
      const got = await b.clusterMeans(x, labels, previous);
      for (let j = 0; j < 2; j++) {
        for (let t = 0; t < d; t++) {
          const m = want[j * d + t] / counts[j];
          // one float32 ulp at 1000 is 6.1e-5
          expect(Math.abs(got.data[j * d + t] - m), `cluster ${j} dim ${t}`).toBeLessThanOrEqual(
            1.3e-4,
          );
        }
      }
      // the empty cluster keeps its previous centroid
      expect(Array.from(got.data.subarray(2 * d))).toEqual(new Array(d).fill(-7));
    }
    // The data really is hard for plain float32 summation (so the test can fail).
    expect(naiveErr).toBeGreaterThan(1e-3);
  });

  it('is exact on integer data and the same with and without row chunks (D=1792)', async () => {
    const n = 600;
    const d = 1792;
    const rng = new Rng(9);
    const data = new Float32Array(n * d);
    for (let i = 0; i < data.length; i++) data[i] = rng.int(17) - 8;
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) labels[i] = rng.int(5);
    const x: Matrix = { data, rows: n, cols: d };
    const previous: Matrix = { data: new Float32Array(5 * d), rows: 5, cols: d };
    const a = await backend.clusterMeans(x, labels, previous);
    const b = await chunked.clusterMeans(x, labels, previous);
    const sums = new Float64Array(5 * d);
    const counts = new Float64Array(5);
    for (let i = 0; i < n; i++) {
      counts[labels[i]]++;
      for (let t = 0; t < d; t++) sums[labels[i] * d + t] += data[i * d + t];
    }
    for (let p = 0; p < sums.length; p++) {
      const m = Math.fround(sums[p] / counts[Math.floor(p / d)]);
      expect(a.data[p]).toBeCloseTo(m, 5);
      expect(b.data[p]).toBeCloseTo(m, 5);
    }
  });
});

describe('greedy k-means++', () => {
  it('draws the same centres as the CPU for the same seed', async () => {
    const cases: [number, number, number, GpuBackend[]][] = [
      [1200, 8, 24, [backend, chunked, kppUpdate, kppTwoTrips]],
      [400, 1792, 6, [backend, chunked]],
    ];
    for (const [n, d, k, backends] of cases) {
      const x = blobs(n, d, k, 3 * n);
      const seed = 11;
      const cpu = await greedyKMeansPlusPlus(x, k, new Rng(seed));
      // nIters = 0: the result's centroids are the k-means++ centres themselves
      for (const b of backends) {
        const got = await b.kmeans(x, k, { nIters: 0, seed });
        expect(got.centroids.rows).toBe(k);
        expect(Array.from(got.centroids.data)).toEqual(Array.from(cpu.data));
      }
    }
  });

  it('copes with duplicate rows (zero potential left)', async () => {
    const x: Matrix = { data: new Float32Array([1, 1, 1, 1, 2, 2, 2, 2]), rows: 4, cols: 2 };
    const got = await backend.kmeans(x, 4, { nIters: 2, seed: 1 });
    expect(got.objective).toBe(0);
    const cpu = await greedyKMeansPlusPlus(x, 4, new Rng(1));
    expect(Array.from(got.centroids.data)).toEqual(Array.from(cpu.data));
  });
});

describe('r closest members per cluster', () => {
  /** The CPU reference: the hierarchy's "closest" resampling. */
  function reference(labels: Int32Array, d2: Float32Array, k: number, r: number): number[] {
    const out: number[] = [];
    for (const m of buildClusters(labels, d2, k)) out.push(...m.subarray(0, r));
    return out;
  }

  it('matches the CPU reference, ties by row index, small and large clusters', async () => {
    const rng = new Rng(21);
    const n = 5000;
    const k = 40;
    const labels = new Int32Array(n);
    const d2 = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      // long-tailed sizes; cluster 39 stays empty
      labels[i] = Math.min(38, Math.floor(rng.next() ** 3 * 39));
      // few distinct values: many exact ties
      d2[i] = rng.int(12) * 0.25;
    }
    for (const r of [1, 3, 17, 300, 6000]) {
      const got = await backend.selectClosest(labels, d2, k, r);
      expect(Array.from(got), `r = ${r}`).toEqual(reference(labels, d2, k, r));
    }
  });

  it('matches on real distances from an assignment', async () => {
    const x = blobs(3000, 5, 12, 2);
    const c = blobs(12, 5, 12, 3);
    const a = await backend.assign(x, c);
    const got = await backend.selectClosest(a.labels, a.dist2, 12, 9);
    expect(Array.from(got)).toEqual(reference(a.labels, a.dist2, 12, 9));
  });
});

describe('errors are thrown, never swallowed', () => {
  it('a WGSL compile error throws GpuValidationError', async () => {
    await expect(
      computePipeline(
        gpu.device,
        'broken',
        '@compute @workgroup_size(1) fn main() { let x: u32 = 1.5; }',
        'main',
        {},
      ),
    ).rejects.toBeInstanceOf(GpuValidationError);
  });

  it('a workgroup array over the device limit fails validation instead of running', async () => {
    // 64 KiB of workgroup memory: more than any device grants (the splat-transform D=384 trap).
    const code = `var<workgroup> big: array<vec4f, 4096>;
      @group(0) @binding(0) var<storage, read_write> o: array<vec4f>;
      @compute @workgroup_size(64) fn main(@builtin(local_invocation_index) t: u32) {
        big[t] = vec4f(1.0); workgroupBarrier(); o[t] = big[63u - t]; }`;
    await expect(computePipeline(gpu.device, 'too-big', code, 'main', {})).rejects.toBeInstanceOf(
      GpuValidationError,
    );
  });

  it('a bad dispatch inside an error scope throws', async () => {
    const dev = gpu.device;
    await expect(
      withErrorScopes(dev, 'a bad copy', () => {
        const a = dev.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_SRC });
        const b = dev.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_DST });
        const enc = dev.createCommandEncoder();
        enc.copyBufferToBuffer(a, 0, b, 0, 64); // out of bounds
        dev.queue.submit([enc.finish()]);
      }),
    ).rejects.toThrow(/validation failed in a bad copy/);
  });

  it('bad shapes and labels give clear messages', async () => {
    const x = blobs(10, 4, 2, 1);
    const c3: Matrix = { data: new Float32Array(6), rows: 2, cols: 3 };
    await expect(backend.assign(x, c3)).rejects.toThrow(/dimension mismatch/);
    await expect(backend.kmeans(x, 0, { nIters: 1, seed: 0 })).rejects.toThrow(/k must be/);
    await expect(
      backend.selectClosest(new Int32Array([0, 5]), new Float32Array(2), 2, 1),
    ).rejects.toThrow(/outside \[0, 2\)/);
  });

  it('a lost device rejects the running call with GpuDeviceLostError', async () => {
    const own = await GpuBackend.create();
    const x = blobs(2000, 32, 16, 4);
    const run = own.kmeans(x, 64, { nIters: 50, seed: 1 });
    setTimeout(() => own.gpu.device.destroy(), 50);
    await expect(run).rejects.toBeInstanceOf(GpuDeviceLostError);
    expect(own.gpu.isLost()).toBe(true);
    await expect(own.assign(x, x)).rejects.toBeInstanceOf(GpuDeviceLostError);
  });
});
