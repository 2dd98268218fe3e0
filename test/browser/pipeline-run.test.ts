import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteDB } from 'idb';
import { Rng, writeNpy } from '../../src/core';
import { Workspace } from '../../src/pipeline/workspace';
import type { RunSettings, WorkspaceEvent } from '../../src/pipeline/contract';

/**
 * A long-tailed pool of precomputed embeddings: 4 concepts of 90 / 30 / 12 / 8 points around
 * well-separated centres in 16-D, ids "concept/i" so folder labels measure balance.
 */
function pool(): { npy: File; ids: File; n: number } {
  const sizes = [90, 30, 12, 8];
  const d = 16;
  const rng = new Rng(7);
  const rows: number[] = [];
  const ids: string[] = [];
  sizes.forEach((size, c) => {
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < d; j++) rows.push((j === c * 4 ? 5 : 0) + rng.normal() * 0.3);
      ids.push(`concept${c}/${i}.jpg`);
    }
  });
  const n = ids.length;
  const npy = writeNpy(Float32Array.from(rows), [n, d]);
  return {
    npy: new File([npy as Uint8Array<ArrayBuffer>], 'pool.npy'),
    ids: new File([ids.join('\n')], 'ids.txt'),
    n,
  };
}

export const SETTINGS: RunSettings = {
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

const dbName = `strata-run-${crypto.randomUUID()}`;
let ws: Workspace;

beforeAll(async () => {
  ws = await Workspace.open({ dbName });
});

afterAll(async () => {
  await ws?.close();
  await deleteDB(dbName);
});

describe('a run on precomputed embeddings', () => {
  it('runs every stage from the database, reports progress, and explores and exports the result', async () => {
    const { npy, ids, n } = pool();
    const report = await ws.ingest({ kind: 'precomputed', npy, ids });
    expect(report.dataset).toMatchObject({ source: 'precomputed', itemCount: n, dim: 16 });
    expect(report.dataset.labels).toEqual(['concept0', 'concept1', 'concept2', 'concept3']);

    const suggested = await ws.suggestSettings(report.dataset.id);
    expect(suggested.settings.model).toBe('precomputed');
    expect(suggested.settings.target).toBeLessThan(n);
    expect(
      ws.validateSettings(suggested.settings, n).filter((p) => p.severity === 'error'),
    ).toEqual([]);

    const events: WorkspaceEvent[] = [];
    ws.subscribe((e) => events.push(e));
    const created = await ws.createRun(report.dataset.id, SETTINGS);
    expect(created.status).toBe('created');
    const run = await ws.start(created.id);

    expect(run.status).toBe('done');
    expect(Object.values(run.stages).map((s) => s.status)).toEqual([
      'done',
      'done',
      'done',
      'done',
      'done',
    ]);
    expect(run.rows).toBe(n);
    expect(run.dim).toBe(16);
    expect(run.selected).toBe(SETTINGS.target);
    expect(run.backendUsed).toMatch(/cpu/);
    expect(run.counters).toEqual({
      embedded: 0,
      embedReused: n,
      levelsComputed: 2,
      // level 1 has r = 1 (no resampling): its first fit only; level 2: first fit + 3 refits
      stepsComputed: 1 + 4,
      clusterResumes: 0,
      dedupComputed: 0,
    });

    const progress = events.filter((e) => e.type === 'progress' && e.runId === run.id);
    expect(
      progress.some(
        (e) => e.type === 'progress' && e.stage === 'cluster' && e.level === 2 && e.step === 3,
      ),
    ).toBe(true);
    const stages = events.flatMap((e) =>
      e.type === 'stage' && e.status === 'done' ? [e.stage] : [],
    );
    expect(stages).toEqual(['ingest', 'embed', 'dedup', 'cluster', 'sample']);

    // explore: the tree adds up, selection marks match the selection
    const { k } = await ws.levels(run.id);
    expect(k).toEqual([24, 6]);
    const top = await ws.topClusters(run.id);
    expect(top.reduce((s, c) => s + c.size, 0)).toBe(n);
    expect(top.reduce((s, c) => s + c.selected, 0)).toBe(SETTINGS.target);
    const detail = await ws.cluster(run.id, 2, top[0].id, 500);
    expect(detail.children.reduce((s, c) => s + c.size, 0)).toBe(top[0].size);
    expect(detail.items).toHaveLength(top[0].size);
    const sel = await ws.selection(run.id);
    expect(sel.length).toBe(SETTINGS.target);
    for (const it of detail.items) expect(it.selected).toBe(sel.includes(it.row));
    const leaf = await ws.cluster(run.id, 1, detail.children[0].id);
    const d2 = leaf.items.map((i) => i.dist2);
    expect(d2).toEqual([...d2].sort((a, b) => a - b)); // closest first

    const sizes = await ws.sizeDistribution(run.id);
    expect(sizes.before.reduce((a, b) => a + b, 0)).toBe(n);
    expect(sizes.after.reduce((a, b) => a + b, 0)).toBe(SETTINGS.target);

    const balance = await ws.balance(run.id);
    expect(balance!.labels).toEqual(['concept0', 'concept1', 'concept2', 'concept3']);
    expect(balance!.pool.counts).toEqual([90, 30, 12, 8]);
    expect(balance!.curated.total).toBe(SETTINGS.target);
    expect(balance!.random.total).toBe(SETTINGS.target);
    // separated concepts: balanced sampling evens them out far more than a random subset
    expect(balance!.curated.normalisedEntropy).toBeGreaterThan(balance!.random.normalisedEntropy);
    expect(balance!.curated.maxMinRatio).toBeLessThan(balance!.pool.maxMinRatio);

    const map = await ws.projection(run.id);
    expect(map.x).toHaveLength(n);
    expect(map.selected.reduce((a, b) => a + b, 0)).toBe(SETTINGS.target);

    // exports: one row per selected item, cluster ids at both levels
    const csv = await (await ws.manifest(run.id, 'csv')).text();
    const lines = csv.trim().split('\r\n');
    // A plain table (header first); the run's metadata is in the JSON manifest.
    const header = 0;
    const meta = JSON.parse(await (await ws.manifest(run.id, 'json')).text()).meta;
    expect(meta).toMatchObject({ model: 'precomputed', k: [24, 6], seed: 3 });
    expect(lines[header]).toBe('path,size,sha256,label,cluster_l1,cluster_l2,distance');
    expect(lines.length - header - 1).toBe(SETTINGS.target);
    const jsonl = (await (await ws.manifest(run.id, 'jsonl')).text()).trim().split('\n');
    expect(JSON.parse(jsonl[0]).meta.target).toBe(SETTINGS.target);
    expect(jsonl).toHaveLength(SETTINGS.target + 1);
    const txt = (await (await ws.manifest(run.id, 'txt')).text()).trim().split('\n');
    expect(new Set(txt).size).toBe(SETTINGS.target);
    await expect(ws.zip(run.id)).rejects.toThrow(/precomputed embeddings: there are no files/);

    // a cheaper, different subset from the same hierarchy
    const again = await ws.resample(run.id, { target: 20 });
    expect(again.selected).toBe(20);
    expect(again.counters.levelsComputed).toBe(2);
    expect((await ws.topClusters(run.id)).reduce((s, c) => s + c.selected, 0)).toBe(20);

    expect((await ws.listRuns(report.dataset.id)).map((r) => r.id)).toEqual([run.id]);
    expect(await ws.unfinishedRuns()).toEqual([]);
    await ws.deleteRun(run.id);
    expect(await ws.getRun(run.id)).toBeUndefined();
    expect(await ws.topClusters(run.id).catch((e: Error) => e.message)).toMatch(/no longer exists/);

    // deleting the dataset removes its items, embeddings and runs
    const other = await ws.start((await ws.createRun(report.dataset.id, SETTINGS)).id);
    await ws.deleteDataset(report.dataset.id);
    expect(await ws.getDataset(report.dataset.id)).toBeUndefined();
    expect(await ws.getRun(other.id)).toBeUndefined();
    expect(await ws.listItems(report.dataset.id)).toEqual([]);

    const storage = await ws.storage();
    expect(storage.usage).toBeGreaterThan(0);
    expect(storage.quota).toBeGreaterThan(storage.usage!);
    expect(typeof storage.persisted).toBe('boolean');
  });
});
