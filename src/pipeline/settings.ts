/**
 * Run settings: automatic defaults for a dataset (the core's plan resolver, resolvePlan, picks
 * every hierarchy setting and says why; this file adds the model, preprocessing and backend
 * choices), the checks that explain impossible or pointless values, and the mapping to the
 * core's HierarchyConfig (the core's own, re-exported for the pipeline).
 */
import {
  DEFAULT_DEDUP_THRESHOLD,
  DEFAULT_IMAGE_NORMALISATION,
  resolvePlan,
  uniformThroughput,
  type KMeansThroughput,
} from '../core';
import type { AutoPlanField } from '../core/settings';
import { DEFAULT_MODEL, findModel, preprocessingId, type ModelSpec } from '../embed/models';
import type { RunSettings, SettingsProblem, ShapeAdvice, SuggestedSettings } from './contract';
import type { DatasetRecord } from '../store/schema';

export { DEFAULT_TARGET_FRACTION, defaultTarget, hierarchyConfig } from '../core';

/** The id settings use for a dataset of precomputed embeddings. */
export const PRECOMPUTED_MODEL = 'precomputed';

/** Images per inference batch: the embed worker's own default. */
export const DEFAULT_BATCH_SIZE = 8;

/** The model spec a run embeds with, or undefined for precomputed datasets. */
export function modelOf(settings: RunSettings): ModelSpec | undefined {
  if (settings.model === PRECOMPUTED_MODEL) return undefined;
  if (settings.customModel && settings.customModel.id === settings.model)
    return settings.customModel;
  return findModel(settings.model);
}

/** Key of a run's rows in the embeddings store: model and everything about its pixels. */
export function embeddingKey(settings: RunSettings): string {
  const spec = modelOf(settings);
  return spec ? `${spec.id}|${preprocessingId(spec)}` : PRECOMPUTED_MODEL;
}

/** The hierarchy settings the automatic plan picks when the person sets none of them. */
const AUTO_PLAN: readonly AutoPlanField[] = ['k', 'r', 'iterations'];

/**
 * The plan resolver's throughput from the cluster worker's probe (its BackendProbe; the fields
 * are spelled out so this module stays free of the worker's imports): the GPU's assignment rate
 * when 'auto' picks it, else the CPU kernel's assignment and k-means++ rates.
 */
export function planThroughput(p: {
  readonly backend: 'webgpu' | 'cpu';
  readonly gpuFlopsPerSecond?: number;
  readonly cpuFlopsPerSecond?: number;
  readonly cpuThroughput?: KMeansThroughput;
}): KMeansThroughput | undefined {
  return p.backend === 'webgpu' && p.gpuFlopsPerSecond
    ? uniformThroughput(p.gpuFlopsPerSecond)
    : (p.cpuThroughput ??
        (p.cpuFlopsPerSecond ? uniformThroughput(p.cpuFlopsPerSecond) : undefined));
}

/**
 * The settings for a run that clusters `n` rows of dimension `d`: the fields of `autoPlan` (k, r,
 * rounds) resolved again by the plan resolver for those rows, every other value kept as given,
 * exactly as `strata curate` resolves its plan for the rows it keeps after near-duplicate
 * removal. Settings without automatic fields come back unchanged.
 */
export function planForRows(
  s: RunSettings,
  n: number,
  d: number,
  throughput?: KMeansThroughput,
): RunSettings {
  const auto = new Set(s.autoPlan ?? []);
  if (auto.size === 0) return s;
  const plan = resolvePlan({
    n: Math.max(1, n),
    d: Math.max(1, d),
    throughput,
    settings: {
      ...(auto.has('k') ? {} : { k: s.k }),
      ...(auto.has('r') ? {} : { r: s.r }),
      ...(auto.has('iterations') ? {} : { iterations: s.iterations }),
      resamplingSteps: s.resamplingSteps,
      resampleStrategy: s.resampleStrategy,
      target: s.target,
      leafStrategy: s.leafStrategy,
      seed: s.seed,
    },
  });
  const c = plan.config;
  return {
    ...s,
    k: c.levels.map((l) => l.k),
    r: c.levels.map((l) => l.sampleSize),
    iterations: c.nIters,
  };
}

/**
 * Defaults for a dataset, each with the reason it was picked. `throughput` is the measured
 * k-means throughput of the backend 'auto' picks: flops per second of assignment (one number,
 * used for k-means++ too) or both rates; absent, the core's default is assumed.
 */
