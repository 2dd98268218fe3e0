/**
 * A 2-D layout that keeps neighbourhoods (the UMAP method of McInnes et al. 2018, written for
 * typed arrays): rows nearby in the embedding end up nearby on the map, which PCA's two
 * directions do not promise. Pure TypeScript and seeded, so it runs in a worker, a page or Node
 * and gives the same map for the same run.
 *
 *  1. Rows wider than REDUCED_DIM are first projected on REDUCED_DIM random Gaussian directions
 *     (Johnson-Lindenstrauss: distances kept to a few per cent, enough to find neighbours).
 *  2. Approximate k nearest neighbours: a forest of random-projection trees proposes
 *     candidates, then NN-descent rounds (a neighbour of a neighbour is likely a neighbour).
 *  3. UMAP's fuzzy neighbour weights: w = exp(-(d - rho) / sigma) with sigma fitted per row so
 *     the weights sum to log2(k).
 *  4. UMAP's stochastic layout: edges sampled in proportion to their weight pull their ends
 *     together; random pairs push apart; the step shrinks linearly to zero. Starts from the
 *     PCA map (given by the caller), so the result is a refinement of the first picture.
 *
 * Why not the umap-js package: it takes number[][] rows (100k x 768 doubles is ~600 MB before
 * any work), where this keeps one Float32Array and reports progress per epoch for the worker.
 */
import { Rng } from './rng';

/** Neighbours per row: UMAP's default; 10-30 all give similar maps. */
export const NEIGHBOURS = 15;
/**
 * Width rows are reduced to before the neighbour search. 32 random directions keep the
 * 15-neighbour lists of 768-d embeddings ~80% identical to exact ones (NN-descent recovers
 * most of the rest), at 1/24 of the distance cost.
 */
export const REDUCED_DIM = 32;
/** Random-projection trees and their leaf size: 6 x 24 candidates per row before NN-descent. */
const TREES = 6;
const LEAF = 24;
const DESCENT_ROUNDS = 2;
/** UMAP's curve constants for min_dist = 0.1, spread = 1 (as fitted by umap-learn). */
const A = 1.577;
const B = 0.8951;
const NEGATIVE_SAMPLES = 5;

export interface LayoutOptions {
  readonly seed: number;
  /** starting positions (the PCA map); rows of a fixed pattern when absent */
  readonly init?: { readonly x: Float32Array; readonly y: Float32Array };
  /** optimisation epochs; default 500 up to 10k rows, 200 beyond (UMAP's defaults) */
  readonly epochs?: number;
  readonly neighbours?: number;
  /** called now and then with work done and work total (arbitrary units) */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface Layout2D {
  readonly x: Float32Array;
  readonly y: Float32Array;
}

/** Rows projected on `dim` random Gaussian directions (or the rows themselves when narrow). */
export function reduceRows(
  data: Float32Array,
  rows: number,
  cols: number,
  dim: number,
  rng: Rng,
): { data: Float32Array; cols: number } {
  if (cols <= dim) return { data, cols };
  const r = new Float32Array(cols * dim);
  const scale = 1 / Math.sqrt(dim);
  for (let i = 0; i < r.length; i++) r[i] = rng.normal() * scale;
  const out = new Float32Array(rows * dim);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    const q = i * dim;
    for (let j = 0; j < cols; j++) {
      const v = data[o + j];
      if (v === 0) continue;
      const rr = j * dim;
      for (let c = 0; c < dim; c++) out[q + c] += v * r[rr + c];
    }
  }
  return { data: out, cols: dim };
}

function dist2(data: Float32Array, cols: number, a: number, b: number): number {
  const oa = a * cols;
  const ob = b * cols;
  let s = 0;
  for (let j = 0; j < cols; j++) {
    const d = data[oa + j] - data[ob + j];
    s += d * d;
  }
  return s;
}

/** k-nearest lists kept as bounded max-heaps flattened into typed arrays (slot 0 = worst). */
class Knn {
  readonly idx: Int32Array;
  readonly d: Float32Array;
  constructor(
    readonly n: number,
    readonly k: number,
  ) {
    this.idx = new Int32Array(n * k).fill(-1);
    this.d = new Float32Array(n * k).fill(Infinity);
  }
  /** Offer j as a neighbour of i at squared distance d; returns whether it was taken. */
  push(i: number, j: number, d: number): boolean {
    const o = i * this.k;
    if (d >= this.d[o] || i === j) return false;
    for (let s = 0; s < this.k; s++) if (this.idx[o + s] === j) return false;
    // Replace the worst (root) and sift down.
    let p = 0;
    for (;;) {
      const l = 2 * p + 1;
      const r = l + 1;
      let m = p;
      let md = d;
      if (l < this.k && this.d[o + l] > md) {
        m = l;
        md = this.d[o + l];
      }
      if (r < this.k && this.d[o + r] > md) m = r;
      if (m === p) break;
      this.d[o + p] = this.d[o + m];
      this.idx[o + p] = this.idx[o + m];
      p = m;
    }
    this.d[o + p] = d;
    this.idx[o + p] = j;
    return true;
  }
}

