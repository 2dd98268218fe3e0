/**
 * Opening the database and writing to it safely.
 *
 * Every write goes through `write`: one readwrite transaction that either commits whole or is
 * aborted whole. A quota refusal (QuotaExceededError, raised by a put or at commit) becomes a
 * StorageFullError with a message for people, after the transaction was aborted, so a level,
 * a step or a batch of items is never half-stored.
 */
import {
  openDB,
  type IDBPDatabase,
  type IDBPTransaction,
  type StoreKey,
  type StoreNames,
  type StoreValue,
} from 'idb';
import { join, split, type BigArray } from './big';
import { isQuotaError, StorageFullError, storageFullMessage } from './errors';
import { upgrade } from './migrations';
import { DB_NAME, DB_VERSION, type BigRef, type ChunkRecord, type StrataDB } from './schema';

export type Db = IDBPDatabase<StrataDB>;
export type Store = StoreNames<StrataDB>;

/** Open (creating or migrating as needed) the app database. */
export async function openStrataDb(name: string = DB_NAME): Promise<Db> {
  const db = await openDB<StrataDB>(name, DB_VERSION, {
    upgrade,
    // Another tab wants a newer schema: step aside rather than block it forever.
    blocking: () => db.close(),
  });
  return db;
}

/**
 * Fault injection for tests: called before every put made through `write`. A test makes it
 * throw the browser's own `new DOMException(msg, 'QuotaExceededError')` to check that the
 * transaction is aborted whole and the message is clear. Null in the app.
 */
export const writeFaults: { beforePut: ((store: Store) => void) | null } = { beforePut: null };

export interface Writer {
  readonly tx: IDBPTransaction<StrataDB, Store[], 'readwrite'>;
  /** Queue a put; its failure fails the whole transaction. */
  put<S extends Store>(store: S, value: StoreValue<StrataDB, S>): Promise<void>;
  /** Queue a delete of one key or a key range. */
  delete<S extends Store>(store: S, key: StoreKey<StrataDB, S> | IDBKeyRange): Promise<void>;
  /** Queue the puts that store a big typed array under `key`; returns its reference. */
  putBig(key: string, a: BigArray): BigRef;
}

function quiet<T>(p: Promise<T>): Promise<T> {
  // The transaction's own promise reports failures; this keeps an aborted request from also
  // surfacing as an unhandled rejection.
  p.catch(() => undefined);
  return p;
}

/**
 * Run `fn` in one readwrite transaction over `stores`. `fn` must only await IndexedDB requests
 * of this transaction (awaiting anything else lets the browser commit early). `what` names the
 * data for the quota message, e.g. "level 2 of the run".
 */
export async function write<T>(
  db: Db,
  stores: Store[],
  what: string,
  fn: (w: Writer) => Promise<T> | T,
): Promise<T> {
  const tx = db.transaction(stores, 'readwrite');
  quiet(tx.done);
  const w: Writer = {
    tx,
    put(store, value) {
      writeFaults.beforePut?.(store);
      return quiet(
        tx
          .objectStore(store)
          .put(value)
          .then(() => undefined),
      );
    },
    delete(store, key) {
      return quiet(tx.objectStore(store).delete(key));
    },
    putBig(key, a) {
      const { ref, records } = split(key, a);
      for (const r of records) void w.put('chunks', r);
      return ref;
    },
  };
  try {
    const result = await fn(w);
    await tx.done;
    return result;
  } catch (err) {
    try {
      tx.abort();
    } catch {
      /* already committed or aborted */
    }
    if (isQuotaError(err)) {
      const est = await estimate();
      throw new StorageFullError(storageFullMessage(what, est.usage, est.quota));
    }
    throw err;
  }
}

/** Read a big typed array back, part by part (each part is one short structured clone). */
export async function readBig(db: Db, ref: BigRef): Promise<BigArray> {
  const tx = db.transaction('chunks');
  const parts: (ChunkRecord | undefined)[] = [];
  for (let p = 0; p < ref.parts; p++) parts.push(await tx.store.get([ref.key, p]));
  return join(ref, parts);
}

export async function readF32(db: Db, ref: BigRef): Promise<Float32Array> {
  const a = await readBig(db, ref);
  if (!(a instanceof Float32Array)) throw new Error(`stored array ${ref.key} is not float32`);
  return a;
}

export async function readI32(db: Db, ref: BigRef): Promise<Int32Array> {
  const a = await readBig(db, ref);
  if (!(a instanceof Int32Array)) throw new Error(`stored array ${ref.key} is not int32`);
  return a;
}

/** Key range of every chunk whose key starts with `prefix`. */
export function chunkPrefix(prefix: string): IDBKeyRange {
  return IDBKeyRange.bound([prefix], [prefix + '\uffff']);
}

/** navigator.storage.estimate, or nulls where the browser has none. */
export async function estimate(): Promise<{ usage: number | null; quota: number | null }> {
  try {
    if (typeof navigator === 'undefined' || !navigator.storage?.estimate) {
      return { usage: null, quota: null };
    }
    const e = await navigator.storage.estimate();
    return { usage: e.usage ?? null, quota: e.quota ?? null };
  } catch {
    return { usage: null, quota: null };
  }
}

export async function isPersisted(): Promise<boolean> {
  try {
    return (await navigator.storage?.persisted?.()) ?? false;
  } catch {
    return false;
  }
}

/** Ask the browser not to evict our data (it may say no without asking the person). */
export async function requestPersist(): Promise<boolean> {
  try {
    return (await navigator.storage?.persist?.()) ?? false;
  } catch {
    return false;
  }
}
