/**
 * The plain-JavaScript CpuKernel: nearest-centroid assignment and candidate distances for
 * k-means, written so V8 keeps the hot loop in registers.
 *
 * Layout of the work (measured on the 2-core Xeon this project is developed on, Node 20, one
 * thread; GFLOP/s = 2*N*K*D / seconds):
 *  - rows are copied tile by tile into a float64 scratch and centroids once per call into float64:
 *    Float32Array loads cost a conversion each; reading float64 measured 3.9 -> 4.5 GFLOP/s
 *    (N=20k, D=128, K=256), and all arithmetic is float64 anyway (JS numbers).
 *  - a 4-row x 2-centroid register block: 6 loads feed 8 multiply-adds. Against a 1x1 dot product
 *    with 4-way unrolling (1.7 GFLOP/s) it runs at 4.5-4.8 GFLOP/s; 4x3 and 2x4 blocks measured
 *    the same within noise (4.0-5.0), larger blocks spill registers.
 *  - centroids are walked in tiles of about 256 KiB so a tile stays in L2 while every row of the
 *    row tile is scored against it. Not measured to matter here (this Xeon's L2 is 2 MiB per core
 *    and K*D*8 stayed under 3 MiB in the benches); it guards machines with smaller caches and
 *    pools with K*D in the millions.
 *  - only |c|^2 - 2 x.c is compared in the inner loop; |x|^2 is added once per row at the end.
 * Result (bench/cli/kernel.ts, CPU time, machine shared with other jobs): N=20k, D=128, K=256:
 * 4.6 GFLOP/s (0.29 s wall on a quiet machine); N=20k, D=384, K=1000: 4.7 GFLOP/s; the 2-D toy
 * (N=9000, K=3000) 2.3 GFLOP/s, where loop overhead dominates a 2-long dot product.
 */
import type { Assignment, CpuKernel, Matrix } from './types.ts';

/** Rows per tile: 32 rows x D float64 stays in L1/L2 next to the centroid tile. */
const ROW_TILE = 32;
/** Float64 values per centroid tile (256 KiB), see the header. */
const CENTROID_TILE_VALUES = 32768;

function toFloat64(src: Float32Array): Float64Array {
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i];
  return out;
}

function norms2(data: Float64Array, rows: number, d: number): Float64Array {
  const out = new Float64Array(rows);
  for (let j = 0; j < rows; j++) {
    let s = 0;
    const o = j * d;
    for (let t = 0; t < d; t++) s += data[o + t] * data[o + t];
    out[j] = s;
  }
  return out;
}

/**
 * For a tile of rows (xt, rn rows, float64) and centroids [c0, c1): update best score
 * (|c|^2 - 2 x.c) and label per row of the tile.
 */
function scoreTile(
  xt: Float64Array,
  rn: number,
  c: Float64Array,
  cn: Float64Array,
  c0: number,
  c1: number,
  d: number,
  best: Float64Array,
  lab: Int32Array,
): void {
  for (let r = 0; r < rn; r += 4) {
    // Rows past the end of the tile alias the last row: the block stays 4 wide, results unused.
    const r0 = r * d;
    const r1 = Math.min(r + 1, rn - 1) * d;
    const r2 = Math.min(r + 2, rn - 1) * d;
    const r3 = Math.min(r + 3, rn - 1) * d;
    let b0 = best[r];
    let b1 = r + 1 < rn ? best[r + 1] : Infinity;
    let b2 = r + 2 < rn ? best[r + 2] : Infinity;
    let b3 = r + 3 < rn ? best[r + 3] : Infinity;
    let l0 = lab[r];
    let l1 = r + 1 < rn ? lab[r + 1] : 0;
    let l2 = r + 2 < rn ? lab[r + 2] : 0;
    let l3 = r + 3 < rn ? lab[r + 3] : 0;
    let j = c0;
    for (; j + 1 < c1; j += 2) {
      const ca = j * d;
      const cb = ca + d;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let e0 = 0;
      let e1 = 0;
      let e2 = 0;
      let e3 = 0;
      for (let t = 0; t < d; t++) {
        const u = c[ca + t];
        const v = c[cb + t];
        const y0 = xt[r0 + t];
        const y1 = xt[r1 + t];
        const y2 = xt[r2 + t];
        const y3 = xt[r3 + t];
        a0 += y0 * u;
        a1 += y1 * u;
        a2 += y2 * u;
        a3 += y3 * u;
        e0 += y0 * v;
        e1 += y1 * v;
        e2 += y2 * v;
        e3 += y3 * v;
      }
      const na = cn[j];
      const nb = cn[j + 1];
      // Strict < keeps the lowest index on ties, as a sequential scan would.
      let s = na - 2 * a0;
      if (s < b0) {
        b0 = s;
        l0 = j;
      }
      s = nb - 2 * e0;
      if (s < b0) {
        b0 = s;
        l0 = j + 1;
      }
      s = na - 2 * a1;
      if (s < b1) {
        b1 = s;
        l1 = j;
      }
      s = nb - 2 * e1;
      if (s < b1) {
        b1 = s;
        l1 = j + 1;
      }
      s = na - 2 * a2;
      if (s < b2) {
        b2 = s;
        l2 = j;
      }
      s = nb - 2 * e2;
      if (s < b2) {
        b2 = s;
        l2 = j + 1;
      }
      s = na - 2 * a3;
      if (s < b3) {
        b3 = s;
        l3 = j;
      }
      s = nb - 2 * e3;
      if (s < b3) {
        b3 = s;
        l3 = j + 1;
      }
    }
    if (j < c1) {
      const ca = j * d;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let t = 0; t < d; t++) {
        const u = c[ca + t];
        a0 += xt[r0 + t] * u;
        a1 += xt[r1 + t] * u;
        a2 += xt[r2 + t] * u;
        a3 += xt[r3 + t] * u;
      }
      const na = cn[j];
      let s = na - 2 * a0;
      if (s < b0) {
        b0 = s;
        l0 = j;
      }
      s = na - 2 * a1;
      if (s < b1) {
        b1 = s;
        l1 = j;
      }
      s = na - 2 * a2;
      if (s < b2) {
        b2 = s;
        l2 = j;
      }
      s = na - 2 * a3;
      if (s < b3) {
        b3 = s;
        l3 = j;
      }
    }
    best[r] = b0;
    lab[r] = l0;
    if (r + 1 < rn) {
      best[r + 1] = b1;
      lab[r + 1] = l1;
    }
    if (r + 2 < rn) {
      best[r + 2] = b2;
      lab[r + 2] = l2;
    }
    if (r + 3 < rn) {
      best[r + 3] = b3;
      lab[r + 3] = l3;
    }
  }
}

