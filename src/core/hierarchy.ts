/**
 * Hierarchical k-means with resampling, bottom-up (algorithm.md section 2):
 *
 *   I <- X
 *   for each level t: C, a <- kmeans(I, k_t)                    (step 0, on all of I)
 *                     if r_t > 1, m times:                      (steps 1..m)
 *                        S <- r_t members of each cluster (closest to C_j, or random)
 *                        C <- kmeans(S, k_t)                    (fresh k-means++ and Lloyd on S)
 *                        a <- nearest centroid in C for ALL of I
 *                     level t = (C, a, clusters sorted closest first);  I <- C
 *
 * The final centroids of a level are those fitted on the last S, not means of full clusters.
 *
 * Randomness: step s of level t seeds its k-means with Rng.derive(seed, t, s, 0) and draws its
 * random resample with Rng.derive(seed, t, s, 1). No stream is shared between steps, so a run
 * resumed after step s (from the saved centroids) reproduces the uninterrupted run exactly: the
 * assignment after a step is a pure function of I and C and is recomputed on resume.
 */
import { throwIfAborted } from './errors.ts';
import { kmeansPlusPlusTrials } from './kmeans.ts';
import { gatherRows } from './matrix.ts';
import { Rng } from './rng.ts';
import { seedingRows, type Seeding } from './seeding.ts';
import type { Assignment, KMeansBackend, KMeansOptions, Matrix } from './types.ts';

export interface LevelConfig {
  /** clusters at this level (capped at the level's input size, with a warning) */
  readonly k: number;
  /** r_t: points kept per cluster when resampling; <= 1 means no resampling at this level */
  readonly sampleSize: number;
}

export type ResampleStrategy = 'closest' | 'random';

export interface HierarchyConfig {
  /** level 1 first (clusters the raw rows), top level last */
  readonly levels: readonly LevelConfig[];
  /** m: resampling steps at every level whose sampleSize > 1 */
  readonly resamplingSteps: number;
  readonly strategy: ResampleStrategy;
  /** Lloyd rounds per k-means run (reference: 50) */
  readonly nIters: number;
  readonly seed: number;
  /** optional early stop for each k-means run (relative objective change); off by default */
  readonly tolerance?: number;
  /**
   * rows every k-means++ seeds from (seeding.ts): 'sampled' (the default when absent) or
   * 'full' (the reference's seeding on all rows)
   */
  readonly seeding?: Seeding;
}

export interface Level {
  /** clusters actually fitted (config k capped at the input size) */
  readonly k: number;
  /** k x d */
  readonly centroids: Matrix;
  /** input row -> cluster */
  readonly labels: Int32Array;
  /** input row -> squared distance to its centroid */
  readonly dist2: Float32Array;
  /** members (indices of this level's INPUT rows) of each cluster, closest to the centroid first */
  readonly clusters: Int32Array[];
}

export interface Hierarchy {
  /** levels[0] clusters the raw rows; levels[t] clusters levels[t-1].centroids */
  readonly levels: Level[];
}

export interface HierarchyProgress {
  /** 0-based level index */
  readonly level: number;
  readonly levels: number;
  /** 0 = the initial run on all of I; 1..steps = resampling steps */
  readonly step: number;
  readonly steps: number;
  /** Lloyd round within the current k-means run */
  readonly iteration: number;
  readonly iterations: number;
  /** overall progress 0..1, weighted by estimated cost (rows x k of every run) */
  readonly fraction: number;
}

/** Saved work to continue from: completed levels, and optionally the last finished step. */
export interface HierarchyResume {
  readonly levels: readonly Level[];
  /** the centroids after step `step` of level `level` (which must equal levels.length) */
  readonly partial?: { readonly level: number; readonly step: number; readonly centroids: Matrix };
}

export interface HierarchyHooks {
  onProgress?(p: HierarchyProgress): void;
  /** after each step of a level (step 0 = the initial run) with that step's centroids */
  onStep?(level: number, step: number, centroids: Matrix): void | Promise<void>;
  /** when a level is complete */
  onLevel?(index: number, level: Level): void | Promise<void>;
  /** non-fatal adjustments (k capped at the input size, ...) */
  onWarning?(message: string): void;
  resume?: HierarchyResume;
  signal?: AbortSignal;
}

/**
 * Members of every cluster, sorted by distance to the centroid (closest first; ties by row
 * index, so the order is fully determined by labels and dist2).
 */
