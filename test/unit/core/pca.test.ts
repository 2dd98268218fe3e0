import { describe, expect, it } from 'vitest';
import { projectPca } from '../../../src/core/pca';

/** Rows = mean + a*u + b*w + noise, with var(a) = 9 and var(b) = 1: the PCs are u then w. */
function planeData(rows: number, cols: number) {
  let s = 12345;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const gauss = () => {
    let t = 0;
    for (let k = 0; k < 6; k++) t += rand();
    return t / Math.sqrt(2); // variance 1 (six uniforms on [-1,1] have variance 2)
  };
  const u = new Float64Array(cols);
  const w = new Float64Array(cols);
  for (let j = 0; j < cols; j++) {
    u[j] = Math.cos(j);
    w[j] = Math.sin(3 * j + 1);
  }
  // Gram-Schmidt so u and w are orthonormal.
  const norm = (v: Float64Array) => Math.sqrt(v.reduce((a, x) => a + x * x, 0));
  const nu = norm(u);
  u.forEach((x, j) => (u[j] = x / nu));
  const d = w.reduce((a, x, j) => a + x * u[j], 0);
  w.forEach((x, j) => (w[j] = x - d * u[j]));
  const nw = norm(w);
  w.forEach((x, j) => (w[j] = x / nw));

  const data = new Float32Array(rows * cols);
  const a = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    a[i] = 3 * gauss();
    const b = gauss();
    for (let j = 0; j < cols; j++) {
      data[i * cols + j] = 5 + a[i] * u[j] + b * w[j] + 0.01 * rand();
    }
  }
  return { data, u, w, a };
}

describe('projectPca', () => {
  it('finds the two directions of largest variance, in order, with their variances', () => {
    const rows = 3000;
    const cols = 40;
    const { data, a } = planeData(rows, cols);
    const p = projectPca(data, rows, cols);
    expect(p.x).toHaveLength(rows);
    expect(p.variance[0]).toBeGreaterThan(7.5);
    expect(p.variance[0]).toBeLessThan(10.5);
    expect(p.variance[1]).toBeGreaterThan(0.8);
    expect(p.variance[1]).toBeLessThan(1.2);
    // The first coordinate is the hidden a (up to sign), for every row, fitted or not.
    let dot = 0;
    let na = 0;
    let nx = 0;
    for (let i = 0; i < rows; i++) {
      dot += a[i] * p.x[i];
      na += a[i] * a[i];
      nx += p.x[i] * p.x[i];
    }
    expect(Math.abs(dot) / Math.sqrt(na * nx)).toBeGreaterThan(0.999);
  });

  it('is deterministic and centred', () => {
    const { data } = planeData(500, 16);
    const p = projectPca(data, 500, 16);
    const q = projectPca(data, 500, 16);
    expect(Array.from(p.x)).toEqual(Array.from(q.x));
    expect(Array.from(p.y)).toEqual(Array.from(q.y));
    const meanX = p.x.reduce((s, v) => s + v, 0) / 500;
    expect(Math.abs(meanX)).toBeLessThan(1e-3);
  });

  it('rejects a matrix whose size does not match its shape', () => {
    expect(() => projectPca(new Float32Array(10), 3, 4)).toThrow(/do not make 3 rows of 4/);
  });
});
