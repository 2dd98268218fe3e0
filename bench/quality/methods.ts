/**
 * The curation methods the quality bench compares, each a recipe over the core's own functions
 * (findDuplicates, resolvePlan, hierarchicalKMeans, sampleHierarchy), and the label measures of
 * a subset. Every method picks the same number of items: DEFAULT_TARGET_FRACTION of the whole
 * pool (defaultTarget), so the comparisons are at one budget.
 *
 *  - random:          a uniform random subset of the pool;
 *  - dedup:           near-duplicates removed, then a uniform random subset of what is left;
 *  - flat:            one level of k-means with the default plan's level-1 k, sampled
 *                     equally per cluster (the same balanced sampler with one level);
 *  - hierarchy:       today's default run: resolvePlan's automatic plan, no dedup;
 *  - dedup+hierarchy: near-duplicates removed, then resolvePlan's plan for the rows left;
 *  - candidates:      dedup+hierarchy with one setting changed (threshold, level-1 cluster size,
 *                     level shrink, resampling sizes, leaf strategy, normalisation).
 *
 * Every method but the candidate that changes it prepares rows as the app does for images
 * (DEFAULT_IMAGE_NORMALISATION) and dedups at DEFAULT_DEDUP_THRESHOLD: the bench measures the
 * defaults the app and the command line use, never settings of its own.
 *
 * Plans are resolved at DEFAULT_THROUGHPUT (what plan.ts assumes before a probe) so they do not
 * move with the load of the machine; `levels` in every result line says what ran.
 */
import {
  backendCoarseAssign,
  DEFAULT_DEDUP_THRESHOLD,
  findDuplicates,
  type DedupResult,
} from '../../src/core/dedup.ts';
import { defaultSampleSizes, LEVEL_SHRINK, MIN_TOP_K } from '../../src/core/defaults.ts';
import { hierarchicalKMeans } from '../../src/core/hierarchy.ts';
import { centerRows, createMatrix, gatherRows, l2NormalizeRows } from '../../src/core/matrix.ts';
import {
  DEFAULT_IMAGE_NORMALISATION,
  defaultTarget,
  resolvePlan,
  type PlanSettings,
} from '../../src/core/plan.ts';
import { Rng } from '../../src/core/rng.ts';
import { sampleHierarchy } from '../../src/core/sampling.ts';
import type { LeafStrategy, Normalisation } from '../../src/core/settings.ts';
import type { KMeansBackend, Matrix } from '../../src/core/types.ts';

/** What a method changes from the new default (dedup + resolvePlan's plan). */
export interface MethodSpec {
  readonly name: string;
  /** baseline, the default, or a candidate default */
  readonly role: 'baseline' | 'default' | 'candidate';
  /** near-duplicate threshold (cosine); null: no dedup */
  readonly dedup: number | null;
  /** random subset, one flat level, or the hierarchy */
  readonly shape: 'random' | 'flat' | 'hierarchy';
  /** rows per level-1 cluster (default: the plan's) */
  readonly level1Size?: number;
  /** k shrink between levels (default: the plan's LEVEL_SHRINK) */
  readonly shrink?: number;
  /** resampling sizes: the plan's, none at any level, or by rule 2 at level 1 too */
  readonly resample?: 'plan' | 'none' | 'level1';
  readonly leaf?: LeafStrategy;
  readonly normalisation?: Normalisation;
}

const D = DEFAULT_DEDUP_THRESHOLD;
const dh = (name: string, o: Partial<MethodSpec>): MethodSpec => ({
  name,
  role: 'candidate',
  dedup: D,
  shape: 'hierarchy',
  ...o,
});

/** The baselines and the new default. */
export const BASELINES: readonly MethodSpec[] = [
  { name: 'random', role: 'baseline', dedup: null, shape: 'random' },
  { name: 'flat', role: 'baseline', dedup: null, shape: 'flat' },
  { name: 'hierarchy', role: 'baseline', dedup: null, shape: 'hierarchy' },
  { name: 'dedup', role: 'baseline', dedup: D, shape: 'random' },
  { name: 'dedup+hierarchy', role: 'default', dedup: D, shape: 'hierarchy' },
];

/** Candidate defaults, one setting changed from dedup+hierarchy (the default run has them all). */
export const CANDIDATES: readonly MethodSpec[] = [
  ...[0.8, 0.85, 0.875, 0.9, 0.95]
    .filter((t) => t !== D)
    .map((t) => dh(`threshold ${t}`, { dedup: t })),
  dh('dedup+flat', { shape: 'flat' }),
  dh('level-1 size 5', { level1Size: 5 }),
  dh('level-1 size 20', { level1Size: 20 }),
  dh('shrink 10', { shrink: 10 }),
  dh('resample none', { resample: 'none' }),
  dh('resample level 1', { resample: 'level1' }),
  dh('leaf closest', { leaf: 'closest' }),
  dh('leaf furthest', { leaf: 'furthest' }),
  ...(['center-l2', 'l2', 'none'] as const)
    .filter((how) => how !== DEFAULT_IMAGE_NORMALISATION)
    .map((how) => dh(`normalise ${how}`, { normalisation: how })),
];

