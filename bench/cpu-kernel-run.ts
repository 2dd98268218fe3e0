/**
 * The timing loop of bench/cpu-kernel.ts, shared by its Node runs and its Chromium page
 * (src/cpu/bench-page.ts): one kernel, one workload, the median of `reps` passes after a first
 * pass that also copies x into the kernel (reported apart as `first_seconds`).
 */
import { Rng } from '../src/core/rng.ts';
import type { CpuKernel, Matrix } from '../src/core/types.ts';

export interface Workload {
  /** W1 = the issue's 100k x 384 x 1000 target, W2 = the peers' 20k x 128 x 256 */
  readonly workload: string;
  readonly op: 'assign' | 'distancesTo';
  readonly N: number;
  readonly D: number;
  /** centroids (assign) or k-means++ candidates (distancesTo) */
  readonly K: number;
}

export const WORKLOADS: readonly Workload[] = [
  { workload: 'W1', op: 'assign', N: 100_000, D: 384, K: 1000 },
  { workload: 'W2', op: 'assign', N: 20_000, D: 128, K: 256 },
  // One greedy k-means++ step on W1's rows: 2 + floor(ln 1000) = 8 candidates.
  { workload: 'W1-kmeans++', op: 'distancesTo', N: 100_000, D: 384, K: 8 },
];

/** Normal(0, 1) values, the same for the same seed in Node and in the page. */
export function benchMatrix(rows: number, cols: number, seed: number): Matrix {
  const rng = new Rng(seed);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return { data, rows, cols };
}

export interface Timing {
  readonly seconds: number;
  readonly first_seconds: number;
  readonly gflops: number;
}

export async function timeKernel(
  kernel: CpuKernel,
  w: Workload,
  x: Matrix,
  c: Matrix,
  reps = 3,
): Promise<Timing> {
  const out = { labels: new Int32Array(w.N), dist2: new Float32Array(w.N) };
  const table = w.op === 'distancesTo' ? new Float32Array(w.N * w.K) : new Float32Array(0);
  const pass = () =>
    w.op === 'assign' ? kernel.assign(x, c, out) : kernel.distancesTo(x, c, table);
  let t = performance.now();
  await pass();
  const first = (performance.now() - t) / 1000;
  const runs: number[] = [];
  for (let r = 0; r < reps; r++) {
    t = performance.now();
    await pass();
    runs.push((performance.now() - t) / 1000);
  }
  runs.sort((a, b) => a - b);
  const seconds = runs[Math.floor(runs.length / 2)];
  const round = (v: number, p: number) => Number(v.toFixed(p));
  return {
    seconds: round(seconds, 4),
    first_seconds: round(first, 4),
    gflops: round((2 * w.N * w.K * w.D) / seconds / 1e9, 2),
  };
}

export const DISPATCH = 'tiny assign (N 30, D 4, K 4), median of 201 calls';

/** Median seconds of one tiny call on `kernel`: what a call costs beyond its arithmetic. */
export async function dispatchSeconds(kernel: CpuKernel): Promise<number> {
  const x = benchMatrix(30, 4, 3);
  const c = benchMatrix(4, 4, 4);
  const out = { labels: new Int32Array(30), dist2: new Float32Array(30) };
  const runs: number[] = [];
  for (let r = 0; r < 201; r++) {
    const t = performance.now();
    await kernel.assign(x, c, out);
    runs.push((performance.now() - t) / 1000);
  }
  return runs.sort((a, b) => a - b)[100];
}
