import { describe, expect, it } from 'vitest';
import { spreadOrder } from '../../../src/ui/explore/map-gl';

describe('the map draw order', () => {
  it('visits every row once, and any prefix is spread evenly over the rows', () => {
    for (const n of [0, 1, 7, 1000, 100_000]) {
      const order = spreadOrder(n);
      const seen = new Uint8Array(n);
      for (const r of order) seen[r]++;
      expect(seen.every((v) => v === 1)).toBe(true);
    }
    // The first quarter of 100k rows puts close to a quarter of each tenth of the rows on screen.
    const n = 100_000;
    const order = spreadOrder(n);
    const perTenth = new Array<number>(10).fill(0);
    for (let i = 0; i < n / 4; i++) perTenth[Math.floor(order[i] / (n / 10))]++;
    for (const c of perTenth) expect(Math.abs(c - n / 40)).toBeLessThan(n / 400);
  });
});
