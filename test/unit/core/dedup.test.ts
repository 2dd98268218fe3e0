import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DEDUP_THRESHOLD,
  backendCoarseAssign,
  centreAndNormalise,
  findDuplicates,
  type CoarseAssign,
  type DedupResult,
} from '../../../src/core/dedup.ts';
import { duplicatePool, type DuplicatePool } from '../../../src/core/dedup-pool.ts';
import { CancelledError } from '../../../src/core/errors.ts';

/** Pairs of rows that share a group, against pairs that share a base (the truth). */
function pairScores(pool: DuplicatePool, r: DedupResult): { precision: number; recall: number } {
  const pairsOf = (ids: Int32Array, skip: (v: number) => boolean): Set<string> => {
    const byId = new Map<number, number[]>();
    ids.forEach((v, i) => {
      if (skip(v)) return;
      const list = byId.get(v) ?? [];
      list.push(i);
      byId.set(v, list);
    });
    const out = new Set<string>();
    for (const rows of byId.values())
      for (let a = 0; a < rows.length; a++)
        for (let b = a + 1; b < rows.length; b++) out.add(`${rows[a]},${rows[b]}`);
    return out;
  };
  const truth = pairsOf(pool.base, () => false);
  const found = pairsOf(r.group, (v) => v < 0);
  let both = 0;
  for (const p of found) if (truth.has(p)) both++;
  return {
    precision: found.size === 0 ? 1 : both / found.size,
    recall: truth.size === 0 ? 1 : both / truth.size,
  };
}

const cpu = backendCoarseAssign();

/** 3000 bases in 8 classes, a third of them copied 1-4 times: about 5500 rows, 64 dims. */
const pool = duplicatePool({
  bases: 3000,
  d: 64,
  classes: 8,
  copiedShare: 1 / 3,
  maxCopies: 4,
  seed: 7,
});

