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

/** Items by index (undefined where none). */
export async function getItems(
  db: Db,
  datasetId: string,
  indices: ArrayLike<number>,
): Promise<(ItemRecord | undefined)[]> {
  const tx = db.transaction('items');
  const out = [];
  for (let i = 0; i < indices.length; i++) out.push(tx.store.get([datasetId, indices[i]]));
  return Promise.all(out);
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
