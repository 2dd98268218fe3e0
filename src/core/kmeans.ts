/**
 * One k-means run on the CPU: greedy k-means++ initialisation, then Lloyd with a fixed number of
 * rounds (algorithm.md section 1). The arithmetic goes through a CpuKernel so a faster kernel can
 * replace the plain-JS one without touching this file.
 *
 * Conventions:
 *  - k is capped at the number of rows.
 *  - A cluster that ends a round empty keeps its previous centroid (the reference behaviour): it
 *    may win points back in a later round, and the level keeps exactly k centroids.
 *  - Means and potentials are accumulated in float64; centroids are stored as float32.
 *  - The optional tolerance (relative objective change) is off unless given, so the default is
 *    exactly nIters rounds, as in the reference.
 */
import { jsKernel } from './cpu-kernel-js.ts';
import { throwIfAborted } from './errors.ts';
import { createMatrix } from './matrix.ts';
import { Rng } from './rng.ts';
import { seedingInput } from './seeding.ts';
import type {
  Assignment,
  CpuKernel,
  KMeansBackend,
  KMeansOptions,
  KMeansResult,
  Matrix,
} from './types.ts';

/** Candidates drawn per centre by greedy k-means++: 2 + floor(ln k). */
export function kmeansPlusPlusTrials(k: number): number {
  return 2 + Math.floor(Math.log(Math.max(1, k)));
}

