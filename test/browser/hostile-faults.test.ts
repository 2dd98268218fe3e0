/**
 * The hostile-input report's faults, in real Chromium: the WebGPU device lost inside the
 * clustering worker, the embedding worker terminated mid-batch, a full quota (while files are
 * added and while a level is stored), the tab closed
 * and reopened at every stage of a run, and a second tab on the same dataset. Each fault is a
 * case of the report ('fault' surface) with its result in `meta.hostile`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteDB } from 'idb';
import { Rng, writeNpy } from '../../src/core';
import { Workspace } from '../../src/pipeline/workspace';
import type { RunInfo, RunSettings, StageName, WorkspaceEvent } from '../../src/pipeline/contract';
import { BUNDLED_MODEL } from '../../src/embed/models';
import { writeFaults } from '../../src/store/db';
import { describeError } from '../../src/ui/lib/errors';
import {
  judge,
  recordCase,
  type CaseResult,
  type Expected,
  type Observation,
} from '../hostile/report';

/** A real, distinct picture: a shape of one colour on another. */
async function picture(i: number, size = 64): Promise<File> {
  const c = new OffscreenCanvas(size, size);
  const ctx = c.getContext('2d')!;
  ctx.fillStyle = `hsl(${(i * 47) % 360} 60% 80%)`;
  ctx.fillRect(0, 0, size, size);
  ctx.fillStyle = `hsl(${(i * 91) % 360} 80% 35%)`;
  ctx.beginPath();
  ctx.arc(size / 2, size / 2, 8 + (i % 7) * 3, 0, Math.PI * 2);
  ctx.fill();
  const blob = await c.convertToBlob({ type: 'image/png' });
  return new File([blob], `p${i}.png`, { type: 'image/png', lastModified: 1_700_000_000_000 });
}

/** 300 rows in 16-D around 6 centres of very different sizes. */
function pool(): File {
  const sizes = [150, 70, 40, 20, 12, 8];
  const rng = new Rng(11);
  const rows: number[] = [];
  sizes.forEach((size, c) => {
    for (let i = 0; i < size; i++)
      for (let j = 0; j < 16; j++) rows.push((j === c ? 4 : 0) + rng.normal() * 0.5);
  });
  return new File(
    [writeNpy(Float32Array.from(rows), [300, 16]) as Uint8Array<ArrayBuffer>],
    'pool.npy',
  );
}

const VECTORS: RunSettings = {
  model: 'precomputed',
  provider: 'auto',
  batchSize: 8,
  normalisation: 'l2',
  k: [40, 10, 3],
  r: [1, 3, 2],
  resamplingSteps: 2,
  resampleStrategy: 'closest',
  iterations: 6,
  target: 60,
  leafStrategy: 'random',
  seed: 5,
  backend: 'cpu',
};

const IMAGES: RunSettings = {
  ...VECTORS,
  model: BUNDLED_MODEL.id,
  provider: 'wasm',
  batchSize: 1,
  normalisation: 'center-l2',
  k: [3, 2],
  r: [1, 1],
  resamplingSteps: 0,
  target: 3,
};
const N = 4;

/** Past this a fault counts as a hang. */
const FAULT_TIMEOUT_MS = 90_000;
const dbName = `strata-faults-${crypto.randomUUID()}`;
let vectors: string;
let finished: { runId: string; selection: number[] };

const withTimeout = <T>(p: Promise<T>): Promise<T | 'timeout'> =>
  Promise.race([
    p,
    new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), FAULT_TIMEOUT_MS)),
  ]);

const record = recordCase;

/** Data loss: the first finished run's selection changed, or its dataset went. */
async function lossCheck(ws: Workspace): Promise<string | undefined> {
  if (!(await ws.getDataset(vectors))) return 'the earlier dataset was deleted';
  const now = Array.from(await ws.selection(finished.runId));
  if (now.join() !== finished.selection.join()) return 'the earlier run’s selection changed';
  return undefined;
}

