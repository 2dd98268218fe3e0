import { describe, expect, it } from 'vitest';
import {
  bounds,
  columnsOf,
  logPosition,
  logTicks,
  nearest,
  rankSize,
} from '../../../src/ui/lib/charts';

describe('logTicks', () => {
  it('steps 1-2-5 up to the first tick at or above the maximum on short ranges', () => {
    expect(logTicks(27)).toEqual([1, 2, 5, 10, 20, 50]);
    expect(logTicks(100)).toEqual([1, 2, 5, 10, 20, 50, 100]);
    expect(logTicks(1)).toEqual([1, 2]);
  });
  it('uses powers of ten on long ranges', () => {
    expect(logTicks(120)).toEqual([1, 10, 100, 1000]);
    expect(logTicks(40_000)).toEqual([1, 10, 100, 1000, 10_000, 100_000]);
  });
});

describe('logPosition', () => {
  it('maps 1 to 0, the top to 1, and zero just below the axis', () => {
    expect(logPosition(1, 100)).toBe(0);
    expect(logPosition(100, 100)).toBeCloseTo(1);
    expect(logPosition(10, 100)).toBeCloseTo(0.5);
    expect(logPosition(0, 100)).toBeLessThan(0);
  });
});

describe('rankSize', () => {
  it('orders clusters by pool size and keeps the curated counts aligned', () => {
    const r = rankSize([3, 120, 40, 1, 9], [3, 10, 10, 1, 0]);
    expect(Array.from(r.before)).toEqual([120, 40, 9, 3, 1]);
    expect(Array.from(r.after)).toEqual([10, 10, 0, 3, 1]);
    expect(r.ratioBefore).toBe(120);
    expect(r.ratioAfter).toBe(10);
    expect(r.emptyAfter).toBe(1);
  });
  it('rejects series of different lengths', () => {
    expect(() => rankSize([1, 2], [1])).toThrow(/2 clusters before but 1 after/);
  });
});

describe('columnsOf', () => {
  it('keeps every point of a short series', () => {
    expect(columnsOf(Int32Array.from([5, 4, 3]), 10)).toEqual([
      { x: 0, v: 5 },
      { x: 1, v: 4 },
      { x: 2, v: 3 },
    ]);
  });
  it('keeps the extremes of each column of a long series', () => {
    const v = Int32Array.from({ length: 1000 }, (_, i) => 1000 - i);
    const cols = columnsOf(v, 10);
    expect(cols.length).toBeLessThanOrEqual(20);
    expect(cols[0]).toEqual({ x: 0, v: 1000 });
    expect(cols[cols.length - 1].v).toBe(1);
  });
});

describe('bounds and nearest', () => {
  it('pads the box and finds the closest point within the radius', () => {
    const x = [0, 10, 5];
    const y = [0, 10, 5];
    const b = bounds(x, y);
    expect(b.x0).toBeLessThan(0);
    expect(b.x1).toBeGreaterThan(10);
    expect(nearest(x, y, 4.8, 5.1, 1)).toBe(2);
    expect(nearest(x, y, 2.5, 2.5, 1)).toBe(-1);
  });
});