/** With --full: the same settings without dedup, to see whether dedup changes which is best. */
export const FULL_EXTRA: readonly MethodSpec[] = [
  { ...dh('no dedup, level-1 size 5', { level1Size: 5 }), dedup: null },
  { ...dh('no dedup, resample level 1', { resample: 'level1' }), dedup: null },
  { ...dh('no dedup, shrink 10', { shrink: 10 }), dedup: null },
  { ...dh('no dedup, leaf closest', { leaf: 'closest' }), dedup: null },
  dh('threshold 0.75', { dedup: 0.75 }),
  dh('shrink 3', { shrink: 3 }),
];

/** The app's row preprocessing before k-means (src/pipeline/normalise.ts does the same). */
export function normalise(x: Matrix, how: Normalisation): Matrix {
  if (how === 'none') return x;
  return l2NormalizeRows(how === 'center-l2' ? centerRows(x) : x);
}

/** k per level from k1, `shrink` times fewer per level while k stays >= MIN_TOP_K (rule 1). */
function levelKs(k1: number, shrink: number): number[] {
  const ks = [k1];
  while (Math.floor(ks[ks.length - 1] / shrink) >= MIN_TOP_K) {
    ks.push(Math.floor(ks[ks.length - 1] / shrink));
  }
  return ks;
}

export interface RunResult {
  /** selected row indices of the pool */
  readonly rows: Int32Array;
  /** rows left after dedup (the pool's n without dedup) */
  readonly kept: number;
  /** k per level and r per level of the run (empty for random subsets) */
  readonly k: readonly number[];
  readonly r: readonly number[];
  readonly seconds: number;
  /** true when an earlier method of this seed resolved to the very same run (shared, not rerun) */
  readonly reused?: boolean;
}

export interface PoolData {
  readonly name: string;
  /** the bundled model's raw features, n x d */
  readonly raw: Matrix;
  /** label index of every row */
  readonly label: Int32Array;
  readonly labels: readonly string[];
  /** concept index of every row (near-copies of one original share it) */
  readonly concept: Int32Array;
}

/** Runs methods on one pool, caching what several of them share (dedup, normalised rows). */
export class MethodRunner {
  private readonly dedups = new Map<string, Promise<DedupResult>>();
  private readonly normalised = new Map<Normalisation, Matrix>();
  /** selections by everything that decides them: methods that resolve to one run share it */
  private readonly selections = new Map<string, Promise<Int32Array>>();

  constructor(
    private readonly pool: PoolData,
    private readonly backend: KMeansBackend,
  ) {}

  /** The pool's rows after `how` (the whole pool, as the app normalises a run's rows). */
  private rowsAs(how: Normalisation): Matrix {
    let m = this.normalised.get(how);
    if (!m) {
      m = normalise(this.pool.raw, how);
      this.normalised.set(how, m);
    }
    return m;
  }

  private dedup(threshold: number, seed: number): Promise<DedupResult> {
    const key = `${threshold}|${seed}`;
    let p = this.dedups.get(key);
    if (!p) {
      const { data, rows, cols } = this.pool.raw;
      p = findDuplicates(data, rows, cols, { threshold, seed }, backendCoarseAssign(this.backend));
      this.dedups.set(key, p);
    }
    return p;
  }

  /**
   * What dedup alone does to the pool: rows kept, their label balance, originals still there,
   * and rows removed as copies of a different original (a merge the labels call wrong).
   */
  async dedupStats(threshold: number, seed: number): Promise<Record<string, number>> {
    const d = await this.dedup(threshold, seed);
    const n = this.pool.raw.rows;
    const kept = Int32Array.from({ length: n }, (_, i) => i).filter((i) => d.keep[i] === 1);
    const m = measure(this.pool, kept);
    let across = 0;
    for (let i = 0; i < n; i++) {
      if (
        d.keep[i] === 0 &&
        this.pool.concept[d.representative[d.group[i]]] !== this.pool.concept[i]
      ) {
        across++;
      }
    }
    return {
      kept: kept.length,
      entropy: m.entropy,
      maxMinRatio: m.maxMinRatio,
      originalsKept: new Set(Array.from(kept, (i) => this.pool.concept[i])).size,
      removedAcrossOriginals: across,
    };
  }

