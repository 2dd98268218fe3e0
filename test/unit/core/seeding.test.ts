/**
 * k-means++ on a sample (src/core/seeding.ts): which rows it seeds from, that every CPU kernel
 * and the hierarchy use the same rule, and that the objective after Lloyd stays within 1% of
 * greedy k-means++ on every row (bench/seeding.ts measures the 100k x 384 regime).
 */
import { describe, expect, it } from 'vitest';
import { jsKernel } from '../../../src/core/cpu-kernel-js.ts';
import { estimateFlopsParts } from '../../../src/core/defaults.ts';
import { hierarchicalKMeans } from '../../../src/core/hierarchy.ts';
import {
  CpuBackend,
  greedyKMeansPlusPlus,
  kmeansPlusPlusTrials,
} from '../../../src/core/kmeans.ts';
import { Rng } from '../../../src/core/rng.ts';
import {
  SEED_MIN_ROWS,
  SEED_ROWS_PER_CLUSTER,
  seedingInput,
  seedingRows,
} from '../../../src/core/seeding.ts';
import type { CpuKernel } from '../../../src/core/types.ts';
import { blobs } from './helpers.ts';

describe('seeding rows', () => {
  it('are all rows up to SEED_MIN_ROWS, else SEED_ROWS_PER_CLUSTER a cluster', () => {
    expect(seedingRows(9000, 300)).toBe(9000);
    expect(seedingRows(SEED_MIN_ROWS, 10)).toBe(SEED_MIN_ROWS);
    expect(seedingRows(100_000, 100)).toBe(SEED_MIN_ROWS);
    expect(seedingRows(100_000, 5000)).toBe(SEED_ROWS_PER_CLUSTER * 5000);
    expect(seedingRows(100_000, 30_000)).toBe(100_000);
    expect(seedingRows(100_000, 5000, 'full')).toBe(100_000);
  });

  it('are a sorted sample of distinct rows, the same for the same seed', () => {
    const x = blobs([12_000, 8_000], 3, 1);
    expect(seedingInput(x, 10, 1, 'full')).toBe(x);
    const a = seedingInput(x, 10, 7);
    const b = seedingInput(x, 10, 7);
    const c = seedingInput(x, 10, 8);
    expect(a.rows).toBe(SEED_MIN_ROWS);
    expect(a.data).toEqual(b.data);
    expect(a.data).not.toEqual(c.data);
    // every row of the sample is a whole row of x, in x's order (column 0 holds the row index)
    for (let i = 0; i < x.rows; i++) x.data[i * 3] = i;
    const s = seedingInput(x, 10, 7);
    let last = -1;
    let inOrder = true;
    let whole = true;
    for (let i = 0; i < s.rows; i++) {
      const at = s.data[i * 3];
      inOrder &&= at > last;
      whole &&=
        s.data[i * 3 + 1] === x.data[at * 3 + 1] && s.data[i * 3 + 2] === x.data[at * 3 + 2];
      last = at;
    }
    expect([inOrder, whole]).toEqual([true, true]);
  });

  it('are what the CPU backend seeds from, and the cost model counts only them', async () => {
    const x = blobs([15_000, 5_000], 2, 2);
    const seen: number[] = [];
    const kernel: CpuKernel = {
      name: 'js-recording',
      assign: (m, c, out) => jsKernel.assign(m, c, out),
      distancesTo: (m, c, out) => {
        seen.push(m.rows);
        return jsKernel.distancesTo(m, c, out);
      },
    };
    const r = await new CpuBackend(kernel).kmeans(x, 20, { nIters: 0, seed: 3 });
    expect(new Set(seen)).toEqual(new Set([SEED_MIN_ROWS]));
    // the same centres as greedy k-means++ on the sample with the run's generator
    const init = await greedyKMeansPlusPlus(seedingInput(x, 20, 3), 20, new Rng(3));
    const expected = await new CpuBackend().assign(x, init);
    expect(r.assignment.labels).toEqual(expected.labels);

    const config = {
      levels: [{ k: 20, sampleSize: 1 }],
      resamplingSteps: 0,
      strategy: 'closest' as const,
      nIters: 0,
      seed: 0,
    };
    const pass = (rows: number): number => 2 * rows * 20 * 2;
    expect(estimateFlopsParts(x.rows, 2, config).init).toBe(
      kmeansPlusPlusTrials(20) * pass(SEED_MIN_ROWS),
    );
    expect(estimateFlopsParts(x.rows, 2, { ...config, seeding: 'full' }).init).toBe(
      kmeansPlusPlusTrials(20) * pass(x.rows),
    );
  });

  it('keeps the objective after Lloyd within 1% of seeding from every row', async () => {
    // 40 blobs of uneven size in 4-D, k = 150: sampled seeding sees SEED_MIN_ROWS of 26000 rows.
    const sizes = Array.from({ length: 40 }, (_, i) => 150 + ((i * 7919) % 1000));
    const x = blobs(sizes, 4, 4, 4);
    expect(seedingRows(x.rows, 150)).toBeLessThan(x.rows * 0.7);
    for (const seed of [1]) {
      const opts = { nIters: 10, seed };
      const full = await new CpuBackend().kmeans(x, 150, { ...opts, seeding: 'full' });
      const sampled = await new CpuBackend().kmeans(x, 150, opts);
      expect(Math.abs(sampled.objective / full.objective - 1)).toBeLessThan(0.01);
    }
  });

  it('are passed from the hierarchy config to every k-means run', async () => {
    const x = blobs([10_000, 8_000], 2, 5);
    const seen: number[] = [];
    const backend = new CpuBackend();
    const spy = {
      name: 'spy',
      kmeans: (m: typeof x, k: number, o: Parameters<CpuBackend['kmeans']>[2]) => {
        seen.push(seedingRows(m.rows, k, o.seeding));
        return backend.kmeans(m, k, o);
      },
      assign: backend.assign.bind(backend),
    };
    const config = {
      levels: [{ k: 10, sampleSize: 1 }],
      resamplingSteps: 0,
      strategy: 'closest' as const,
      nIters: 1,
      seed: 0,
    };
    await hierarchicalKMeans(x, config, spy);
    await hierarchicalKMeans(x, { ...config, seeding: 'full' }, spy);
    expect(seen).toEqual([SEED_MIN_ROWS, x.rows]);
  });
});
