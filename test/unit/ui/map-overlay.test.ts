import { describe, expect, it } from 'vitest';
import { toScreen, type View } from '../../../src/ui/explore/map-gl';
import { contourFrame, densityContours, rowsInView } from '../../../src/ui/explore/map-overlay';

/** Two tight blobs of points, far apart: (0, 0) and (10, 0). */
function blobs(perBlob: number): { x: Float32Array; y: Float32Array } {
  const x = new Float32Array(2 * perBlob);
  const y = new Float32Array(2 * perBlob);
  for (let i = 0; i < 2 * perBlob; i++) {
    const a = (i * 2.399963) % (2 * Math.PI);
    const r = 0.5 * Math.sqrt((i % perBlob) / perBlob);
    x[i] = (i < perBlob ? 0 : 10) + r * Math.cos(a);
    y[i] = r * Math.sin(a);
  }
  return { x, y };
}

describe('the map overlay', () => {
  it('finds the rows in view, honours the filter and stops one past the limit', () => {
    const { x, y } = blobs(100);
    // 200 x 100 px at 0.02 units per px around (0, 0): the first blob only.
    const v: View = { cx: 0, cy: 0, unitsPerPx: 0.02 };
    const rows = rowsInView(x, y, v, 200, 100, null, 500);
    expect(rows).toHaveLength(100);
    expect(rows.every((r) => r < 100)).toBe(true);
    const odd = new Uint8Array(200).map((_, i) => i % 2);
    expect(rowsInView(x, y, v, 200, 100, odd, 500)).toHaveLength(50);
    expect(rowsInView(x, y, v, 200, 100, null, 10)).toHaveLength(11);
  });

  it('draws separate density rings round separate blobs, placed where the blobs are', () => {
    const { x, y } = blobs(200);
    const c = densityContours(x, y, 4);
    expect(c).not.toBeNull();
    if (!c) return;
    expect(c.paths.length).toBeGreaterThan(0);
    // The outermost ring has one closed outline per blob (the gap between them is empty).
    expect(c.paths[0].match(/Z/g)?.length).toBe(2);
    // The grid-to-screen transform puts the grid point of data (10, 0) where toScreen does.
    const v: View = { cx: 5, cy: 0, unitsPerPx: 0.05 };
    const frame = contourFrame(c, v, 400, 200);
    const m = /translate\(([-\d.]+) ([-\d.]+)\) scale\(([-\d.]+) ([-\d.]+)\)/.exec(frame);
    expect(m).not.toBeNull();
    const [tx, ty, sx, sy] = (m ?? []).slice(1).map(Number);
    const gx = (10 - c.x0) / c.scale;
    const gy = (0 - c.y0) / c.scale;
    const [ex, ey] = toScreen(v, 400, 200, 10, 0);
    expect(tx + sx * gx).toBeCloseTo(ex, 1);
    expect(ty + sy * gy).toBeCloseTo(ey, 1);
  });

  it('gives no rings for a handful of points', () => {
    expect(densityContours(new Float32Array(10), new Float32Array(10))).toBeNull();
  });
});
