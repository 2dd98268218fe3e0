import { deleteDB } from 'idb';
import { afterEach, describe, expect, it } from 'vitest';
import { openStrataDb, readI32 } from '../../src/store/db';
import { getLevel, lastStep } from '../../src/store/levels';
import {
  createV1,
  createV2Stores,
  createV3Stores,
  createV4Stores,
  type ItemRecordV1,
  type LevelRecordV1,
} from '../../src/store/migrations';
import { allItems, getFile, getThumb } from '../../src/store/records';
import { DB_VERSION } from '../../src/store/schema';

const name = `strata-migration-${crypto.randomUUID()}`;

function req<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

/** Create a version-1 database by hand, the way the first release did, and fill it. */
async function makeV1(): Promise<void> {
  const open = indexedDB.open(name, 1);
  open.onupgradeneeded = () => createV1(open.result);
  const db = await req(open);
  const tx = db.transaction(
    ['datasets', 'items', 'runs', 'levels', 'steps', 'selections'],
    'readwrite',
  );
  tx.objectStore('datasets').put({
    id: 'd1',
    name: 'pets',
    source: 'files',
    createdAt: 1,
    updatedAt: 2,
    itemCount: 2,
    bytes: 7,
    labels: ['cats', 'dogs'],
    include: [],
    exclude: [],
    nextIndex: 2,
  });
  const items: ItemRecordV1[] = [
    {
      datasetId: 'd1',
      index: 0,
      path: 'cats/a.png',
      name: 'a.png',
      size: 3,
      type: 'image/png',
      lastModified: 10,
      hash: 'aa',
      label: 'cats',
      file: new Blob(['abc'], { type: 'image/png' }),
      thumbnail: new Blob(['thumb-a'], { type: 'image/webp' }),
    },
    {
      datasetId: 'd1',
      index: 1,
      path: 'dogs/b.png',
      name: 'b.png',
      size: 4,
      type: 'image/png',
      lastModified: 11,
      hash: 'bb',
      label: 'dogs',
      file: new Blob(['defg'], { type: 'image/png' }),
    },
  ];
  for (const it of items) tx.objectStore('items').put(it);
  tx.objectStore('runs').put({
    id: 'r1',
    datasetId: 'd1',
    status: 'done',
    rowItems: new Int32Array([0, 1]),
  });
  const level: LevelRecordV1 = {
    runId: 'r1',
    level: 1,
    k: 2,
    cols: 3,
    n: 2,
    centroids: new Float32Array([1, 2, 3, 4, 5, 6]),
    labels: new Int32Array([0, 1]),
    dist2: new Float32Array([0.5, 0.25]),
    members: new Int32Array([0, 1]),
    offsets: new Int32Array([0, 1, 2]),
  };
  tx.objectStore('levels').put(level);
  tx.objectStore('steps').put({
    runId: 'r1',
    level: 1,
    step: 3,
    k: 2,
    cols: 3,
    centroids: new Float32Array([6, 5, 4, 3, 2, 1]),
  });
  tx.objectStore('selections').put({ runId: 'r1', rows: new Int32Array([1]), target: 1 });
  await new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
  });
  db.close();
}

afterEach(async () => {
  await deleteDB(name);
});

