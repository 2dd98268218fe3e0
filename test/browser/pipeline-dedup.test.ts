import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteDB } from 'idb';
import {
  DEFAULT_DEDUP_THRESHOLD,
  duplicatePool,
  writeNpy,
  type DuplicatePool,
} from '../../src/core';
import { CancelledError } from '../../src/core/errors';
import { planForRows } from '../../src/pipeline/settings';
import { Workspace } from '../../src/pipeline/workspace';
import type { RunSettings } from '../../src/pipeline/contract';
import { openStrataDb } from '../../src/store/db';
import { getDedup, type DedupData } from '../../src/store/dedup';
import { getLevels } from '../../src/store/levels';

/** About 330 rows in 16-D: 220 bases in 4 classes, 40% of them copied 1-3 times. */
// 64-D, as in the core test: in 16-D two distinct rows of one class often sit above the default
// threshold by chance, which real embeddings (hundreds of dimensions) do not.
const POOL: DuplicatePool = duplicatePool({
  bases: 220,
  d: 64,
  classes: 4,
  copiedShare: 0.4,
  maxCopies: 3,
  seed: 3,
});

const SETTINGS: RunSettings = {
  model: 'precomputed',
  provider: 'auto',
  batchSize: 8,
  normalisation: 'l2',
  k: [24, 6],
  r: [1, 3],
  resamplingSteps: 2,
  resampleStrategy: 'closest',
  iterations: 6,
  target: 60,
  leafStrategy: 'random',
  seed: 5,
  backend: 'cpu',
  dedup: DEFAULT_DEDUP_THRESHOLD,
};

const dbName = `strata-dedup-${crypto.randomUUID()}`;
let datasetId: string;

beforeAll(async () => {
  const ws = await Workspace.open({ dbName });
  const npy = writeNpy(POOL.x, [POOL.n, POOL.d]) as Uint8Array<ArrayBuffer>;
  datasetId = (await ws.ingest({ kind: 'precomputed', npy: new File([npy], 'pool.npy') })).dataset
    .id;
  await ws.close();
});

afterAll(async () => {
  await deleteDB(dbName);
});

async function storedGroups(runId: string): Promise<DedupData | undefined> {
  const db = await openStrataDb(dbName);
  try {
    return await getDedup(db, runId);
  } finally {
    db.close();
  }
}

async function level1(runId: string) {
  const db = await openStrataDb(dbName);
  try {
    return (await getLevels(db, runId, { centroids: false }))[0];
  } finally {
    db.close();
  }
}