function buildTree(
  data: Float32Array,
  cols: number,
  ids: Int32Array,
  rng: Rng,
  onLeaf: (leaf: Int32Array) => void,
): void {
  const stack: [number, number][] = [[0, ids.length]];
  const normal = new Float64Array(cols);
  while (stack.length) {
    const [lo, hi] = stack.pop() as [number, number];
    if (hi - lo <= LEAF) {
      onLeaf(ids.subarray(lo, hi));
      continue;
    }
    const a = ids[lo + rng.int(hi - lo)];
    let b = ids[lo + rng.int(hi - lo)];
    for (let t = 0; t < 4 && b === a; t++) b = ids[lo + rng.int(hi - lo)];
    let offset = 0;
    for (let j = 0; j < cols; j++) {
      const va = data[a * cols + j];
      const vb = data[b * cols + j];
      normal[j] = va - vb;
      offset += normal[j] * (va + vb) * 0.5;
    }
    // Partition in place: side(row) = normal . row - offset; ties go either way at random.
    let i = lo;
    let j = hi - 1;
    while (i <= j) {
      const r = ids[i];
      let s = -offset;
      for (let c = 0; c < cols; c++) s += normal[c] * data[r * cols + c];
      if (s > 0 || (s === 0 && rng.next() < 0.5)) i++;
      else {
        ids[i] = ids[j];
        ids[j] = r;
        j--;
      }
    }
    let mid = i;
    // A degenerate split (identical rows): halve by position so the tree still ends.
    if (mid === lo || mid === hi) mid = (lo + hi) >> 1;
    stack.push([lo, mid], [mid, hi]);
  }
}

/** Approximate k nearest neighbours of every row (squared distances). */
export function nearestNeighbours(
  data: Float32Array,
  rows: number,
  cols: number,
  k: number,
  rng: Rng,
): Knn {
  const knn = new Knn(rows, Math.min(k, Math.max(1, rows - 1)));
  const ids = new Int32Array(rows);
  for (let t = 0; t < TREES; t++) {
    for (let i = 0; i < rows; i++) ids[i] = i;
    buildTree(data, cols, ids, rng, (leaf) => {
      for (let a = 0; a < leaf.length; a++) {
        for (let b = a + 1; b < leaf.length; b++) {
          const d = dist2(data, cols, leaf[a], leaf[b]);
          knn.push(leaf[a], leaf[b], d);
          knn.push(leaf[b], leaf[a], d);
        }
      }
    });
  }
  const kk = knn.k;
  for (let round = 0; round < DESCENT_ROUNDS; round++) {
    let changed = 0;
    const snapshot = knn.idx.slice();
    for (let i = 0; i < rows; i++) {
      for (let s = 0; s < kk; s++) {
        const j = snapshot[i * kk + s];
        if (j < 0) continue;
        for (let u = 0; u < kk; u++) {
          const l = snapshot[j * kk + u];
          if (l < 0 || l === i) continue;
          if (knn.push(i, l, dist2(data, cols, i, l))) changed++;
        }
      }
    }
    if (changed < rows * kk * 0.001) break;
  }
  return knn;
}

/** UMAP's fuzzy membership of each neighbour edge; returns edges as (head, tail, weight). */
export function fuzzyEdges(knn: Knn): { head: Int32Array; tail: Int32Array; w: Float32Array } {
  const { n, k } = knn;
  const target = Math.log2(k);
  const head: number[] = [];
  const tail: number[] = [];
  const w: number[] = [];
  const d = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    let rho = Infinity;
    for (let s = 0; s < k; s++) {
      d[s] = Math.sqrt(knn.d[i * k + s]);
      if (d[s] > 0 && d[s] < rho) rho = d[s];
    }
    if (!Number.isFinite(rho)) rho = 0;
    let lo = 0;
    let hi = Infinity;
    let sigma = 1;
    for (let it = 0; it < 64; it++) {
      let sum = 0;
      for (let s = 0; s < k; s++) {
        if (knn.idx[i * k + s] < 0) continue;
        sum += Math.exp(-Math.max(0, d[s] - rho) / sigma);
      }
      if (Math.abs(sum - target) < 1e-5) break;
      if (sum > target) hi = sigma;
      else lo = sigma;
      sigma = hi === Infinity ? sigma * 2 : (lo + hi) / 2;
    }
    for (let s = 0; s < k; s++) {
      const j = knn.idx[i * k + s];
      if (j < 0) continue;
      head.push(i);
      tail.push(j);
      w.push(Math.exp(-Math.max(0, d[s] - rho) / Math.max(sigma, 1e-12)));
    }
  }
  return { head: Int32Array.from(head), tail: Int32Array.from(tail), w: Float32Array.from(w) };
}