/**
 * scoreTile for 2-D points (the paper's toy, the rings, 2-D demos): the 4 rows stay in registers
 * for the whole centroid loop, so each centroid costs 3 loads for 4 scores. Scores are computed
 * with -2x, exactly -2 times the generic dot product (scaling by 2 is exact), so labels match
 * the generic path bit for bit. Measured on the toy's largest runs (N=9000, K=3000, CPU time):
 * 2.4 -> 3.4 GFLOP/s against the generic path, identical labels and distances.
 */
function scoreTile2(
  xt: Float64Array,
  rn: number,
  c: Float64Array,
  cn: Float64Array,
  c0: number,
  c1: number,
  best: Float64Array,
  lab: Int32Array,
): void {
  for (let r = 0; r < rn; r += 4) {
    const q1 = Math.min(r + 1, rn - 1);
    const q2 = Math.min(r + 2, rn - 1);
    const q3 = Math.min(r + 3, rn - 1);
    const x0 = -2 * xt[2 * r];
    const y0 = -2 * xt[2 * r + 1];
    const x1 = -2 * xt[2 * q1];
    const y1 = -2 * xt[2 * q1 + 1];
    const x2 = -2 * xt[2 * q2];
    const y2 = -2 * xt[2 * q2 + 1];
    const x3 = -2 * xt[2 * q3];
    const y3 = -2 * xt[2 * q3 + 1];
    let b0 = best[r];
    let b1 = r + 1 < rn ? best[r + 1] : Infinity;
    let b2 = r + 2 < rn ? best[r + 2] : Infinity;
    let b3 = r + 3 < rn ? best[r + 3] : Infinity;
    let l0 = lab[r];
    let l1 = r + 1 < rn ? lab[r + 1] : 0;
    let l2 = r + 2 < rn ? lab[r + 2] : 0;
    let l3 = r + 3 < rn ? lab[r + 3] : 0;
    for (let j = c0; j < c1; j++) {
      const u = c[2 * j];
      const v = c[2 * j + 1];
      const nj = cn[j];
      const s0 = nj + (x0 * u + y0 * v);
      const s1 = nj + (x1 * u + y1 * v);
      const s2 = nj + (x2 * u + y2 * v);
      const s3 = nj + (x3 * u + y3 * v);
      if (s0 < b0) {
        b0 = s0;
        l0 = j;
      }
      if (s1 < b1) {
        b1 = s1;
        l1 = j;
      }
      if (s2 < b2) {
        b2 = s2;
        l2 = j;
      }
      if (s3 < b3) {
        b3 = s3;
        l3 = j;
      }
    }
    best[r] = b0;
    lab[r] = l0;
    if (r + 1 < rn) {
      best[r + 1] = b1;
      lab[r + 1] = l1;
    }
    if (r + 2 < rn) {
      best[r + 2] = b2;
      lab[r + 2] = l2;
    }
    if (r + 3 < rn) {
      best[r + 3] = b3;
      lab[r + 3] = l3;
    }
  }
}

function checkShapes(x: Matrix, c: Matrix): void {
  if (x.cols !== c.cols) {
    throw new RangeError(`dimension mismatch: rows have ${x.cols} columns, centroids ${c.cols}`);
  }
}