describe('the dedup stage', () => {
  it('finds the known groups, clusters only the kept rows, and never samples a removed one', async () => {
    const ws = await Workspace.open({ dbName });
    const run = await ws.start((await ws.createRun(datasetId, SETTINGS)).id);
    expect(run.status).toBe('done');
    expect(run.stages.dedup.status).toBe('done');
    expect(run.counters.dedupComputed).toBe(1);
    const g = (await storedGroups(run.id))!;
    expect(run.duplicates).toEqual({ groups: g.groups, removed: g.removed });
    // Same groups as the known ones: every pair of one group shares a base, and back.
    let truePairs = 0;
    let foundPairs = 0;
    let both = 0;
    for (let a = 0; a < POOL.n; a++) {
      for (let b = a + 1; b < POOL.n; b++) {
        const t = POOL.base[a] === POOL.base[b];
        const f = g.group[a] >= 0 && g.group[a] === g.group[b];
        truePairs += t ? 1 : 0;
        foundPairs += f ? 1 : 0;
        both += t && f ? 1 : 0;
      }
    }
    expect(both / foundPairs).toBeGreaterThanOrEqual(0.95);
    expect(both / truePairs).toBeGreaterThanOrEqual(0.95);

    const l1 = (await level1(run.id))!;
    // Labels cover every row; members (what sampling draws from) only the kept ones.
    expect(l1.labels.length).toBe(POOL.n);
    expect(l1.members.length).toBe(POOL.n - g.removed);
    const members = new Set(l1.members);
    for (let i = 0; i < POOL.n; i++) expect(members.has(i)).toBe(g.keep[i] === 1);
    const selection = await ws.selection(run.id);
    for (const r of selection) expect(g.keep[r]).toBe(1);

    // The explorer's view: every group, largest first, the kept row first.
    const page = (await ws.duplicates(run.id, 0, 1000))!;
    expect(page.total).toBe(g.groups);
    expect(page.removed).toBe(g.removed);
    expect(page.groups.map((x) => x.rows.length)).toEqual(
      page.groups.map((x) => x.rows.length).sort((p, q) => q - p),
    );
    for (const x of page.groups) expect(x.rows[0]).toBe(g.representative[x.id]);

    // The manifest is the subset alone by default, and says the rows set aside are not listed.
    const csv = async (listDuplicates: boolean): Promise<string[][]> =>
      (await (await ws.manifest(run.id, 'csv', { listDuplicates })).text())
        .trim()
        .split('\r\n')
        .map((l) => l.split(','));
    const plain = await csv(false);
    expect(plain[0]).not.toContain('duplicate_of');
    expect(plain.length - 1).toBe(selection.length);
    const meta = async (listDuplicates: boolean): Promise<Record<string, unknown>> =>
      (
        JSON.parse(await (await ws.manifest(run.id, 'json', { listDuplicates })).text()) as {
          meta: Record<string, unknown>;
        }
      ).meta;
    expect((await meta(false)).duplicates_listed).toBe(false);
    expect((await meta(true)).duplicates_listed).toBe(true);
    // Asked for, it lists the rows set aside after the subset, naming the kept item's path.
    let table = await csv(true);
    const col = table[0].indexOf('duplicate_of');
    expect(col).toBeGreaterThan(0);
    expect(table.slice(1).filter((f) => f[col] !== '').length).toBe(g.removed);
    expect(table.slice(1).filter((f) => f[col] === '').length).toBe(selection.length);

    // A row set aside says so up close, naming the item kept for it.
    const asideRow = g.keep.findIndex((v) => v === 0);
    const aside = await ws.itemDetail(run.id, asideRow);
    expect(aside.why).toMatch(/^Set aside as a near-duplicate of /);
    const asideGroup = g.group[asideRow];
    expect(aside.duplicates).toMatchObject({
      group: asideGroup,
      size: g.group.filter((x) => x === asideGroup).length,
      representative: g.representative[asideGroup],
    });
    const kept = await ws.itemDetail(run.id, g.representative[asideGroup]);
    expect(kept.duplicates?.representative).toBe(g.representative[asideGroup]);
    const lone = g.group.findIndex((x) => x < 0);
    if (lone >= 0) expect((await ws.itemDetail(run.id, lone)).duplicates).toBeNull();

    // The map's facts: every row's group, and the rows set aside (what the map colours apart).
    const facts = await ws.rowFacts(run.id);
    expect([...facts.duplicateGroup]).toEqual([...g.group]);
    expect([...facts.setAside]).toEqual([...g.keep].map((v) => 1 - v));

    // "Keep these too" on the largest group: an include edit brings its members into the subset.
    const big = page.groups[0];
    const back = big.rows.slice(1);
    await ws.edit(run.id, 'include', back, 'near-duplicates of the largest group');
    const after = new Set(await ws.selection(run.id));
    for (const r of back) expect(after.has(r)).toBe(true);
    table = await csv(true);
    expect(table.slice(1).filter((f) => f[col] !== '').length).toBe(g.removed - back.length);
    await ws.close();
  });

  it('after a closed tab right after dedup, resumes with the same groups and does not search again', async () => {
    let ws = await Workspace.open({ dbName });
    const reference = await ws.start((await ws.createRun(datasetId, SETTINGS)).id);
    const run = await ws.createRun(datasetId, SETTINGS);
    let closing: Promise<void> | null = null;
    const first = ws;
    first.subscribe((e) => {
      if (!closing && e.type === 'stage' && e.stage === 'cluster' && e.status === 'running') {
        closing = first.close();
      }
    });
    await expect(first.start(run.id)).rejects.toThrow();
    await closing;

    ws = await Workspace.open({ dbName });
    const before = (await ws.unfinishedRuns()).find((r) => r.id === run.id)!;
    expect(before.stages.dedup.status).toBe('done');
    expect(before.counters.dedupComputed).toBe(1);
    const resumed = await ws.resume(run.id);
    expect(resumed.status).toBe('done');
    expect(resumed.counters.dedupComputed).toBe(1);
    const [a, b] = [(await storedGroups(reference.id))!, (await storedGroups(run.id))!];
    expect(Array.from(b.group)).toEqual(Array.from(a.group));
    expect(Array.from(b.representative)).toEqual(Array.from(a.representative));
    expect(Array.from(await ws.selection(run.id))).toEqual(
      Array.from(await ws.selection(reference.id)),
    );
    await ws.close();
  });

  it('after a cancel during dedup, resumes and finds the same groups', async () => {
    const ws = await Workspace.open({ dbName });
    const reference = await ws.start((await ws.createRun(datasetId, SETTINGS)).id);
    const run = await ws.createRun(datasetId, SETTINGS);
    const off = ws.subscribe((e) => {
      if (e.type === 'progress' && e.stage === 'dedup') ws.cancel(run.id);
    });
    await expect(ws.start(run.id)).rejects.toBeInstanceOf(CancelledError);
    off();
    const cancelled = (await ws.getRun(run.id))!;
    expect(cancelled.stages.dedup.status).toBe('cancelled');
    expect(cancelled.counters.dedupComputed).toBe(0);
    expect(await storedGroups(run.id)).toBeUndefined();

    const resumed = await ws.resume(run.id);
    expect(resumed.counters.dedupComputed).toBe(1);
    const [a, b] = [(await storedGroups(reference.id))!, (await storedGroups(run.id))!];
    expect(Array.from(b.group)).toEqual(Array.from(a.group));
    await ws.close();
  });

  it('plans the automatic k, r and rounds for the rows kept, and keeps the ones given', async () => {
    const ws = await Workspace.open({ dbName });
    const suggested = await ws.suggestSettings(datasetId);
    const auto: RunSettings = { ...suggested.settings, dedup: DEFAULT_DEDUP_THRESHOLD, seed: 5 };
    expect(auto.autoPlan).toEqual(['k', 'r', 'iterations']);
    const run = await ws.start((await ws.createRun(datasetId, auto)).id);
    expect(run.status).toBe('done');
    const kept = POOL.n - run.duplicates!.removed;
    const planned = planForRows(auto, kept, POOL.d, suggested.throughput);
    expect(run.settings.k).toEqual(planned.k);
    expect(run.settings.r).toEqual(planned.r);
    expect(run.settings.k[0]).toBeLessThan(auto.k[0]);
    expect((await level1(run.id))!.k).toBe(planned.k[0]);
    expect(run.notices.map((x) => x.message).join('\n')).toMatch(
      new RegExp(`Planned for the ${kept} items left after near-duplicate removal: `),
    );
    // A level 1 the person set is kept, capped at the rows left with a plain warning.
    const own = { ...SETTINGS, k: [POOL.n, 6], r: [1, 3], autoPlan: ['iterations' as const] };
    const capped = await ws.start((await ws.createRun(datasetId, own)).id);
    expect(capped.settings.k).toEqual([kept, 6]);
    expect(capped.notices.map((x) => x.message).join('\n')).toMatch(
      new RegExp(
        `Level 1 asks for ${POOL.n} clusters but only ${kept} items are left after near-duplicate removal`,
      ),
    );
    await ws.close();
  });

  it('runs no search with the setting off', async () => {
    const ws = await Workspace.open({ dbName });
    const run = await ws.start((await ws.createRun(datasetId, { ...SETTINGS, dedup: null })).id);
    expect(run.stages.dedup.status).toBe('done');
    expect(run.counters.dedupComputed).toBe(0);
    expect(run.duplicates).toBeUndefined();
    expect((await level1(run.id))!.members.length).toBe(POOL.n);
    await ws.close();
  });
});
