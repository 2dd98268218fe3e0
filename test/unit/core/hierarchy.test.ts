import { describe, expect, it } from 'vitest';
import { CancelledError } from '../../../src/core/errors.ts';
import {
  buildClusters,
  hierarchicalKMeans,
  type HierarchyConfig,
  type HierarchyProgress,
  type Level,
} from '../../../src/core/hierarchy.ts';
import { CpuBackend } from '../../../src/core/kmeans.ts';
import type { Matrix } from '../../../src/core/types.ts';
import { blobs, dist2 } from './helpers.ts';

const backend = new CpuBackend();
/** Long-tailed blobs in 4-D: 1200 rows, fast enough to run a full 3-level hierarchy in ~0.1 s. */
const x = blobs([600, 300, 150, 80, 40, 20, 10], 4, 21, 4);
const config: HierarchyConfig = {
  levels: [
    { k: 60, sampleSize: 3 },
    { k: 15, sampleSize: 2 },
    { k: 4, sampleSize: 2 },
  ],
  resamplingSteps: 3,
  strategy: 'closest',
  nIters: 10,
  seed: 9,
};

function expectSameLevels(a: Level[], b: Level[]): void {
  expect(a.length).toBe(b.length);
  a.forEach((l, t) => {
    expect(l.k).toBe(b[t].k);
    expect(l.centroids.data).toEqual(b[t].centroids.data);
    expect(l.labels).toEqual(b[t].labels);
    expect(l.dist2).toEqual(b[t].dist2);
    expect(l.clusters).toEqual(b[t].clusters);
  });
}

