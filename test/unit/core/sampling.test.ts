import { describe, expect, it } from 'vitest';
import { hierarchicalKMeans, type Hierarchy } from '../../../src/core/hierarchy.ts';
import { CpuBackend } from '../../../src/core/kmeans.ts';
import { Rng } from '../../../src/core/rng.ts';
import {
  allocate,
  allocationTree,
  rawCounts,
  sampleHierarchy,
} from '../../../src/core/sampling.ts';
import { blobs } from './helpers.ts';

describe('allocate (algorithm.md section 3)', () => {
  it('sizes [50,30,5,2], B=40 -> [16|17, 17|16, 5, 2] summing to 40, over many seeds', () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 200; seed++) {
      const a = allocate([50, 30, 5, 2], 40, new Rng(seed));
      expect(a.reduce((s, v) => s + v, 0)).toBe(40);
      expect(a.slice(2)).toEqual([5, 2]);
      expect([16, 17]).toContain(a[0]);
      expect(a[0] + a[1]).toBe(33);
      seen.add(a.join(','));
    }
    // The extra point goes to either big cluster, chosen at random.
    expect(seen).toEqual(new Set(['16,17,5,2', '17,16,5,2']));
  });

  it('B=100 over [50,30,5,2] returns the capacities', () => {
    for (let seed = 0; seed < 50; seed++) {
      expect(allocate([50, 30, 5, 2], 100, new Rng(seed))).toEqual([50, 30, 5, 2]);
    }
  });

  it('[7000,1000,500,500], B=1000 -> [250,250,250,250]', () => {
    for (let seed = 0; seed < 50; seed++) {
      expect(allocate([7000, 1000, 500, 500], 1000, new Rng(seed))).toEqual([250, 250, 250, 250]);
    }
  });

  it('water-fills: nobody above the level unless capped below, +1 only where there is room', () => {
    const rng = new Rng(1);
    for (let trial = 0; trial < 300; trial++) {
      const caps = Array.from({ length: 1 + rng.int(12) }, () => rng.int(40));
      const total = caps.reduce((a, b) => a + b, 0);
      const budget = rng.int(total + 5);
      const a = allocate(caps, budget, rng);
      expect(a.reduce((s, v) => s + v, 0)).toBe(Math.min(budget, total));
      const maxA = Math.max(0, ...a);
      a.forEach((v, i) => {
        expect(v).toBeLessThanOrEqual(caps[i]);
        // A cluster below its cap is at most one below the largest allocation.
        if (v < caps[i]) expect(v).toBeGreaterThanOrEqual(maxA - 1);
      });
    }
    expect(allocate([], 5, rng)).toEqual([]);
    expect(allocate([3, 4], 0, rng)).toEqual([0, 0]);
    expect(() => allocate([1], -1, rng)).toThrow(/budget/);
  });
});

