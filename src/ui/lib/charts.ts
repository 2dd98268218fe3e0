/**
 * Chart data for the explore views: pure functions from the data layer's arrays to what the SVG
 * and canvas components draw. No DOM here.
 */

/**
 * Axis ticks for a log scale from 1 up to the first tick at or above `max`: 1-2-5 steps when
 * the range spans at most two decades, powers of ten beyond (so labels never crowd).
 */
export function logTicks(max: number): number[] {
  const top = Math.max(2, max);
  const steps = top <= 100 ? [1, 2, 5] : [1];
  const ticks: number[] = [];
  for (let base = 1; ; base *= 10) {
    for (const s of steps) {
      ticks.push(s * base);
      if (s * base >= top) return ticks;
    }
  }
}

/**
 * Maps a count to [0, 1] on a log scale from 1 (0) to `max` (1). Zero has no place on a log axis:
 * it maps to a small negative value so it is drawn just under the axis, visibly apart from 1.
 */
export function logPosition(value: number, max: number): number {
  const top = Math.log10(Math.max(max, 10));
  if (value <= 0) return -0.04;
  return Math.log10(value) / top;
}

export interface RankSize {
  /** pool size per cluster, largest first */
  readonly before: Int32Array;
  /** curated size of the same clusters, same order */
  readonly after: Int32Array;
  readonly maxBefore: number;
  readonly maxAfter: number;
  /** largest / smallest non-empty, before and after */
  readonly ratioBefore: number;
  readonly ratioAfter: number;
  /** clusters that kept no item */
  readonly emptyAfter: number;
}

/** Clusters ordered by pool size (ties by curated size), with the summary figures shown. */
export function rankSize(before: ArrayLike<number>, after: ArrayLike<number>): RankSize {
  if (before.length !== after.length) {
    throw new Error(`rankSize: ${before.length} clusters before but ${after.length} after`);
  }
  const order = Array.from({ length: before.length }, (_, i) => i).sort(
    (a, b) => before[b] - before[a] || after[b] - after[a] || a - b,
  );
  const b = Int32Array.from(order, (i) => before[i]);
  const a = Int32Array.from(order, (i) => after[i]);
  return {
    before: b,
    after: a,
    maxBefore: max(b),
    maxAfter: max(a),
    ratioBefore: maxMinRatio(b),
    ratioAfter: maxMinRatio(a),
    emptyAfter: a.reduce((n, v) => n + (v === 0 ? 1 : 0), 0),
  };
}

function max(v: Int32Array): number {
  let m = 0;
  for (const x of v) if (x > m) m = x;
  return m;
}

function maxMinRatio(v: Int32Array): number {
  let hi = 0;
  let lo = Infinity;
  for (const x of v) {
    if (x <= 0) continue;
    if (x > hi) hi = x;
    if (x < lo) lo = x;
  }
  return hi > 0 ? hi / lo : 0;
}

/**
 * Fewer points for a long series: keeps, per pixel column, the first and the extreme values so a
 * 10k-cluster rank plot draws as fast as a 500-cluster one and looks the same.
 */
export function columnsOf(values: Int32Array, columns: number): { x: number; v: number }[] {
  const n = values.length;
  if (n <= columns * 2) return Array.from(values, (v, i) => ({ x: i, v }));
  const out: { x: number; v: number }[] = [];
  for (let c = 0; c < columns; c++) {
    const start = Math.floor((c * n) / columns);
    const end = Math.max(start + 1, Math.floor(((c + 1) * n) / columns));
    let lo = values[start];
    let hi = values[start];
    for (let i = start; i < end; i++) {
      if (values[i] < lo) lo = values[i];
      if (values[i] > hi) hi = values[i];
    }
    out.push({ x: start, v: hi });
    if (lo !== hi) out.push({ x: end - 1, v: lo });
  }
  return out;
}

/** Bounds of a point set with a margin, for fitting a 2-D map into a canvas. */
/** Smallest and largest x and y of the points, or null when there are none. */
export function extent(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
): { x0: number; x1: number; y0: number; y1: number } | null {
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (let i = 0; i < x.length; i++) {
    if (x[i] < x0) x0 = x[i];
    if (x[i] > x1) x1 = x[i];
    if (y[i] < y0) y0 = y[i];
    if (y[i] > y1) y1 = y[i];
  }
  return Number.isFinite(x0) ? { x0, x1, y0, y1 } : null;
}

export function bounds(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
): { x0: number; x1: number; y0: number; y1: number } {
  const e = extent(x, y);
  if (!e) return { x0: -1, x1: 1, y0: -1, y1: 1 };
  const { x0, x1, y0, y1 } = e;
  const padX = (x1 - x0 || 1) * 0.04;
  const padY = (y1 - y0 || 1) * 0.04;
  return { x0: x0 - padX, x1: x1 + padX, y0: y0 - padY, y1: y1 + padY };
}

/** Index of the point nearest to (px, py) in data units, or -1 when none is within `radius`. */
export function nearest(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  px: number,
  py: number,
  radius: number,
): number {
  let best = -1;
  let bestD = radius * radius;
  for (let i = 0; i < x.length; i++) {
    const dx = x[i] - px;
    const dy = y[i] - py;
    const d = dx * dx + dy * dy;
    if (d <= bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}
