/**
 * What the map draws over its points, as pure arithmetic the component renders: the rows inside
 * the current view (thumbnails replace dots once few enough are in sight) and density contours
 * (where the points crowd, drawn when zoomed out so a 100k-point cloud still reads as regions).
 *
 * Contours use d3-contour's kernel density estimate (a box blur approximating a Gaussian, then
 * marching squares): well tested, ~10 KB, and it makes closed, nested rings that SVG fills
 * directly. They are computed once per set of positions on a fixed grid over the points' extent,
 * in that grid's coordinates; panning and zooming only change the SVG transform (`contourFrame`).
 */
import { contourDensity } from 'd3-contour';
import { extent } from '../lib/charts';
import type { View } from './map-gl';

/**
 * Rows of the current view that pass the filters, in row order, up to `limit` + 1 (one more
 * than the limit says "too many to show as pictures"). `margin` px beyond the edges counts as
 * inside, so a thumbnail half out of view is still drawn.
 */
export function rowsInView(
  x: Float32Array,
  y: Float32Array,
  v: View,
  w: number,
  h: number,
  visible: Uint8Array | null,
  limit: number,
  margin = 24,
): number[] {
  const x0 = v.cx - (w / 2 + margin) * v.unitsPerPx;
  const x1 = v.cx + (w / 2 + margin) * v.unitsPerPx;
  const y0 = v.cy - (h / 2 + margin) * v.unitsPerPx;
  const y1 = v.cy + (h / 2 + margin) * v.unitsPerPx;
  const out: number[] = [];
  for (let i = 0; i < x.length; i++) {
    if (visible && !visible[i]) continue;
    const px = x[i];
    const py = y[i];
    if (px < x0 || px > x1 || py < y0 || py > y1) continue;
    out.push(i);
    if (out.length > limit) break;
  }
  return out;
}

/** Density contours in grid coordinates, and how that grid sits in data space. */
export interface Contours {
  /** SVG path data, lowest density first (so denser rings are drawn on top) */
  readonly paths: readonly string[];
  /** data coordinate of grid (0, 0): the lower-left corner of the padded extent */
  readonly x0: number;
  readonly y0: number;
  /** data units per grid unit */
  readonly scale: number;
}

/** Grid cells along the longer side. 128 keeps rings smooth at the map's ~600 px width. */
const GRID = 128;

/**
 * Density rings of the points: `levels` thresholds spread over the density's range, on a grid
 * of GRID cells along the longer side with a one-tenth margin so outer rings close. Fewer than
 * 50 points give nothing (their dots say it all).
 */
export function densityContours(x: Float32Array, y: Float32Array, levels = 6): Contours | null {
  const e = extent(x, y);
  if (!e || x.length < 50) return null;
  const span = Math.max(e.x1 - e.x0, e.y1 - e.y0, 1e-9);
  const pad = span * 0.1;
  const scale = (span + 2 * pad) / GRID;
  const x0 = e.x0 - pad;
  const y0 = e.y0 - pad;
  const gw = Math.ceil((e.x1 - e.x0 + 2 * pad) / scale);
  const gh = Math.ceil((e.y1 - e.y0 + 2 * pad) / scale);
  const rows = Array.from({ length: x.length }, (_, i) => i);
  const density = contourDensity<number>()
    .x((i) => (x[i] - x0) / scale)
    .y((i) => (y[i] - y0) / scale)
    .size([gw, gh])
    .cellSize(2)
    // 3 grid units ~ 2% of the extent: broad enough to merge a cluster's points into one
    // region, narrow enough to keep neighbouring clusters apart on the demo's maps.
    .bandwidth(3)
    .thresholds(levels);
  const rings = density(rows);
  const paths: string[] = [];
  for (const ring of rings) {
    const d = polygonsPath(ring.coordinates);
    if (d) paths.push(d);
  }
  return { paths, x0, y0, scale };
}

function polygonsPath(polygons: readonly number[][][][]): string {
  let d = '';
  for (const polygon of polygons) {
    for (const ring of polygon) {
      ring.forEach(([px, py], i) => {
        d += `${i === 0 ? 'M' : 'L'}${px.toFixed(1)},${py.toFixed(1)}`;
      });
      if (ring.length) d += 'Z';
    }
  }
  return d;
}

/**
 * The SVG transform that puts grid coordinates on the screen for a view: x grows right, the
 * data's y grows up while the screen's grows down, hence the negative y scale.
 */
export function contourFrame(c: Contours, v: View, w: number, h: number): string {
  const s = c.scale / v.unitsPerPx;
  const tx = w / 2 + (c.x0 - v.cx) / v.unitsPerPx;
  const ty = h / 2 - (c.y0 - v.cy) / v.unitsPerPx;
  return `translate(${tx.toFixed(2)} ${ty.toFixed(2)}) scale(${s.toFixed(5)} ${(-s).toFixed(5)})`;
}
