/**
 * What the Workspace does on the page's main thread: every ingest, run, explorer question and
 * export on a few-thousand-item dataset is watched with PerformanceObserver ('longtask') and the
 * longest task of each is printed as a JSON line. Each must finish with the right result; the
 * 200 ms target itself is a speed figure, checked by bench:scale (its longtasks line), not here:
 * on this shared 2-core machine one task stretched from under 100 ms to 281 ms with the load.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteDB } from 'idb';
import { Rng, writeNpy } from '../../src/core';
import { Workspace } from '../../src/pipeline/workspace';
import type { RunSettings } from '../../src/pipeline/contract';

const N = 3000;
const D = 16;
const IMAGES = 300;
/** The target bench:scale checks; printed next to the figures. */
const LONG_TASK_MS = 200;

function pool(): { npy: File; ids: File } {
  const rng = new Rng(3);
  const data = new Float32Array(N * D);
  const ids: string[] = [];
  for (let i = 0; i < N; i++) {
    const c = i % 11;
    for (let j = 0; j < D; j++) data[i * D + j] = (j === c ? 4 : 0) + rng.normal() * 0.5;
    ids.push(`concept${c}/item-${i}.jpg`);
  }
  return {
    npy: new File([writeNpy(data, [N, D]) as Uint8Array<ArrayBuffer>], 'pool.npy'),
    ids: new File([ids.join('\n')], 'ids.txt'),
  };
}

async function tinyPng(i: number): Promise<File> {
  const c = new OffscreenCanvas(16, 16);
  const g = c.getContext('2d')!;
  g.fillStyle = `hsl(${(i * 37) % 360} 70% ${30 + (i % 40)}%)`;
  g.fillRect(0, 0, 16, 16);
  return new File([await c.convertToBlob({ type: 'image/png' })], `t${i}.png`, {
    type: 'image/png',
  });
}

const SETTINGS: RunSettings = {
  model: 'precomputed',
  provider: 'auto',
  batchSize: 8,
  normalisation: 'l2',
  k: [60, 12, 4],
  r: [1, 1, 1],
  resamplingSteps: 0,
  resampleStrategy: 'closest',
  iterations: 5,
  target: 1200,
  leafStrategy: 'random',
  seed: 3,
  backend: 'cpu',
  dedup: null,
};

const dbName = `strata-main-${crypto.randomUUID()}`;
let ws: Workspace;
const tasks: { start: number; duration: number }[] = [];
const observer = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) tasks.push({ start: e.startTime, duration: e.duration });
});

beforeAll(async () => {
  ws = await Workspace.open({ dbName });
  observer.observe({ type: 'longtask' });
});

afterAll(async () => {
  observer.disconnect();
  await ws?.close();
  await deleteDB(dbName);
});

const longest: Record<string, number> = {};

/** Run `f`, then note the longest main-thread task that started while it ran. */
async function watch<T>(what: string, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const out = await f();
  // Long-task entries arrive after the task: give the observer a turn.
  await new Promise((r) => setTimeout(r, 30));
  const t1 = performance.now();
  const during = tasks.filter((t) => t.start >= t0 && t.start <= t1).map((t) => t.duration);
  longest[what] = Math.round(Math.max(0, ...during));
  return out;
}

describe('the main thread', () => {
  it('ingests, runs, explores and exports, measuring the longest main-thread task of each', async () => {
    const files = await Promise.all(Array.from({ length: IMAGES }, (_, i) => tinyPng(i)));
    await watch('ingest images', () =>
      ws.ingest({ kind: 'files', files, paths: files.map((f, i) => `c${i % 5}/${f.name}`) }),
    );
    const { npy, ids } = pool();
    const { dataset } = await watch('ingest .npy', () =>
      ws.ingest({ kind: 'precomputed', npy, ids }),
    );
    const run = await watch('run', async () =>
      ws.start((await ws.createRun(dataset.id, SETTINGS)).id),
    );
    expect(run.rows).toBe(N);
    const id = run.id;
    await watch('top clusters', () => ws.topClusters(id));
    await watch('cluster', () => ws.cluster(id, 3, 0));
    await watch('balance', () => ws.balance(id));
    await watch('row facts', () => ws.rowFacts(id));
    expect((await watch('search', () => ws.search(id, 'item-12'))).length).toBeGreaterThan(0);
    await watch('item detail', () => ws.itemDetail(id, 5));
    await watch('projection', () => ws.projection(id));
    await watch('manifest csv', () => ws.manifest(id, 'csv'));
    await watch('manifest json', () => ws.manifest(id, 'json'));
    expect((await watch('resample', () => ws.resample(id, { target: 900 }))).selected).toBe(900);
    console.log(
      JSON.stringify({ longestTaskMs: longest, targetMs: LONG_TASK_MS, rows: N, images: IMAGES }),
    );
    expect(Object.keys(longest)).toHaveLength(13);
  });
});
