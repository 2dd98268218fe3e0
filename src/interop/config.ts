/**
 * The reference launcher's YAML config (the vocabulary of its example configs), its schema, and the
 * mapping to and from Strata's `HierarchyConfig`.
 *
 * Reference keys, one entry per level where a list: n_levels, n_iters, n_clusters, n_splits,
 * n_resampling_steps, sample_size, sampling_strategy (c = closest, r = random), dtype,
 * high_precision, checkpoint_period, subset_indices_path, and the cluster settings nnodes,
 * ngpus_per_node, ncpus_per_gpu, slurm_partition.
 *
 * Conventions of the reference that the mapping follows: a level without resampling is written
 * `sample_size: 1, n_resampling_steps: 1`; `n_splits > 1` means the level's k-means is followed by
 * splitting every cluster into n_splits, so the level ends with n_clusters x n_splits clusters
 * (Strata has no split step and runs one k-means with that k instead, with a warning).
 */
import * as v from 'valibot';
import YAML from 'yaml';
import type { HierarchyConfig, ResampleStrategy } from '../core/hierarchy.ts';
import { InputError } from '../core/errors.ts';

const count = v.pipe(v.number(), v.integer(), v.minValue(1));
const counts = v.array(count);
const precision = v.picklist(['float32', 'float64']);

/** The schema of the reference launcher's config, as its example configs use it. */
export const ReferenceConfigSchema = v.pipe(
  v.looseObject({
    n_levels: count,
    n_iters: v.pipe(v.number(), v.integer(), v.minValue(0)),
    n_clusters: counts,
    n_splits: counts,
    n_resampling_steps: counts,
    sample_size: counts,
    sampling_strategy: v.picklist(['c', 'r']),
    dtype: precision,
    high_precision: precision,
    checkpoint_period: count,
    subset_indices_path: v.nullable(v.string()),
    nnodes: counts,
    ngpus_per_node: counts,
    ncpus_per_gpu: v.nullable(count),
    slurm_partition: v.nullable(v.string()),
  }),
  v.check(
    (c) =>
      [
        c.n_clusters,
        c.n_splits,
        c.n_resampling_steps,
        c.sample_size,
        c.nnodes,
        c.ngpus_per_node,
      ].every((list) => list.length === c.n_levels),
    'every per-level list (n_clusters, n_splits, n_resampling_steps, sample_size, nnodes, ngpus_per_node) needs n_levels entries',
  ),
);

export type ReferenceConfig = v.InferOutput<typeof ReferenceConfigSchema>;

/** The keys of the reference config, in the order its example configs list them. */
export const REFERENCE_KEYS = [
  'n_levels',
  'n_iters',
  'n_clusters',
  'n_splits',
  'n_resampling_steps',
  'sample_size',
  'subset_indices_path',
  'checkpoint_period',
  'dtype',
  'high_precision',
  'ngpus_per_node',
  'nnodes',
  'ncpus_per_gpu',
  'sampling_strategy',
  'slurm_partition',
] as const;

/** Settings of the machines the reference runs on; Strata only writes placeholders for them. */
export interface ClusterSettings {
  /** nodes per level (default 1 everywhere) */
  readonly nnodes?: readonly number[];
  /** GPUs per node per level (default 1 everywhere) */
  readonly ngpusPerNode?: readonly number[];
  readonly ncpusPerGpu?: number | null;
  readonly slurmPartition?: string | null;
  /** reference computation precision; default float32, the precision of the exported rows */
  readonly dtype?: 'float32' | 'float64';
  /** accumulation precision; default float64, as Strata accumulates means */
  readonly highPrecision?: 'float32' | 'float64';
  /** iterations between the reference's checkpoints */
  readonly checkpointPeriod?: number;
  readonly subsetIndicesPath?: string | null;
}

/**
 * Placeholder cluster settings: one node with one GPU per level, so `local_launcher.sh` runs
 * as is; 8 CPUs per GPU is a common SLURM allocation. Edit them for a real cluster.
 */
const PLACEHOLDER_CPUS_PER_GPU = 8;
const PLACEHOLDER_CHECKPOINT_PERIOD = 1000;

/** Strata's m (resampling steps after a level's first k-means) as the reference's count of runs. */
export function toReferenceSteps(m: number): number {
  return m + 1;
}

/** The reference's n_resampling_steps (k-means runs of a level, the first included) as Strata's m. */
export function toStrataSteps(nResamplingSteps: number): number {
  return Math.max(0, nResamplingSteps - 1);
}

