/**
 * Run settings: automatic defaults from the pool size (via the core's cost-aware
 * suggestHierarchy), the checks that explain impossible or pointless values, and the mapping to
 * the core's HierarchyConfig.
 */
import { DEFAULT_SEED, suggestHierarchy, type HierarchyConfig } from '../core';
import { BUNDLED_MODEL, findModel, preprocessingId, type ModelSpec } from '../embed/models';
import type { RunSettings, SettingsProblem, SuggestedSettings } from './contract';
import type { DatasetRecord } from '../store/schema';

/** The id settings use for a dataset of precomputed embeddings. */
export const PRECOMPUTED_MODEL = 'precomputed';

/**
 * Share of the pool the default target keeps. The paper's curated sets are a fraction of the
 * pool; 20% sits in the 10-20% range that algorithm.md section 6 measured on image pools.
 */
export const DEFAULT_TARGET_FRACTION = 0.2;

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

export function defaultTarget(n: number): number {
  return Math.max(1, Math.min(n - 1, Math.round(n * DEFAULT_TARGET_FRACTION))) || 1;
}

/** Settings -> the core's hierarchy configuration. */
export function hierarchyConfig(s: RunSettings): HierarchyConfig {
  return {
    levels: s.k.map((k, t) => ({ k, sampleSize: s.r[t] ?? 1 })),
    resamplingSteps: s.resamplingSteps,
    strategy: s.resampleStrategy,
    nIters: s.iterations,
    seed: s.seed,
  };
}

/** Defaults for a dataset, each with the reason it was picked. */
export function suggest(dataset: DatasetRecord, flopsPerSecond?: number): SuggestedSettings {
  const n = Math.max(1, dataset.itemCount);
  const precomputed = dataset.source === 'precomputed';
  const model = precomputed ? PRECOMPUTED_MODEL : BUNDLED_MODEL.id;
  const d = precomputed ? (dataset.dim ?? 1) : BUNDLED_MODEL.dim;
  const target = defaultTarget(n);
  const s = suggestHierarchy(n, d, { target, ...(flopsPerSecond ? { flopsPerSecond } : {}) });
  const c = s.config;
  const settings: RunSettings = {
    model,
    provider: 'auto',
    batchSize: DEFAULT_BATCH_SIZE,
    normalisation: precomputed ? 'l2' : 'center-l2',
    k: c.levels.map((l) => l.k),
    r: c.levels.map((l) => l.sampleSize),
    resamplingSteps: c.resamplingSteps,
    resampleStrategy: c.strategy,
    iterations: c.nIters,
    target,
    leafStrategy: 'random',
    seed: DEFAULT_SEED,
    backend: 'auto',
  };
  const minutes = s.estimatedSeconds / 60;
  const cost =
    minutes < 1
      ? `about ${Math.max(1, Math.round(s.estimatedSeconds))} s of clustering`
      : `about ${Math.round(minutes)} min of clustering`;
  return {
    settings,
    why: {
      model: precomputed
        ? 'Your own embeddings are used as they are.'
        : 'The bundled model works offline; pick DINOv2 for unfamiliar content.',
      normalisation: precomputed
        ? 'Length-1 vectors make distances compare directions, as most embedding models intend.'
        : "The bundled model's features are all positive: centring first spreads them out.",
      k: `${c.levels.length} level${c.levels.length === 1 ? '' : 's'} for ${n} items, about ${Math.round(n / c.levels[0].k)} items per finest cluster (${cost}).`,
      r: 'About half the average cluster size; 1 at level 1 keeps the costliest level to one fit.',
      resamplingSteps: 'The paper refits each level 10 times.',
      iterations:
        c.nIters === 50
          ? 'The paper runs 50 rounds.'
          : `${c.nIters} rounds instead of the paper's 50 to keep the run short on this device.`,
      target: `${Math.round(DEFAULT_TARGET_FRACTION * 100)}% of the ${n} items.`,
      leafStrategy: 'Random picks did best in the paper.',
      seed: 'Any number; change it to see another equally balanced subset.',
      backend: 'Uses the graphics card when it is fast enough, else the processor.',
      provider: 'Uses the graphics card when it is faster than WebAssembly on a test batch.',
      batchSize: 'A small batch keeps memory low; raise it on a strong graphics card.',
    },
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
