/**
 * What one dataset stores in this browser, by kind: file copies, thumbnails, embedding rows and
 * item records. Blob sizes come from their metadata (no bytes are read); rows are paged through.
 * The figure behind "bytes stored per picture" in tests and benchmarks.
 */
import type { Db } from './db';
import { embeddingModels, forEachStoredChunk } from './embeddings';
import { itemPages } from './records';
import { prefixRange } from './schema';

export interface DatasetBytes {
  /** copies of the files (0 for a dataset read from its folder) */
  readonly files: number;
  readonly thumbs: number;
  /** embedding rows of every model, with their item indices */
  readonly embeddings: number;
  /** item records (path, size, hash...), counted as their JSON text */
  readonly items: number;
  /** file copies stored (records, not bytes) */
  readonly fileRecords: number;
}

async function blobBytes(db: Db, store: 'files' | 'thumbs', datasetId: string): Promise<number[]> {
  // One record at a time: a Blob read from IndexedDB is a handle, its size known without its bytes.
  const sizes: number[] = [];
  const tx = db.transaction(store);
  for (let c = await tx.store.openCursor(prefixRange(datasetId)); c; c = await c.continue()) {
    const v = c.value;
    sizes.push('file' in v ? v.file.size : v.blob.size);
  }
  return sizes;
}

export async function datasetBytes(db: Db, datasetId: string): Promise<DatasetBytes> {
  const files = await blobBytes(db, 'files', datasetId);
  const thumbs = await blobBytes(db, 'thumbs', datasetId);
  let embeddings = 0;
  for (const model of await embeddingModels(db, datasetId)) {
    await forEachStoredChunk(db, datasetId, model, (rec) => {
      embeddings += rec.data.byteLength + rec.indices.byteLength;
    });
  }
  let items = 0;
  for await (const page of itemPages(db, datasetId)) {
    for (const it of page) items += JSON.stringify(it).length;
  }
  const sum = (a: number[]): number => a.reduce((s, x) => s + x, 0);
  return { files: sum(files), thumbs: sum(thumbs), embeddings, items, fileRecords: files.length };
}
