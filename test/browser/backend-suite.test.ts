/**
 * One suite, every KMeansBackend: the plain-JS CPU backend is the reference; every other backend
 * must reproduce its results for the same seed on small workloads (labels equal up to argmin
 * near-ties, centroids to float32 rounding, objective within 0.1%). Runs in real Chromium with
 * WebGPU (SwiftShader where there is no GPU); the WebGPU backend FAILS when no adapter is found.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWasmKernel, disposeCpuKernel } from '../../src/cpu/browser.ts';
import { jsKernel } from '../../src/core/cpu-kernel-js.ts';
import { CpuBackend } from '../../src/core/kmeans.ts';
import { Rng } from '../../src/core/rng.ts';
import type { KMeansBackend, KMeansResult, Matrix } from '../../src/core/types.ts';
import { GpuUncapturedErrorEvent } from '../../src/gpu/device.ts';
import { GpuBackend, GpuValidationError } from '../../src/gpu/gpu-backend.ts';
import { computePipeline } from '../../src/gpu/pipelines.ts';

/** k well-separated Gaussian blobs: the optimum is unambiguous, so backends must agree. */
function blobs(n: number, d: number, k: number, seed: number): Matrix {
  const rng = new Rng(seed);
  const centres = new Float64Array(k * d);
  for (let i = 0; i < centres.length; i++) centres[i] = rng.normal() * 10;
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = rng.int(k);
    for (let j = 0; j < d; j++) data[i * d + j] = centres[c * d + j] + rng.normal();
  }
  return { data, rows: n, cols: d };
}

/** Uniform noise in a square: no cluster structure, many near-ties. */
function uniform(n: number, d: number, seed: number): Matrix {
  const rng = new Rng(seed);
  const data = new Float32Array(n * d);
  for (let i = 0; i < data.length; i++) data[i] = rng.next() * 2 - 1;
  return { data, rows: n, cols: d };
}

function dist2(x: Matrix, i: number, c: Matrix, j: number): number {
  let s = 0;
  for (let t = 0; t < x.cols; t++) {
    const v = x.data[i * x.cols + t] - c.data[j * c.cols + t];
    s += v * v;
  }
  return s;
}

/** Labels equal, or a near-tie under the reference centroids. */
function expectLabels(x: Matrix, ref: KMeansResult, got: Int32Array): void {
  const c = ref.centroids;
  for (let i = 0; i < x.rows; i++) {
    const want = ref.assignment.labels[i];
    if (got[i] === want) continue;
    const a = dist2(x, i, c, got[i]);
    const b = dist2(x, i, c, want);
    expect(Math.abs(a - b), `row ${i}: ${got[i]} vs ${want} is not a near-tie`).toBeLessThan(
      1e-4 * (1 + b),
    );
  }
}

function expectCentroids(ref: Matrix, got: Matrix): void {
  expect(got.rows).toBe(ref.rows);
  expect(got.cols).toBe(ref.cols);
  let worst = 0;
  let scale = 0;
  for (let p = 0; p < ref.data.length; p++) {
    worst = Math.max(worst, Math.abs(ref.data[p] - got.data[p]));
    scale = Math.max(scale, Math.abs(ref.data[p]));
  }
  expect(worst, 'largest centroid coordinate difference').toBeLessThanOrEqual(1e-5 * (1 + scale));
}

function expectObjective(ref: number, got: number): void {
  expect(Math.abs(got - ref)).toBeLessThanOrEqual(1e-3 * ref + 1e-9);
}

interface Case {
  readonly name: string;
  readonly x: Matrix;
  readonly k: number;
  readonly nIters: number;
  readonly seed: number;
  /** compare labels and centroids too (separated data), not only the objective */
  readonly exact: boolean;
}

const cases: Case[] = [
  {
    name: 'blobs N=2000 D=32 K=64',
    x: blobs(2000, 32, 64, 1),
    k: 64,
    nIters: 10,
    seed: 1,
    exact: true,
  },
  {
    name: 'blobs N=400 D=1792 K=16',
    x: blobs(400, 1792, 16, 2),
    k: 16,
    nIters: 5,
    seed: 2,
    exact: true,
  },
  {
    name: 'uniform N=1500 D=2 K=30',
    x: uniform(1500, 2, 3),
    k: 30,
    nIters: 15,
    seed: 3,
    exact: false,
  },
  { name: 'k above N is capped', x: blobs(10, 5, 3, 4), k: 20, nIters: 3, seed: 4, exact: true },
  {
    // over SEED_MIN_ROWS rows: every backend seeds from the same sample (src/core/seeding.ts)
    name: 'k-means++ on a sample, N=20000 D=4 K=8',
    x: blobs(20_000, 4, 8, 5),
    k: 8,
    nIters: 3,
    seed: 5,
    exact: true,
  },
];

/** The reference results, computed once with the plain-JS CPU backend. */
const reference = new Map<string, KMeansResult>();
const refBackend = new CpuBackend(jsKernel);

interface Subject {
  readonly name: string;
  backend?: KMeansBackend;
  readonly make: () => Promise<KMeansBackend>;
}

let uncaptured: string[] = [];

const subjects: Subject[] = [
  { name: 'cpu-js', make: async () => new CpuBackend(jsKernel) },
  // The WebAssembly SIMD kernel of src/cpu, on the page's cores (the test page is isolated).
  { name: 'cpu-wasm', make: async () => new CpuBackend(await createWasmKernel()) },
  {
    name: 'webgpu',
    make: async () => {
      const b = await GpuBackend.create();
      b.gpu.events.addEventListener('uncapturederror', (e) => {
        uncaptured.push((e as GpuUncapturedErrorEvent).message);
      });
      return b;
    },
  },
];

