/**
 * The embedding cache, used by the embed service inside its worker: its own IndexedDB database
 * ('strata-embeddings'), content-addressed by (sha-256 of the file's bytes, model id,
 * preprocessing id). Re-adding a folder, renaming files or reloading mid-run only embeds what is
 * missing.
 *
 * Rows are stored in chunks (one record holds up to CHUNK_ROWS rows as one Float32Array) so
 * 100k items are ~1.6k records instead of 100k small ones or one giant one; a small `rows` index
 * maps each (model, preprocessing, hash) to its chunk and row.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { DB_NAME } from './schema';

export const EMBED_DB_NAME = 'strata-embeddings';
const EMBED_DB_VERSION = 1;

/**
 * The cache that goes with the database `dbName`: the app's own for the app's database, one of
 * its own for any other (tests open a fresh database each, and must not reuse each other's rows).
 */
export function cacheNameFor(dbName: string): string {
  return dbName === DB_NAME ? EMBED_DB_NAME : `${dbName}-embeddings`;
}

/**
 * Rows per stored chunk: 64 x 1792 floats = 459 KB per record for the bundled model. Measured in
 * Chromium here (bench:embed, case "cache", 1024 rows of 1792 floats, busy 2-core machine):
 * 86-150 ms stored as 16 chunks of 64 against 648-2423 ms as 1024 one-row records; looking all
 * 1024 up again took 244-507 ms. Lookups read whole chunks, and files embedded together are
 * usually looked up together (a re-added folder), so most of a chunk read is used.
 */
export const CHUNK_ROWS = 64;

interface ChunkRecord {
  id?: number;
  model: string;
  prep: string;
  dim: number;
  hashes: string[];
  data: Float32Array;
}

interface RowRef {
  model: string;
  prep: string;
  hash: string;
  chunk: number;
  row: number;
}

interface EmbedCacheSchema extends DBSchema {
  chunks: { key: number; value: ChunkRecord; indexes: { byModel: [string, string] } };
  rows: { key: [string, string, string]; value: RowRef; indexes: { byModel: [string, string] } };
}

export interface CachedRow {
  hash: string;
  row: Float32Array;
  dim: number;
}

export class EmbeddingCache {
  private constructor(private readonly db: IDBPDatabase<EmbedCacheSchema>) {}

  static async open(name: string = EMBED_DB_NAME): Promise<EmbeddingCache> {
    const db = await openDB<EmbedCacheSchema>(name, EMBED_DB_VERSION, {
      upgrade(db, oldVersion) {
        if (oldVersion < 1) {
          const chunks = db.createObjectStore('chunks', { keyPath: 'id', autoIncrement: true });
          chunks.createIndex('byModel', ['model', 'prep']);
          const rows = db.createObjectStore('rows', { keyPath: ['model', 'prep', 'hash'] });
          rows.createIndex('byModel', ['model', 'prep']);
        }
      },
      // Another tab upgrades the schema: let it, this handle reopens on next use.
      blocking: () => db.close(),
    });
    return new EmbeddingCache(db);
  }

  /** Rows already stored for these hashes (missing hashes are simply absent from the map). */
  async lookup(
    model: string,
    prep: string,
    hashes: readonly string[],
  ): Promise<Map<string, CachedRow>> {
    const found = new Map<string, CachedRow>();
    if (hashes.length === 0) return found;
    const tx = this.db.transaction(['rows', 'chunks'], 'readonly');
    const rowsStore = tx.objectStore('rows');
    const refs = await Promise.all(hashes.map((h) => rowsStore.get([model, prep, h])));
    const chunkIds = [...new Set(refs.flatMap((r) => (r ? [r.chunk] : [])))];
    const chunksStore = tx.objectStore('chunks');
    const chunks = new Map<number, ChunkRecord>();
    await Promise.all(
      chunkIds.map(async (id) => {
        const c = await chunksStore.get(id);
        if (c) chunks.set(id, c);
      }),
    );
    await tx.done;
    for (const ref of refs) {
      if (!ref) continue;
      const c = chunks.get(ref.chunk);
      // A ref whose chunk is gone (cleared by another tab mid-run) is just a miss.
      if (!c || c.hashes[ref.row] !== ref.hash) continue;
      found.set(ref.hash, {
        hash: ref.hash,
        dim: c.dim,
        row: c.data.slice(ref.row * c.dim, (ref.row + 1) * c.dim),
      });
    }
    return found;
  }

  /** Store rows (row-major, `dim` floats each) in chunks of at most CHUNK_ROWS. */
  async store(
    model: string,
    prep: string,
    dim: number,
    hashes: readonly string[],
    data: Float32Array,
  ): Promise<void> {
    if (data.length !== hashes.length * dim) {
      throw new Error(`cache.store: ${hashes.length} hashes but ${data.length / dim} rows`);
    }
    for (let start = 0; start < hashes.length; start += CHUNK_ROWS) {
      const end = Math.min(hashes.length, start + CHUNK_ROWS);
      const tx = this.db.transaction(['chunks', 'rows'], 'readwrite');
      const chunk: ChunkRecord = {
        model,
        prep,
        dim,
        hashes: hashes.slice(start, end),
        data: data.slice(start * dim, end * dim),
      };
      const id = await tx.objectStore('chunks').add(chunk);
      const rows = tx.objectStore('rows');
      await Promise.all(
        chunk.hashes.map((hash, row) => rows.put({ model, prep, hash, chunk: id, row })),
      );
      await tx.done;
    }
  }

  /** How many rows are stored for a model + preprocessing. */
  count(model: string, prep: string): Promise<number> {
    return this.db.countFromIndex('rows', 'byModel', [model, prep]);
  }

  /**
   * Forget everything, or one model's rows (every preprocessing, and every `id#hash` variant
   * that custom models get).
   */
  async clear(model?: string): Promise<void> {
    const tx = this.db.transaction(['chunks', 'rows'], 'readwrite');
    if (model === undefined) {
      await Promise.all([tx.objectStore('chunks').clear(), tx.objectStore('rows').clear()]);
    } else {
      const ranges = [
        IDBKeyRange.bound([model], [model, []]),
        IDBKeyRange.bound([`${model}#`], [`${model}#\uffff`]),
      ];
      for (const store of ['chunks', 'rows'] as const) {
        for (const range of ranges) {
          let cursor = await tx.objectStore(store).index('byModel').openCursor(range);
          while (cursor) {
            await cursor.delete();
            cursor = await cursor.continue();
          }
        }
      }
    }
    await tx.done;
  }

  close(): void {
    this.db.close();
  }
}

/** Deletes a cache database (the benchmark's scratch caches). */
export function deleteEmbedCacheDb(name: string): void {
  indexedDB.deleteDatabase(name);
}