/** Strata's hierarchy settings in the reference launcher's vocabulary. */
export function toReferenceConfig(
  config: HierarchyConfig,
  cluster: ClusterSettings = {},
): ReferenceConfig {
  const T = config.levels.length;
  const perLevel = (given: readonly number[] | undefined, name: string): number[] => {
    if (given === undefined) return new Array<number>(T).fill(1);
    if (given.length !== T) {
      throw new InputError(`${name} needs one value per level (${T}), got ${given.length}`);
    }
    return given.slice();
  };
  // A level resamples when r > 1 and m > 0; otherwise the reference's "none" is r = 1 with one
  // k-means run. The reference's n_resampling_steps counts every k-means run of a level, the
  // first included (its level folder holds step0..step{n-1}), where Strata's m counts the runs
  // after the first: n_resampling_steps = m + 1 (toStrataSteps undoes it).
  const resamples = (r: number): boolean => r > 1 && config.resamplingSteps > 0;
  const out: ReferenceConfig = {
    n_levels: T,
    n_iters: config.nIters,
    n_clusters: config.levels.map((l) => l.k),
    n_splits: new Array<number>(T).fill(1),
    n_resampling_steps: config.levels.map((l) =>
      resamples(l.sampleSize) ? toReferenceSteps(config.resamplingSteps) : 1,
    ),
    sample_size: config.levels.map((l) => (resamples(l.sampleSize) ? l.sampleSize : 1)),
    subset_indices_path: cluster.subsetIndicesPath ?? null,
    checkpoint_period: cluster.checkpointPeriod ?? PLACEHOLDER_CHECKPOINT_PERIOD,
    dtype: cluster.dtype ?? 'float32',
    high_precision: cluster.highPrecision ?? 'float64',
    ngpus_per_node: perLevel(cluster.ngpusPerNode, 'ngpus_per_node'),
    nnodes: perLevel(cluster.nnodes, 'nnodes'),
    ncpus_per_gpu:
      cluster.ncpusPerGpu === undefined ? PLACEHOLDER_CPUS_PER_GPU : cluster.ncpusPerGpu,
    sampling_strategy: config.strategy === 'random' ? 'r' : 'c',
    slurm_partition: cluster.slurmPartition ?? null,
  };
  return checkReferenceConfig(out);
}

/** Validates an object against the reference schema; InputError naming every problem. */
export function checkReferenceConfig(value: unknown, name = 'config'): ReferenceConfig {
  const r = v.safeParse(ReferenceConfigSchema, value);
  if (r.success) return r.output;
  const problems = r.issues.map((i) => {
    const path = i.path?.map((p) => String(p.key)).join('.');
    return path ? `${path}: ${i.message}` : i.message;
  });
  throw new InputError(`${name} is not a valid reference config: ${problems.join('; ')}`);
}

const COMMENTS: Record<(typeof REFERENCE_KEYS)[number], string> = {
  n_levels:
    ' Written by Strata from its hierarchy settings.\n Number of levels of hierarchical k-means.',
  n_iters: ' Lloyd rounds of every k-means run.',
  n_clusters: ' Clusters per level, level 1 first.',
  n_splits: ' Strata does not split clusters: 1 everywhere.',
  n_resampling_steps:
    " k-means runs per level, the first included (Strata's resampling steps + 1;\n 1 together with sample_size 1 = no resampling).",
  sample_size: ' Points kept per cluster in each resampling step (r).',
  subset_indices_path: ' Optional .npy of row indices to restrict the run to.',
  checkpoint_period: ' Iterations between checkpoints of a k-means run.',
  dtype: ' Compute precision; the embeddings are float32 (the reference examples use float64).',
  high_precision: '',
  ngpus_per_node: ' Cluster settings: placeholders for one node with one GPU; edit them.',
  nnodes: '',
  ncpus_per_gpu: '',
  sampling_strategy: ' Resampling picks the closest (c) or random (r) members.',
  slurm_partition: '',
};

/** The config as YAML, keys in the reference's order, with a comment on what Strata set. */
export function referenceConfigYaml(config: ReferenceConfig): string {
  const checked = checkReferenceConfig(config);
  const doc = new YAML.Document(
    Object.fromEntries(REFERENCE_KEYS.map((k) => [k, checked[k]])) as Record<string, unknown>,
  );
  const map = doc.contents as YAML.YAMLMap<YAML.Scalar<string>, YAML.Node>;
  for (const pair of map.items) {
    const comment = COMMENTS[pair.key.value as (typeof REFERENCE_KEYS)[number]];
    if (comment) pair.key.commentBefore = comment;
    if (YAML.isSeq(pair.value)) pair.value.flow = true;
  }
  return doc.toString();
}

/**
 * Parses a reference config YAML. YAML 1.1 rules, as the reference's Python loader reads them
 * (so `100_000` is a number).
 */
export function parseReferenceConfigYaml(text: string, name = 'config.yaml'): ReferenceConfig {
  let value: unknown;
  try {
    value = YAML.parse(text, { version: '1.1', maxAliasCount: 100 });
  } catch (e) {
    throw new InputError(`${name} is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  return checkReferenceConfig(value, name);
}

/** Strata's hierarchy settings for a reference config, with the differences Strata cannot keep. */
export function fromReferenceConfig(
  config: ReferenceConfig,
  seed = 0,
): { config: HierarchyConfig; warnings: string[] } {
  const warnings: string[] = [];
  const T = config.n_levels;
  const levels = [];
  const steps = new Set<number>();
  for (let t = 0; t < T; t++) {
    const k = config.n_clusters[t] * config.n_splits[t];
    if (config.n_splits[t] > 1) {
      warnings.push(
        `level ${t + 1} splits ${config.n_clusters[t]} clusters into ${config.n_splits[t]} each; Strata runs one k-means with k = ${k} instead`,
      );
    }
    const r = config.sample_size[t];
    if (r > 1) steps.add(toStrataSteps(config.n_resampling_steps[t]));
    levels.push({ k, sampleSize: r });
  }
  const resamplingSteps = steps.size ? Math.max(...steps) : 0;
  if (steps.size > 1) {
    warnings.push(
      `n_resampling_steps differs between levels (${[...steps].map(toReferenceSteps).join(', ')}); Strata uses one value for every resampling level: ${toReferenceSteps(resamplingSteps)} k-means runs (${resamplingSteps} resampling steps)`,
    );
  }
  const strategy: ResampleStrategy = config.sampling_strategy === 'r' ? 'random' : 'closest';
  return {
    config: { levels, resamplingSteps, strategy, nIters: config.n_iters, seed },
    warnings,
  };
}