export function suggest(
  dataset: DatasetRecord,
  throughput?: number | KMeansThroughput,
): SuggestedSettings {
  const n = Math.max(1, dataset.itemCount);
  const precomputed = dataset.source === 'precomputed';
  const model = precomputed ? PRECOMPUTED_MODEL : DEFAULT_MODEL.id;
  const d = precomputed ? (dataset.dim ?? 1) : DEFAULT_MODEL.dim;
  const measured =
    typeof throughput === 'number'
      ? throughput > 0
        ? uniformThroughput(throughput)
        : undefined
      : throughput;
  const plan = resolvePlan({ n, d, throughput: measured });
  const c = plan.config;
  // The plan not picked when the paper's shape does not fit the budget: one click away.
  const choice = plan.shape.choice;
  const other = choice && (choice.picked === 'budget' ? choice.shape : choice.budget);
  const shape: ShapeAdvice = {
    summary: plan.shape.summary,
    inBand: plan.shape.inBand,
    ...(choice && other
      ? {
          alternative: {
            label: choice.picked === 'budget' ? "Keep the paper's shape" : 'Fit the time budget',
            k: other.config.levels.map((l) => l.k),
            r: other.config.levels.map((l) => l.sampleSize),
            iterations: other.config.nIters,
            seconds: other.seconds,
          },
        }
      : {}),
  };
  const settings: RunSettings = {
    model,
    provider: 'auto',
    batchSize: DEFAULT_BATCH_SIZE,
    // The same normalisation and near-duplicate search whatever the input, and as `strata
    // curate`: an image folder and a .npy of its embeddings give the same run.
    normalisation: DEFAULT_IMAGE_NORMALISATION,
    k: c.levels.map((l) => l.k),
    r: c.levels.map((l) => l.sampleSize),
    resamplingSteps: c.resamplingSteps,
    resampleStrategy: c.strategy,
    iterations: c.nIters,
    target: plan.target,
    leafStrategy: plan.leafStrategy,
    seed: c.seed,
    backend: 'auto',
    // On, as in `strata curate` (docs/quality.md measures it on two real pools).
    dedup: DEFAULT_DEDUP_THRESHOLD,
    // k, r and rounds are planned again for the rows the run clusters (after dedup).
    autoPlan: AUTO_PLAN.filter((f) => plan.picked.includes(f)),
  };
  return {
    settings,
    why: {
      model: precomputed
        ? 'Your own embeddings are used as they are.'
        : 'The bundled model works offline; pick DINOv2 for unfamiliar content.',
      normalisation:
        'Raw features gave the most balanced subsets on real image pools (centring and scaling did worse); the command line uses the same.',
      ...plan.why,
      backend: 'Uses the graphics card when it is fast enough, else the processor.',
      provider: 'Uses the graphics card when it is faster than WebAssembly on a test batch.',
      batchSize: 'A small batch keeps memory low; raise it on a strong graphics card.',
      dedup:
        'Keeps one of each group of near-copies (resized, re-saved or lightly edited images), so copies do not crowd out the rest.',
    },
    ...(measured ? { throughput: measured } : {}),
    shape,
  };
}

const isInt = (v: number, min: number): boolean => Number.isInteger(v) && v >= min;

/** Everything wrong (errors) or surprising (warnings) about settings for a pool of n items. */
export function validate(s: RunSettings, n: number): SettingsProblem[] {
  const out: SettingsProblem[] = [];
  const err = (field: keyof RunSettings, message: string): void => {
    out.push({ field, severity: 'error', message });
  };
  const warn = (field: keyof RunSettings, message: string): void => {
    out.push({ field, severity: 'warning', message });
  };

  if (s.model !== PRECOMPUTED_MODEL && !modelOf(s)) {
    err('model', `Unknown model "${s.model}": pick one from the list or load your own .onnx.`);
  }
  if (!isInt(s.batchSize, 1)) err('batchSize', 'Batch size must be a whole number, 1 or more.');

  if (s.k.length === 0) err('k', 'Give at least one level (clusters per level).');
  s.k.forEach((k, t) => {
    if (!isInt(k, 1)) err('k', `Level ${t + 1}: clusters must be a whole number, 1 or more.`);
    else if (t > 0 && k >= s.k[t - 1]) {
      err(
        'k',
        `Level ${t + 1} has ${k} clusters but the level below has ${s.k[t - 1]}: each level ` +
          'groups the clusters of the one below, so it needs fewer of them.',
      );
    }
  });
  if (s.k.length > 0 && isInt(s.k[0], 1) && s.k[0] > n) {
    warn(
      'k',
      `Level 1 asks for ${s.k[0]} clusters but there are only ${n} items: it will make ${n} ` +
        '(one item each), and the levels above do the grouping.',
    );
  }
  if (s.r.length !== s.k.length) {
    err('r', `Give one resampling size per level (${s.k.length}), not ${s.r.length}.`);
  }
  s.r.forEach((r, t) => {
    if (!isInt(r, 1))
      err('r', `Level ${t + 1}: points per cluster must be a whole number, 1 or more.`);
  });
  if (!isInt(s.resamplingSteps, 0)) {
    err('resamplingSteps', 'Resampling steps must be a whole number, 0 or more.');
  }
  if (!isInt(s.iterations, 0)) err('iterations', 'Rounds must be a whole number, 0 or more.');
  if (!Number.isSafeInteger(s.seed)) err('seed', 'The seed must be a whole number.');

  if (s.dedup !== undefined && s.dedup !== null && !(s.dedup > 0 && s.dedup <= 1)) {
    err('dedup', 'The duplicate threshold is a similarity between 0 and 1 (for example 0.9).');
  } else if (typeof s.dedup === 'number' && s.dedup < 0.5) {
    warn(
      'dedup',
      `A threshold of ${s.dedup} treats loosely similar items as copies: many distinct items would be removed.`,
    );
  }

  if (!isInt(s.target, 1)) err('target', 'The target must be a whole number, 1 or more.');
  else if (s.target >= n) {
    warn(
      'target',
      `The target (${s.target}) is not smaller than the pool (${n} items): every item would be ` +
        `kept and nothing curated. Pick a target below ${n}.`,
    );
  }
  return out;
}