/** Runs `fn` and says what a person saw: a finished run, or the message of what stopped it. */
async function observe(
  fn: () => Promise<RunInfo | void>,
  action: string,
): Promise<Observation & { run?: RunInfo }> {
  try {
    const r = await withTimeout(fn());
    if (r === 'timeout') return { timedOut: true };
    return { accepted: true, run: r ?? undefined };
  } catch (e) {
    const name = e instanceof Error || e instanceof DOMException ? e.name : '';
    const d = describeError(e, action);
    if (d.tone === 'error') return { crashed: `${name}: ${d.detail}` };
    return { message: d.detail };
  }
}

const fault = (
  input: string,
  expected: Expected,
  seen: Observation,
  pattern?: RegExp,
): CaseResult => judge(input, 'fault', expected, seen, pattern);

beforeAll(async () => {
  const ws = await Workspace.open({ dbName });
  vectors = (await ws.ingest({ kind: 'precomputed', npy: pool() })).dataset.id;
  const run = await ws.start((await ws.createRun(vectors, VECTORS)).id);
  finished = { runId: run.id, selection: Array.from(await ws.selection(run.id)) };
  await ws.close();
});

afterAll(async () => {
  writeFaults.beforePut = null;
  await deleteDB(dbName);
});

describe('faults', () => {
  it('the WebGPU device is lost inside the clustering worker after level 1', async ({ task }) => {
    const ws = await Workspace.open({
      dbName,
      workers: {
        cluster: () =>
          new Worker(new URL('../hostile/gpu-loss.worker.ts', import.meta.url), { type: 'module' }),
      },
    });
    const seen = await observe(
      async () =>
        ws.start((await ws.createRun(vectors, { ...VECTORS, backend: 'webgpu', seed: 6 })).id),
      'run',
    );
    const notices = seen.run?.notices.map((n) => n.message).join(' ') ?? '';
    const fellBack = /finishing on the CPU .* from 1 finished level/.test(notices);
    const result = fault('WebGPU device lost in the cluster worker', 'ok', {
      ...seen,
      ...(seen.accepted &&
      !(fellBack && seen.run?.status === 'done' && seen.run.selected === VECTORS.target)
        ? { accepted: false, message: `finished without the fallback: ${notices}` }
        : {
            message: seen.accepted
              ? 'finished on the CPU from level 1, with the notice'
              : seen.message,
          }),
      modified: await lossCheck(ws),
    });
    await ws.close();
    record(task, result);
  });

  it('the quota is exceeded while files are added, then space is back', async ({ task }) => {
    // The browser's own refusal, injected where every write goes (store/db.ts), so the fault
    // lands at an exact batch. A real quota (Chromium's Storage.overrideQuotaForOrigin, which is
    // enforced only when set before the origin stores anything) is driven through the built app
    // in test/e2e/app-pages.test.ts.
    const ws = await Workspace.open({ dbName });
    const before = (await ws.listDatasets()).length;
    const files = await Promise.all(Array.from({ length: 12 }, (_, i) => picture(300 + i)));
    const paths = files.map((f) => `q/${f.name}`);
    let puts = 0;
    writeFaults.beforePut = (store) => {
      // the files of the first batches fit; a later one does not
      if (store === 'files' && ++puts === 7) {
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      }
    };
    let seen: Observation;
    try {
      seen = await observe(
        async () => void (await ws.ingest({ kind: 'files', files, paths })),
        'add the files',
      );
    } finally {
      writeFaults.beforePut = null;
    }
    // Nothing half-added is shown as a finished dataset.
    const listed = await ws.listDatasets();
    const half = listed.some((d) => d.complete && d.name === 'q' && d.itemCount < files.length)
      ? 'a partly stored dataset is shown as complete'
      : undefined;
    expect(listed.length).toBeGreaterThanOrEqual(before);
    record(
      task,
      fault(
        'quota exceeded while adding files',
        'clear',
        { ...seen, modified: half ?? (await lossCheck(ws)) },
        /storage for this site is full/,
      ),
    );
    const after = await observe(
      async () => void (await ws.ingest({ kind: 'files', files, paths })),
      'add the files',
    );
    await ws.close();
    record(task, fault('quota exceeded while adding files, then space is back', 'ok', after));
  });

  it('the quota is exceeded while a level is stored; the run resumes from the stored levels', async ({
    task,
  }) => {
    const ws = await Workspace.open({ dbName });
    const run = await ws.createRun(vectors, { ...VECTORS, seed: 7 });
    let levelsStored = 0;
    writeFaults.beforePut = (store) => {
      if (store === 'levels' && ++levelsStored === 2) {
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      }
    };
    const first = await observe(() => ws.start(run.id), 'run');
    writeFaults.beforePut = null;
    record(
      task,
      fault(
        'quota exceeded while storing level 2',
        'clear',
        { ...first, modified: await lossCheck(ws) },
        /storage for this site is full.*level 2/,
      ),
    );
    const again = await observe(() => ws.resume(run.id), 'resume the run');
    // Level 1 is kept; level 2, never stored, is computed again (so 4 levels computed in all).
    const ok =
      again.run?.status === 'done' &&
      again.run.selected === VECTORS.target &&
      again.run.counters.levelsComputed <= 4;
    await ws.close();
    record(
      task,
      fault('quota exceeded while storing level 2, then resumed', 'ok', {
        ...again,
        ...(again.accepted && !ok
          ? { accepted: false, message: JSON.stringify(again.run?.counters) }
          : {}),
      }),
    );
  });

  it('the tab is closed while files are added; the next tab finds no half dataset and adds them again', async ({
    task,
  }) => {
    const files = await Promise.all(Array.from({ length: 8 }, (_, i) => picture(400 + i)));
    const paths = files.map((f) => `r/${f.name}`);
    let ws = await Workspace.open({ dbName });
    let closing: Promise<void> | null = null;
    const first = ws;
    first.subscribe((e) => {
      if (!closing && e.type === 'progress' && e.stage === 'ingest' && e.done >= 1)
        closing = first.close();
    });
    const outcome = await first.ingest({ kind: 'files', files, paths }).then(
      () => 'finished',
      (e: unknown) => (e as Error).name,
    );
    await closing;
    ws = await Workspace.open({ dbName });
    const shown = (await ws.listDatasets()).filter((d) => d.name === 'r' || d.name.startsWith('r'));
    const seen = await observe(
      async () => void (await ws.ingest({ kind: 'files', files, paths })),
      'add the files',
    );
    const detail = `first tab: ${outcome}; the reopened tab lists ${shown.map((d) => `${d.itemCount} items${d.complete ? '' : ' (interrupted)'}`).join(', ') || 'nothing'}`;
    const wrong =
      shown.some((d) => d.complete && d.itemCount < files.length) ||
      (outcome !== 'AbortError' && outcome !== 'finished');
    await ws.close();
    record(
      task,
      fault('tab closed while adding files, reopened', 'ok', {
        ...seen,
        ...(seen.accepted ? { message: detail } : {}),
        ...(wrong
          ? { accepted: false, message: `a half-added dataset is shown as complete; ${detail}` }
          : {}),
      }),
    );
  });

  it('on one image dataset: the embedding worker terminated mid-batch, the tab closed at every stage, a second tab', async ({
    task,
  }) => {
    // One run through every fault that needs the image model: each new tab starts its own
    // embedding worker, which is what takes most of the time here.
    const files = await Promise.all(Array.from({ length: N }, (_, i) => picture(100 + i)));
    let ws = await Workspace.open({ dbName });
    const { dataset } = await ws.ingest({
      kind: 'files',
      files,
      paths: files.map((f) => `s/${f.name}`),
    });
    const runId = (await ws.createRun(dataset.id, IMAGES)).id;
    await ws.close();

    /**
     * One tab: resume the run; `act` may close the tab (return 'close') or do a fault to it.
     * Returns what resume ended with and, when the tab stayed open, the run and the tab.
     */
    async function tab(
      act: (e: WorkspaceEvent, worker: () => Worker | undefined) => 'close' | void,
    ): Promise<{ outcome: string; error?: unknown; run?: RunInfo; t: Workspace }> {
      let embedWorker: Worker | undefined;
      const t = await Workspace.open({
        dbName,
        workers: {
          embed: () =>
            (embedWorker = new Worker(
              new URL('../../src/workers/embed.worker.ts', import.meta.url),
              { type: 'module' },
            )),
        },
      });
      let closing: Promise<void> | null = null;
      const stop = t.subscribe((e) => {
        if (!closing && act(e, () => embedWorker) === 'close') closing = t.close();
      });
      let error: unknown;
      const outcome = await withTimeout(t.resume(runId)).then(
        (r) => (r === 'timeout' ? 'timeout' : r.status),
        (e: unknown) => ((error = e), (e as Error).name),
      );
      stop();
      await closing;
      return { outcome, error, run: closing ? undefined : await t.getRun(runId), t };
    }
    const at = (stage: StageName) => (e: WorkspaceEvent) =>
      (
        stage === 'embed'
          ? e.type === 'progress' && e.stage === 'embed' && e.done >= 1
          : e.type === 'stage' && e.stage === stage && e.status === 'running'
      )
        ? 'close'
        : undefined;

    // Tab 1 closes as the run's first stage starts.
    const outcomes: string[] = [];
    outcomes.push(`ingest: ${(await tab(at('ingest'))).outcome}`);

    // Tab 2: its embedding worker is terminated once the first image is stored.
    let killed = false;
    const t2 = await tab((e, worker) => {
      if (!killed && e.type === 'progress' && e.stage === 'embed' && e.done >= 1) {
        killed = true;
        worker()?.terminate();
      }
    });
    const failed = await t2.t.getRun(runId);
    await t2.t.close();
    const d = t2.error !== undefined ? describeError(t2.error, 'run') : undefined;
    const stopped: Observation =
      t2.outcome === 'timeout'
        ? { timedOut: true }
        : d
          ? d.tone === 'error'
            ? { crashed: d.detail }
            : { message: d.detail }
          : { accepted: true };
    record(
      task,
      fault(
        'embedding worker terminated mid-batch',
        'clear',
        {
          ...stopped,
          ...(failed?.status !== 'failed' && !stopped.timedOut
            ? { message: `run ${failed?.status}` }
            : {}),
        },
        /^The embedding worker stopped before it finished\. The [1-9]\d* of 4 rows embedded so far are stored; resume the run to embed the rest\.$/,
      ),
    );
    const kept = Number(/The (\d+) of/.exec(d?.detail ?? '')?.[1] ?? 0);

    // Tabs 3 to 5 close at the embed (mid-batch), cluster and sample stages; tab 6 finishes.
    for (const stage of ['embed', 'cluster', 'sample'] as const) {
      const t = await tab(at(stage));
      outcomes.push(`${stage}: ${t.outcome}`);
      if (!/AbortError/.test(t.outcome)) await t.t.close();
    }
    const last = await tab(() => undefined);
    await last.t.close();
    outcomes.push(`last: ${last.outcome}`);
    const r = last.run;
    const resumedWell =
      last.outcome === 'done' &&
      r?.selected === IMAGES.target &&
      r.counters.embedReused >= kept &&
      // every image computed at most once over all the tabs
      r.counters.embedded <= N - kept &&
      // a tab closed as the short sample stage starts may still see the run finish
      outcomes.every((o) => /AbortError$|done$/.test(o));
    ws = await Workspace.open({ dbName });
    record(
      task,
      fault(
        'tab closed at the ingest, embed, cluster and sample stages, reopened each time',
        'ok',
        {
          accepted: resumedWell,
          message: resumedWell
            ? outcomes.join(', ')
            : `${outcomes.join(', ')}; ${JSON.stringify(r?.counters)}`,
          modified: await lossCheck(ws),
        },
      ),
    );

    // Two tabs on one dataset: the second, open beside the first, embeds nothing again.
    const second = await Workspace.open({ dbName });
    const seen = await observe(
      async () => second.start((await second.createRun(dataset.id, { ...IMAGES, seed: 2 })).id),
      'run',
    );
    const c = seen.run?.counters;
    const reused = c?.embedded === 0 && c.embedReused === N;
    await second.close();
    await ws.close();
    record(
      task,
      fault('two tabs on one dataset: the second run reuses the stored embeddings', 'ok', {
        ...seen,
        ...(seen.accepted
          ? { accepted: reused, message: `embedded ${c?.embedded}, reused ${c?.embedReused}` }
          : {}),
      }),
    );
  });
});
