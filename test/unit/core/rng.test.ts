import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.ts';

describe('Rng', () => {
  it('gives the same stream for the same seed and different streams for different seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 100 }, () => a.nextU32());
    const sb = Array.from({ length: 100 }, () => b.nextU32());
    const sc = Array.from({ length: 100 }, () => c.nextU32());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
    // Seeds that differ only above bit 32 still differ.
    expect(new Rng(1).nextU32()).not.toBe(new Rng(2 ** 32 + 1).nextU32());
  });

  it('derives distinct, stable sub-seeds per path', () => {
    const seen = new Set<number>();
    for (let level = 0; level < 5; level++) {
      for (let step = 0; step < 11; step++) {
        for (let purpose = 0; purpose < 2; purpose++) {
          const s = Rng.derive(7, level, step, purpose);
          expect(Number.isInteger(s) && s >= 0 && s < 2 ** 32).toBe(true);
          expect(Rng.derive(7, level, step, purpose)).toBe(s);
          seen.add(s);
        }
      }
    }
    expect(seen.size).toBe(5 * 11 * 2);
    expect(Rng.derive(7, 1, 2)).not.toBe(Rng.derive(7, 2, 1));
    expect(Rng.derive(7, 1)).not.toBe(Rng.derive(8, 1));
  });

  it('draws floats in [0, 1) and unbiased integers', () => {
    const rng = new Rng(1);
    const counts = new Array<number>(7).fill(0);
    let sum = 0;
    let outside = 0;
    for (let i = 0; i < 70000; i++) {
      const f = rng.next();
      if (!(f >= 0 && f < 1)) outside++;
      sum += f;
      counts[rng.int(7)]++;
    }
    expect(outside).toBe(0);
    expect(sum / 70000).toBeCloseTo(0.5, 2);
    // Each bucket expects 10000 (sd ~93); 500 is more than 5 sd.
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(500);
    expect(() => rng.int(0)).toThrow(RangeError);
  });

  it('draws standard normals', () => {
    const rng = new Rng(3);
    let s = 0;
    let s2 = 0;
    const n = 50000;
    for (let i = 0; i < n; i++) {
      const v = rng.normal();
      s += v;
      s2 += v * v;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.02);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.03);
  });

  it('shuffles into a permutation and samples distinct values', () => {
    const rng = new Rng(5);
    const arr = Int32Array.from({ length: 100 }, (_, i) => i);
    rng.shuffle(arr);
    expect(Array.from(arr).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Array.from(arr)).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
    for (const [n, k] of [
      [10, 10],
      [1000, 5],
      [50, 20],
    ]) {
      const s = rng.sample(n, k);
      expect(s.length).toBe(k);
      expect(new Set(s).size).toBe(k);
      for (const v of s) expect(v >= 0 && v < n).toBe(true);
    }
    expect(() => rng.sample(3, 4)).toThrow(RangeError);
  });
});