/** Index i with prefix[i-1] <= u < prefix[i] (prefix is inclusive and non-decreasing). */
function searchPrefix(prefix: Float64Array, u: number): number {
  let lo = 0;
  let hi = prefix.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (prefix[mid] > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Greedy k-means++: the first centre is a uniformly random row; each further centre is the best
 * of `2 + floor(ln k)` rows drawn with probability proportional to D^2 (squared distance to the
 * nearest chosen centre), "best" meaning the smallest total potential sum(min(D^2, d^2(x, cand))).
 * Returns k x d centroids (k capped at x.rows).
 */
export async function greedyKMeansPlusPlus(
  x: Matrix,
  k: number,
  rng: Rng,
  kernel: CpuKernel = jsKernel,
  options: { signal?: AbortSignal; onCentre?: (chosen: number, total: number) => void } = {},
): Promise<Matrix> {
  const { signal, onCentre } = options;
  const n = x.rows;
  const d = x.cols;
  k = Math.min(k, n);
  const centroids = createMatrix(k, d);
  if (k === 0) return centroids;
  const trials = kmeansPlusPlusTrials(k);
  const pot = new Float64Array(n);
  const prefix = new Float64Array(n);
  const candIdx = new Int32Array(trials);
  const candData = new Float32Array(trials * d);
  const candDist = new Float32Array(trials * n);

  const first = rng.int(n);
  centroids.data.set(x.data.subarray(first * d, first * d + d), 0);
  await kernel.distancesTo(x, createMatrix(1, d, x.data.slice(first * d, first * d + d)), candDist);
  for (let i = 0; i < n; i++) pot[i] = candDist[i];

  for (let c = 1; c < k; c++) {
    throwIfAborted(signal);
    let total = 0;
    for (let i = 0; i < n; i++) {
      total += pot[i];
      prefix[i] = total;
    }
    for (let t = 0; t < trials; t++) {
      // Every remaining row coincides with a centre: any row is as good as another.
      const i = total > 0 ? searchPrefix(prefix, rng.next() * total) : rng.int(n);
      candIdx[t] = i;
      candData.set(x.data.subarray(i * d, i * d + d), t * d);
    }
    await kernel.distancesTo(x, createMatrix(trials, d, candData), candDist);
    let bestT = 0;
    let bestPot = Infinity;
    for (let t = 0; t < trials; t++) {
      const o = t * n;
      let s = 0;
      for (let i = 0; i < n; i++) {
        const v = candDist[o + i];
        s += v < pot[i] ? v : pot[i];
      }
      if (s < bestPot) {
        bestPot = s;
        bestT = t;
      }
    }
    const o = bestT * n;
    for (let i = 0; i < n; i++) {
      const v = candDist[o + i];
      if (v < pot[i]) pot[i] = v;
    }
    const chosen = candIdx[bestT];
    centroids.data.set(x.data.subarray(chosen * d, chosen * d + d), c * d);
    onCentre?.(c + 1, k);
  }
  return centroids;
}

/** Sum of dist2 in float64. */
function objectiveOf(a: Assignment): number {
  let s = 0;
  for (let i = 0; i < a.dist2.length; i++) s += a.dist2[i];
  return s;
}

export interface LloydOptions {
  /** Rounds of (means, reassign) after the initial assignment. */
  readonly nIters: number;
  /** Relative objective change below which Lloyd stops early; off when undefined or 0. */
  readonly tolerance?: number;
  readonly signal?: AbortSignal;
  readonly onIteration?: (round: number, total: number) => void;
  /** Called with the objective after the initial assignment and after every round. */
  readonly onObjective?: (objective: number, round: number) => void;
}

/**
 * Lloyd's algorithm from the given initial centroids: assign, then exactly nIters rounds of
 * (recompute means in float64, reassign). Empty clusters keep their previous centroid. The
 * returned assignment is that of the final centroids.
 */
export async function lloyd(
  x: Matrix,
  init: Matrix,
  options: LloydOptions,
  kernel: CpuKernel = jsKernel,
): Promise<KMeansResult> {
  const n = x.rows;
  const d = x.cols;
  const k = init.rows;
  const centroids = createMatrix(k, d, init.data.slice());
  const assignment: Assignment = { labels: new Int32Array(n), dist2: new Float32Array(n) };
  throwIfAborted(options.signal);
  await kernel.assign(x, centroids, assignment);
  let objective = objectiveOf(assignment);
  options.onObjective?.(objective, 0);
  const sums = new Float64Array(k * d);
  const counts = new Float64Array(k);
  const tol = options.tolerance ?? 0;
  let iterations = 0;
  for (let round = 1; round <= options.nIters; round++) {
    throwIfAborted(options.signal);
    sums.fill(0);
    counts.fill(0);
    const xd = x.data;
    const lab = assignment.labels;
    for (let i = 0; i < n; i++) {
      const j = lab[i];
      counts[j]++;
      const so = j * d;
      const xo = i * d;
      for (let t = 0; t < d; t++) sums[so + t] += xd[xo + t];
    }
    const cd = centroids.data;
    for (let j = 0; j < k; j++) {
      if (counts[j] === 0) continue; // empty: keep the previous centroid
      const inv = 1 / counts[j];
      const so = j * d;
      for (let t = 0; t < d; t++) cd[so + t] = sums[so + t] * inv;
    }
    await kernel.assign(x, centroids, assignment);
    iterations = round;
    const next = objectiveOf(assignment);
    options.onObjective?.(next, round);
    options.onIteration?.(round, options.nIters);
    const change = Math.abs(objective - next) / Math.max(objective, Number.MIN_VALUE);
    objective = next;
    if (tol > 0 && change < tol) break;
  }
  return { centroids, assignment, objective, iterations };
}

/**
 * The CPU KMeansBackend: greedy k-means++ (on the rows seeding.ts picks) then Lloyd on all rows,
 * through one CpuKernel.
 */
export class CpuBackend implements KMeansBackend {
  readonly name: string;
  readonly kernel: CpuKernel;

  constructor(kernel: CpuKernel = jsKernel) {
    this.kernel = kernel;
    this.name = `cpu-${kernel.name}`;
  }

  async kmeans(x: Matrix, k: number, options: KMeansOptions): Promise<KMeansResult> {
    if (!(k >= 1) || !Number.isInteger(k))
      throw new RangeError(`k must be an integer >= 1, got ${k}`);
    if (x.rows === 0) throw new RangeError('k-means needs at least one row');
    const rng = new Rng(options.seed);
    const kk = Math.min(k, x.rows);
    const seedRows = seedingInput(x, kk, options.seed, options.seeding);
    const init = await greedyKMeansPlusPlus(seedRows, kk, rng, this.kernel, {
      signal: options.signal,
      onCentre: options.onInit,
    });
    return lloyd(x, init, options, this.kernel);
  }

  async assign(x: Matrix, centroids: Matrix, signal?: AbortSignal): Promise<Assignment> {
    throwIfAborted(signal);
    const out: Assignment = { labels: new Int32Array(x.rows), dist2: new Float32Array(x.rows) };
    await this.kernel.assign(x, centroids, out);
    return out;
  }
}