describe('store schema migration', () => {
  it('opens a version-1 database with data and migrates it to the current version without loss', async () => {
    await makeV1();
    const db = await openStrataDb(name);
    expect(db.version).toBe(DB_VERSION);
    expect([...db.objectStoreNames].sort()).toEqual(
      [
        'chunks',
        'datasets',
        'embeddings',
        'files',
        'handles',
        'items',
        'levels',
        'edits',
        'dedup',
        'projections',
        'runs',
        'selections',
        'steps',
        'thumbs',
      ].sort(),
    );

    expect((await db.get('datasets', 'd1'))?.labels).toEqual(['cats', 'dogs']);

    // item metadata kept; blobs moved out of the item records into their own stores
    const items = await allItems(db, 'd1');
    expect(items.map((i) => [i.path, i.hash, i.label, i.hasThumb])).toEqual([
      ['cats/a.png', 'aa', 'cats', true],
      ['dogs/b.png', 'bb', 'dogs', false],
    ]);
    expect(items.some((i) => 'file' in i || 'thumbnail' in i)).toBe(false);
    expect(await (await getFile(db, 'd1', 0))!.text()).toBe('abc');
    expect(await (await getFile(db, 'd1', 1))!.text()).toBe('defg');
    expect(await (await getThumb(db, 'd1', 0))!.text()).toBe('thumb-a');
    expect(await getThumb(db, 'd1', 1)).toBeUndefined();

    // typed arrays moved into chunks, values intact
    const level = await getLevel(db, 'r1', 1);
    expect(Array.from(level!.centroids)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(level!.labels)).toEqual([0, 1]);
    expect(Array.from(level!.dist2)).toEqual([0.5, 0.25]);
    expect(Array.from(level!.offsets)).toEqual([0, 1, 2]);
    const step = await lastStep(db, 'r1', 1);
    expect(step?.step).toBe(3);
    expect(Array.from(step!.centroids)).toEqual([6, 5, 4, 3, 2, 1]);

    const run = await db.get('runs', 'r1');
    expect(Array.from(await readI32(db, run!.rowItems!))).toEqual([0, 1]);
    // the new index works on migrated records
    expect((await db.getAllFromIndex('runs', 'byStatus', 'done')).map((r) => r.id)).toEqual(['r1']);
    expect(Array.from((await db.get('selections', 'r1'))!.rows)).toEqual([1]);
    db.close();
  });

  it('opens a version-2 database and adds the edits store, keeping every record', async () => {
    const open = indexedDB.open(name, 2);
    open.onupgradeneeded = () => {
      createV1(open.result);
      createV2Stores(open.result, open.transaction!);
    };
    const v2 = await req(open);
    const tx = v2.transaction(['projections', 'selections'], 'readwrite');
    tx.objectStore('projections').put({
      runId: 'r1',
      x: Float32Array.from([1, 2]),
      y: Float32Array.from([3, 4]),
    });
    tx.objectStore('selections').put({ runId: 'r1', rows: Int32Array.from([1]) });
    await new Promise((ok) => (tx.oncomplete = ok));
    v2.close();

    const db = await openStrataDb(name);
    expect(db.version).toBe(DB_VERSION);
    expect(db.objectStoreNames.contains('edits')).toBe(true);
    const p = await db.get('projections', 'r1');
    expect(Array.from(p!.x)).toEqual([1, 2]);
    expect(Array.from(p!.y)).toEqual([3, 4]);
    expect(p!.layoutX).toBeUndefined();
    expect(Array.from((await db.get('selections', 'r1'))!.rows)).toEqual([1]);
    expect(await db.get('edits', 'r1')).toBeUndefined();
    db.close();
  });

  it('opens a version-3 run without a dedup stage as done with no groups, the setting off', async () => {
    const open = indexedDB.open(name, 3);
    open.onupgradeneeded = () => {
      createV1(open.result);
      createV2Stores(open.result, open.transaction!);
      createV3Stores(open.result);
    };
    const v3 = await req(open);
    const tx = v3.transaction(['runs'], 'readwrite');
    const done = { status: 'done' };
    tx.objectStore('runs').put({
      id: 'r3',
      datasetId: 'd1',
      status: 'done',
      stages: { ingest: done, embed: done, cluster: done, sample: done },
      settings: { model: 'precomputed', seed: 1 },
      counters: {
        embedded: 0,
        embedReused: 4,
        levelsComputed: 2,
        stepsComputed: 3,
        clusterResumes: 0,
      },
    });
    await new Promise((ok) => (tx.oncomplete = ok));
    v3.close();

    const db = await openStrataDb(name);
    expect(db.version).toBe(DB_VERSION);
    const run = (await db.get('runs', 'r3'))!;
    expect(run.stages.dedup).toEqual({ status: 'done' });
    expect(run.stages.cluster).toEqual({ status: 'done' });
    expect(run.settings.dedup).toBeNull();
    expect(run.settings.seed).toBe(1);
    expect(run.counters.dedupComputed).toBe(0);
    expect(run.counters.embedReused).toBe(4);
    expect(await db.get('dedup', 'r3')).toBeUndefined();
    db.close();
  });

  it('opens version-4 datasets as keeping copies of their files (none for precomputed rows)', async () => {
    const open = indexedDB.open(name, 4);
    open.onupgradeneeded = () => {
      createV1(open.result);
      createV2Stores(open.result, open.transaction!);
      createV3Stores(open.result);
      createV4Stores(open.result);
    };
    const v4 = await req(open);
    const tx = v4.transaction(['datasets'], 'readwrite');
    const base = { createdAt: 1, updatedAt: 1, itemCount: 1, bytes: 3, labels: [], nextIndex: 1 };
    tx.objectStore('datasets').put({ ...base, id: 'f', name: 'album', source: 'directory' });
    tx.objectStore('datasets').put({ ...base, id: 'p', name: 'rows', source: 'precomputed' });
    await new Promise((ok) => (tx.oncomplete = ok));
    v4.close();

    const db = await openStrataDb(name);
    expect(db.version).toBe(DB_VERSION);
    expect(await db.get('datasets', 'f')).toMatchObject({ name: 'album', storage: 'copies' });
    expect(await db.get('datasets', 'p')).toMatchObject({ name: 'rows', storage: 'none' });
    db.close();
  });

  it('creates the current version from nothing', async () => {
    const db = await openStrataDb(name);
    expect(db.version).toBe(DB_VERSION);
    expect(db.objectStoreNames.contains('chunks')).toBe(true);
    db.close();
  });
});
