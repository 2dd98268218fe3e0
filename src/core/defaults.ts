/**
 * Automatic hierarchy settings from the pool size, the dimension and what the device can afford
 * (algorithm.md sections 2 and 7).
 *
 * The rule:
 *  1. Ideal shape. k1 = n / 10 (about 10 rows per level-1 cluster), then each level divides k by
 *     5 (inside the paper's 5-20x range, average cluster size 5 above level 1) while the next k
 *     would stay >= 20, or while the top level still has more clusters than the target size.
 *     100k rows -> 10000 / 2000 / 400 / 80, the example of algorithm.md.
 *  2. Resampling sizes. r_t = round(average cluster size / 2) = round(n_t / k_t / 2); r_t <= 1
 *     means no resampling at that level. m = 10 steps.
 *  3. Cost. One assignment pass costs 2 n k d flops; a k-means run makes (iters + 1) Lloyd passes
 *     plus about (2 + ln k) passes of greedy k-means++; a resampling step refits on
 *     min(n_t, k_t r_t) rows and reassigns all n_t rows. Seconds = Lloyd flops / assignment
 *     throughput + k-means++ flops / candidate-scoring throughput (the two differ by 1.5-5x
 *     between kernels: k-means++ scores only 2 + ln k candidates per call).
 *  4. Fitting the budget, cheapest sacrifice first: drop resampling at level 1 (it multiplies the
 *     dominant level's cost by up to 1 + m; the paper drops it too); cut Lloyd rounds 50 -> 30
 *     -> 20 -> 10 (after greedy k-means++ most of the objective's decrease comes in the first
 *     rounds, while a coarse level 1 merges whole concepts, which no later step can undo); then
 *     shrink k1 (largest k1 that fits, levels above rebuilt by rule 1). If even
 *     k1 = min(ideal, 100) at 10 rounds is over budget, that plan is returned with its (larger)
 *     estimate, and the rationale says so.
 */
import type { HierarchyConfig, LevelConfig, ResampleStrategy } from './hierarchy.ts';
import { kmeansPlusPlusTrials } from './kmeans.ts';

/** Default time budget: "about 2 minutes on this device". */
export const DEFAULT_BUDGET_SECONDS = 120;
/**
 * Throughput assumed when none is measured: the plain-JS kernel does 4.5-4.8 GFLOP/s on one core
 * of this project's 2-core Xeon (N=20k, D=128..384, K=256..1000); 4 keeps some margin.
 */
export const DEFAULT_FLOPS_PER_SECOND = 4e9;
/** Lloyd rounds of the reference. */
export const DEFAULT_ITERS = 50;
/** Fewest Lloyd rounds the budget may impose. */
export const MIN_ITERS = 10;
/** Resampling steps m of the reference. */
export const DEFAULT_RESAMPLING_STEPS = 10;
export const DEFAULT_SEED = 0;
/** Which members a resampling step keeps (the reference's default). */
export const DEFAULT_STRATEGY: ResampleStrategy = 'closest';
/** Rows per level-1 cluster in the ideal shape. */
export const LEVEL1_CLUSTER_SIZE = 10;
/** k shrinks by this factor per level (inside the 5-20x range). */
export const LEVEL_SHRINK = 5;
/** Do not add a level whose k would fall below this (unless the target is smaller still). */
export const MIN_TOP_K = 20;
/** Smallest k1 the budget may impose. */
export const MIN_K1 = 100;

export interface SuggestOptions {
  /** measured throughput of the backend's assignment (Lloyd) passes, flops per second */
  readonly flopsPerSecond?: number;
  /**
   * measured throughput of k-means++ candidate scoring, if it differs (it runs 2 + ln k
   * candidates per call, which some kernels handle far less efficiently); default flopsPerSecond
   */
  readonly initFlopsPerSecond?: number;
  readonly budgetSeconds?: number;
  /** size of the curated subset, if known */
  readonly target?: number;
}

export interface Suggestion {
  readonly config: HierarchyConfig;
  readonly estimatedSeconds: number;
  /** human-readable reasons for every choice, in order */
  readonly rationale: string[];
}

