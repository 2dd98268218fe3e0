/** Datasets, items, runs and selections: small records, read and written whole. */
import { chunkPrefix, write, type Db } from './db';
import {
  prefixRange,
  type DatasetRecord,
  type FileRecord,
  type ItemRecord,
  type RunRecord,
  type SelectionRecord,
  type ThumbRecord,
} from './schema';

/* ---------------------------------- datasets ---------------------------------- */

export function getDataset(db: Db, id: string): Promise<DatasetRecord | undefined> {
  return db.get('datasets', id);
}

export async function listDatasets(db: Db): Promise<DatasetRecord[]> {
  const all = await db.getAll('datasets');
  return all.sort((a, b) => b.updatedAt - a.updatedAt);
}

export async function putDataset(db: Db, rec: DatasetRecord): Promise<void> {
  await write(db, ['datasets'], 'the dataset', (w) => w.put('datasets', rec));
}

/* ---------------------------------- items ---------------------------------- */

export interface NewItem {
  item: ItemRecord;
  file?: Blob;
  thumb?: Blob;
}

/**
 * Store a batch of items with their files and thumbnails, and the dataset record updated to
 * count them, in one transaction: a batch is either fully there or not at all.
 */
export async function addItems(db: Db, dataset: DatasetRecord, batch: NewItem[]): Promise<void> {
  await write(
    db,
    ['datasets', 'items', 'files', 'thumbs'],
    batch.length === 1 ? 'a file' : `a batch of ${batch.length} files`,
    async (w) => {
      for (const { item, file, thumb } of batch) {
        void w.put('items', item);
        if (file) {
          const f: FileRecord = { datasetId: item.datasetId, index: item.index, file };
          void w.put('files', f);
        }
        if (thumb) {
          const t: ThumbRecord = { datasetId: item.datasetId, index: item.index, blob: thumb };
          void w.put('thumbs', t);
        }
      }
      await w.put('datasets', dataset);
    },
  );
}

/** Mark items removed (a rescan found them gone) and update the dataset, in one transaction. */
export async function markRemoved(
  db: Db,
  dataset: DatasetRecord,
  removed: ItemRecord[],
): Promise<void> {
  await write(db, ['datasets', 'items', 'files'], 'the rescan', async (w) => {
    for (const item of removed) {
      void w.put('items', { ...item, removed: true });
      void w.delete('files', [item.datasetId, item.index]);
    }
    await w.put('datasets', dataset);
  });
}

/** Every item of a dataset in index order (removed ones included only when asked). */
export async function allItems(
  db: Db,
  datasetId: string,
  includeRemoved = false,
): Promise<ItemRecord[]> {
  const all = await db.getAll('items', prefixRange(datasetId));
  return includeRemoved ? all : all.filter((i) => !i.removed);
}

/**
 * Every item of a dataset in index order (removed ones included), `page` records per read: a
 * million ids pass through without a million records held at once.
 */
export async function* itemPages(
  db: Db,
  datasetId: string,
  page = 4096,
): AsyncGenerator<ItemRecord[]> {
  const range = prefixRange(datasetId);
  let after: IDBValidKey | null = null;
  for (;;) {
    const r: IDBKeyRange = after === null ? range : IDBKeyRange.bound(after, range.upper, true);
    const recs = await db.getAll('items', r, page);
    if (recs.length) yield recs;
    if (recs.length < page) return;
    const last = recs[recs.length - 1];
    after = [last.datasetId, last.index];
  }
}

/** A page of live items in index order. */
export async function pageItems(
  db: Db,
  datasetId: string,
  offset: number,
  limit: number,
): Promise<ItemRecord[]> {
  const out: ItemRecord[] = [];
  let skip = offset;
  const tx = db.transaction('items');
  for (let c = await tx.store.openCursor(prefixRange(datasetId)); c; c = await c.continue()) {
    if (c.value.removed) continue;
    if (skip > 0) {
      skip--;
      continue;
    }
    out.push(c.value);
    if (out.length >= limit) break;
  }
  return out;
}

/**
 * Records per read when many items are asked for: one getAll of a key range instead of a get
 * per key. 5,000 single gets of one transaction resolved in one main-thread task of 460-800 ms
 * here (load 12, 2 cores); a page of this many records is one short task, and the pages are
 * separate tasks, so the page stays responsive however many items there are.
 */
const ITEM_PAGE = 1024;

