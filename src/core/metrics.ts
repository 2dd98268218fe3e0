/** Measures of how balanced a set of centroids or a selection is. */
import type { Matrix } from './types.ts';

/** The paper's toy metric (algorithm.md section 4): grid [-3, 3)^2, step 0.02, KDE bandwidth 0.5. */
export const KL_GRID_MIN = -3;
export const KL_GRID_STEP = 0.02;
export const KL_GRID_SIZE = 300;
export const KL_BANDWIDTH = 0.5;

/**
 * KL divergence from a Gaussian KDE of 2-D centroids to the uniform density on [-3, 3)^2, as in
 * the paper's notebook: fit an isotropic Gaussian KDE with bandwidth 0.5, evaluate it on the
 * 300 x 300 grid, normalise so sum(d) * 0.02^2 = 1, then KL = sum(d log(d / u)) * 0.02^2 with
 * u = 1/36. Lower is more uniform.
 *
 * The Gaussian kernel is separable: exp(-|p-c|^2 / 2h^2) = gx(px) gy(py), so each centroid needs
 * two 300-entry tables and the grid is the sum of their outer products (a 300 x k x 300 product)
 * instead of 90,000 two-dimensional kernel evaluations per centroid. The KDE's normalising
 * constant cancels in the renormalisation.
 */
export function klToUniform(centroids: Matrix): number {
  if (centroids.cols !== 2) {
    throw new RangeError(`klToUniform needs 2-D points, got ${centroids.cols} columns`);
  }
  const k = centroids.rows;
  if (k === 0) throw new RangeError('klToUniform needs at least one point');
  const G = KL_GRID_SIZE;
  const grid = new Float64Array(G);
  for (let i = 0; i < G; i++) grid[i] = KL_GRID_MIN + i * KL_GRID_STEP;
  const inv2h2 = 1 / (2 * KL_BANDWIDTH * KL_BANDWIDTH);
  const dens = new Float64Array(G * G);
  const gx = new Float64Array(G);
  const gy = new Float64Array(G);
  const cd = centroids.data;
  for (let c = 0; c < k; c++) {
    const cx = cd[2 * c];
    const cy = cd[2 * c + 1];
    for (let i = 0; i < G; i++) {
      const dx = grid[i] - cx;
      const dy = grid[i] - cy;
      gx[i] = Math.exp(-dx * dx * inv2h2);
      gy[i] = Math.exp(-dy * dy * inv2h2);
    }
    for (let i = 0; i < G; i++) {
      const a = gx[i];
      if (a === 0) continue; // underflowed: contributes exactly nothing
      const o = i * G;
      for (let j = 0; j < G; j++) dens[o + j] += a * gy[j];
    }
  }
  const cell = KL_GRID_STEP * KL_GRID_STEP;
  let sum = 0;
  for (let p = 0; p < dens.length; p++) sum += dens[p];
  if (!(sum > 0)) throw new RangeError('klToUniform: the density vanishes on the grid');
  const scale = 1 / (sum * cell);
  const u = 1 / (KL_GRID_STEP * G * (KL_GRID_STEP * G));
  let kl = 0;
  for (let p = 0; p < dens.length; p++) {
    const d = dens[p] * scale;
    if (d > 0) kl += d * Math.log(d / u);
  }
  return kl * cell;
}

export interface SizeStats {
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly median: number;
  /** 90th percentile (linear interpolation between order statistics) */
  readonly p90: number;
  /** Gini coefficient of the sizes: 0 = all equal, towards 1 = one cluster holds everything */
  readonly gini: number;
  /** clusters with no members */
  readonly empty: number;
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Summary of cluster sizes (or any non-negative counts). */
export function clusterSizeStats(sizes: ArrayLike<number>): SizeStats {
  const n = sizes.length;
  if (n === 0) return { count: 0, min: 0, max: 0, mean: 0, median: 0, p90: 0, gini: 0, empty: 0 };
  const s = Float64Array.from(sizes).sort();
  let total = 0;
  let weighted = 0;
  let empty = 0;
  for (let i = 0; i < n; i++) {
    total += s[i];
    weighted += (i + 1) * s[i];
    if (s[i] === 0) empty++;
  }
  const gini = total > 0 ? (2 * weighted) / (n * total) - (n + 1) / n : 0;
  return {
    count: n,
    min: s[0],
    max: s[n - 1],
    mean: total / n,
    median: quantile(s, 0.5),
    p90: quantile(s, 0.9),
    gini,
    empty,
  };
}

export interface LabelBalance {
  /** items per label (keys are the labels as strings) */
  readonly counts: Record<string, number>;
  /** Shannon entropy of the label distribution, in nats */
  readonly entropy: number;
  /** entropy / ln(number of labels present): 1 = perfectly balanced (1 when only one label) */
  readonly normalizedEntropy: number;
  /** largest class count / smallest class count among labels present */
  readonly maxMinRatio: number;
}

/** Class balance of a labelled selection. */
export function labelBalance(labels: ArrayLike<string | number>): LabelBalance {
  const counts = new Map<string, number>();
  for (let i = 0; i < labels.length; i++) {
    const key = String(labels[i]);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const n = labels.length;
  let entropy = 0;
  let max = 0;
  let min = Infinity;
  for (const c of counts.values()) {
    const p = c / n;
    entropy -= p * Math.log(p);
    if (c > max) max = c;
    if (c < min) min = c;
  }
  const classes = counts.size;
  return {
    counts: Object.fromEntries(counts),
    entropy,
    normalizedEntropy: classes > 1 ? entropy / Math.log(classes) : 1,
    maxMinRatio: classes > 0 ? max / min : 0,
  };
}

/** Shannon entropy of label counts over `nLabels` labels, divided by ln(nLabels). */
function normalisedEntropyOf(counts: Int32Array, total: number, nLabels: number): number {
  if (total === 0) return 0;
  if (nLabels < 2) return 1;
  let h = 0;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] > 0) {
      const p = counts[i] / total;
      h -= p * Math.log(p);
    }
  }
  return h / Math.log(nLabels);
}

