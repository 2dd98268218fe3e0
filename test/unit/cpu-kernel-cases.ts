/**
 * Checks shared by the Node (test/unit/cpu-*.test.ts) and Chromium (test/browser/cpu-*.test.ts)
 * tests of the WebAssembly kernel: results against the plain-JS kernel and against float64
 * arithmetic done here, on shapes that hit every edge of the register blocks.
 */
import { expect } from 'vitest';
import { jsKernel } from '../../src/core/cpu-kernel-js.ts';
import { Rng } from '../../src/core/rng.ts';
import type { Assignment, CpuKernel, Matrix } from '../../src/core/types.ts';

/**
 * [rows, dims, centroids]. The kernel works on blocks of 2 rows x 4 centroids x 4 dims, and
 * walks centroids in chunks of 256 KiB (packed): these cover 1 row, 1 centroid, dims 1/3/5
 * (padding inside a 4-chunk), rows and centroids that are not multiples of the blocks, the
 * bundled model's 1792 dims, and 2 and 5 centroid chunks (the last one partial).
 */
export const SHAPES: readonly (readonly [number, number, number])[] = [
  [1, 1, 1],
  [1, 3, 2],
  [2, 5, 1],
  [4, 1, 5],
  [7, 3, 3],
  [10, 5, 9],
  [100, 4, 4],
  [301, 17, 13],
  [37, 1792, 11],
  [2000, 64, 33],
  [51, 384, 200],
  [21, 1792, 150],
];

/** Uniform values in [-1, 1), reproducible. */
export function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  const rng = new Rng(seed);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.next() * 2 - 1;
  return { data, rows, cols };
}

/** Exact-ish |a_i - b_j|^2 in float64. */
export function dist64(a: Matrix, i: number, b: Matrix, j: number): number {
  let s = 0;
  for (let t = 0; t < a.cols; t++) {
    const v = a.data[i * a.cols + t] - b.data[j * b.cols + t];
    s += v * v;
  }
  return s;
}

function norm2(a: Matrix, i: number): number {
  let s = 0;
  for (let t = 0; t < a.cols; t++) s += a.data[i * a.cols + t] ** 2;
  return s;
}

/** Float32 rounding of |x|^2 - 2x.c + |c|^2 over D terms stays well inside this. */
function tolerance(x: Matrix, i: number, c: Matrix, j: number): number {
  return 1e-5 * (norm2(x, i) + norm2(c, j)) + 1e-6;
}

/** Bit-for-bit equality of two typed arrays (toEqual is slow on long ones). */
export function sameBits(a: Float32Array | Int32Array, b: Float32Array | Int32Array): boolean {
  if (a.length !== b.length) return false;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return false;
  return true;
}

export function emptyAssignment(n: number): Assignment {
  return { labels: new Int32Array(n), dist2: new Float32Array(n) };
}

/**
 * `got` must match jsKernel's assignment: equal labels except where the two centroids are
 * within float tolerance of each other (a near-tie), and distances within tolerance of float64.
 */
export async function expectAssignMatchesJs(kernel: CpuKernel, x: Matrix, c: Matrix) {
  const got = emptyAssignment(x.rows);
  const want = emptyAssignment(x.rows);
  await kernel.assign(x, c, got);
  await jsKernel.assign(x, c, want);
  let ties = 0;
  // Collect problems and assert once: an expect() per row is slow on big shapes.
  const problems: string[] = [];
  for (let i = 0; i < x.rows; i++) {
    const g = got.labels[i];
    const w = want.labels[i];
    if (!(g >= 0 && g < c.rows)) {
      problems.push(`row ${i}: label ${g} is not a centroid`);
      continue;
    }
    const dg = dist64(x, i, c, g);
    const tol = tolerance(x, i, c, g);
    if (g !== w) {
      ties++;
      const gap = Math.abs(dg - dist64(x, i, c, w));
      if (gap > tol) problems.push(`row ${i}: label ${g}, JS says ${w}, not a near-tie (${gap})`);
    }
    const err = Math.abs(got.dist2[i] - dg);
    if (!(err <= tol)) problems.push(`row ${i}: distance ${got.dist2[i]}, float64 says ${dg}`);
  }
  expect(problems.slice(0, 5)).toEqual([]);
  return { got, ties };
}

/** distancesTo against float64 differences, and jsKernel's table shape (candidate-major). */
export async function expectDistancesMatch(kernel: CpuKernel, x: Matrix, cand: Matrix) {
  const got = new Float32Array(x.rows * cand.rows).fill(-1);
  const js = new Float32Array(x.rows * cand.rows);
  await kernel.distancesTo(x, cand, got);
  await jsKernel.distancesTo(x, cand, js);
  const problems: string[] = [];
  for (let j = 0; j < cand.rows; j++) {
    for (let i = 0; i < x.rows; i++) {
      const want = dist64(x, i, cand, j);
      const tol = tolerance(x, i, cand, j);
      const v = got[j * x.rows + i];
      if (!(Math.abs(v - want) <= tol && Math.abs(v - js[j * x.rows + i]) <= tol)) {
        problems.push(`candidate ${j}, row ${i}: ${v}, float64 ${want}, JS ${js[j * x.rows + i]}`);
      }
    }
  }
  expect(problems.slice(0, 5)).toEqual([]);
  return got;
}

/**
 * Rows near the origin and centroids far from it: if the kernel's zero padding centroids
 * (K rounded up to a multiple of 4) could win, every row would pick one of them.
 */
export async function expectPaddingNeverWins(kernel: CpuKernel): Promise<void> {
  for (const k of [1, 2, 3, 5]) {
    const x = randomMatrix(8, 6, 11 + k);
    const c = randomMatrix(k, 6, 23 + k);
    for (let p = 0; p < c.data.length; p++) c.data[p] += 50;
    const out = emptyAssignment(x.rows);
    await kernel.assign(x, c, out);
    for (let i = 0; i < x.rows; i++) {
      expect(out.labels[i]).toBeLessThan(k);
      expect(Math.abs(out.dist2[i] - dist64(x, i, c, out.labels[i]))).toBeLessThan(0.05);
    }
  }
}

/**
 * Equal centroids: the lowest index wins, inside a block of 4, across blocks, and across
 * centroid chunks (at D 1792 a 256 KiB chunk holds 36 centroids).
 */
export async function expectTiesGoToLowestIndex(kernel: CpuKernel): Promise<void> {
  for (const [d, k, copies] of [
    // centroid 7 (block 1, lane 3) = centroid 2 (block 0, lane 2) = row 0; 3 = 1 = row 1.
    [
      5,
      9,
      [
        [2, 0],
        [7, 0],
        [1, 1],
        [3, 1],
      ],
    ],
    // 40 (chunk 2) = 2 (chunk 1) = row 0; 39 (chunk 2) = 3 = 1 = row 1.
    [
      1792,
      45,
      [
        [2, 0],
        [40, 0],
        [1, 1],
        [3, 1],
        [39, 1],
      ],
    ],
  ] as const) {
    const x = randomMatrix(10, d, 5);
    const c = randomMatrix(k, d, 6);
    for (const [dst, src] of copies) c.data.set(x.data.subarray(src * d, src * d + d), dst * d);
    const out = emptyAssignment(x.rows);
    await kernel.assign(x, c, out);
    expect(out.labels[0]).toBe(2);
    expect(out.labels[1]).toBe(1);
    expect(out.dist2[0]).toBeLessThan(1e-3);
  }
}
