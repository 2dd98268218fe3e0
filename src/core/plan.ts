/**
 * The one settings-to-plan resolver. The app's suggested settings, `strata curate` and
 * `strata export-job` all turn "what the person set" into a full hierarchy plan here: whatever
 * is given is kept, everything else is picked by the cost-aware rules of defaults.ts
 * (suggestHierarchy) at one measured throughput, and every pick comes with its reason.
 *
 * Also here: the mapping from the app's RunSettings to the core's HierarchyConfig, the cost of
 * edited settings at a measured throughput, the rule that adds levels in the settings editor,
 * and the level rule in plain words, all from the constants of defaults.ts.
 */
import {
  DEFAULT_BUDGET_SECONDS,
  DEFAULT_ITERS,
  DEFAULT_SEED,
  LEVEL1_CLUSTER_SIZE,
  LEVEL_SHRINK,
  MIN_TOP_K,
  defaultSampleSizes,
  estimateSeconds,
  shrinkingLevels,
  suggestHierarchy,
  type PlanFit,
  type ShapeReport,
  type Suggestion,
} from './defaults.ts';
import type { HierarchyConfig } from './hierarchy.ts';
import type { LeafStrategy, Normalisation, ResampleStrategy, RunSettings } from './settings.ts';
import { DEFAULT_THROUGHPUT, type KMeansThroughput } from './kmeans-throughput.ts';

/**
 * Share of the pool the default target keeps. The paper's curated sets are a fraction of the
 * pool; 20% sits in the 10-20% range that algorithm.md section 6 measured on image pools.
 */
export const DEFAULT_TARGET_FRACTION = 0.2;

/** How points are picked inside a leaf cluster: random did best in the paper. */
export const DEFAULT_LEAF_STRATEGY: LeafStrategy = 'random';

/**
 * Row preprocessing before k-means for image embeddings: none, the raw features, as the
 * reference runs and as `strata curate` does without --center / --normalize. Measured by
 * `npm run bench:quality` (seeds 0-2, dedup at 0.85, load 6.5-11): normalised label entropy of
 * the curated subset 0.834 raw against 0.806 centred + length 1 on the emoji pool, and 0.822
 * against 0.716 on the digits pool (0.883 raw without dedup), where centring and
 * scaling fell below random subsets (0.744). Near-duplicate search centres and scales on its own.
 */
export const DEFAULT_IMAGE_NORMALISATION: Normalisation = 'none';

/** The default size of the curated subset of a pool of n items. */
export function defaultTarget(n: number): number {
  return Math.max(1, Math.min(n - 1, Math.round(n * DEFAULT_TARGET_FRACTION))) || 1;
}

/** How each level relates to the one below, in plain words (from LEVEL_SHRINK). */
export const LEVEL_SHRINK_RULE = `each level has ${LEVEL_SHRINK}x fewer clusters than the one below`;

/** The automatic level rule in plain words, from the constants of defaults.ts. */
export function describeLevelRule(unit = 'items'): string {
  return (
    `about ${LEVEL1_CLUSTER_SIZE} ${unit} per level-1 cluster, then ${LEVEL_SHRINK_RULE} ` +
    `while at least ${MIN_TOP_K} clusters remain`
  );
}

/**
 * What a person (or a command line, or a link) set explicitly; anything absent is picked.
 * Names follow RunSettings.
 */
export interface PlanSettings {
  /** clusters per level, level 1 first */
  readonly k?: readonly number[];
  /**
   * number of levels when k is not given: level 1 of the automatic plan, then LEVEL_SHRINK
   * times fewer clusters per level
   */
  readonly levels?: number;
  /**
   * points kept per cluster when resampling: one value per level, or a single value for every
   * level; a level past the end of a longer list takes the default (rule 2 of defaults.ts)
   */
  readonly r?: readonly number[];
  readonly resamplingSteps?: number;
  readonly resampleStrategy?: ResampleStrategy;
  readonly iterations?: number;
  readonly target?: number;
  readonly leafStrategy?: LeafStrategy;
  readonly seed?: number;
  /**
   * concepts the person expects in the pool: the automatic top level gets a few clusters per
   * concept (TOP_CLUSTERS_PER_CONCEPT) instead of stopping at MIN_TOP_K
   */
  readonly concepts?: number;
  /**
   * when the paper's shape does not fit the budget (defaults.ts rule 5): 'budget' (default)
   * shrinks level 1 to fit, 'shape' keeps the shape and takes longer
   */
  readonly fit?: PlanFit;
}

