import { describe, expect, it } from 'vitest';
import {
  DEFAULT_BUDGET_SECONDS,
  DEFAULT_ITERS,
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