function assign(x: Matrix, centroids: Matrix, out: Assignment): void {
  checkShapes(x, centroids);
  const n = x.rows;
  const k = centroids.rows;
  const d = x.cols;
  if (out.labels.length !== n || out.dist2.length !== n) {
    throw new RangeError(`assignment buffers must hold ${n} rows`);
  }
  if (k === 0) throw new RangeError('cannot assign to zero centroids');
  const c = toFloat64(centroids.data);
  const cn = norms2(c, k, d);
  const ct = Math.max(2, Math.floor(CENTROID_TILE_VALUES / Math.max(1, d)));
  const xt = new Float64Array(ROW_TILE * d);
  const best = new Float64Array(ROW_TILE);
  const lab = new Int32Array(ROW_TILE);
  const xd = x.data;
  for (let i0 = 0; i0 < n; i0 += ROW_TILE) {
    const rn = Math.min(ROW_TILE, n - i0);
    const base = i0 * d;
    for (let p = 0; p < rn * d; p++) xt[p] = xd[base + p];
    best.fill(Infinity);
    lab.fill(0);
    for (let c0 = 0; c0 < k; c0 += ct) {
      if (d === 2) scoreTile2(xt, rn, c, cn, c0, Math.min(k, c0 + ct), best, lab);
      else scoreTile(xt, rn, c, cn, c0, Math.min(k, c0 + ct), d, best, lab);
    }
    for (let r = 0; r < rn; r++) {
      let xn = 0;
      const o = r * d;
      for (let t = 0; t < d; t++) xn += xt[o + t] * xt[o + t];
      const v = xn + best[r];
      out.dist2[i0 + r] = v > 0 ? v : 0;
      out.labels[i0 + r] = lab[r];
    }
  }
}

function clamp0(v: number): number {
  return v > 0 ? v : 0;
}

/**
 * Candidate-major distances for greedy k-means++, which calls this once per chosen centre with
 * only 2 + ln k candidates. With so few candidates, copying rows to float64 and computing their
 * norms in a separate pass (as assign does) is not amortised: reading the float32 rows directly,
 * norms first, then 4 rows x 2 candidates per register block, measured 3.0-3.2 GFLOP/s of CPU
 * time against 2.1-2.4 for the tiled copy (N=100k, D=384, 6 candidates, loaded machine).
 */
function distancesTo(x: Matrix, candidates: Matrix, out: Float32Array): void {
  checkShapes(x, candidates);
  const n = x.rows;
  const m = candidates.rows;
  const d = x.cols;
  if (out.length < n * m) throw new RangeError(`distance buffer must hold ${n * m} values`);
  if (m === 0 || n === 0) return;
  const c = toFloat64(candidates.data);
  const cn = norms2(c, m, d);
  const xd = x.data;
  for (let i = 0; i < n; i += 4) {
    // Rows past the end alias the last row; their results are not written.
    const w = Math.min(4, n - i);
    const r0 = i * d;
    const r1 = Math.min(i + 1, n - 1) * d;
    const r2 = Math.min(i + 2, n - 1) * d;
    const r3 = Math.min(i + 3, n - 1) * d;
    let n0 = 0;
    let n1 = 0;
    let n2 = 0;
    let n3 = 0;
    for (let t = 0; t < d; t++) {
      const y0 = xd[r0 + t];
      const y1 = xd[r1 + t];
      const y2 = xd[r2 + t];
      const y3 = xd[r3 + t];
      n0 += y0 * y0;
      n1 += y1 * y1;
      n2 += y2 * y2;
      n3 += y3 * y3;
    }
    for (let j = 0; j < m; j += 2) {
      // An odd last candidate is paired with itself; the duplicate result is not written.
      const jb = j + 1 < m ? j + 1 : j;
      const ca = j * d;
      const cb = jb * d;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let e0 = 0;
      let e1 = 0;
      let e2 = 0;
      let e3 = 0;
      for (let t = 0; t < d; t++) {
        const u = c[ca + t];
        const v = c[cb + t];
        const y0 = xd[r0 + t];
        const y1 = xd[r1 + t];
        const y2 = xd[r2 + t];
        const y3 = xd[r3 + t];
        a0 += y0 * u;
        a1 += y1 * u;
        a2 += y2 * u;
        a3 += y3 * u;
        e0 += y0 * v;
        e1 += y1 * v;
        e2 += y2 * v;
        e3 += y3 * v;
      }
      const oa = j * n + i;
      const na = cn[j];
      out[oa] = clamp0(n0 - 2 * a0 + na);
      if (w > 1) out[oa + 1] = clamp0(n1 - 2 * a1 + na);
      if (w > 2) out[oa + 2] = clamp0(n2 - 2 * a2 + na);
      if (w > 3) out[oa + 3] = clamp0(n3 - 2 * a3 + na);
      if (jb !== j) {
        const ob = jb * n + i;
        const nb = cn[jb];
        out[ob] = clamp0(n0 - 2 * e0 + nb);
        if (w > 1) out[ob + 1] = clamp0(n1 - 2 * e1 + nb);
        if (w > 2) out[ob + 2] = clamp0(n2 - 2 * e2 + nb);
        if (w > 3) out[ob + 3] = clamp0(n3 - 2 * e3 + nb);
      }
    }
  }
}

export const jsKernel: CpuKernel = { name: 'js', assign, distancesTo };
