import { describe, expect, it } from 'vitest';
import { jsKernel } from '../../../src/core/cpu-kernel-js.ts';
import { CancelledError } from '../../../src/core/errors.ts';
import {
  CpuBackend,
  greedyKMeansPlusPlus,
  kmeansPlusPlusTrials,
  lloyd,
} from '../../../src/core/kmeans.ts';
import { createMatrix } from '../../../src/core/matrix.ts';
import { Rng } from '../../../src/core/rng.ts';
import type { CpuKernel, Matrix } from '../../../src/core/types.ts';
import { blobs, dist2, randomMatrix } from './helpers.ts';

/** The real JS kernel, recording how many candidates each distancesTo call scores. */
function recordingKernel(): { kernel: CpuKernel; candidateCounts: number[] } {
  const candidateCounts: number[] = [];
  return {
    candidateCounts,
    kernel: {
      name: 'js-recording',
      assign: (x, c, out) => jsKernel.assign(x, c, out),
      distancesTo: (x, c, out) => {
        candidateCounts.push(c.rows);
        return jsKernel.distancesTo(x, c, out);
      },
    },
  };
}

function rowsOf(m: Matrix): string[] {
  const out: string[] = [];
  for (let i = 0; i < m.rows; i++)
    out.push(Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)).join(','));
  return out;
}

describe('greedy k-means++', () => {
  it('scores 2 + floor(ln k) candidates per centre after a single first centre', async () => {
    for (const k of [1, 2, 7, 20, 55]) {
      const { kernel, candidateCounts } = recordingKernel();
      const x = randomMatrix(300, 4, k);
      const c = await greedyKMeansPlusPlus(x, k, new Rng(1), kernel);
      expect(c.rows).toBe(k);
      const trials = 2 + Math.floor(Math.log(k));
      expect(kmeansPlusPlusTrials(k)).toBe(trials);
      expect(candidateCounts).toEqual([1, ...new Array<number>(k - 1).fill(trials)]);
    }
  });

  it('picks distinct input rows as centres and finds well-separated blobs', async () => {
    const x = blobs([100, 100, 100, 100, 100], 3, 9, 50);
    const c = await greedyKMeansPlusPlus(x, 5, new Rng(2));
    const inputRows = new Set(rowsOf(x));
    for (const r of rowsOf(c)) expect(inputRows.has(r)).toBe(true);
    // One centre per blob: every blob's first point is close to some centre.
    for (let b = 0; b < 5; b++) {
      const nearest = Math.min(...[0, 1, 2, 3, 4].map((j) => dist2(x, b * 100, c, j)));
      expect(nearest).toBeLessThan(100);
    }
  });

  it('caps k at n', async () => {
    const c = await greedyKMeansPlusPlus(randomMatrix(4, 2, 1), 10, new Rng(1));
    expect(c.rows).toBe(4);
  });
});

describe('Lloyd', () => {
  it('never increases the objective and runs exactly nIters rounds by default', async () => {
    const x = blobs([400, 50, 20, 300], 8, 4, 3);
    const init = await greedyKMeansPlusPlus(x, 12, new Rng(3));
    const objectives: number[] = [];
    const res = await lloyd(x, init, { nIters: 15, onObjective: (o) => objectives.push(o) });
    expect(res.iterations).toBe(15);
    expect(objectives.length).toBe(16);
    for (let i = 1; i < objectives.length; i++) {
      expect(objectives[i]).toBeLessThanOrEqual(objectives[i - 1] * (1 + 1e-6));
    }
    expect(objectives[15]).toBeLessThan(objectives[0]);
    expect(res.objective).toBeCloseTo(objectives[15], 6);
  });

  it('stops early only when a tolerance is given', async () => {
    const x = blobs([50, 50], 2, 1, 20);
    const init = await greedyKMeansPlusPlus(x, 2, new Rng(1));
    expect((await lloyd(x, init, { nIters: 30 })).iterations).toBe(30);
    expect((await lloyd(x, init, { nIters: 30, tolerance: 1e-6 })).iterations).toBeLessThan(30);
  });

  it('keeps the previous centroid of an empty cluster', async () => {
    const x = createMatrix(4, 2, Float32Array.from([0, 0, 1, 0, 10, 10, 11, 10]));
    // Centroid 2 is far from every row: its cluster is empty from the start.
    const init = createMatrix(3, 2, Float32Array.from([0, 1, 10, 9, 1000, 1000]));
    const res = await lloyd(x, init, { nIters: 5 });
    expect(Array.from(res.centroids.data.subarray(4, 6))).toEqual([1000, 1000]);
    expect(Array.from(res.centroids.data.subarray(0, 4))).toEqual([0.5, 0, 10.5, 10]);
    expect(Array.from(res.assignment.labels)).toEqual([0, 0, 1, 1]);
    expect(init.data[0]).toBe(0); // the initial centroids are not modified
  });

  it('handles clusters of size 1 (the centroid is that row)', async () => {
    const x = createMatrix(5, 1, Float32Array.from([0, 0.1, 0.2, 50, 100]));
    const res = await new CpuBackend().kmeans(x, 3, { nIters: 10, seed: 4 });
    const cents = Array.from(res.centroids.data).sort((a, b) => a - b);
    expect(cents[0]).toBeCloseTo(0.1, 5);
    expect(cents.slice(1)).toEqual([50, 100]);
    const sizes = [0, 0, 0];
    for (const l of res.assignment.labels) sizes[l]++;
    expect(sizes.sort()).toEqual([1, 1, 3]);
  });
});

describe('CpuBackend', () => {
  it('is named after its kernel and deterministic for a seed', async () => {
    const b = new CpuBackend();
    expect(b.name).toBe('cpu-js');
    const x = randomMatrix(500, 6, 11);
    const r1 = await b.kmeans(x, 17, { nIters: 10, seed: 5 });
    const r2 = await b.kmeans(x, 17, { nIters: 10, seed: 5 });
    const r3 = await b.kmeans(x, 17, { nIters: 10, seed: 6 });
    expect(r1.centroids.data).toEqual(r2.centroids.data);
    expect(r1.assignment.labels).toEqual(r2.assignment.labels);
    expect(r1.centroids.data).not.toEqual(r3.centroids.data);
  });

  it('caps k at the number of rows', async () => {
    const res = await new CpuBackend().kmeans(randomMatrix(6, 3, 1), 50, { nIters: 3, seed: 1 });
    expect(res.centroids.rows).toBe(6);
    expect(res.objective).toBeCloseTo(0, 6);
  });

  it('throws CancelledError when aborted, and reports rounds', async () => {
    const x = randomMatrix(200, 4, 2);
    const rounds: number[] = [];
    const res = await new CpuBackend().kmeans(x, 5, {
      nIters: 4,
      seed: 1,
      onIteration: (r, total) => rounds.push(r * 10 + total),
    });
    expect(res.iterations).toBe(4);
    expect(rounds).toEqual([14, 24, 34, 44]);
    const controller = new AbortController();
    const run = new CpuBackend().kmeans(x, 5, {
      nIters: 50,
      seed: 1,
      signal: controller.signal,
      onIteration: (r) => {
        if (r === 2) controller.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    await expect(run).rejects.toHaveProperty('name', 'AbortError');
  });
});