describe('sampleHierarchy', () => {
  let h: Hierarchy;
  const x = blobs([700, 200, 60, 25, 10, 5], 3, 5, 6);
  const n = x.rows;

  async function hierarchy(): Promise<Hierarchy> {
    h ??= await hierarchicalKMeans(
      x,
      {
        levels: [
          { k: 100, sampleSize: 1 },
          { k: 20, sampleSize: 2 },
          { k: 5, sampleSize: 2 },
        ],
        resamplingSteps: 2,
        strategy: 'closest',
        nIters: 10,
        seed: 1,
      },
      new CpuBackend(),
    );
    return h;
  }

  it('draws exactly the target, sorted, without duplicates', async () => {
    const hh = await hierarchy();
    for (const leafStrategy of ['random', 'closest', 'furthest'] as const) {
      const sel = sampleHierarchy(hh, 300, { leafStrategy, seed: 3 });
      expect(sel.length).toBe(300);
      expect(new Set(sel).size).toBe(300);
      for (let i = 1; i < sel.length; i++) expect(sel[i]).toBeGreaterThan(sel[i - 1]);
      expect(sel[0]).toBeGreaterThanOrEqual(0);
      expect(sel[sel.length - 1]).toBeLessThan(n);
    }
  });

  it('is deterministic for a seed and differs across seeds', async () => {
    const hh = await hierarchy();
    const a = sampleHierarchy(hh, 250, { leafStrategy: 'random', seed: 7 });
    const b = sampleHierarchy(hh, 250, { leafStrategy: 'random', seed: 7 });
    const c = sampleHierarchy(hh, 250, { leafStrategy: 'random', seed: 8 });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('gives every cluster at every level exactly its allocated budget', async () => {
    const hh = await hierarchy();
    const tree = allocationTree(hh, 300, { seed: 4 });
    const sel = sampleHierarchy(hh, 300, { leafStrategy: 'random', seed: 4 });
    expect(tree.total).toBe(300);
    // Count selected raw rows per cluster, level by level, through the labels.
    let owner = Int32Array.from(sel, (i) => hh.levels[0].labels[i]);
    hh.levels.forEach((level, t) => {
      if (t > 0) owner = Int32Array.from(owner, (j) => level.labels[j]);
      const got = new Int32Array(level.k);
      for (const j of owner) got[j]++;
      expect(got).toEqual(tree.budgets[t]);
      expect(tree.budgets[t].reduce((a, b) => a + b, 0)).toBe(300);
    });
    // Top level is water-filled over raw counts.
    const top = tree.rawCounts[hh.levels.length - 1];
    expect(Array.from(tree.budgets[hh.levels.length - 1])).toEqual(
      allocate(Array.from(top), 300, new Rng(Rng.derive(4, 1))),
    );
    expect(rawCounts(hh)[0].reduce((a, b) => a + b, 0)).toBe(n);
  });

  it('is more balanced over the blobs than the pool', async () => {
    const hh = await hierarchy();
    const sel = sampleHierarchy(hh, 150, { leafStrategy: 'random', seed: 2 });
    // Blob 0 is 700 of 1000 rows; a balanced sample gives it far less than 70%.
    const fromBig = Array.from(sel).filter((i) => i < 700).length;
    expect(fromBig / sel.length).toBeLessThan(0.5);
  });

  it('picks the closest or furthest members of a leaf', async () => {
    const hh = await hierarchy();
    const tree = allocationTree(hh, 300, { seed: 5 });
    const closest = new Set(sampleHierarchy(hh, 300, { leafStrategy: 'closest', seed: 5 }));
    const furthest = new Set(sampleHierarchy(hh, 300, { leafStrategy: 'furthest', seed: 5 }));
    hh.levels[0].clusters.forEach((members, j) => {
      const b = tree.budgets[0][j];
      for (let i = 0; i < members.length; i++) {
        expect(closest.has(members[i])).toBe(i < b);
        expect(furthest.has(members[i])).toBe(i >= members.length - b);
      }
    });
  });

  it('returns the whole pool when the target exceeds it, and repeats rows with a multiplier', async () => {
    const hh = await hierarchy();
    const all = sampleHierarchy(hh, 5000, { leafStrategy: 'random', seed: 1 });
    expect(Array.from(all)).toEqual(Array.from({ length: n }, (_, i) => i));
    const rep = sampleHierarchy(hh, 1500, { leafStrategy: 'random', seed: 1, multiplier: 3 });
    expect(rep.length).toBe(1500);
    const counts = new Map<number, number>();
    for (const i of rep) counts.set(i, (counts.get(i) ?? 0) + 1);
    expect(Math.max(...counts.values())).toBeGreaterThan(1);
    expect(Math.max(...counts.values())).toBeLessThanOrEqual(3);
    for (let i = 1; i < rep.length; i++) expect(rep[i]).toBeGreaterThanOrEqual(rep[i - 1]);
  });

  it('rejects a non-positive target', async () => {
    const hh = await hierarchy();
    expect(() => sampleHierarchy(hh, 0, { leafStrategy: 'random', seed: 1 })).toThrow(/positive/);
  });
});