/**
 * The settings a plan resolves (every PlanSettings key but the level count and the two inputs
 * of the automatic shape, concepts and fit).
 */
export type PlanField = Exclude<keyof PlanSettings, 'levels' | 'concepts' | 'fit'>;

export interface PlanInput {
  /** rows in the pool */
  readonly n: number;
  /** dimension of the rows */
  readonly d: number;
  readonly settings?: PlanSettings;
  /** time budget of the automatic choices, seconds (default DEFAULT_BUDGET_SECONDS) */
  readonly budgetSeconds?: number;
  /** measured throughput of the backend that will run; default DEFAULT_THROUGHPUT */
  readonly throughput?: KMeansThroughput;
  /**
   * Where the plan runs. 'here' (default): on this device, so the automatic choices fit the
   * budget at the throughput. 'reference': a job for the reference distributed pipeline, which
   * runs on GPUs elsewhere: the ideal shape with no time budget, and no resampling at level 1,
   * as the paper does at scale.
   */
  readonly runsOn?: 'here' | 'reference';
}

export interface Plan {
  readonly config: HierarchyConfig;
  readonly target: number;
  readonly leafStrategy: LeafStrategy;
  /** estimated clustering seconds of `config` at `throughput` */
  readonly estimatedSeconds: number;
  /** the budget the automatic choices were fitted to (Infinity for 'reference') */
  readonly budgetSeconds: number;
  /** the throughput the estimate used */
  readonly throughput: KMeansThroughput;
  /** whether `throughput` was measured (else it is DEFAULT_THROUGHPUT) */
  readonly measured: boolean;
  /** the fully automatic plan for this pool, with its rationale */
  readonly automatic: Suggestion;
  /** true when the levels' k came from the automatic plan (neither k nor levels given) */
  readonly autoShape: boolean;
  /** the settings the resolver picked (the others were given) */
  readonly picked: readonly PlanField[];
  /** why each picked setting has its value, in plain words for people */
  readonly why: Readonly<Partial<Record<PlanField, string>>>;
  /** the automatic level rule in plain words */
  readonly levelRule: string;
  /**
   * The automatic plan against the paper's shape: rows per level-1 cluster, the band, and when
   * the shape does not fit the budget, both plans with their seconds and a sentence for people
   * (what the budget buys, what the shape costs). The settings panel shows it.
   */
  readonly shape: ShapeReport;
}

function costWords(seconds: number): string {
  const minutes = seconds / 60;
  return minutes < 1
    ? `about ${Math.max(1, Math.round(seconds))} s of clustering`
    : `about ${Math.round(minutes)} min of clustering`;
}

