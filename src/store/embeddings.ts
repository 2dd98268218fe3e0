/**
 * Embedding rows per (dataset, model), stored in the chunks they arrived in. They are kept here
 * (as well as in the embed worker's content-addressed cache) because resuming the cluster stage
 * from them is one sequential read, where the cache would first need every file re-hashed; and
 * a second run on the same dataset and model skips the embed stage entirely.
 */
import { fromHalf, toHalf } from '../core/half';
import { write, type Db } from './db';
import {
  prefixRange,
  type DatasetRecord,
  type EmbeddingChunkRecord,
  type ItemRecord,
  type StoredEmbeddingChunk,
} from './schema';

/** The chunk as it is stored: its rows encoded at half precision when `half`. */
function encode(rec: EmbeddingChunkRecord, half: boolean): StoredEmbeddingChunk {
  return half ? { ...rec, data: toHalf(rec.data) } : rec;
}

/** The chunk with float32 rows, whichever way it was stored. */
function decode(rec: StoredEmbeddingChunk): EmbeddingChunkRecord {
  return rec.data instanceof Uint16Array
    ? { ...rec, data: fromHalf(rec.data) }
    : { ...rec, data: rec.data };
}

/** Append one batch of rows (item indices + row-major data), at half precision when `half`. */
export async function putEmbeddingRows(
  db: Db,
  datasetId: string,
  model: string,
  chunk: number,
  indices: Int32Array,
  data: Float32Array,
  dim: number,
  half = false,
): Promise<void> {
  const rec = encode({ datasetId, model, chunk, dim, indices, data }, half);
  await write(db, ['embeddings'], 'a batch of embeddings', (w) => w.put('embeddings', rec));
}

/**
 * One chunk of a precomputed matrix with the items of its rows and the dataset's new totals, in
 * one transaction: a dataset never lists items whose rows are missing.
 */
export async function putPrecomputedChunk(
  db: Db,
  dataset: DatasetRecord,
  items: readonly ItemRecord[],
  rows: EmbeddingChunkRecord,
  half = false,
): Promise<void> {
  const rec = encode(rows, half);
  await write(db, ['datasets', 'items', 'embeddings'], 'the embeddings', async (w) => {
    for (const it of items) void w.put('items', it);
    void w.put('embeddings', rec);
    await w.put('datasets', dataset);
  });
}

/**
 * Visit every stored chunk of (dataset, model), in chunk order, one record at a time, as stored
 * (rows possibly at half precision).
 */
export async function forEachStoredChunk(
  db: Db,
  datasetId: string,
  model: string,
  visit: (rec: StoredEmbeddingChunk) => void,
): Promise<void> {
  // Page through with fresh transactions: a long-lived cursor over hundreds of MB would pin
  // the transaction and every record it cloned.
  const range = prefixRange(datasetId, model);
  let after: IDBValidKey | null = null;
  // 8 records per read: at most 8 x 256 rows x 1792 floats = 15 MB of precomputed rows, about
  // four of the 4 MiB clones measured at 7-19 ms each; embed batches (8 rows) are far smaller.
  const page = 8;
  for (;;) {
    const r: IDBKeyRange = after === null ? range : IDBKeyRange.bound(after, range.upper, true);
    const recs = await db.getAll('embeddings', r, page);
    for (const rec of recs) visit(rec);
    if (recs.length < page) return;
    const last = recs[recs.length - 1];
    after = [last.datasetId, last.model, last.chunk];
  }
}

/**
 * The stored chunks of (dataset, model) in chunk order, read a page at a time as the consumer
 * pulls them: a bundle of a million rows streams out without the matrix ever being in memory.
 */
export async function* embeddingChunks(
  db: Db,
  datasetId: string,
  model: string,
): AsyncGenerator<EmbeddingChunkRecord> {
  const range = prefixRange(datasetId, model);
  let after: IDBValidKey | null = null;
  // 4 records per read: a precomputed chunk is 256 rows (1.8 MiB at 1792 dims), so a page stays
  // a few MiB however far the consumer lags. Reads of about 8 MiB instead (21 records at 384
  // dims) were no faster streaming a 20k x 384 bundle (bench:job-bundle, load average 17-20 on
  // 2 cores: 9.4-12.8 MB/s against 8.8-10.5 MB/s end to end, within the noise).
  const page = 4;
  for (;;) {
    const r: IDBKeyRange = after === null ? range : IDBKeyRange.bound(after, range.upper, true);
    const recs = await db.getAll('embeddings', r, page);
    for (const rec of recs) yield decode(rec);
    if (recs.length < page) return;
    const last = recs[recs.length - 1];
    after = [last.datasetId, last.model, last.chunk];
  }
}

/** The model keys a dataset has stored rows for (keys only: no row is read). */
export async function embeddingModels(db: Db, datasetId: string): Promise<string[]> {
  const keys = await db.getAllKeys('embeddings', prefixRange(datasetId));
  return [...new Set(keys.map((k) => k[1]))];
}

/** Item indices that already have a stored row, and the next free chunk number. */
export async function embeddedIndices(
  db: Db,
  datasetId: string,
  model: string,
): Promise<{ have: Set<number>; nextChunk: number; dim: number }> {
  const have = new Set<number>();
  let nextChunk = 0;
  let dim = 0;
  await forEachStoredChunk(db, datasetId, model, (rec) => {
    for (const i of rec.indices) have.add(i);
    nextChunk = rec.chunk + 1;
    dim = rec.dim;
  });
  return { have, nextChunk, dim };
}

/**
 * The matrix whose row r is the stored embedding of item `rowItems[r]`. Throws when an item
 * has no stored row (the embed stage is not finished).
 */
export async function gatherMatrix(
  db: Db,
  datasetId: string,
  model: string,
  rowItems: Int32Array,
): Promise<{ data: Float32Array; dim: number }> {
  const rowOf = new Map<number, number>();
  rowItems.forEach((item, row) => rowOf.set(item, row));
  let data: Float32Array | null = null;
  let dim = 0;
  const filled = new Uint8Array(rowItems.length);
  await forEachStoredChunk(db, datasetId, model, (rec) => {
    if (!data) {
      dim = rec.dim;
      data = new Float32Array(rowItems.length * dim);
    }
    const src = rec.data;
    for (let i = 0; i < rec.indices.length; i++) {
      const row = rowOf.get(rec.indices[i]);
      if (row === undefined) continue;
      const part = src.subarray(i * dim, (i + 1) * dim);
      if (part instanceof Uint16Array) fromHalf(part, data.subarray(row * dim, (row + 1) * dim));
      else data.set(part, row * dim);
      filled[row] = 1;
    }
  });
  const missing = filled.indexOf(0);
  if (missing >= 0 || !data) {
    throw new Error(
      `no stored embedding for item ${rowItems[Math.max(0, missing)]} of dataset ${datasetId}`,
    );
  }
  return { data, dim };
}