export interface EntropySpread {
  /** mean normalised entropy of uniform random subsets of the given size */
  readonly mean: number;
  /** their standard deviation (the noise a single random draw carries) */
  readonly sd: number;
  readonly draws: number;
}

/**
 * Work budget for the random-subset spread: draws x subset size label reads. 4M reads take about
 * 20 ms in Chromium here, cheap next to reading the items; 200 draws at most, 30 at least.
 */
const SPREAD_READS = 4_000_000;

/**
 * The draws of randomSubsetEntropy one at a time: yields the label reads each draw took, and
 * returns the spread. The sync and the sliced form below share it, so they agree exactly.
 */
function* spreadDraws(
  labelOfRow: Int32Array,
  nLabels: number,
  size: number,
  rng: { int(n: number): number },
): Generator<number, EntropySpread, void> {
  const n = labelOfRow.length;
  const m = Math.min(size, n);
  const draws = Math.max(30, Math.min(200, Math.floor(SPREAD_READS / Math.max(1, m))));
  // One permutation shuffled in place draw after draw: a partial Fisher-Yates on a uniformly
  // random permutation is again uniform, so no reset is needed between draws.
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  const counts = new Int32Array(nLabels);
  let sum = 0;
  let sum2 = 0;
  for (let d = 0; d < draws; d++) {
    counts.fill(0);
    for (let i = 0; i < m; i++) {
      const j = i + rng.int(n - i);
      const t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
      counts[labelOfRow[perm[i]]]++;
    }
    const h = normalisedEntropyOf(counts, m, nLabels);
    sum += h;
    sum2 += h * h;
    yield m;
  }
  const mean = sum / draws;
  const sd = Math.sqrt(Math.max(0, sum2 / draws - mean * mean));
  return { mean, sd, draws };
}

/**
 * Normalised label entropy of many uniform random subsets of `size` rows: the yardstick a curated
 * subset of that size is judged against ("within noise" when it lies inside mean +/- 2 sd).
 * `labelOfRow[i]` is the label index of row i, in [0, nLabels).
 */
export function randomSubsetEntropy(
  labelOfRow: Int32Array,
  nLabels: number,
  size: number,
  rng: { int(n: number): number },
): EntropySpread {
  const draws = spreadDraws(labelOfRow, nLabels, size, rng);
  for (;;) {
    const step = draws.next();
    if (step.done) return step.value;
  }
}

/**
 * Label reads between two pauses of the sliced form: the whole 4M-read budget took 229 ms in
 * one main-thread task at load 11 on 2 cores (5,000 rows); a tenth of it stays far under the
 * 200 ms long-task line even then.
 */
const SPREAD_SLICE = 400_000;

/**
 * randomSubsetEntropy in slices, pausing (a macrotask) between them, for callers on a page's
 * main thread; the same draws and the same result.
 */
export async function randomSubsetEntropySliced(
  labelOfRow: Int32Array,
  nLabels: number,
  size: number,
  rng: { int(n: number): number },
): Promise<EntropySpread> {
  const draws = spreadDraws(labelOfRow, nLabels, size, rng);
  let reads = 0;
  for (;;) {
    const step = draws.next();
    if (step.done) return step.value;
    reads += step.value;
    if (reads >= SPREAD_SLICE) {
      reads = 0;
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
}

export interface LabelSeparation {
  /** share of rows whose label is the most common label of their cluster */
  readonly agreement: number;
  /** the same share with the labels shuffled across rows: what clusters blind to labels get */
  readonly chance: number;
}

/**
 * Whether the embeddings tell the folder labels apart: how often a row's label is its
 * cluster's majority label, against the same clusters with the labels shuffled (a permutation
 * baseline, so small clusters' built-in purity does not count as separation).
 */
export function labelSeparation(
  labelOfRow: Int32Array,
  nLabels: number,
  clusterOfRow: Int32Array,
  k: number,
  rng: { int(n: number): number },
): LabelSeparation {
  const agreementOf = (labels: Int32Array): number => {
    const counts = new Int32Array(k * nLabels);
    for (let i = 0; i < labels.length; i++) counts[clusterOfRow[i] * nLabels + labels[i]]++;
    let agree = 0;
    for (let c = 0; c < k; c++) {
      let best = 0;
      for (let l = 0; l < nLabels; l++) best = Math.max(best, counts[c * nLabels + l]);
      agree += best;
    }
    return labels.length > 0 ? agree / labels.length : 0;
  };
  const shuffled = labelOfRow.slice();
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = shuffled[i];
    shuffled[i] = shuffled[j];
    shuffled[j] = t;
  }
  return { agreement: agreementOf(labelOfRow), chance: agreementOf(shuffled) };
}
