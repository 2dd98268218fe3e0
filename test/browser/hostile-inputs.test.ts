/**
 * The hostile-input report, browser side (real Chromium): the corpus's matrices and ids files
 * through the app's precomputed ingest ("embeddings"), its images and hostile file names through
 * the folder ingest (hash, sniff, decode, thumbnail: "ingest"), and its share links through the
 * URL-hash parser ("link"). Each case is one test with its result in `meta.hostile`. After every
 * case the dataset added before the first one must still be there, whole: a change is data loss.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { deleteDB } from 'idb';
import { Workspace } from '../../src/pipeline/workspace';
import type { IngestReport } from '../../src/pipeline/contract';
import { parseHash } from '../../src/ui/share/hash';
import { describeError } from '../../src/ui/lib/errors';
import { IDS_CASES, IMAGE_CASES, LINK_OK, NAME_SKIPS, NPY_CASES } from '../hostile/cases';
import { judge, recordCase, type Expected, type Observation } from '../hostile/report';
import names from '../fixtures/bad/names.json';
import links from '../fixtures/bad/links.json';

const urls = import.meta.glob('../fixtures/bad/{npy,ids,images}/*', {
  query: '?url',
  import: 'default',
  eager: true,
}) as Record<string, string>;

/** A corpus file as the File a person would pick. */
async function corpusFile(rel: string, name = rel.split('/').pop()!): Promise<File> {
  const url = urls[`../fixtures/bad/${rel}`];
  if (!url) throw new Error(`${rel} is not in the corpus`);
  const bytes = await (await fetch(url)).arrayBuffer();
  return new File([bytes], name, { lastModified: 1_700_000_000_000 });
}

/** Past this a case counts as a hang. */
const CASE_TIMEOUT_MS = 20_000;
const dbName = `strata-hostile-${crypto.randomUUID()}`;
let ws: Workspace;
let earlier: { id: string; items: number };

const withTimeout = <T>(p: Promise<T>): Promise<T | 'timeout'> =>
  Promise.race([p, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), CASE_TIMEOUT_MS))]);

/** The product's own errors carry these names; anything else thrown at a person is a crash. */
const OURS = new Set(['UserInputError', 'StorageFullError', 'AbortError']);

/** Ingests and observes: accepted (with its warnings) or the one-line message a person reads. */
async function observeIngest(
  run: () => Promise<IngestReport>,
  warningsFor?: (r: IngestReport) => string,
): Promise<Observation> {
  try {
    const r = await withTimeout(run());
    if (r === 'timeout') return { timedOut: true };
    return { accepted: true, message: warningsFor?.(r) || undefined };
  } catch (e) {
    const name = e instanceof Error ? e.name : '';
    if (!OURS.has(name))
      return { crashed: `${name}: ${e instanceof Error ? e.message : String(e)}` };
    return { message: describeError(e, 'add the files').detail };
  }
}

/** Data loss: the dataset added first is gone or lost items. */
async function lossCheck(): Promise<string | undefined> {
  const ds = await ws.getDataset(earlier.id);
  if (!ds) return 'the earlier dataset was deleted';
  if (ds.itemCount !== earlier.items)
    return `the earlier dataset has ${ds.itemCount} items, not ${earlier.items}`;
  return undefined;
}

const record = recordCase;

beforeAll(async () => {
  ws = await Workspace.open({ dbName });
  const first = await ws.ingest({ kind: 'precomputed', npy: await corpusFile('npy/ok-small.npy') });
  earlier = { id: first.dataset.id, items: first.dataset.itemCount };
});

afterAll(async () => {
  await ws?.close();
  await deleteDB(dbName);
});

describe('hostile inputs: embeddings (.npy and ids files) in the app', () => {
  for (const c of NPY_CASES) {
    const expected: Expected = c.app ?? c.expected;
    const pattern = c.appMessage ?? c.message;
    it(c.input, async ({ task }) => {
      const npy = await corpusFile(c.input);
      const seen = await observeIngest(
        () => ws.ingest({ kind: 'precomputed', npy }),
        (r) => r.skipped.map((s) => s.reason).join(' '),
      );
      const warned =
        seen.accepted && expected === 'ok' && pattern && !pattern.test(seen.message ?? '')
          ? { accepted: false, message: `no warning matching ${pattern}: ${seen.message ?? ''}` }
          : {};
      record(
        task,
        judge(
          c.input,
          'embeddings',
          expected,
          { ...seen, ...warned, modified: await lossCheck() },
          expected === 'clear' ? pattern : undefined,
        ),
      );
    });
  }
  for (const c of IDS_CASES) {
    it(`npy/ok-small.npy + ${c.input}`, async ({ task }) => {
      const npy = await corpusFile('npy/ok-small.npy');
      const ids = await corpusFile(c.input);
      const seen = await observeIngest(() => ws.ingest({ kind: 'precomputed', npy, ids }));
      record(
        task,
        judge(
          c.input,
          'embeddings',
          c.expected,
          { ...seen, modified: await lossCheck() },
          c.message,
        ),
      );
    });
  }
});

