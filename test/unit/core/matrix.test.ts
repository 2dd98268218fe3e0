import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/core/errors.ts';
import {
  assertFinite,
  centerRows,
  createMatrix,
  gatherRows,
  l2NormalizeRows,
  rowView,
} from '../../../src/core/matrix.ts';

describe('matrix helpers', () => {
  const m = createMatrix(3, 2, Float32Array.from([3, 4, 0, 0, 1, 1]));

  it('checks shapes and views rows', () => {
    expect(() => createMatrix(2, 2, new Float32Array(3))).toThrow(/needs 4 values/);
    expect(Array.from(rowView(m, 0))).toEqual([3, 4]);
    expect(createMatrix(2, 3).data.length).toBe(6);
  });

  it('gathers rows in the given order', () => {
    const g = gatherRows(m, [2, 0, 2]);
    expect(g.rows).toBe(3);
    expect(Array.from(g.data)).toEqual([1, 1, 3, 4, 1, 1]);
    expect(() => gatherRows(m, [3])).toThrow(/out of range/);
  });

  it('L2-normalises rows and leaves zero rows at zero', () => {
    const n = l2NormalizeRows(m);
    expect(n.data[0]).toBeCloseTo(0.6, 6);
    expect(n.data[1]).toBeCloseTo(0.8, 6);
    expect(n.data[2]).toBe(0);
    expect(n.data[4]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(m.data[0]).toBe(3); // input untouched
  });

  it('centres rows on the mean row', () => {
    const c = centerRows(m);
    const colMean = (j: number): number => (c.data[j] + c.data[2 + j] + c.data[4 + j]) / 3;
    expect(colMean(0)).toBeCloseTo(0, 6);
    expect(colMean(1)).toBeCloseTo(0, 6);
    expect(c.data[0]).toBeCloseTo(3 - 4 / 3, 6);
  });

  it('names the first non-finite row', () => {
    expect(() => assertFinite(m)).not.toThrow();
    const bad = createMatrix(3, 2, Float32Array.from([0, 0, 1, Infinity, NaN, 0]));
    expect(() => assertFinite(bad, 'embeddings')).toThrow(InputError);
    expect(() => assertFinite(bad, 'embeddings')).toThrow(
      /embeddings row 1 .*Infinity at column 1/,
    );
  });
});