export function buildClusters(labels: Int32Array, dist2: Float32Array, k: number): Int32Array[] {
  const counts = new Int32Array(k);
  for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
  const clusters: Int32Array[] = [];
  for (let j = 0; j < k; j++) clusters.push(new Int32Array(counts[j]));
  const fill = new Int32Array(k);
  for (let i = 0; i < labels.length; i++) {
    const j = labels[i];
    clusters[j][fill[j]++] = i;
  }
  for (const members of clusters) {
    if (members.length > 1) members.sort((a, b) => dist2[a] - dist2[b] || a - b);
  }
  return clusters;
}

function validate(config: HierarchyConfig): void {
  if (config.levels.length === 0) throw new RangeError('the hierarchy needs at least one level');
  config.levels.forEach((l, t) => {
    if (!Number.isInteger(l.k) || l.k < 1) {
      throw new RangeError(`level ${t + 1}: k must be an integer >= 1, got ${l.k}`);
    }
    if (!Number.isInteger(l.sampleSize) || l.sampleSize < 1) {
      throw new RangeError(
        `level ${t + 1}: sample size must be an integer >= 1, got ${l.sampleSize}`,
      );
    }
  });
  if (!Number.isInteger(config.resamplingSteps) || config.resamplingSteps < 0) {
    throw new RangeError(`resampling steps must be an integer >= 0, got ${config.resamplingSteps}`);
  }
  if (!Number.isInteger(config.nIters) || config.nIters < 0) {
    throw new RangeError(`iterations must be an integer >= 0, got ${config.nIters}`);
  }
  if (config.seeding !== undefined && config.seeding !== 'sampled' && config.seeding !== 'full') {
    throw new RangeError(`seeding must be 'sampled' or 'full', got '${String(config.seeding)}'`);
  }
  if (config.strategy !== 'closest' && config.strategy !== 'random') {
    throw new RangeError(
      `resampling strategy must be 'closest' or 'random', got '${config.strategy}'`,
    );
  }
}

/** Steps (after step 0) that level t runs. */
export function levelSteps(config: HierarchyConfig, t: number): number {
  return config.levels[t].sampleSize > 1 ? config.resamplingSteps : 0;
}

/**
 * Relative cost of every step of every level, for progress: rows x k x passes, where a k-means run
 * makes (nIters + 1) assignment passes plus about trials(k) passes of k-means++, and a resampling
 * step also reassigns all of I once.
 */
function stepCosts(n: number, config: HierarchyConfig): number[][] {
  const out: number[][] = [];
  let rows = n;
  for (let t = 0; t < config.levels.length; t++) {
    const k = Math.min(config.levels[t].k, rows);
    const trials = kmeansPlusPlusTrials(k);
    // one k-means run on m rows: Lloyd passes over all m, k-means++ over its seeding rows
    const run = (m: number): number =>
      m * k * (config.nIters + 1) + seedingRows(m, k, config.seeding) * k * trials;
    const steps = levelSteps(config, t);
    const s = Math.min(rows, k * config.levels[t].sampleSize);
    const costs = [run(rows)];
    for (let i = 0; i < steps; i++) costs.push(run(s) + rows * k);
    out.push(costs);
    rows = k;
  }
  return out;
}

/** Rows to refit on: the r members of each cluster closest to its centroid, or r random ones. */
function resampleRows(
  clusters: Int32Array[],
  r: number,
  strategy: ResampleStrategy,
  rng: Rng,
): Int32Array {
  let total = 0;
  for (const m of clusters) total += Math.min(r, m.length);
  const out = new Int32Array(total);
  let w = 0;
  for (const members of clusters) {
    if (members.length <= r) {
      out.set(members, w);
      w += members.length;
    } else if (strategy === 'closest') {
      out.set(members.subarray(0, r), w);
      w += r;
    } else {
      const pick = rng.sample(members.length, r);
      for (let i = 0; i < r; i++) out[w++] = members[pick[i]];
    }
  }
  return out;
}

