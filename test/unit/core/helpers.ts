/** Shared helpers for the core tests: seeded data and a float64 reference for distances. */
import { createMatrix } from '../../../src/core/matrix.ts';
import { Rng } from '../../../src/core/rng.ts';
import type { Matrix } from '../../../src/core/types.ts';

export function randomMatrix(rows: number, cols: number, seed: number, scale = 1): Matrix {
  const rng = new Rng(seed);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = scale * rng.normal();
  return createMatrix(rows, cols, data);
}

/** Gaussian blobs: `sizes[c]` points around centre c (centres spread `sep` apart). */
export function blobs(sizes: number[], cols: number, seed: number, sep = 10): Matrix {
  const rng = new Rng(seed);
  const n = sizes.reduce((a, b) => a + b, 0);
  const data = new Float32Array(n * cols);
  let i = 0;
  sizes.forEach((s) => {
    const centre = Array.from({ length: cols }, () => sep * rng.normal());
    for (let r = 0; r < s; r++, i++) {
      for (let j = 0; j < cols; j++) data[i * cols + j] = centre[j] + rng.normal();
    }
  });
  return createMatrix(n, cols, data);
}

/** Exact squared distance in float64. */
export function dist2(x: Matrix, i: number, c: Matrix, j: number): number {
  let s = 0;
  for (let t = 0; t < x.cols; t++) {
    const v = x.data[i * x.cols + t] - c.data[j * c.cols + t];
    s += v * v;
  }
  return s;
}
