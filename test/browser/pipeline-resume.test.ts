import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteDB } from 'idb';
import { Rng, writeNpy } from '../../src/core';
import { Workspace } from '../../src/pipeline/workspace';
import { CancelledError } from '../../src/core/errors';
import type { RunInfo, RunSettings } from '../../src/pipeline/contract';
import { openStrataDb } from '../../src/store/db';
import { getLevels } from '../../src/store/levels';

/** 300 rows in 16-D around 6 centres of very different sizes. */
function pool(): File {
  const sizes = [150, 70, 40, 20, 12, 8];
  const d = 16;
  const rng = new Rng(11);
  const rows: number[] = [];
  sizes.forEach((size, c) => {
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < d; j++) rows.push((j === c ? 4 : 0) + rng.normal() * 0.5);
    }
  });
  const n = sizes.reduce((a, b) => a + b, 0);
  return new File(
    [writeNpy(Float32Array.from(rows), [n, d]) as Uint8Array<ArrayBuffer>],
    'pool.npy',
  );
}

const SETTINGS: RunSettings = {
  model: 'precomputed',
  provider: 'auto',
  batchSize: 8,
  normalisation: 'l2',
  k: [40, 10, 3],
  r: [1, 3, 2],
  resamplingSteps: 4,
  resampleStrategy: 'closest',
  iterations: 8,
  target: 60,
  leafStrategy: 'random',
  seed: 5,
  backend: 'cpu',
};
/** level 1: first fit only (r = 1); levels 2 and 3: first fit + 4 refits */
const ALL_STEPS = 1 + 5 + 5;

const dbName = `strata-resume-${crypto.randomUUID()}`;
let datasetId: string;

beforeAll(async () => {
  const ws = await Workspace.open({ dbName });
  datasetId = (await ws.ingest({ kind: 'precomputed', npy: pool() })).dataset.id;
  await ws.close();
});

afterAll(async () => {
  await deleteDB(dbName);
});

async function stored(runId: string) {
  const db = await openStrataDb(dbName);
  try {
    return await getLevels(db, runId);
  } finally {
    db.close();
  }
}

describe('resuming a run', () => {
  it('after a closed tab mid-cluster, continues from the last stored step and matches an uninterrupted run', async () => {
    // The reference: the same settings, never interrupted.
    let ws = await Workspace.open({ dbName });
    const reference = await ws.start((await ws.createRun(datasetId, SETTINGS)).id);
    expect(reference.counters.stepsComputed).toBe(ALL_STEPS);

    // The interrupted run: "close the tab" (terminate the workers, drop the Workspace) as soon
    // as level 2 starts its second refit, i.e. with level 1 and two steps of level 2 stored.
    const run = await ws.createRun(datasetId, SETTINGS);
    let closing: Promise<void> | null = null;
    const first = ws;
    first.subscribe((e) => {
      if (
        !closing &&
        e.type === 'progress' &&
        e.stage === 'cluster' &&
        e.level === 2 &&
        e.step === 2
      ) {
        closing = first.close();
      }
    });
    const outcome = await first.start(run.id).then(
      () => 'finished',
      (e: unknown) => (e as Error).name,
    );
    expect(outcome).toBe('AbortError');
    await closing;

    // A new page opens the same database: the run is found interrupted, with what it stored.
    ws = await Workspace.open({ dbName });
    const unfinished = await ws.unfinishedRuns();
    expect(unfinished.map((r) => [r.id, r.status])).toEqual([[run.id, 'interrupted']]);
    const before = unfinished[0];
    expect(before.stages.embed.status).toBe('done');
    expect(before.counters.levelsComputed).toBe(1);
    expect(before.counters.stepsComputed).toBe(1 + 2);
    expect((await stored(run.id)).length).toBe(1);

    const progressAfterResume: number[] = [];
    ws.subscribe((e) => {
      if (e.type === 'progress' && e.stage === 'cluster' && e.level !== undefined) {
        progressAfterResume.push(e.level * 100 + (e.step ?? 0));
      }
    });
    const resumed: RunInfo = await ws.resume(run.id);
    expect(resumed.status).toBe('done');
    // Nothing finished was computed again: every step once over both sessions, embed not rerun.
    expect(resumed.counters).toEqual({
      embedded: 0,
      embedReused: before.counters.embedReused,
      levelsComputed: 3,
      stepsComputed: ALL_STEPS,
      clusterResumes: 1,
      dedupComputed: 0,
    });
    // The resumed session never went back to level 1 or to level 2's first fit and refit 1.
    expect(Math.min(...progressAfterResume)).toBeGreaterThanOrEqual(202);
    expect(resumed.notices.some((n) => /Resumed at level 2 after step 1/.test(n.message))).toBe(
      true,
    );

    // Same result as the uninterrupted run: levels, centroids and the curated subset.
    const [a, b] = [await stored(reference.id), await stored(run.id)];
    expect(b.length).toBe(3);
    for (let t = 0; t < 3; t++) {
      expect(Array.from(b[t].labels)).toEqual(Array.from(a[t].labels));
      expect(Array.from(b[t].members)).toEqual(Array.from(a[t].members));
      expect(Array.from(b[t].centroids)).toEqual(Array.from(a[t].centroids));
    }
    expect(Array.from(await ws.selection(run.id))).toEqual(
      Array.from(await ws.selection(reference.id)),
    );
    await ws.close();
  });

  it('after cancel, keeps finished work and resumes without recomputing it', async () => {
    const ws = await Workspace.open({ dbName });
    const run = await ws.createRun(datasetId, { ...SETTINGS, seed: 9 });
    ws.subscribe((e) => {
      if (e.type === 'progress' && e.stage === 'cluster' && e.level === 3 && e.step === 1) {
        ws.cancel(run.id);
      }
    });
    await expect(ws.start(run.id)).rejects.toBeInstanceOf(CancelledError);
    const cancelled = (await ws.getRun(run.id))!;
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.stages.cluster.status).toBe('cancelled');
    expect(cancelled.counters.levelsComputed).toBe(2);
    expect((await ws.unfinishedRuns()).map((r) => r.id)).toContain(run.id);

    const done = await ws.resume(run.id);
    expect(done.status).toBe('done');
    expect(done.counters.stepsComputed).toBe(ALL_STEPS);
    expect(done.counters.levelsComputed).toBe(3);
    expect(done.selected).toBe(SETTINGS.target);
    // resuming a finished run does nothing
    expect((await ws.resume(run.id)).counters).toEqual(done.counters);
    await ws.close();
  });
});