export async function hierarchicalKMeans(
  x: Matrix,
  config: HierarchyConfig,
  backend: KMeansBackend,
  hooks: HierarchyHooks = {},
): Promise<Hierarchy> {
  validate(config);
  if (x.rows === 0) throw new RangeError('cannot cluster an empty matrix');
  const signal = hooks.signal;
  const T = config.levels.length;
  const costs = stepCosts(x.rows, config);
  const totalCost = costs.flat().reduce((a, b) => a + b, 0);
  let doneCost = 0;

  const resume = hooks.resume;
  const levels: Level[] = resume ? resume.levels.slice() : [];
  if (levels.length > T) {
    throw new RangeError(`resume holds ${levels.length} levels but the config has ${T}`);
  }
  if (resume?.partial && resume.partial.level !== levels.length) {
    throw new RangeError(
      `resume: partial step belongs to level ${resume.partial.level}, expected ${levels.length}`,
    );
  }
  for (let t = 0; t < levels.length; t++) doneCost += costs[t].reduce((a, b) => a + b, 0);

  for (let t = levels.length; t < T; t++) {
    throwIfAborted(signal);
    const input = t === 0 ? x : levels[t - 1].centroids;
    const wanted = config.levels[t].k;
    let k = wanted;
    if (k > input.rows) {
      k = input.rows;
      hooks.onWarning?.(
        `level ${t + 1}: k = ${wanted} is more than its ${input.rows} input rows; using k = ${k}`,
      );
    }
    const r = config.levels[t].sampleSize;
    const steps = levelSteps(config, t);
    // Share of a k-means run done: k-means++ is about `trials` passes of its seeding rows, then
    // the initial assignment and one pass per Lloyd round (the same model as stepCosts).
    const refitRows = Math.min(input.rows, k * r);
    const seedPasses = (step: number): number => {
      const m = step === 0 ? input.rows : refitRows;
      return (kmeansPlusPlusTrials(k) * seedingRows(m, k, config.seeding)) / m;
    };
    const passesOf = (step: number): number => config.nIters + 1 + seedPasses(step);
    const report = (step: number, iteration: number, within: number): void => {
      if (!hooks.onProgress) return;
      hooks.onProgress({
        level: t,
        levels: T,
        step,
        steps,
        iteration,
        iterations: config.nIters,
        fraction: Math.min(1, (doneCost + costs[t][step] * within) / totalCost),
      });
    };
    const runOptions = (step: number): KMeansOptions => ({
      nIters: config.nIters,
      seed: Rng.derive(config.seed, t, step, 0),
      tolerance: config.tolerance,
      seeding: config.seeding,
      signal,
      onInit: (chosen, total) =>
        report(step, 0, ((chosen / total) * seedPasses(step)) / passesOf(step)),
      onIteration: (round) => report(step, round, (seedPasses(step) + 1 + round) / passesOf(step)),
    });

    let centroids: Matrix;
    let assignment: Assignment;
    let firstStep: number;
    const partial = resume?.partial && resume.partial.level === t ? resume.partial : undefined;
    if (partial) {
      if (partial.step > steps) {
        throw new RangeError(`resume: level ${t + 1} has ${steps} steps, got step ${partial.step}`);
      }
      centroids = partial.centroids;
      assignment = await backend.assign(input, centroids, signal);
      for (let s = 0; s <= partial.step; s++) doneCost += costs[t][s];
      firstStep = partial.step + 1;
    } else {
      report(0, 0, 0);
      const res = await backend.kmeans(input, k, runOptions(0));
      centroids = res.centroids;
      assignment = res.assignment;
      doneCost += costs[t][0];
      await hooks.onStep?.(t, 0, centroids);
      firstStep = 1;
    }

    for (let s = firstStep; s <= steps; s++) {
      throwIfAborted(signal);
      report(s, 0, 0);
      const clusters = buildClusters(assignment.labels, assignment.dist2, centroids.rows);
      const rng = new Rng(Rng.derive(config.seed, t, s, 1));
      const rows = resampleRows(clusters, r, config.strategy, rng);
      if (rows.length < k) {
        hooks.onWarning?.(
          `level ${t + 1}, step ${s}: only ${rows.length} rows to refit ${k} clusters; k drops to ${rows.length}`,
        );
      }
      const res = await backend.kmeans(gatherRows(input, rows), k, runOptions(s));
      centroids = res.centroids;
      assignment = await backend.assign(input, centroids, signal);
      doneCost += costs[t][s];
      await hooks.onStep?.(t, s, centroids);
    }

    const level: Level = {
      k: centroids.rows,
      centroids,
      labels: assignment.labels,
      dist2: assignment.dist2,
      clusters: buildClusters(assignment.labels, assignment.dist2, centroids.rows),
    };
    levels.push(level);
    // Level done: its whole cost is in doneCost already.
    report(steps, config.nIters, 0);
    await hooks.onLevel?.(t, level);
  }
  return { levels };
}
