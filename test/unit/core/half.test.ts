import { describe, expect, it } from 'vitest';
import { fromHalf, halfBits, toHalf } from '../../../src/core/half.ts';
import { greedyKMeansPlusPlus, lloyd } from '../../../src/core/kmeans.ts';
import { createMatrix } from '../../../src/core/matrix.ts';
import { Rng } from '../../../src/core/rng.ts';
import { blobs } from './helpers.ts';

describe('half precision', () => {
  it('encodes known values, rounding to nearest even', () => {
    expect(halfBits(1)).toBe(0x3c00);
    expect(halfBits(-2)).toBe(0xc000);
    expect(halfBits(0.1)).toBe(0x2e66);
    expect(halfBits(65504)).toBe(0x7bff);
    expect(halfBits(65520)).toBe(0x7c00); // rounds up past the largest: infinity
    expect(halfBits(1e6)).toBe(0x7c00);
    expect(halfBits(-Infinity)).toBe(0xfc00);
    expect(halfBits(NaN) & 0x7c00).toBe(0x7c00);
    expect(halfBits(NaN) & 0x3ff).not.toBe(0);
    expect(halfBits(2 ** -24)).toBe(1); // smallest subnormal
    expect(halfBits(2 ** -25)).toBe(0); // a tie between 0 and it: to even, 0
    expect(halfBits(1.5 * 2 ** -24)).toBe(2); // tie between 1 and 2: to even, 2
    expect(halfBits(1 + 2 ** -11)).toBe(0x3c00); // tie: stays even
    expect(halfBits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie: up to even
    expect(halfBits(-0)).toBe(0x8000);
  });

  it('decodes every pattern to a value that encodes back to it', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const values = fromHalf(all);
    const wrong: number[] = [];
    for (let h = 0; h < 65536; h++) {
      const nan = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      if (nan ? !Number.isNaN(values[h]) : halfBits(values[h]) !== h) wrong.push(h);
    }
    expect(wrong).toEqual([]);
  });

  it('keeps every value within 2^-11 relative error in the normal range', () => {
    const rng = new Rng(3);
    const v = Float32Array.from({ length: 10_000 }, () => rng.normal() * 4);
    const back = fromHalf(toHalf(v));
    for (let i = 0; i < v.length; i++) {
      if (Math.abs(v[i]) < 2 ** -14) continue;
      expect(Math.abs(back[i] - v[i])).toBeLessThanOrEqual(Math.abs(v[i]) * 2 ** -11);
    }
  });

  it('clusters unit-length rows stored at half precision within 0.5% of the float32 objective', async () => {
    // Rows like normalised embeddings: 60 blobs in 384 dimensions, each row scaled to length 1.
    const sizes = Array.from({ length: 60 }, (_, i) => 40 + ((i * 37) % 80));
    const x = blobs(sizes, 384, 11, 0.6);
    for (let r = 0; r < x.rows; r++) {
      const row = x.data.subarray(r * 384, (r + 1) * 384);
      const len = Math.hypot(...row);
      for (let j = 0; j < 384; j++) row[j] /= len;
    }
    const xh = createMatrix(x.rows, x.cols, fromHalf(toHalf(x.data)));
    const k = 50;
    const full = await lloyd(x, await greedyKMeansPlusPlus(x, k, new Rng(5)), { nIters: 10 });
    const half = await lloyd(xh, await greedyKMeansPlusPlus(xh, k, new Rng(5)), { nIters: 10 });
    // The half-precision centroids scored on the float32 rows.
    const scored = await lloyd(x, half.centroids, { nIters: 0 });
    expect(Math.abs(scored.objective / full.objective - 1)).toBeLessThan(0.005);
  });
});