describe('hostile inputs: images and file names through the folder ingest', () => {
  let images: Observation & { report?: IngestReport };
  let named: Observation & { report?: IngestReport };
  const good = (i: number): Promise<File> =>
    corpusFile('images/ok-small.png').then(
      // distinct bytes per file (a trailing chunk after IEND) so no two are the same content
      async (f) =>
        new File([await f.arrayBuffer(), new Uint8Array([i])], f.name, {
          lastModified: f.lastModified,
        }),
    );

  beforeAll(async () => {
    const files = await Promise.all(IMAGE_CASES.map((c) => corpusFile(c.input)));
    let report: IngestReport | undefined;
    images = await observeIngest(
      async () =>
        (report = await ws.ingest({
          kind: 'files',
          files,
          paths: IMAGE_CASES.map((c) => c.input),
        })),
    );
    images.report = report;
    const nameFiles = await Promise.all(names.map(async (n, i) => new File([await good(i)], n)));
    let report2: IngestReport | undefined;
    named = await observeIngest(
      async () =>
        (report2 = await ws.ingest({
          kind: 'files',
          files: nameFiles,
          paths: names.map((n) => `names/${n}`),
        })),
    );
    named.report = report2;
  });

  for (const c of IMAGE_CASES) {
    it(c.input, async ({ task }) => {
      const modified = await lossCheck();
      if (!images.report) {
        record(task, judge(c.input, 'ingest', c.expected, { ...images, modified }));
        return;
      }
      // The folder the files share (images/) is the dataset's root: paths are relative to it.
      const path = c.input.slice('images/'.length);
      const skip = images.report.skipped.find((s) => s.path === path);
      const seen: Observation = skip ? { message: skip.reason } : { accepted: true };
      record(task, judge(c.input, 'ingest', c.expected, { ...seen, modified }, c.message));
    });
  }

  for (const n of names) {
    const expected: Expected = NAME_SKIPS[n] ? 'clear' : 'ok';
    it(`file name ${JSON.stringify(n)}`, async ({ task }) => {
      const modified = await lossCheck();
      const report = named.report;
      if (!report) {
        record(task, judge(n, 'ingest', expected, { ...named, modified }));
        return;
      }
      // names/ is the dataset's root folder: paths are relative to it.
      const slashed = n.replace(/\\/g, '/');
      const skip = report.skipped.find((s) => s.path === slashed || s.path.endsWith(`/${n}`));
      let seen: Observation = skip ? { message: skip.reason } : { accepted: true };
      if (!skip) {
        // Taken: stored under its own name, as text (never interpreted as a path or markup).
        const items = await ws.listItems(report.dataset.id, 0, names.length + 1);
        const item = items.find((it) => it.name === n || it.path === n);
        seen = item
          ? { accepted: true, message: `stored as ${JSON.stringify(item.path)}` }
          : { message: 'neither stored nor skipped with a reason' };
      }
      record(task, judge(n, 'ingest', expected, { ...seen, modified }, NAME_SKIPS[n]));
    });
  }
});

describe('hostile inputs: share links', () => {
  for (const hash of links) {
    const expected: Expected = LINK_OK.has(hash) ? 'ok' : 'clear';
    it(`link ${hash.slice(0, 60)}`, ({ task }) => {
      let seen: Observation;
      try {
        const { notice } = parseHash(hash);
        seen = notice === null ? { accepted: true } : { message: notice };
      } catch (e) {
        seen = { crashed: `parseHash threw: ${String(e)}` };
      }
      record(
        task,
        judge(
          hash,
          'link',
          expected,
          seen,
          /^This link's settings could not be used \(.+\), so Strata opened with its defaults\.$/,
        ),
      );
    });
  }
});