export interface FlopsParts {
  /** Lloyd: the initial assignment, every round, and the reassignments after resampling */
  readonly lloyd: number;
  /** greedy k-means++ candidate scoring */
  readonly init: number;
}

/** Estimated flops of a whole hierarchy run on n x d input, split by kind (rule 3 above). */
export function estimateFlopsParts(n: number, d: number, config: HierarchyConfig): FlopsParts {
  let rows = n;
  let lloyd = 0;
  let init = 0;
  for (let t = 0; t < config.levels.length; t++) {
    const k = Math.min(config.levels[t].k, rows);
    const r = config.levels[t].sampleSize;
    const trials = kmeansPlusPlusTrials(k);
    const pass = (m: number): number => 2 * m * k * d;
    lloyd += (config.nIters + 1) * pass(rows);
    init += trials * pass(rows);
    if (r > 1) {
      const s = Math.min(rows, k * r);
      lloyd += config.resamplingSteps * ((config.nIters + 1) * pass(s) + pass(rows));
      init += config.resamplingSteps * trials * pass(s);
    }
    rows = k;
  }
  return { lloyd, init };
}

/** Estimated flops of a whole hierarchy run on n x d input (see rule 3 above). */
export function estimateFlops(n: number, d: number, config: HierarchyConfig): number {
  const p = estimateFlopsParts(n, d, config);
  return p.lloyd + p.init;
}

/** Estimated seconds at the given throughputs (k-means++ at its own rate when known). */
export function estimateSeconds(
  n: number,
  d: number,
  config: HierarchyConfig,
  flopsPerSecond: number,
  initFlopsPerSecond = flopsPerSecond,
): number {
  const p = estimateFlopsParts(n, d, config);
  return p.lloyd / flopsPerSecond + p.init / initFlopsPerSecond;
}

/** k values per level from k1 by rule 1. */
function levelKs(k1: number, target: number | undefined): number[] {
  const ks = [k1];
  for (;;) {
    const cur = ks[ks.length - 1];
    const next = Math.floor(cur / LEVEL_SHRINK);
    const wantMore = next >= MIN_TOP_K || (target !== undefined && cur > target);
    if (!wantMore || next < 2) break;
    ks.push(next);
  }
  return ks;
}

/** Rounds down to two significant digits so suggested k values read well (223 -> 220). */
function roundK(k: number): number {
  if (k < 100) return Math.max(1, Math.floor(k));
  const p = 10 ** (Math.floor(Math.log10(k)) - 1);
  return Math.floor(k / p) * p;
}

/**
 * k for `count` levels from k1, each LEVEL_SHRINK times smaller than the one below (at least 1):
 * the shape of rule 1 when the number of levels is given instead of found.
 */
export function shrinkingLevels(k1: number, count: number): number[] {
  return Array.from({ length: count }, (_, t) => Math.max(1, Math.floor(k1 / LEVEL_SHRINK ** t)));
}

/**
 * r per level by rule 2 for clusters `ks` over n rows: round(average cluster size / 2), at least
 * 1; 1 at level 1 unless `resampleLevel1`. A k above the rows it clusters counts as that many
 * rows (the hierarchy caps it the same way).
 */
export function defaultSampleSizes(
  n: number,
  ks: readonly number[],
  resampleLevel1: boolean,
): number[] {
  let rows = n;
  return ks.map((k, t) => {
    const kt = Math.min(k, rows);
    const r = Math.max(1, Math.round(rows / kt / 2));
    rows = kt;
    return t === 0 && !resampleLevel1 ? 1 : r;
  });
}

function buildConfig(
  n: number,
  k1: number,
  iters: number,
  resampleLevel1: boolean,
  target: number | undefined,
): HierarchyConfig {
  const ks = levelKs(k1, target);
  const rs = defaultSampleSizes(n, ks, resampleLevel1);
  const levels: LevelConfig[] = ks.map((k, t) => ({ k, sampleSize: rs[t] }));
  return {
    levels,
    resamplingSteps: DEFAULT_RESAMPLING_STEPS,
    strategy: DEFAULT_STRATEGY,
    nIters: iters,
    seed: DEFAULT_SEED,
  };
}