describe('findDuplicates', () => {
  it('finds the known groups at the default threshold (precision and recall >= 0.95)', async () => {
    const r = await findDuplicates(
      pool.x,
      pool.n,
      pool.d,
      { threshold: DEFAULT_DEDUP_THRESHOLD, seed: 1 },
      cpu,
    );
    const { precision, recall } = pairScores(pool, r);
    expect(precision).toBeGreaterThanOrEqual(0.95);
    expect(recall).toBeGreaterThanOrEqual(0.95);
    // The pool is split at least once (more rows than one block), so boundaries were crossed.
    expect(pool.n).toBeGreaterThan(1024);
  });

  it('never puts two labels in one group', async () => {
    const r = await findDuplicates(pool.x, pool.n, pool.d, { threshold: 0.9, seed: 2 }, cpu);
    const labelOf = new Map<number, number>();
    for (let i = 0; i < pool.n; i++) {
      const g = r.group[i];
      if (g < 0) continue;
      const l = labelOf.get(g);
      if (l === undefined) labelOf.set(g, pool.label[i]);
      else expect(l).toBe(pool.label[i]);
    }
    expect(labelOf.size).toBe(r.groups);
  });

  it('keeps exactly one representative per group, a member of it', async () => {
    const r = await findDuplicates(pool.x, pool.n, pool.d, { threshold: 0.9, seed: 3 }, cpu);
    expect(r.groups).toBeGreaterThan(0);
    const members = new Int32Array(r.groups);
    let kept = 0;
    for (let i = 0; i < pool.n; i++) {
      if (r.group[i] >= 0) members[r.group[i]]++;
      if (r.keep[i]) kept++;
      if (r.group[i] < 0) expect(r.keep[i]).toBe(1);
    }
    for (let g = 0; g < r.groups; g++) {
      const rep = r.representative[g];
      expect(r.group[rep]).toBe(g);
      expect(r.keep[rep]).toBe(1);
      expect(members[g]).toBeGreaterThanOrEqual(2);
    }
    expect(r.removed).toBe(pool.n - kept);
    let inGroups = 0;
    for (const m of members) inGroups += m;
    expect(r.removed).toBe(inGroups - r.groups);
  });

  it('keeps the member closest to the group centre', async () => {
    // Unit rows at angles 0.1, -0.1 and 0 rad: the last is closest to the three's mean.
    const at = (a: number): number[] => [Math.cos(a), Math.sin(a)];
    const x = new Float32Array([
      ...at(Math.PI),
      ...at(-Math.PI / 2),
      ...at(0.1),
      ...at(-0.1),
      ...at(0),
    ]);
    const r = await findDuplicates(x, 5, 2, { threshold: 0.97, seed: 1, prepared: true }, cpu);
    expect(r.groups).toBe(1);
    expect(r.representative[0]).toBe(4);
    expect(Array.from(r.keep)).toEqual([1, 1, 0, 0, 1]);
  });

  it('is deterministic: same input and seed give the same groups', async () => {
    const opts = { threshold: 0.9, seed: 11, coarseK: 12 };
    const a = await findDuplicates(pool.x, pool.n, pool.d, opts, cpu);
    const b = await findDuplicates(pool.x, pool.n, pool.d, opts, cpu);
    expect(b.group).toEqual(a.group);
    expect(b.representative).toEqual(a.representative);
  });

  it('keeps recall with many small coarse clusters (boundary misses are rare)', async () => {
    const r = await findDuplicates(
      pool.x,
      pool.n,
      pool.d,
      { threshold: 0.9, seed: 5, coarseK: 40 },
      cpu,
    );
    const { precision, recall } = pairScores(pool, r);
    expect(precision).toBeGreaterThanOrEqual(0.95);
    expect(recall).toBeGreaterThanOrEqual(0.9);
  });

  it('gives the same groups for prepared rows as for raw rows', async () => {
    const small = duplicatePool({
      bases: 300,
      d: 16,
      classes: 3,
      copiedShare: 0.5,
      maxCopies: 3,
      seed: 4,
    });
    const raw = await findDuplicates(small.x, small.n, small.d, { threshold: 0.9, seed: 1 }, cpu);
    const y = centreAndNormalise(small.x, small.n, small.d);
    const prep = await findDuplicates(
      y,
      small.n,
      small.d,
      { threshold: 0.9, seed: 1, prepared: true },
      cpu,
    );
    expect(prep.group).toEqual(raw.group);
  });

  it('groups exact copies of the mean row (zero after centring) together', async () => {
    const x = new Float32Array([1, 0, -1, 0, 0, 0, 0, 0, 0, 1, 0, -1]);
    const r = await findDuplicates(x, 6, 2, { threshold: 0.99, seed: 1 }, cpu);
    // rows 2 and 3... are (0,0), the mean of the pool
    expect(Array.from(r.group)).toEqual([-1, -1, 0, 0, -1, -1]);
    expect(r.removed).toBe(1);
  });

  it('groups a cluster that k-means cannot split in one pass', async () => {
    const n = 1500;
    const x = new Float32Array(n * 4);
    for (let i = 0; i < n; i++) x.set(i < 1400 ? [1, 2, 3, 4] : [4, 3, 2, i], i * 4);
    const r = await findDuplicates(x, n, 4, { threshold: 0.95, seed: 1 }, cpu);
    expect(r.group[0]).toBe(r.group[1399]);
    expect(r.removed).toBeGreaterThanOrEqual(1399);
  });

  it('refuses a bad threshold, shape or coarse labels with a clear message', async () => {
    const x = new Float32Array(6);
    await expect(findDuplicates(x, 3, 2, { threshold: 1.5, seed: 1 }, cpu)).rejects.toThrow(
      /threshold must be a cosine similarity in \(0, 1\]/,
    );
    await expect(findDuplicates(x, 4, 2, { threshold: 0.9, seed: 1 }, cpu)).rejects.toThrow(
      /need 8 values/,
    );
    const bad: CoarseAssign = async (_x, n) => new Int32Array(n).fill(99);
    await expect(
      findDuplicates(pool.x, pool.n, pool.d, { threshold: 0.9, seed: 1 }, bad),
    ).rejects.toThrow(/label 99 outside/);
  });

  it('stops on cancel', async () => {
    const ctl = new AbortController();
    ctl.abort();
    await expect(
      findDuplicates(pool.x, pool.n, pool.d, { threshold: 0.9, seed: 1 }, cpu, ctl.signal),
    ).rejects.toBeInstanceOf(CancelledError);
  });
});