beforeAll(async () => {
  for (const c of cases) {
    reference.set(c.name, await refBackend.kmeans(c.x, c.k, { nIters: c.nIters, seed: c.seed }));
  }
});

for (const subject of subjects) {
  describe(`KMeansBackend: ${subject.name}`, () => {
    beforeAll(async () => {
      uncaptured = [];
      subject.backend = await subject.make();
    });
    afterAll(() => {
      const b = subject.backend;
      if (b instanceof CpuBackend) disposeCpuKernel(b.kernel);
      else b?.dispose?.();
    });

    for (const c of cases) {
      it(`kmeans agrees with the reference: ${c.name}`, async () => {
        const b = subject.backend!;
        const ref = reference.get(c.name)!;
        const got = await b.kmeans(c.x, c.k, { nIters: c.nIters, seed: c.seed });
        expect(got.iterations).toBe(c.nIters);
        expect(got.centroids.rows).toBe(Math.min(c.k, c.x.rows));
        expect(got.assignment.labels.length).toBe(c.x.rows);
        expectObjective(ref.objective, got.objective);
        // the objective is the sum of the returned distances
        let s = 0;
        for (const v of got.assignment.dist2) s += v;
        expect(got.objective).toBeCloseTo(s, 6);
        if (c.exact) {
          expectCentroids(ref.centroids, got.centroids);
          expectLabels(c.x, ref, got.assignment.labels);
        }
      });
    }

    it('assign agrees with the reference on given centroids', async () => {
      const b = subject.backend!;
      const c = cases[0];
      const ref = reference.get(c.name)!;
      const got = await b.assign(c.x, ref.centroids);
      expectLabels(c.x, ref, got.labels);
      for (let i = 0; i < c.x.rows; i++) {
        expect(got.dist2[i]).toBeCloseTo(ref.assignment.dist2[i], 2);
      }
    });

    it('is deterministic: same seed, same input, same bits', async () => {
      const b = subject.backend!;
      const x = uniform(800, 6, 9);
      const a1 = await b.kmeans(x, 12, { nIters: 8, seed: 5 });
      const a2 = await b.kmeans(x, 12, { nIters: 8, seed: 5 });
      expect(Array.from(a2.centroids.data)).toEqual(Array.from(a1.centroids.data));
      expect(Array.from(a2.assignment.labels)).toEqual(Array.from(a1.assignment.labels));
      expect(a2.objective).toBe(a1.objective);
      const a3 = await b.kmeans(x, 12, { nIters: 8, seed: 6 });
      expect(Array.from(a3.centroids.data)).not.toEqual(Array.from(a1.centroids.data));
    });

    it('reports every round and honours an early-stop tolerance', async () => {
      const b = subject.backend!;
      const x = blobs(600, 4, 5, 7);
      const rounds: number[] = [];
      await b.kmeans(x, 5, { nIters: 6, seed: 1, onIteration: (r) => rounds.push(r) });
      expect(rounds).toEqual([1, 2, 3, 4, 5, 6]);
      const early = await b.kmeans(x, 5, { nIters: 40, seed: 1, tolerance: 1e-6 });
      const ref = await refBackend.kmeans(x, 5, { nIters: 40, seed: 1, tolerance: 1e-6 });
      expect(early.iterations).toBeLessThan(40);
      expect(Math.abs(early.iterations - ref.iterations)).toBeLessThanOrEqual(1);
    });

    it('stops with an AbortError when its signal fires', async () => {
      const b = subject.backend!;
      const ctl = new AbortController();
      ctl.abort();
      await expect(
        b.kmeans(cases[0].x, 8, { nIters: 5, seed: 1, signal: ctl.signal }),
      ).rejects.toMatchObject({ name: 'AbortError' });
      const late = new AbortController();
      const run = b.kmeans(cases[0].x, 8, {
        nIters: 30,
        seed: 1,
        signal: late.signal,
        onIteration: (r) => {
          if (r === 2) late.abort();
        },
      });
      await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    });

    it('rejects bad input with clear messages', async () => {
      const b = subject.backend!;
      const x = blobs(10, 4, 2, 1);
      await expect(b.kmeans(x, 0, { nIters: 1, seed: 0 })).rejects.toThrow(/k must be/);
      await expect(b.assign(x, { data: new Float32Array(6), rows: 2, cols: 3 })).rejects.toThrow(
        /columns/,
      );
    });

    if (subject.name === 'webgpu') {
      it('turns validation failures into errors (error scopes), and none went uncaptured', async () => {
        const b = subject.backend as GpuBackend;
        const code = `var<workgroup> big: array<vec4f, 4096>;
          @group(0) @binding(0) var<storage, read_write> o: array<vec4f>;
          @compute @workgroup_size(64) fn main(@builtin(local_invocation_index) t: u32) {
            big[t] = vec4f(1.0); workgroupBarrier(); o[t] = big[t]; }`;
        await expect(
          computePipeline(b.gpu.device, 'over-limit', code, 'main', {}),
        ).rejects.toBeInstanceOf(GpuValidationError);
        // every kernel run above was inside error scopes: nothing reached uncapturederror
        expect(uncaptured).toEqual([]);
      });
    }
  });
}