export function suggestHierarchy(n: number, d: number, opts: SuggestOptions = {}): Suggestion {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`need at least one row, got ${n}`);
  if (!Number.isInteger(d) || d < 1) throw new RangeError(`need at least one column, got ${d}`);
  const fps = opts.flopsPerSecond ?? DEFAULT_FLOPS_PER_SECOND;
  const budget = opts.budgetSeconds ?? DEFAULT_BUDGET_SECONDS;
  if (!(fps > 0)) throw new RangeError(`throughput must be positive, got ${fps}`);
  if (!(budget > 0)) throw new RangeError(`budget must be positive, got ${budget}`);
  const target = opts.target;
  const initFps = opts.initFlopsPerSecond ?? fps;
  if (!(initFps > 0)) throw new RangeError(`k-means++ throughput must be positive, got ${initFps}`);
  const seconds = (c: HierarchyConfig): number => estimateSeconds(n, d, c, fps, initFps);
  const fmt = (s: number): string => (s < 10 ? s.toFixed(1) : Math.round(s).toString());
  const rationale: string[] = [];
  const ideal = Math.max(1, Math.min(n, Math.round(n / LEVEL1_CLUSTER_SIZE)));
  rationale.push(
    `${n} rows x ${d} dims, budget ${fmt(budget)} s at ${(fps / 1e9).toFixed(2)} GFLOP/s`,
  );

  const done = (c: HierarchyConfig, why: string): Suggestion => {
    rationale.push(why);
    const ks = c.levels.map((l) => l.k).join(' / ');
    const rs = c.levels.map((l) => l.sampleSize).join(' / ');
    rationale.push(
      `${c.levels.length} level(s), k = ${ks}, r = ${rs} (1 = no resampling), m = ${c.resamplingSteps}, ${c.nIters} Lloyd rounds: about ${fmt(seconds(c))} s`,
    );
    return { config: c, estimatedSeconds: seconds(c), rationale };
  };

  // 1-2: the ideal shape, with and without resampling at level 1, then fewer rounds.
  const full = buildConfig(n, ideal, DEFAULT_ITERS, true, target);
  if (seconds(full) <= budget) {
    return done(
      full,
      `k1 = ${ideal}: about ${LEVEL1_CLUSTER_SIZE} rows per level-1 cluster; fits the budget`,
    );
  }
  for (const iters of [DEFAULT_ITERS, 30, 20, MIN_ITERS]) {
    const c = buildConfig(n, ideal, iters, false, target);
    if (seconds(c) <= budget) {
      const parts = [`no resampling at level 1 (with it: about ${fmt(seconds(full))} s)`];
      if (iters < DEFAULT_ITERS) parts.push(`${iters} Lloyd rounds instead of ${DEFAULT_ITERS}`);
      return done(
        c,
        `k1 = ${ideal} (about ${LEVEL1_CLUSTER_SIZE} rows per cluster); ${parts.join('; ')}`,
      );
    }
  }
  // 4: shrink k1 (binary search for the largest fitting k1) at the fewest rounds.
  const floorK = Math.min(ideal, MIN_K1);
  for (const iters of [MIN_ITERS]) {
    const fits = (k: number): boolean => seconds(buildConfig(n, k, iters, false, target)) <= budget;
    if (!fits(floorK)) continue;
    let lo = floorK;
    let hi = ideal;
    while (lo < hi) {
      const mid = lo + Math.ceil((hi - lo) / 2);
      if (fits(mid)) lo = mid;
      else hi = mid - 1;
    }
    const k1 = Math.max(floorK, roundK(lo));
    const c = buildConfig(n, k1, iters, false, target);
    return done(
      c,
      `k1 = ${k1} instead of the ideal ${ideal} (about ${Math.round(n / k1)} rows per level-1 cluster) to fit the budget; no resampling at level 1; ${iters} Lloyd rounds`,
    );
  }
  const c = buildConfig(n, floorK, MIN_ITERS, false, target);
  return done(
    c,
    `over budget even at k1 = ${floorK} and ${MIN_ITERS} Lloyd rounds; raise the budget or use a faster backend`,
  );
}
