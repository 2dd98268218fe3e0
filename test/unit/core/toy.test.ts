import { describe, expect, it } from 'vitest';
import {
  makeRingsData,
  makeToyData,
  RING_CENTRE_RADIUS,
  RING_SIZES,
} from '../../../src/core/toy.ts';

describe('toy data', () => {
  it('makes the Fig. 3 mixture: 7000 / 1000 / 500 Gaussians and 500 uniform points', () => {
    const { x, labels, groups } = makeToyData(0);
    expect(x.rows).toBe(9000);
    expect(x.cols).toBe(2);
    expect(groups.length).toBe(4);
    const expected = [
      [7000, -1, -1],
      [1000, 1, -1],
      [500, 0, 1],
    ];
    expected.forEach(([count, mx, my], g) => {
      let n = 0;
      let sx = 0;
      let sy = 0;
      let sxx = 0;
      for (let i = 0; i < x.rows; i++) {
        if (labels[i] !== g) continue;
        n++;
        sx += x.data[2 * i];
        sy += x.data[2 * i + 1];
        sxx += (x.data[2 * i] - mx) ** 2;
      }
      expect(n).toBe(count);
      expect(sx / n).toBeCloseTo(mx, 1);
      expect(sy / n).toBeCloseTo(my, 1);
      expect(Math.sqrt(sxx / n)).toBeCloseTo(0.5, 1);
    });
    let inside = 0;
    for (let i = 8500; i < 9000; i++) {
      if (Math.abs(x.data[2 * i]) <= 3 && Math.abs(x.data[2 * i + 1]) <= 3) inside++;
    }
    expect(inside).toBe(500);
    expect(makeToyData(0).x.data).toEqual(x.data);
    expect(makeToyData(1).x.data).not.toEqual(x.data);
  });

  it('makes five rings of 20000 / 200 / 1000 / 500 / 8000 points with radius about 1', () => {
    const { x, labels } = makeRingsData(0);
    expect(x.rows).toBe(RING_SIZES.reduce((a, b) => a + b, 0));
    RING_SIZES.forEach((size, g) => {
      const phi = Math.PI / 2 + (2 * Math.PI * g) / 5;
      const cx = RING_CENTRE_RADIUS * Math.cos(phi);
      const cy = RING_CENTRE_RADIUS * Math.sin(phi);
      let n = 0;
      let far = 0;
      for (let i = 0; i < x.rows; i++) {
        if (labels[i] !== g) continue;
        n++;
        const r = Math.hypot(x.data[2 * i] - cx, x.data[2 * i + 1] - cy);
        if (Math.abs(r - 1) > 0.25) far++;
      }
      expect(n).toBe(size);
      expect(far).toBe(0);
    });
  });
});
