/**
 * The pipeline's run settings, as pure functions: the suggestion for a dataset (built on the
 * core's plan resolver) and the checks that explain impossible or pointless values.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DEDUP_THRESHOLD,
  DEFAULT_FLOPS_PER_SECOND,
  DEFAULT_IMAGE_NORMALISATION,
  resolvePlan,
} from '../../../src/core';
import type { RunSettings } from '../../../src/pipeline/contract';
import { planForRows, suggest, validate } from '../../../src/pipeline/settings';
import type { DatasetRecord } from '../../../src/store/schema';

const SETTINGS: RunSettings = {
  model: 'precomputed',
  provider: 'auto',
  batchSize: 8,
  normalisation: 'l2',
  k: [24, 6],
  r: [1, 2],
  resamplingSteps: 3,
  resampleStrategy: 'closest',
  iterations: 10,
  target: 40,
  leafStrategy: 'random',
  seed: 3,
  backend: 'cpu',
};

function dataset(itemCount: number, dim = 16): DatasetRecord {
  return {
    id: 'd1',
    name: 'pool',
    source: 'precomputed',
    storage: 'none',
    createdAt: 0,
    updatedAt: 0,
    itemCount,
    bytes: 0,
    labels: [],
    dim,
    include: [],
    exclude: [],
    nextIndex: itemCount,
  };
}

describe('validate', () => {
  it('explains impossible and pointless settings', () => {
    const problems = validate({ ...SETTINGS, k: [200, 300], target: 150 }, 140);
    const text = problems.map((p) => `${p.severity} ${p.field}: ${p.message}`).join('\n');
    expect(text).toMatch(/error k: Level 2 has 300 clusters but the level below has 200/);
    expect(text).toMatch(/warning k: Level 1 asks for 200 clusters but there are only 140 items/);
    expect(text).toMatch(
      /warning target: The target \(150\) is not smaller than the pool \(140 items\)/,
    );
  });

  it('accepts its own suggestion', () => {
    const s = suggest(dataset(140));
    expect(validate(s.settings, 140).filter((p) => p.severity === 'error')).toEqual([]);
  });
});

describe('suggest', () => {
  it("is the core plan resolver's plan, with a reason for every picked value", () => {
    const n = 100_000;
    const s = suggest(dataset(n, 384), 2e12);
    const plan = resolvePlan({ n, d: 384, throughput: { assign: 2e12, init: 2e12 } });
    expect(s.settings.k).toEqual(plan.config.levels.map((l) => l.k));
    expect(s.settings.r).toEqual(plan.config.levels.map((l) => l.sampleSize));
    expect(s.settings.iterations).toBe(plan.config.nIters);
    expect(s.settings.target).toBe(20_000);
    expect(s.why.k).toMatch(/^4 levels for 100000 items, about 10 items per finest cluster \(/);
    expect(s.why.target).toBe('20% of the 100000 items.');
    expect(s.why.resamplingSteps).toBe('The paper refits each level 10 times.');
    for (const key of ['model', 'normalisation', 'r', 'iterations', 'leafStrategy', 'seed'])
      expect(s.why[key as keyof RunSettings], key).toBeTruthy();
  });

  it('removes near-duplicates by default and leaves the plan to the rows clustered', () => {
    const images = { ...dataset(2000, 1792), source: 'files' as const, dim: undefined };
    const s = suggest(images).settings;
    expect(s.dedup).toBe(DEFAULT_DEDUP_THRESHOLD);
    expect(s.normalisation).toBe(DEFAULT_IMAGE_NORMALISATION);
    // The same for a .npy of embeddings, as `strata curate` does.
    const npy = suggest(dataset(2000, 1792)).settings;
    expect(npy.dedup).toBe(DEFAULT_DEDUP_THRESHOLD);
    expect(npy.normalisation).toBe(DEFAULT_IMAGE_NORMALISATION);
    expect(s.autoPlan).toEqual(['k', 'r', 'iterations']);
    // For the rows the suggestion was made for, planning again changes nothing.
    expect(planForRows(s, 2000, 1792)).toEqual(s);
    // For the rows left after dedup: the automatic values follow, the given ones stay.
    const kept = planForRows(s, 900, 1792);
    const plan = resolvePlan({ n: 900, d: 1792, settings: { target: s.target } });
    expect(kept.k).toEqual(plan.config.levels.map((l) => l.k));
    expect(kept.r).toEqual(plan.config.levels.map((l) => l.sampleSize));
    expect(kept.target).toBe(s.target);
    expect(kept.k[0]).toBeLessThan(s.k[0]);
    const own = { ...s, k: [150, 30], r: [1, 3], autoPlan: ['iterations' as const] };
    expect(planForRows(own, 900, 1792).k).toEqual([150, 30]);
    expect(planForRows({ ...s, autoPlan: undefined }, 900, 1792)).toEqual({
      ...s,
      autoPlan: undefined,
    });
  });

  it('carries the measured throughput, and none when nothing was measured', () => {
    expect(suggest(dataset(500)).throughput).toBeUndefined();
    expect(suggest(dataset(500), 3e9).throughput).toEqual({ assign: 3e9, init: 3e9 });
    expect(suggest(dataset(500), { assign: 3e9, init: 1e9 }).throughput).toEqual({
      assign: 3e9,
      init: 1e9,
    });
    // Without a measurement the suggestion is fitted to the core's default throughput.
    const big = dataset(1_000_000, 384);
    expect(suggest(big).settings).toEqual(suggest(big, DEFAULT_FLOPS_PER_SECOND).settings);
    expect(suggest(big, 1e12).settings.k[0]).toBeGreaterThan(suggest(big).settings.k[0]);
  });
});
