/**
 * Schema creation and migrations. `upgrade` runs inside the versionchange transaction: every
 * step either completes or the whole open fails and the database stays at its old version.
 */
import { unwrap, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import { split } from './big';
import type { ChunkRecord, StrataDB } from './schema';

type UpgradeTx = IDBPTransaction<StrataDB, StoreNames<StrataDB>[], 'versionchange'>;

/* ---------------------------------- version 1 ---------------------------------- */

/** Item record as version 1 stored it: blobs inline. */
export interface ItemRecordV1 {
  datasetId: string;
  index: number;
  path: string;
  name: string;
  size: number;
  type: string;
  lastModified: number;
  hash: string;
  label: string | null;
  removed?: boolean;
  file?: Blob;
  thumbnail?: Blob;
}

/** Level record as version 1 stored it: typed arrays inline. */
export interface LevelRecordV1 {
  runId: string;
  level: number;
  k: number;
  cols: number;
  n: number;
  centroids: Float32Array;
  labels: Int32Array;
  dist2: Float32Array;
  members: Int32Array;
  offsets: Int32Array;
}

export interface StepRecordV1 {
  runId: string;
  level: number;
  step: number;
  k: number;
  cols: number;
  centroids: Float32Array;
}

/** Version 1's stores, exactly as they were created then (also used by the migration test). */
export function createV1(db: IDBDatabase): void {
  db.createObjectStore('datasets', { keyPath: 'id' });
  const items = db.createObjectStore('items', { keyPath: ['datasetId', 'index'] });
  items.createIndex('byDataset', 'datasetId');
  const runs = db.createObjectStore('runs', { keyPath: 'id' });
  runs.createIndex('byDataset', 'datasetId');
  db.createObjectStore('levels', { keyPath: ['runId', 'level'] });
  db.createObjectStore('steps', { keyPath: ['runId', 'level', 'step'] });
  db.createObjectStore('selections', { keyPath: 'runId' });
}

/* ---------------------------------- version 2 ---------------------------------- */

/** Version 2's new stores, as created then (also used by the migration test). */
export function createV2Stores(db: IDBDatabase, tx: IDBTransaction): void {
  db.createObjectStore('files', { keyPath: ['datasetId', 'index'] });
  db.createObjectStore('thumbs', { keyPath: ['datasetId', 'index'] });
  db.createObjectStore('chunks', { keyPath: ['key', 'part'] });
  db.createObjectStore('embeddings', { keyPath: ['datasetId', 'model', 'chunk'] });
  db.createObjectStore('handles', { keyPath: 'datasetId' });
  db.createObjectStore('projections', { keyPath: 'runId' });
  tx.objectStore('runs').createIndex('byStatus', 'status');
}

/** Move v1's inline blobs and arrays into the v2 stores, record by record. */
async function migrateV1Data(tx: UpgradeTx): Promise<void> {
  const raw = tx as unknown as IDBPTransaction<unknown, string[], 'versionchange'>;
  const putChunks = async (records: ChunkRecord[]): Promise<void> => {
    for (const r of records) await tx.objectStore('chunks').put(r);
  };

  for (let c = await raw.objectStore('items').openCursor(); c; c = await c.continue()) {
    const old = c.value as ItemRecordV1;
    const { file, thumbnail, ...rest } = old;
    if (file)
      await tx.objectStore('files').put({ datasetId: old.datasetId, index: old.index, file });
    if (thumbnail) {
      await tx
        .objectStore('thumbs')
        .put({ datasetId: old.datasetId, index: old.index, blob: thumbnail });
    }
    await c.update({ ...rest, hasThumb: thumbnail !== undefined });
  }

  for (let c = await raw.objectStore('levels').openCursor(); c; c = await c.continue()) {
    const old = c.value as LevelRecordV1;
    const base = `${old.runId}/L${old.level}/`;
    const parts = {
      centroids: split(base + 'centroids', old.centroids),
      labels: split(base + 'labels', old.labels),
      dist2: split(base + 'dist2', old.dist2),
      members: split(base + 'members', old.members),
      offsets: split(base + 'offsets', old.offsets),
    };
    for (const p of Object.values(parts)) await putChunks(p.records);
    await c.update({
      runId: old.runId,
      level: old.level,
      k: old.k,
      cols: old.cols,
      n: old.n,
      centroids: parts.centroids.ref,
      labels: parts.labels.ref,
      dist2: parts.dist2.ref,
      members: parts.members.ref,
      offsets: parts.offsets.ref,
    });
  }

  for (let c = await raw.objectStore('steps').openCursor(); c; c = await c.continue()) {
    const old = c.value as StepRecordV1;
    const s = split(`${old.runId}/L${old.level}/S${old.step}/centroids`, old.centroids);
    await putChunks(s.records);
    await c.update({ ...old, centroids: s.ref });
  }

  // v1 kept a run's row -> item map inline as an Int32Array
  for (let c = await raw.objectStore('runs').openCursor(); c; c = await c.continue()) {
    const old = c.value as { id: string; rowItems?: unknown };
    if (old.rowItems instanceof Int32Array) {
      const s = split(`${old.id}/rowItems`, old.rowItems);
      await putChunks(s.records);
      await c.update({ ...old, rowItems: s.ref });
    }
  }
}

/* ---------------------------------- version 3 ---------------------------------- */

/** Version 3 only adds a store: every record of version 2 stays as it was. */
export function createV3Stores(db: IDBDatabase): void {
  db.createObjectStore('edits', { keyPath: 'runId' });
}

/* ---------------------------------- version 4 ---------------------------------- */

/** Version 4 adds the 'dedup' store (also used by the migration test). */
export function createV4Stores(db: IDBDatabase): void {
  db.createObjectStore('dedup', { keyPath: 'runId' });
}

/**
 * Runs stored before the dedup stage existed: the stage is marked done with no groups (it never
 * ran, and nothing was removed), and the setting off, so they open, resume and export as before.
 */
async function migrateV3Runs(tx: UpgradeTx): Promise<void> {
  const raw = tx as unknown as IDBPTransaction<unknown, string[], 'versionchange'>;
  for (let c = await raw.objectStore('runs').openCursor(); c; c = await c.continue()) {
    const old = c.value as {
      stages?: Record<string, unknown>;
      settings?: Record<string, unknown>;
      counters?: Record<string, unknown>;
    };
    // A record without stages (the first release's) has nothing to mark.
    if (!old.stages || old.stages.dedup !== undefined) continue;
    await c.update({
      ...old,
      stages: { ...old.stages, dedup: { status: 'done' } },
      ...(old.settings ? { settings: { ...old.settings, dedup: null } } : {}),
      ...(old.counters ? { counters: { ...old.counters, dedupComputed: 0 } } : {}),
    });
  }
}

/* ---------------------------------- version 5 ---------------------------------- */

/** Datasets stored before version 5 kept a copy of every file (or had none: precomputed). */
async function migrateV4Datasets(tx: UpgradeTx): Promise<void> {
  const raw = tx as unknown as IDBPTransaction<unknown, string[], 'versionchange'>;
  for (let c = await raw.objectStore('datasets').openCursor(); c; c = await c.continue()) {
    const old = c.value as { source?: string; storage?: string };
    if (old.storage !== undefined) continue;
    await c.update({ ...old, storage: old.source === 'precomputed' ? 'none' : 'copies' });
  }
}

/** The idb `upgrade` callback: brings any older version up to DB_VERSION. */
export function upgrade(
  db: IDBPDatabase<StrataDB>,
  oldVersion: number,
  _newVersion: number | null,
  tx: UpgradeTx,
): void {
  const idb = unwrap(db) as IDBDatabase;
  const itx = unwrap(tx) as IDBTransaction;
  // Record rewrites run one after the other: two cursors updating the same run at once would
  // each write back their own copy and lose the other's change.
  const rewrites: ((tx: UpgradeTx) => Promise<void>)[] = [];
  if (oldVersion < 1) createV1(idb);
  if (oldVersion < 2) {
    createV2Stores(idb, itx);
    if (oldVersion >= 1) rewrites.push(migrateV1Data);
  }
  if (oldVersion < 3) createV3Stores(idb);
  if (oldVersion < 4) {
    createV4Stores(idb);
    if (oldVersion >= 1) rewrites.push(migrateV3Runs);
  }
  // Version 5 adds no store, only a field of every dataset record.
  if (oldVersion < 5 && oldVersion >= 1) rewrites.push(migrateV4Datasets);
  if (rewrites.length === 0) return;
  rewrites
    .reduce((p, step) => p.then(() => step(tx)), Promise.resolve())
    .catch((err: unknown) => {
      // A migration that cannot finish must not leave a half-migrated database behind.
      console.error('database migration failed', err);
      try {
        tx.abort();
      } catch {
        /* already finished */
      }
    });
}