  async run(m: MethodSpec, seed: number): Promise<RunResult> {
    const t0 = performance.now();
    const n = this.pool.raw.rows;
    const target = defaultTarget(n);
    let ids = Int32Array.from({ length: n }, (_, i) => i);
    if (m.dedup !== null) {
      const d = await this.dedup(m.dedup, seed);
      ids = ids.filter((i) => d.keep[i] === 1);
    }
    const kept = ids.length;
    const done = (rows: Int32Array, k: number[], r: number[]): RunResult => ({
      rows,
      kept,
      k,
      r,
      seconds: (performance.now() - t0) / 1000,
    });
    if (m.shape === 'random') {
      const rng = new Rng(Rng.derive(seed, 7));
      const pick = rng.sample(kept, Math.min(target, kept));
      return done(Int32Array.from(pick, (j) => ids[j]).sort(), [], []);
    }
    const x = gatherRows(this.rowsAs(m.normalisation ?? DEFAULT_IMAGE_NORMALISATION), ids);
    const settings: PlanSettings = { seed, target, leafStrategy: m.leaf };
    let ks: number[] | undefined;
    if (m.shape === 'flat') {
      // The k of the plan's level 1 for these rows, as one level without resampling.
      const auto = resolvePlan({ n: kept, d: x.cols, settings: { seed, target } });
      ks = [auto.config.levels[0].k];
    } else if (m.level1Size !== undefined || m.shrink !== undefined) {
      const auto = resolvePlan({ n: kept, d: x.cols, settings: { seed, target } });
      const k1 =
        m.level1Size !== undefined
          ? Math.max(1, Math.round(kept / m.level1Size))
          : auto.config.levels[0].k;
      ks = levelKs(k1, m.shrink ?? LEVEL_SHRINK);
    }
    let r: number[] | undefined;
    if (m.shape === 'flat' || m.resample === 'none') r = [1];
    else if (m.resample === 'level1') {
      const shape =
        ks ?? resolvePlan({ n: kept, d: x.cols, settings }).config.levels.map((l) => l.k);
      ks = shape;
      r = defaultSampleSizes(kept, shape, true);
    }
    const plan = resolvePlan({ n: kept, d: x.cols, settings: { ...settings, k: ks, r } });
    const key = JSON.stringify([
      m.dedup,
      m.normalisation ?? DEFAULT_IMAGE_NORMALISATION,
      plan.config,
      plan.leafStrategy,
    ]);
    let selection = this.selections.get(key);
    const reused = selection !== undefined;
    if (!selection) {
      selection = (async () => {
        const h = await hierarchicalKMeans(x, plan.config, this.backend);
        const local = sampleHierarchy(h, target, { leafStrategy: plan.leafStrategy, seed });
        return Int32Array.from(local, (j) => ids[j]).sort();
      })();
      this.selections.set(key, selection);
    }
    return {
      ...done(
        await selection,
        plan.config.levels.map((l) => l.k),
        plan.config.levels.map((l) => l.sampleSize),
      ),
      reused,
    };
  }
}

export interface SubsetMeasures {
  /** Shannon entropy of the subset's labels / ln(labels in the pool): 1 = perfectly balanced */
  readonly entropy: number;
  /** largest / smallest label count among the pool's labels (Infinity when one is missing) */
  readonly maxMinRatio: number;
  /** pool labels absent from the subset */
  readonly missing: number;
  /** distinct concepts (originals) in the subset, as a share of the subset */
  readonly conceptShare: number;
  /** items per label in the subset, in the pool's label order */
  readonly counts: number[];
}

export function measure(pool: PoolData, rows: Int32Array): SubsetMeasures {
  const L = pool.labels.length;
  const counts = new Array<number>(L).fill(0);
  const concepts = new Set<number>();
  for (const i of rows) {
    counts[pool.label[i]]++;
    concepts.add(pool.concept[i]);
  }
  let h = 0;
  for (const c of counts) {
    if (c > 0) {
      const p = c / rows.length;
      h -= p * Math.log(p);
    }
  }
  const present = counts.filter((c) => c > 0);
  return {
    entropy: L > 1 ? h / Math.log(L) : 1,
    maxMinRatio: present.length < L ? Infinity : Math.max(...counts) / Math.min(...counts),
    missing: L - present.length,
    conceptShare: rows.length > 0 ? concepts.size / rows.length : 0,
    counts,
  };
}

/** The pool as PoolData: labels and concepts as indices (labels largest first). */
export function poolData(
  name: string,
  x: Float32Array,
  n: number,
  d: number,
  items: readonly { label: string; concept: string }[],
): PoolData {
  const byCount = new Map<string, number>();
  for (const it of items) byCount.set(it.label, (byCount.get(it.label) ?? 0) + 1);
  const labels = [...byCount.entries()].sort((a, b) => b[1] - a[1]).map(([l]) => l);
  const labelIndex = new Map(labels.map((l, i) => [l, i]));
  const conceptIndex = new Map<string, number>();
  const label = new Int32Array(n);
  const concept = new Int32Array(n);
  items.forEach((it, i) => {
    label[i] = labelIndex.get(it.label)!;
    const key = `${it.label}|${it.concept}`;
    if (!conceptIndex.has(key)) conceptIndex.set(key, conceptIndex.size);
    concept[i] = conceptIndex.get(key)!;
  });
  return { name, raw: createMatrix(n, d, x), label, labels, concept };
}
