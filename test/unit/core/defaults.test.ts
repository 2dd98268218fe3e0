import { describe, expect, it } from 'vitest';
import {
  DEFAULT_BUDGET_SECONDS,
  DEFAULT_ITERS,
  LEVEL1_MAX_CLUSTER_SIZE,
  MIN_ITERS,
  TOP_CLUSTERS_PER_CONCEPT,
  estimateFlops,
  estimateFlopsParts,
  estimateSeconds,
  suggestHierarchy,
} from '../../../src/core/defaults.ts';

describe('suggestHierarchy', () => {
  it('gives the ideal shape when the budget allows: 100k rows -> 10000 / 2000 / 400 / 80', () => {
    const s = suggestHierarchy(100_000, 384, { flopsPerSecond: 1e15 });
    expect(s.config.levels.map((l) => l.k)).toEqual([10000, 2000, 400, 80]);
    // r is about half the average cluster size: 10 / 2, then 5 / 2 rounded.
    expect(s.config.levels.map((l) => l.sampleSize)).toEqual([5, 3, 3, 3]);
    expect(s.config.nIters).toBe(DEFAULT_ITERS);
    expect(s.config.resamplingSteps).toBe(10);
    expect(s.estimatedSeconds).toBeLessThanOrEqual(DEFAULT_BUDGET_SECONDS);
  });

  it('drops level-1 resampling first, then rounds, then shrinks k1, staying in budget', () => {
    const d = 384;
    const n = 100_000;
    const gpu = suggestHierarchy(n, d, { flopsPerSecond: 2e12, budgetSeconds: 100 });
    expect(gpu.config.levels[0]).toEqual({ k: 10000, sampleSize: 1 });
    expect(gpu.config.levels[1].sampleSize).toBeGreaterThan(1);
    expect(gpu.estimatedSeconds).toBeLessThanOrEqual(100);
    expect(
      suggestHierarchy(n, d, { flopsPerSecond: 2e12, budgetSeconds: 600 }).config.levels[0]
        .sampleSize,
    ).toBe(5);

    // Rounds are cut before k1: 15 s at 2 TFLOP/s fits k1 = 10000 with 20 rounds.
    const fewerRounds = suggestHierarchy(n, d, { flopsPerSecond: 2e12, budgetSeconds: 15 });
    expect(fewerRounds.config.levels[0]).toEqual({ k: 10000, sampleSize: 1 });
    expect(fewerRounds.config.nIters).toBe(20);

    const cpu = suggestHierarchy(n, d, { flopsPerSecond: 4e9, budgetSeconds: 120 });
    expect(cpu.config.nIters).toBe(10);
    const k1 = cpu.config.levels[0].k;
    expect(k1).toBeLessThan(10000);
    expect(k1).toBeGreaterThanOrEqual(100);
    expect(cpu.config.levels[0].sampleSize).toBe(1);
    expect(cpu.estimatedSeconds).toBeLessThanOrEqual(120);
    expect(cpu.rationale.join('\n')).toMatch(/instead of the ideal 10000/);
    // Every level shrinks k by 5x.
    for (let t = 1; t < cpu.config.levels.length; t++) {
      expect(cpu.config.levels[t].k).toBe(Math.floor(cpu.config.levels[t - 1].k / 5));
    }
    // A bigger budget never gives a smaller k1.
    const more = suggestHierarchy(n, d, { flopsPerSecond: 4e9, budgetSeconds: 600 });
    expect(more.config.levels[0].k).toBeGreaterThanOrEqual(k1);
  });

  it("keeps 100k x 384 inside the paper's band at a CPU's measured rates", () => {
    // the command line's probe here: about 50 GFLOP/s assignment, 20 for k-means++ scoring
    const s = suggestHierarchy(100_000, 384, { flopsPerSecond: 50e9, initFlopsPerSecond: 20e9 });
    const k1 = s.config.levels[0].k;
    expect(100_000 / k1).toBeLessThanOrEqual(LEVEL1_MAX_CLUSTER_SIZE);
    expect(s.shape).toMatchObject({ band: [10, LEVEL1_MAX_CLUSTER_SIZE], inBand: true });
    expect(s.shape.rowsPerCluster).toBe(Math.round(100_000 / k1));
    expect(s.shape.choice).toBeUndefined();
    expect(s.estimatedSeconds).toBeLessThanOrEqual(DEFAULT_BUDGET_SECONDS);
    expect(s.rationale.join('\n')).toMatch(/inside the paper's 10-50/);
  });

  it("says what the budget buys and what the paper's shape costs, and runs the one asked for", () => {
    const rates = { flopsPerSecond: 50e9, initFlopsPerSecond: 20e9 };
    const budget = suggestHierarchy(1_000_000, 384, rates);
    const choice = budget.shape.choice!;
    expect(choice.picked).toBe('budget');
    expect(choice.shape.config.levels[0].k).toBe(1_000_000 / LEVEL1_MAX_CLUSTER_SIZE);
    expect(choice.shape.config.nIters).toBe(MIN_ITERS);
    expect(choice.shape.seconds).toBeGreaterThan(DEFAULT_BUDGET_SECONDS);
    expect(choice.budget.seconds).toBeLessThanOrEqual(DEFAULT_BUDGET_SECONDS);
    expect(budget.config).toEqual(choice.budget.config);
    expect(budget.shape.inBand).toBe(false);
    expect(budget.shape.summary).toMatch(
      /^The paper's shape needs at least 20000 finest clusters \(at most 50 items each\): about \d+ min on this device; the 2 min budget buys \d+ \(about \d+ items each\)\.$/,
    );
    const shape = suggestHierarchy(1_000_000, 384, { ...rates, fit: 'shape' });
    expect(shape.config).toEqual(choice.shape.config);
    expect(shape.estimatedSeconds).toBe(choice.shape.seconds);
    expect(shape.shape).toMatchObject({ inBand: true, rowsPerCluster: LEVEL1_MAX_CLUSTER_SIZE });
  });

  it('gives the top level a few clusters per concept asked for', () => {
    const top = (concepts: number): number[] =>
      suggestHierarchy(100_000, 64, { flopsPerSecond: 1e15, concepts }).config.levels.map(
        (l) => l.k,
      );
    expect(top(20)).toEqual([10000, 2000, 400, 20 * TOP_CLUSTERS_PER_CONCEPT]);
    expect(top(30)).toEqual([10000, 2000, 400, 30 * TOP_CLUSTERS_PER_CONCEPT]);
    // without concepts: shrink while at least MIN_TOP_K remain
    expect(suggestHierarchy(100_000, 64, { flopsPerSecond: 1e15 }).config.levels.length).toBe(4);
    expect(() => suggestHierarchy(100, 2, { concepts: 0 })).toThrow(/concepts/);
  });

  it('says so when even the smallest plan is over budget', () => {
    const s = suggestHierarchy(1_000_000, 1024, { flopsPerSecond: 1e8, budgetSeconds: 1 });
    expect(s.estimatedSeconds).toBeGreaterThan(1);
    expect(s.config.nIters).toBe(10);
    expect(s.rationale.join('\n')).toMatch(/over budget/);
  });

  it('handles tiny pools and small targets', () => {
    expect(suggestHierarchy(1, 2).config.levels).toEqual([{ k: 1, sampleSize: 1 }]);
    const small = suggestHierarchy(9000, 2, { flopsPerSecond: 1e12 });
    expect(small.config.levels.map((l) => l.k)).toEqual([900, 180, 36]);
    const target = suggestHierarchy(100_000, 64, { flopsPerSecond: 1e15, target: 10 });
    expect(target.config.levels[target.config.levels.length - 1].k).toBeLessThanOrEqual(16);
  });

  it('estimates 2 n k d flops per pass', () => {
    const config = {
      levels: [{ k: 100, sampleSize: 1 }],
      resamplingSteps: 10,
      strategy: 'closest' as const,
      nIters: 10,
      seed: 0,
    };
    // 10 rounds + 1 initial assignment + (2 + floor(ln 100)) = 6 k-means++ passes.
    expect(estimateFlops(1000, 8, config)).toBe(17 * 2 * 1000 * 100 * 8);
    const pass = 2 * 1000 * 100 * 8;
    expect(estimateFlopsParts(1000, 8, config)).toEqual({ lloyd: 11 * pass, init: 6 * pass });
    // k-means++ at half the Lloyd rate costs twice as long per pass.
    expect(estimateSeconds(1000, 8, config, 1e9, 5e8)).toBeCloseTo(
      (11 * pass) / 1e9 + (6 * pass) / 5e8,
      12,
    );
    // With resampling: m refits on min(n, k r) rows plus m reassignments of all rows.
    const resampled = { ...config, levels: [{ k: 100, sampleSize: 4 }] };
    expect(estimateFlopsParts(1000, 8, resampled)).toEqual({
      lloyd: 11 * pass + 10 * (11 * 0.4 * pass + pass),
      init: 6 * pass + 10 * 6 * 0.4 * pass,
    });
  });
});
