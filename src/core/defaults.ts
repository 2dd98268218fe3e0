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
 *  4. Fitting the budget, cheapest sacrifice first. k-means++ always seeds from a sample of a few
 *     rows per cluster on large inputs (seeding.ts: within 0.2% of full seeding, a fraction of its
 *     cost). Then: drop resampling at level 1 (it multiplies the dominant level's cost by up to
 *     1 + m; the paper drops it too); cut Lloyd rounds 50 -> 30 -> 20 -> 10 (after greedy
 *     k-means++ most of the objective's decrease comes in the first rounds, while a coarse level 1
 *     merges whole concepts, which no later step can undo); then shrink k1 inside the paper's
 *     band, down to LEVEL1_MAX_CLUSTER_SIZE rows per level-1 cluster (largest k1 that fits,
 *     levels above rebuilt by rule 1).
 *  5. Outside the band. If even the band's edge at 10 rounds is over budget, the plan says what
 *     the budget buys and what the paper's shape costs (Suggestion.shape), and runs the one the
 *     person picked (`fit`): 'budget' (default) shrinks k1 further to fit, down to
 *     min(ideal, 100); 'shape' keeps the band's edge and takes longer. A plan over budget even
 *     at k1 = min(ideal, 100) and 10 rounds is returned with its (larger) estimate, and the
 *     rationale says so.
 */
import type { HierarchyConfig, LevelConfig, ResampleStrategy } from './hierarchy.ts';
import { kmeansPlusPlusTrials } from './kmeans.ts';
import { seedingRows } from './seeding.ts';

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

/*
 * The paper's shape (rule 4-5): rows per level-1 cluster kept inside a band, and the top level a
 * few clusters per concept the person expects.
 */

/**
 * Most rows per level-1 cluster the budget may impose before the plan leaves the paper's shape.
 * The paper's own runs keep about 20-50 (743M images, 20M level-1 clusters); past that a
 * level-1 cluster holds whole sub-concepts and balanced sampling inside it is random sampling.
 */
export const LEVEL1_MAX_CLUSTER_SIZE = 50;
/** Top-level clusters per concept the person asks for (`concepts`): a few, so that a concept
 * split by the geometry still gets its share, and merged ones are rare. */
export const TOP_CLUSTERS_PER_CONCEPT = 3;

/** What the plan does when the paper's shape does not fit the budget (rule 5). */
export type PlanFit = 'budget' | 'shape';

/** How a plan stands against the paper's shape (rule 5), for people and the settings panel. */
export interface ShapeReport {
  /** rows per level-1 cluster the automatic plan keeps: [ideal, most] */
  readonly band: readonly [number, number];
  /** rows per level-1 cluster of the suggested plan */
  readonly rowsPerCluster: number;
  /** whether the suggested plan keeps at most band[1] rows per level-1 cluster */
  readonly inBand: boolean;
  /**
   * When the paper's shape does not fit the budget: the cheapest plan that keeps it (k1 at the
   * band's edge, the fewest rounds) and the largest plan the budget buys, each with its seconds.
   * The suggestion is one of the two, as `fit` asked.
   */
  readonly choice?: {
    readonly shape: { readonly config: HierarchyConfig; readonly seconds: number };
    readonly budget: { readonly config: HierarchyConfig; readonly seconds: number };
    readonly picked: PlanFit;
  };
  /** one or two plain sentences: what the budget buys and what the paper's shape costs */
  readonly summary: string;
}

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
  /** concepts the person expects: the top level gets TOP_CLUSTERS_PER_CONCEPT clusters each */
  readonly concepts?: number;
  /** when the paper's shape does not fit the budget: fit the budget (default) or keep the shape */
  readonly fit?: PlanFit;
}