describe('hierarchicalKMeans', () => {
  it('builds levels bottom-up with clusters sorted closest first', async () => {
    const h = await hierarchicalKMeans(x, config, backend);
    expect(h.levels.map((l) => l.k)).toEqual([60, 15, 4]);
    let input: Matrix = x;
    for (const level of h.levels) {
      expect(level.labels.length).toBe(input.rows);
      expect(level.centroids.rows).toBe(level.k);
      const seen = new Int32Array(input.rows);
      level.clusters.forEach((members, j) => {
        for (let i = 0; i < members.length; i++) {
          seen[members[i]]++;
          expect(level.labels[members[i]]).toBe(j);
          if (i > 0)
            expect(level.dist2[members[i]]).toBeGreaterThanOrEqual(level.dist2[members[i - 1]]);
          // Labels are nearest centroids of the final centroids.
          expect(level.dist2[members[i]]).toBeCloseTo(
            dist2(input, members[i], level.centroids, j),
            3,
          );
        }
      });
      expect(Array.from(seen).every((c) => c === 1)).toBe(true);
      input = level.centroids;
    }
  });

  it('is deterministic for a seed and changes with the seed', async () => {
    const a = await hierarchicalKMeans(x, config, backend);
    const b = await hierarchicalKMeans(x, config, backend);
    const c = await hierarchicalKMeans(x, { ...config, seed: 10 }, backend);
    expectSameLevels(a.levels, b.levels);
    expect(a.levels[0].centroids.data).not.toEqual(c.levels[0].centroids.data);
  });

  it('resampling changes the centroids compared with no resampling', async () => {
    const withR = await hierarchicalKMeans(x, config, backend);
    const without = await hierarchicalKMeans(x, { ...config, resamplingSteps: 0 }, backend);
    // Same seed streams for step 0, so level 1 differs only because of the resampling steps.
    expect(withR.levels[0].centroids.data).not.toEqual(without.levels[0].centroids.data);
    const noR = await hierarchicalKMeans(
      x,
      { ...config, levels: config.levels.map((l) => ({ ...l, sampleSize: 1 })) },
      backend,
    );
    expectSameLevels(noR.levels, without.levels);
  });

  it('resamples with the random strategy too, differently from closest', async () => {
    const closest = await hierarchicalKMeans(x, config, backend);
    const random = await hierarchicalKMeans(x, { ...config, strategy: 'random' }, backend);
    expect(random.levels[0].centroids.data).not.toEqual(closest.levels[0].centroids.data);
  });

  it('caps k at the input size with a warning', async () => {
    const warnings: string[] = [];
    const small = blobs([5, 5], 2, 3);
    const h = await hierarchicalKMeans(
      small,
      {
        ...config,
        levels: [
          { k: 50, sampleSize: 1 },
          { k: 20, sampleSize: 1 },
        ],
      },
      backend,
      { onWarning: (m) => warnings.push(m) },
    );
    expect(h.levels.map((l) => l.k)).toEqual([10, 10]);
    expect(warnings.length).toBe(2);
    expect(warnings[0]).toMatch(/level 1: k = 50 is more than its 10 input rows; using k = 10/);
  });

  it('reports steps, levels and monotone progress ending at 1', async () => {
    const steps: string[] = [];
    const levels: number[] = [];
    const progress: HierarchyProgress[] = [];
    await hierarchicalKMeans(x, config, backend, {
      onStep: (t, s, c) => {
        steps.push(`${t}:${s}:${c.rows}`);
      },
      onLevel: (t) => {
        levels.push(t);
      },
      onProgress: (p) => progress.push(p),
    });
    expect(steps).toEqual(
      [0, 1, 2].flatMap((t) => [0, 1, 2, 3].map((s) => `${t}:${s}:${[60, 15, 4][t]}`)),
    );
    expect(levels).toEqual([0, 1, 2]);
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i].fraction).toBeGreaterThanOrEqual(progress[i - 1].fraction - 1e-12);
    }
    expect(progress[progress.length - 1].fraction).toBeCloseTo(1, 9);
    expect(progress.some((p) => p.level === 2 && p.step === 3)).toBe(true);
  });

  it('resumes from completed levels and from a finished step, reproducing the run exactly', async () => {
    const saved: { levels: Level[]; steps: Map<string, Matrix> } = { levels: [], steps: new Map() };
    const full = await hierarchicalKMeans(x, config, backend, {
      onStep: (t, s, c) => {
        saved.steps.set(`${t}:${s}`, c);
      },
      onLevel: (_t, level) => {
        saved.levels.push(level);
      },
    });
    // Interrupted after level 1 completed and step 1 of level 2.
    const resumed = await hierarchicalKMeans(x, config, backend, {
      resume: {
        levels: saved.levels.slice(0, 1),
        partial: { level: 1, step: 1, centroids: saved.steps.get('1:1') as Matrix },
      },
    });
    expectSameLevels(resumed.levels, full.levels);
    // Interrupted right after step 0 of level 1.
    const fromStep0 = await hierarchicalKMeans(x, config, backend, {
      resume: {
        levels: [],
        partial: { level: 0, step: 0, centroids: saved.steps.get('0:0') as Matrix },
      },
    });
    expectSameLevels(fromStep0.levels, full.levels);
    // Interrupted between levels.
    const fromLevels = await hierarchicalKMeans(x, config, backend, {
      resume: { levels: saved.levels.slice(0, 2) },
    });
    expectSameLevels(fromLevels.levels, full.levels);
    await expect(
      hierarchicalKMeans(x, config, backend, {
        resume: {
          levels: [],
          partial: { level: 1, step: 0, centroids: saved.steps.get('1:0') as Matrix },
        },
      }),
    ).rejects.toThrow(/partial step belongs to level 1, expected 0/);
  });

  it('stops with CancelledError when aborted', async () => {
    const controller = new AbortController();
    const run = hierarchicalKMeans(x, config, backend, {
      signal: controller.signal,
      onStep: (t) => {
        if (t === 1) controller.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(CancelledError);
  });

  it('rejects impossible configurations', async () => {
    await expect(hierarchicalKMeans(x, { ...config, levels: [] }, backend)).rejects.toThrow(
      /at least one level/,
    );
    await expect(
      hierarchicalKMeans(x, { ...config, levels: [{ k: 0, sampleSize: 1 }] }, backend),
    ).rejects.toThrow(/k must be an integer >= 1/);
  });
});

describe('buildClusters', () => {
  it('groups rows by label, closest first, ties by row index, empty clusters empty', () => {
    const labels = Int32Array.from([1, 0, 1, 1, 0]);
    const d2 = Float32Array.from([0.5, 2, 0.1, 0.5, 1]);
    const c = buildClusters(labels, d2, 3);
    expect(c.map((m) => Array.from(m))).toEqual([[4, 1], [2, 0, 3], []]);
  });
});
