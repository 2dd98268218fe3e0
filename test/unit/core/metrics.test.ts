import { describe, expect, it } from 'vitest';
import { createMatrix } from '../../../src/core/matrix.ts';
import {
  clusterSizeStats,
  klToUniform,
  labelBalance,
  labelSeparation,
  randomSubsetEntropy,
  randomSubsetEntropySliced,
} from '../../../src/core/metrics.ts';
import { Rng } from '../../../src/core/rng.ts';
import { makeToyData } from '../../../src/core/toy.ts';
import type { Matrix } from '../../../src/core/types.ts';

/** The metric evaluated literally: 2-D Gaussian at every grid point, no separable trick. */
function klDirect(c: Matrix): number {
  const dens: number[] = [];
  for (let i = 0; i < 300; i++) {
    for (let j = 0; j < 300; j++) {
      const px = -3 + 0.02 * i;
      const py = -3 + 0.02 * j;
      let s = 0;
      for (let q = 0; q < c.rows; q++) {
        const dx = px - c.data[2 * q];
        const dy = py - c.data[2 * q + 1];
        s += Math.exp(-(dx * dx + dy * dy) / (2 * 0.25));
      }
      dens.push(s);
    }
  }
  const total = dens.reduce((a, b) => a + b, 0) * 0.0004;
  let kl = 0;
  for (const v of dens) {
    const d = v / total;
    if (d > 0) kl += d * Math.log(d * 36);
  }
  return kl * 0.0004;
}

function uniformPoints(n: number, rng: Rng): Matrix {
  const u = new Float32Array(2 * n);
  for (let i = 0; i < u.length; i++) u[i] = -3 + 6 * rng.next();
  return createMatrix(n, 2, u);
}

describe('klToUniform', () => {
  it('equals the literal grid evaluation', () => {
    const c = uniformPoints(7, new Rng(1));
    expect(klToUniform(c)).toBeCloseTo(klDirect(c), 10);
    const clumped = createMatrix(3, 2, Float32Array.from([-1, -1, -1.1, -0.9, 2, 2]));
    expect(klToUniform(clumped)).toBeCloseTo(klDirect(clumped), 10);
  });

  it('is about 0.04 for 300 uniform points (the paper: 0.040 +- 0.007)', () => {
    const rng = new Rng(2);
    const values = Array.from({ length: 10 }, () => klToUniform(uniformPoints(300, rng)));
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    expect(mean).toBeGreaterThan(0.03);
    expect(mean).toBeLessThan(0.05);
  });

  it('is about 0.94 for the raw toy data (the paper: 0.942)', () => {
    const kl = klToUniform(makeToyData(0).x);
    expect(kl).toBeGreaterThan(0.92);
    expect(kl).toBeLessThan(0.97);
  });

  it('rejects non-2-D input', () => {
    expect(() => klToUniform(createMatrix(2, 3))).toThrow(/2-D/);
  });
});

describe('clusterSizeStats', () => {
  it('summarises sizes', () => {
    const s = clusterSizeStats([0, 10, 2, 4, 4]);
    expect(s).toMatchObject({ count: 5, min: 0, max: 10, mean: 4, median: 4, empty: 1 });
    expect(s.p90).toBeCloseTo(7.6, 10);
    // Gini of [0,2,4,4,10]: sum over ordered pairs of |xi - xj| / (2 n^2 mean) = 88 / 200.
    expect(s.gini).toBeCloseTo(0.44, 10);
    expect(clusterSizeStats([5, 5, 5]).gini).toBeCloseTo(0, 12);
    expect(clusterSizeStats([]).count).toBe(0);
  });
});

describe('labelBalance', () => {
  it('counts labels and measures balance', () => {
    const b = labelBalance(['a', 'a', 'a', 'b', 'c', 'c']);
    expect(b.counts).toEqual({ a: 3, b: 1, c: 2 });
    const p = [3 / 6, 1 / 6, 2 / 6];
    expect(b.entropy).toBeCloseTo(-p.reduce((s, q) => s + q * Math.log(q), 0), 12);
    expect(b.normalizedEntropy).toBeCloseTo(b.entropy / Math.log(3), 12);
    expect(b.maxMinRatio).toBe(3);
    const even = labelBalance([1, 2, 3, 1, 2, 3]);
    expect(even.normalizedEntropy).toBeCloseTo(1, 12);
    expect(even.maxMinRatio).toBe(1);
  });
});

describe('the random-subset yardstick and label separation', () => {
  const labels = Int32Array.from({ length: 1000 }, (_, i) => (i < 800 ? 0 : i < 950 ? 1 : 2));

  it('gives the mean and spread of random subsets, the same for the same seed', () => {
    const a = randomSubsetEntropy(labels, 3, 100, new Rng(1));
    const b = randomSubsetEntropy(labels, 3, 100, new Rng(1));
    expect(a).toEqual(b);
    expect(a.draws).toBe(200);
    // The pool's own normalised entropy (0.8 / 0.15 / 0.05 shares) is what random draws centre on.
    const pool = -[0.8, 0.15, 0.05].reduce((s, p) => s + p * Math.log(p), 0) / Math.log(3);
    expect(Math.abs(a.mean - pool)).toBeLessThan(0.03);
    expect(a.sd).toBeGreaterThan(0.01);
    expect(a.sd).toBeLessThan(0.1);
    // The whole pool as the subset: no spread at all.
    const all = randomSubsetEntropy(labels, 3, 1000, new Rng(2));
    expect(all.sd).toBeLessThan(1e-6);
    expect(all.mean).toBeCloseTo(pool, 9);
  });

  it('gives exactly the same spread in slices as in one go', async () => {
    const big = Int32Array.from({ length: 20_000 }, (_, i) => i % 7);
    const once = randomSubsetEntropy(big, 7, 5_000, new Rng(4));
    expect(await randomSubsetEntropySliced(big, 7, 5_000, new Rng(4))).toEqual(once);
  });

  it('tells clusters that follow the labels from clusters blind to them', () => {
    const rng = new Rng(3);
    const following = Int32Array.from(labels, (l, i) => l * 10 + (i % 10)); // 30 clusters, pure
    const sep = labelSeparation(labels, 3, following, 30, rng);
    expect(sep.agreement).toBe(1);
    expect(sep.chance).toBeLessThan(0.9);
    const blind = Int32Array.from({ length: 1000 }, (_, i) => i % 30);
    const none = labelSeparation(labels, 3, blind, 30, rng);
    expect(Math.abs(none.agreement - none.chance)).toBeLessThan(0.05);
  });
});
