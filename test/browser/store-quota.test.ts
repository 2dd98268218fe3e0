import { deleteDB } from 'idb';
import { afterEach, describe, expect, it } from 'vitest';
import { chunkPrefix, openStrataDb, writeFaults, type Store } from '../../src/store/db';
import { StorageFullError } from '../../src/store/errors';
import { getLevel, putLevel, type LevelData } from '../../src/store/levels';
import { addItems, allItems } from '../../src/store/records';
import type { DatasetRecord } from '../../src/store/schema';

const name = `strata-quota-${crypto.randomUUID()}`;

function level(l: number, k: number, cols: number, n: number): LevelData {
  const centroids = new Float32Array(k * cols).map((_, i) => i * 0.5 + l);
  return {
    level: l,
    k,
    cols,
    n,
    centroids,
    labels: new Int32Array(n).map((_, i) => i % k),
    dist2: new Float32Array(n).fill(l),
    members: new Int32Array(n).map((_, i) => i),
    offsets: new Int32Array(k + 1).map((_, j) => Math.round((j * n) / k)),
  };
}

/** Make the Nth put (counting from 1) fail the way a full disk makes it fail. */
function failOnPut(n: number, store?: Store): void {
  let seen = 0;
  writeFaults.beforePut = (s) => {
    if (store && s !== store) return;
    if (++seen === n) {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    }
  };
}

afterEach(async () => {
  writeFaults.beforePut = null;
  await deleteDB(name);
});

describe('a full quota', () => {
  it('turns QuotaExceededError into a clear message and leaves no part of a level behind', async () => {
    const db = await openStrataDb(name);
    await putLevel(db, 'run', level(1, 4, 3, 20));
    const chunksBefore = await db.count('chunks');

    // The fourth chunk of level 2 hits the quota: the three before it must be rolled back.
    failOnPut(4, 'chunks');
    const err = await putLevel(db, 'run', level(2, 2, 3, 4)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageFullError);
    expect((err as Error).message).toMatch(/storage for this site is full/);
    expect((err as Error).message).toMatch(/level 2 of the run was not saved/);
    expect((err as Error).message).toMatch(/nothing was half-written/);
    writeFaults.beforePut = null;

    expect(await db.get('levels', ['run', 2])).toBeUndefined();
    expect(await db.count('chunks', chunkPrefix('run/L2/'))).toBe(0);
    expect(await db.count('chunks')).toBe(chunksBefore);
    // level 1 is untouched and still reads back whole
    const l1 = await getLevel(db, 'run', 1);
    expect(Array.from(l1!.centroids)).toEqual(Array.from(level(1, 4, 3, 20).centroids));

    // once space is back, the same write succeeds
    await putLevel(db, 'run', level(2, 2, 3, 4));
    expect((await getLevel(db, 'run', 2))?.k).toBe(2);
    db.close();
  });

  it('stores a batch of items whole or not at all', async () => {
    const db = await openStrataDb(name);
    const ds: DatasetRecord = {
      id: 'd',
      name: 'x',
      source: 'files',
      storage: 'copies',
      createdAt: 0,
      updatedAt: 0,
      itemCount: 3,
      bytes: 3,
      labels: [],
      include: [],
      exclude: [],
      nextIndex: 3,
    };
    const batch = [0, 1, 2].map((index) => ({
      item: {
        datasetId: 'd',
        index,
        path: `f${index}.png`,
        name: `f${index}.png`,
        size: 1,
        type: 'image/png',
        lastModified: 0,
        hash: String(index),
        label: null,
        hasThumb: false,
      },
      file: new Blob([String(index)]),
    }));
    failOnPut(5);
    await expect(addItems(db, ds, batch)).rejects.toBeInstanceOf(StorageFullError);
    writeFaults.beforePut = null;
    expect(await allItems(db, 'd')).toEqual([]);
    expect(await db.count('files')).toBe(0);
    expect(await db.get('datasets', 'd')).toBeUndefined();
    db.close();
  });
});