const clip = (v: number): number => (v > 4 ? 4 : v < -4 ? -4 : v);

/** The whole method: neighbours, weights, then the stochastic layout. */
export function neighbourLayout(
  data: Float32Array,
  rows: number,
  cols: number,
  options: LayoutOptions,
): Layout2D {
  if (data.length !== rows * cols) {
    throw new Error(`layout: ${data.length} values do not make ${rows} rows of ${cols}`);
  }
  const x = new Float32Array(rows);
  const y = new Float32Array(rows);
  if (rows < 3) return { x, y };
  const rng = new Rng(Rng.derive(options.seed, 0x1a70));
  const reduced = reduceRows(data, rows, cols, REDUCED_DIM, rng);
  const knn = nearestNeighbours(
    reduced.data,
    rows,
    reduced.cols,
    options.neighbours ?? NEIGHBOURS,
    rng,
  );
  const { head, tail, w } = fuzzyEdges(knn);
  const epochs = options.epochs ?? (rows <= 10_000 ? 500 : 200);

  // Start: the given map scaled into [-10, 10] (UMAP's init range), or a spiral.
  const pos = new Float64Array(2 * rows);
  if (options.init && options.init.x.length === rows) {
    let m = 1e-12;
    for (let i = 0; i < rows; i++)
      m = Math.max(m, Math.abs(options.init.x[i]), Math.abs(options.init.y[i]));
    for (let i = 0; i < rows; i++) {
      pos[2 * i] = (options.init.x[i] / m) * 10 + (rng.next() - 0.5) * 1e-3;
      pos[2 * i + 1] = (options.init.y[i] / m) * 10 + (rng.next() - 0.5) * 1e-3;
    }
  } else {
    for (let i = 0; i < rows; i++) {
      const t = Math.sqrt(i / rows) * 10;
      pos[2 * i] = t * Math.cos(i * 2.39996);
      pos[2 * i + 1] = t * Math.sin(i * 2.39996);
    }
  }

  let wmax = 0;
  for (let e = 0; e < w.length; e++) wmax = Math.max(wmax, w[e]);
  const every = new Float64Array(w.length);
  const next = new Float64Array(w.length);
  for (let e = 0; e < w.length; e++) {
    every[e] = w[e] > 0 ? wmax / w[e] : Infinity;
    next[e] = every[e];
  }
  const report = Math.max(1, Math.floor(epochs / 50));
  for (let epoch = 0; epoch < epochs; epoch++) {
    const alpha = 1 - epoch / epochs;
    for (let e = 0; e < head.length; e++) {
      if (next[e] > epoch + 1) continue;
      next[e] += every[e];
      const i = head[e];
      const j = tail[e];
      let dx = pos[2 * i] - pos[2 * j];
      let dy = pos[2 * i + 1] - pos[2 * j + 1];
      let d2 = dx * dx + dy * dy;
      if (d2 > 0) {
        const c = (-2 * A * B * Math.pow(d2, B - 1)) / (1 + A * Math.pow(d2, B));
        const gx = clip(c * dx) * alpha;
        const gy = clip(c * dy) * alpha;
        pos[2 * i] += gx;
        pos[2 * i + 1] += gy;
        pos[2 * j] -= gx;
        pos[2 * j + 1] -= gy;
      }
      for (let p = 0; p < NEGATIVE_SAMPLES; p++) {
        const r = rng.int(rows);
        if (r === i) continue;
        dx = pos[2 * i] - pos[2 * r];
        dy = pos[2 * i + 1] - pos[2 * r + 1];
        d2 = dx * dx + dy * dy;
        if (d2 > 0) {
          const c = (2 * B) / ((0.001 + d2) * (1 + A * Math.pow(d2, B)));
          pos[2 * i] += clip(c * dx) * alpha;
          pos[2 * i + 1] += clip(c * dy) * alpha;
        }
      }
    }
    if (options.onProgress && (epoch % report === 0 || epoch === epochs - 1)) {
      options.onProgress(epoch + 1, epochs);
    }
  }
  for (let i = 0; i < rows; i++) {
    x[i] = pos[2 * i];
    y[i] = pos[2 * i + 1];
  }
  return { x, y };
}