/** Items by index (undefined where none), in the order asked. */
export async function getItems(
  db: Db,
  datasetId: string,
  indices: ArrayLike<number>,
): Promise<(ItemRecord | undefined)[]> {
  const n = indices.length;
  if (n === 0) return [];
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    lo = Math.min(lo, indices[i]);
    hi = Math.max(hi, indices[i]);
  }
  const out = new Array<ItemRecord | undefined>(n);
  // Few or scattered items: a get each (reading the whole span would read far more records).
  if (n < 64 || hi - lo + 1 > 4 * n) {
    for (let start = 0; start < n; start += ITEM_PAGE) {
      const tx = db.transaction('items');
      const end = Math.min(n, start + ITEM_PAGE);
      const got = await Promise.all(
        Array.from({ length: end - start }, (_, i) =>
          tx.store.get([datasetId, indices[start + i]]),
        ),
      );
      for (let i = 0; i < got.length; i++) out[start + i] = got[i];
    }
    return out;
  }
  // Dense: the span in pages, each record placed where it was asked for.
  const where = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const at = where.get(indices[i]);
    if (at) at.push(i);
    else where.set(indices[i], [i]);
  }
  let from = lo;
  while (from <= hi) {
    const recs = await db.getAll(
      'items',
      IDBKeyRange.bound([datasetId, from], [datasetId, hi]),
      ITEM_PAGE,
    );
    for (const r of recs) for (const i of where.get(r.index) ?? []) out[i] = r;
    if (recs.length < ITEM_PAGE) break;
    from = recs[recs.length - 1].index + 1;
  }
  return out;
}

export async function getFile(db: Db, datasetId: string, index: number): Promise<Blob | undefined> {
  return (await db.get('files', [datasetId, index]))?.file;
}

/** Stored files by item index, in one read transaction (undefined where none is stored). */
export async function getFiles(
  db: Db,
  datasetId: string,
  indices: readonly number[],
): Promise<(Blob | undefined)[]> {
  const tx = db.transaction('files');
  const recs = await Promise.all(indices.map((i) => tx.store.get([datasetId, i])));
  return recs.map((r) => r?.file);
}

export async function getThumb(
  db: Db,
  datasetId: string,
  index: number,
): Promise<Blob | undefined> {
  return (await db.get('thumbs', [datasetId, index]))?.blob;
}

/* ---------------------------------- runs ---------------------------------- */

export function getRunRecord(db: Db, id: string): Promise<RunRecord | undefined> {
  return db.get('runs', id);
}

export async function putRun(db: Db, rec: RunRecord): Promise<void> {
  await write(db, ['runs'], 'the run record', (w) => w.put('runs', rec));
}

export async function listRunRecords(db: Db, datasetId?: string): Promise<RunRecord[]> {
  const all =
    datasetId === undefined
      ? await db.getAll('runs')
      : await db.getAllFromIndex('runs', 'byDataset', datasetId);
  return all.sort((a, b) => b.createdAt - a.createdAt);
}

export async function runsWithStatus(db: Db, status: RunRecord['status']): Promise<RunRecord[]> {
  return db.getAllFromIndex('runs', 'byStatus', status);
}

export async function putSelection(db: Db, rec: SelectionRecord): Promise<void> {
  await write(db, ['selections'], 'the selection', (w) => w.put('selections', rec));
}

export function getSelection(db: Db, runId: string): Promise<SelectionRecord | undefined> {
  return db.get('selections', runId);
}

/** Delete a run and everything computed for it, in one transaction. */
export async function deleteRunData(db: Db, runId: string): Promise<void> {
  await write(
    db,
    ['runs', 'levels', 'steps', 'selections', 'projections', 'edits', 'dedup', 'chunks'],
    'the deletion',
    async (w) => {
      void w.delete('levels', prefixRange(runId));
      void w.delete('steps', prefixRange(runId));
      void w.delete('selections', runId);
      void w.delete('projections', runId);
      void w.delete('edits', runId);
      void w.delete('dedup', runId);
      void w.delete('chunks', chunkPrefix(runId + '/'));
      await w.delete('runs', runId);
    },
  );
}

/** Delete a dataset with its items, blobs, embeddings, handle and runs. */
export async function deleteDatasetData(db: Db, datasetId: string): Promise<void> {
  for (const run of await listRunRecords(db, datasetId)) await deleteRunData(db, run.id);
  await write(
    db,
    ['datasets', 'items', 'files', 'thumbs', 'embeddings', 'handles'],
    'the deletion',
    async (w) => {
      const range = prefixRange(datasetId);
      void w.delete('items', range);
      void w.delete('files', range);
      void w.delete('thumbs', range);
      void w.delete('embeddings', range);
      void w.delete('handles', datasetId);
      await w.delete('datasets', datasetId);
    },
  );
}