export interface Suggestion {
  readonly config: HierarchyConfig;
  readonly estimatedSeconds: number;
  /** human-readable reasons for every choice, in order */
  readonly rationale: string[];
  /** the plan against the paper's shape: the band, and the choice when it does not fit */
  readonly shape: ShapeReport;
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
    // k-means++ scores its candidates against its seeding rows only (seeding.ts)
    const seedPass = (m: number): number => pass(seedingRows(m, k, config.seeding));
    lloyd += (config.nIters + 1) * pass(rows);
    init += trials * seedPass(rows);
    if (r > 1) {
      const s = Math.min(rows, k * r);
      lloyd += config.resamplingSteps * ((config.nIters + 1) * pass(s) + pass(rows));
      init += config.resamplingSteps * trials * seedPass(s);
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
function levelKs(k1: number, target: number | undefined, concepts?: number): number[] {
  // The top level's floor: a few clusters per concept asked for, else MIN_TOP_K.
  const topK = concepts !== undefined ? TOP_CLUSTERS_PER_CONCEPT * concepts : MIN_TOP_K;
  const ks = [k1];
  for (;;) {
    const cur = ks[ks.length - 1];
    const next = Math.floor(cur / LEVEL_SHRINK);
    const wantMore = next >= topK || (target !== undefined && cur > target);
    if (!wantMore || next < 2) break;
    ks.push(next);
  }
  // With concepts asked for, the top level is exactly topK: appended above a level with more
  // than 1.5 topK (a 1.5-5x step), else in place of it.
  if (concepts !== undefined && topK < k1) {
    const top = ks[ks.length - 1];
    if (top > 1.5 * topK) ks.push(topK);
    else if (ks.length > 1) ks[ks.length - 1] = topK;
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

interface Shape {
  readonly n: number;
  readonly target: number | undefined;
  readonly concepts: number | undefined;
}

function buildConfig(
  shape: Shape,
  k1: number,
  iters: number,
  resampleLevel1: boolean,
): HierarchyConfig {
  const ks = levelKs(k1, shape.target, shape.concepts);
  const rs = defaultSampleSizes(shape.n, ks, resampleLevel1);
  const levels: LevelConfig[] = ks.map((k, t) => ({ k, sampleSize: rs[t] }));
  return {
    levels,
    resamplingSteps: DEFAULT_RESAMPLING_STEPS,
    strategy: DEFAULT_STRATEGY,
    nIters: iters,
    seed: DEFAULT_SEED,
  };
}

/** Largest k1 in [lo, hi] for which `fits` holds (fits(lo) must hold; fits shrinks with k1). */
function largestFitting(lo: number, hi: number, fits: (k: number) => boolean): number {
  while (lo < hi) {
    const mid = lo + Math.ceil((hi - lo) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export function suggestHierarchy(n: number, d: number, opts: SuggestOptions = {}): Suggestion {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`need at least one row, got ${n}`);
  if (!Number.isInteger(d) || d < 1) throw new RangeError(`need at least one column, got ${d}`);
  const fps = opts.flopsPerSecond ?? DEFAULT_FLOPS_PER_SECOND;
  const budget = opts.budgetSeconds ?? DEFAULT_BUDGET_SECONDS;
  if (!(fps > 0)) throw new RangeError(`throughput must be positive, got ${fps}`);
  if (!(budget > 0)) throw new RangeError(`budget must be positive, got ${budget}`);
  const concepts = opts.concepts;
  if (concepts !== undefined && !(Number.isInteger(concepts) && concepts >= 1)) {
    throw new RangeError(`concepts must be a whole number, 1 or more, got ${concepts}`);
  }
  const shape: Shape = { n, target: opts.target, concepts };
  const initFps = opts.initFlopsPerSecond ?? fps;
  if (!(initFps > 0)) throw new RangeError(`k-means++ throughput must be positive, got ${initFps}`);
  const seconds = (c: HierarchyConfig): number => estimateSeconds(n, d, c, fps, initFps);
  const fmt = (s: number): string => (s < 10 ? s.toFixed(1) : Math.round(s).toString());
  const rationale: string[] = [];
  const ideal = Math.max(1, Math.min(n, Math.round(n / LEVEL1_CLUSTER_SIZE)));
  // The band's edge: the fewest level-1 clusters that keep the paper's shape.
  const edge = Math.min(ideal, Math.max(1, Math.ceil(n / LEVEL1_MAX_CLUSTER_SIZE)));
  const band: readonly [number, number] = [LEVEL1_CLUSTER_SIZE, LEVEL1_MAX_CLUSTER_SIZE];
  rationale.push(
    `${n} rows x ${d} dims, budget ${fmt(budget)} s at ${(fps / 1e9).toFixed(2)} GFLOP/s`,
  );
  const perCluster = (c: HierarchyConfig): number => Math.round(n / c.levels[0].k);
  const inBandReport = (c: HierarchyConfig): ShapeReport => ({
    band,
    rowsPerCluster: perCluster(c),
    inBand: true,
    summary:
      `${seconds(c) <= budget ? "The paper's shape fits the budget" : "The paper's shape, over the budget"}: ` +
      `about ${perCluster(c)} items per finest cluster (at most ${LEVEL1_MAX_CLUSTER_SIZE} keep it).`,
  });

  const done = (c: HierarchyConfig, why: string, report: ShapeReport): Suggestion => {
    rationale.push(why);
    const ks = c.levels.map((l) => l.k).join(' / ');
    const rs = c.levels.map((l) => l.sampleSize).join(' / ');
    rationale.push(
      `${c.levels.length} level(s), k = ${ks}, r = ${rs} (1 = no resampling), m = ${c.resamplingSteps}, ${c.nIters} Lloyd rounds: about ${fmt(seconds(c))} s`,
    );
    return { config: c, estimatedSeconds: seconds(c), rationale, shape: report };
  };

  // 1-4: the ideal shape, with and without resampling at level 1, then fewer rounds.
  const full = buildConfig(shape, ideal, DEFAULT_ITERS, true);
  if (seconds(full) <= budget) {
    return done(
      full,
      `k1 = ${ideal}: about ${LEVEL1_CLUSTER_SIZE} rows per level-1 cluster; fits the budget`,
      inBandReport(full),
    );
  }
  for (const iters of [DEFAULT_ITERS, 30, 20, MIN_ITERS]) {
    const c = buildConfig(shape, ideal, iters, false);
    if (seconds(c) <= budget) {
      const parts = [`no resampling at level 1 (with it: about ${fmt(seconds(full))} s)`];
      if (iters < DEFAULT_ITERS) parts.push(`${iters} Lloyd rounds instead of ${DEFAULT_ITERS}`);
      return done(
        c,
        `k1 = ${ideal} (about ${LEVEL1_CLUSTER_SIZE} rows per cluster); ${parts.join('; ')}`,
        inBandReport(c),
      );
    }
  }
  // 4: shrink k1 inside the band (the largest fitting k1) at the fewest rounds.
  const at = (k: number): HierarchyConfig => buildConfig(shape, k, MIN_ITERS, false);
  const fits = (k: number): boolean => seconds(at(k)) <= budget;
  if (fits(edge)) {
    const k1 = Math.max(edge, roundK(largestFitting(edge, ideal, fits)));
    const c = at(k1);
    return done(
      c,
      `k1 = ${k1} instead of the ideal ${ideal} (about ${perCluster(c)} rows per level-1 cluster, inside the paper's ${band[0]}-${band[1]}) to fit the budget; no resampling at level 1; ${MIN_ITERS} Lloyd rounds`,
      inBandReport(c),
    );
  }

  // 5: the paper's shape does not fit. What the budget buys, what the shape costs.
  const shapeConfig = at(edge);
  const floorK = Math.min(edge, MIN_K1);
  if (floorK === edge) {
    // A small pool: the budget's floor is the band's edge, so there is nothing to choose.
    return done(
      shapeConfig,
      `over budget even at k1 = ${edge} (about ${perCluster(shapeConfig)} rows per level-1 cluster) and ${MIN_ITERS} Lloyd rounds; raise the budget or use a faster backend`,
      inBandReport(shapeConfig),
    );
  }
  const budgetK = fits(floorK)
    ? Math.max(floorK, roundK(largestFitting(floorK, edge, fits)))
    : floorK;
  const budgetConfig = at(budgetK);
  const picked: PlanFit = opts.fit ?? 'budget';
  // Close figures must read apart ("about 2.1 min" against "the 2 min budget").
  const minutes = (s: number): string =>
    s < 90
      ? `${Math.max(1, Math.round(s))} s`
      : s < 600
        ? `${Number((s / 60).toFixed(1))} min`
        : `${Math.round(s / 60)} min`;
  const buys = fits(floorK)
    ? `the ${minutes(budget)} budget buys ${budgetK} (about ${perCluster(budgetConfig)} items each)`
    : `even ${budgetK} clusters (about ${perCluster(budgetConfig)} items each) take about ${minutes(seconds(budgetConfig))}, over the ${minutes(budget)} budget`;
  const summary =
    `The paper's shape needs at least ${edge} finest clusters (at most ${LEVEL1_MAX_CLUSTER_SIZE} items each): ` +
    `about ${minutes(seconds(shapeConfig))} on this device; ${buys}.`;
  const report: ShapeReport = {
    band,
    rowsPerCluster: perCluster(picked === 'shape' ? shapeConfig : budgetConfig),
    inBand: picked === 'shape',
    choice: {
      shape: { config: shapeConfig, seconds: seconds(shapeConfig) },
      budget: { config: budgetConfig, seconds: seconds(budgetConfig) },
      picked,
    },
    summary,
  };
  rationale.push(summary);
  if (picked === 'shape') {
    return done(
      shapeConfig,
      `k1 = ${edge} keeps the paper's shape (about ${perCluster(shapeConfig)} rows per level-1 cluster) over the budget, as asked; no resampling at level 1; ${MIN_ITERS} Lloyd rounds`,
      report,
    );
  }
  if (!fits(floorK)) {
    return done(
      budgetConfig,
      `over budget even at k1 = ${floorK} and ${MIN_ITERS} Lloyd rounds; raise the budget or use a faster backend`,
      report,
    );
  }
  return done(
    budgetConfig,
    `k1 = ${budgetK} instead of the ideal ${ideal} (about ${perCluster(budgetConfig)} rows per level-1 cluster, outside the paper's ${band[0]}-${band[1]}) to fit the budget; no resampling at level 1; ${MIN_ITERS} Lloyd rounds`,
    report,
  );
}