/** Settings in, full plan out: given values are kept, the rest picked with reasons. */
export function resolvePlan(input: PlanInput): Plan {
  const { n, d } = input;
  const s = input.settings ?? {};
  const reference = input.runsOn === 'reference';
  const throughput = input.throughput ?? DEFAULT_THROUGHPUT;
  const budgetSeconds = reference
    ? Number.POSITIVE_INFINITY
    : (input.budgetSeconds ?? DEFAULT_BUDGET_SECONDS);
  const target = s.target ?? defaultTarget(n);
  const automatic = suggestHierarchy(n, d, {
    flopsPerSecond: throughput.assign,
    initFlopsPerSecond: throughput.init,
    budgetSeconds,
    target,
    concepts: s.concepts,
    fit: s.fit,
  });
  const auto = automatic.config;

  const autoShape = s.k === undefined && s.levels === undefined;
  const ks = s.k
    ? [...s.k]
    : s.levels !== undefined
      ? shrinkingLevels(auto.levels[0].k, s.levels)
      : auto.levels.map((l) => l.k);
  // r by rule 2; on this device the automatic plan's own r (it may afford resampling at level 1).
  const ruleR =
    autoShape && !reference
      ? auto.levels.map((l) => l.sampleSize)
      : defaultSampleSizes(n, ks, false);
  const given = s.r;
  const rs = ks.map((_, t) =>
    given ? (given.length === 1 ? given[0] : (given[t] ?? ruleR[t])) : ruleR[t],
  );
  const config: HierarchyConfig = {
    levels: ks.map((k, t) => ({ k, sampleSize: rs[t] })),
    resamplingSteps: s.resamplingSteps ?? auto.resamplingSteps,
    strategy: s.resampleStrategy ?? auto.strategy,
    nIters: s.iterations ?? auto.nIters,
    seed: s.seed ?? DEFAULT_SEED,
  };
  const estimatedSeconds = estimateSeconds(n, d, config, throughput.assign, throughput.init);

  const fields: readonly PlanField[] = [
    'k',
    'r',
    'resamplingSteps',
    'resampleStrategy',
    'iterations',
    'target',
    'leafStrategy',
    'seed',
  ];
  const picked = fields.filter((f) => s[f] === undefined);
  const levelCount = `${ks.length} level${ks.length === 1 ? '' : 's'}`;
  const reasons: Partial<Record<PlanField, string>> = {
    k: autoShape
      ? `${levelCount} for ${n} items, about ${Math.round(n / ks[0])} items per finest cluster (${costWords(estimatedSeconds)}).`
      : `${levelCount} as asked, level 1 from the automatic plan; ${LEVEL_SHRINK_RULE}.`,
    r: 'About half the average cluster size; 1 at level 1 keeps the costliest level to one fit.',
    resamplingSteps: `The paper refits each level ${auto.resamplingSteps} times.`,
    iterations:
      config.nIters === DEFAULT_ITERS
        ? `The paper runs ${DEFAULT_ITERS} rounds.`
        : `${config.nIters} rounds instead of the paper's ${DEFAULT_ITERS} to keep the run short on this device.`,
    target: `${Math.round(DEFAULT_TARGET_FRACTION * 100)}% of the ${n} items.`,
    leafStrategy: 'Random picks did best in the paper.',
    seed: 'Any number; change it to see another equally balanced subset.',
  };
  // Only picked values need a reason; resampleStrategy has none to show (the reference's).
  const why: Partial<Record<PlanField, string>> = {};
  for (const f of picked) if (reasons[f] !== undefined) why[f] = reasons[f];

  return {
    config,
    target,
    leafStrategy: s.leafStrategy ?? DEFAULT_LEAF_STRATEGY,
    estimatedSeconds,
    budgetSeconds,
    throughput,
    measured: input.throughput !== undefined,
    automatic,
    autoShape,
    picked,
    why,
    levelRule: describeLevelRule(),
    shape: automatic.shape,
  };
}

/** The app's settings as the core's hierarchy configuration. */
export function hierarchyConfig(s: RunSettings): HierarchyConfig {
  return {
    levels: s.k.map((k, t) => ({ k, sampleSize: s.r[t] ?? 1 })),
    resamplingSteps: s.resamplingSteps,
    strategy: s.resampleStrategy,
    nIters: s.iterations,
    seed: s.seed,
  };
}

/** Estimated clustering seconds of a configuration at a measured (else the default) throughput. */
export function planSeconds(
  n: number,
  d: number,
  config: HierarchyConfig,
  throughput: KMeansThroughput = DEFAULT_THROUGHPUT,
): number {
  return estimateSeconds(n, d, config, throughput.assign, throughput.init);
}

/**
 * The settings editor's level count: levels past `count` are dropped; a new level gets
 * LEVEL_SHRINK times fewer clusters than the level below it (at least 2; the first level of an
 * empty list counts the n items as the level below) and r about half its average cluster size
 * (algorithm.md sections 7 and 2: 5-20x per level, LEVEL_SHRINK keeps more detail).
 */
export function resizeLevels(
  k: readonly number[],
  r: readonly number[],
  count: number,
  n: number,
): { k: number[]; r: number[] } {
  const ks = [...k];
  const rs = [...r];
  while (ks.length < count) {
    const last = ks[ks.length - 1] ?? n;
    const next = Math.max(2, Math.round(last / LEVEL_SHRINK));
    ks.push(next);
    rs.push(Math.max(1, Math.round(last / next / 2)));
  }
  ks.length = count;
  rs.length = count;
  return { k: ks, r: rs };
}
