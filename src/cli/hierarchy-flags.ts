/**
 * The hierarchy flags that `strata curate` and `strata export-job` share: one spec for
 * parseFlags, one reader that checks their values, so both commands accept and reject the
 * same things with the same messages, and their translation into the plan resolver's settings
 * (src/core/plan.ts), so both resolve them like the app does.
 */
import type { PlanSettings } from '../core/plan.ts';
import type { LeafStrategy, ResampleStrategy } from '../core/settings.ts';
import { UsageError, choiceFlag, intFlag, intListFlag, type FlagOptions } from './command.ts';

export const STRATEGIES: readonly ResampleStrategy[] = ['closest', 'random'];
export const LEAVES: readonly LeafStrategy[] = ['random', 'closest', 'furthest'];

/** parseFlags options for the hierarchy's shape and the preprocessing of rows. */
export const HIERARCHY_FLAGS = {
  levels: { type: 'string' },
  clusters: { type: 'string' },
  'sample-size': { type: 'string' },
  resample: { type: 'string' },
  strategy: { type: 'string' },
  iters: { type: 'string' },
  seed: { type: 'string' },
  concepts: { type: 'string' },
  normalize: { type: 'boolean' },
  center: { type: 'boolean' },
} as const satisfies FlagOptions;

/** The hierarchy flags as given (undefined where absent); each command applies its defaults. */
export interface HierarchyFlags {
  readonly levels: number | undefined;
  readonly clusters: number[] | undefined;
  readonly sampleSize: number[] | undefined;
  readonly resample: number | undefined;
  readonly strategy: ResampleStrategy | undefined;
  readonly iters: number | undefined;
  readonly seed: number | undefined;
  /** concepts expected: the automatic top level gets a few clusters per concept */
  readonly concepts: number | undefined;
}

/** Checks the hierarchy flags' values; a bad one is a UsageError naming the flag. */
export function readHierarchyFlags(
  f: Record<string, string | boolean | undefined>,
): HierarchyFlags {
  return {
    levels: intFlag('levels', f.levels, 1, 16),
    clusters: intListFlag('clusters', f.clusters, 1),
    sampleSize: intListFlag('sample-size', f['sample-size'], 1),
    resample: intFlag('resample', f.resample, 0),
    strategy: choiceFlag('strategy', f.strategy, STRATEGIES),
    iters: intFlag('iters', f.iters, 0, 10000),
    seed: intFlag('seed', f.seed, 0),
    concepts: intFlag('concepts', f.concepts, 1),
  };
}

/** --levels and --clusters must agree when both are given; the number of levels if known. */
export function flagLevels(hf: HierarchyFlags): number | undefined {
  if (hf.clusters && hf.levels !== undefined && hf.clusters.length !== hf.levels) {
    throw new UsageError(
      `--levels ${hf.levels} disagrees with --clusters (${hf.clusters.length} values)`,
    );
  }
  return hf.clusters?.length ?? hf.levels;
}

/** The flags as the plan resolver's explicit settings (absent flags stay absent). */
export function planSettingsOf(
  hf: HierarchyFlags,
  more: Pick<PlanSettings, 'target' | 'leafStrategy' | 'fit'> = {},
): PlanSettings {
  return {
    k: hf.clusters,
    levels: hf.levels,
    r: hf.sampleSize,
    resamplingSteps: hf.resample,
    resampleStrategy: hf.strategy,
    iterations: hf.iters,
    seed: hf.seed,
    concepts: hf.concepts,
    ...more,
  };
}
