/** The embedding cache in real IndexedDB: chunked storage, lookups across chunks, clearing. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHUNK_ROWS, EmbeddingCache } from '../../src/store/embed-cache';

const DB = `strata-embeddings-test-${Date.now()}`;
let cache: EmbeddingCache;

beforeAll(async () => {
  cache = await EmbeddingCache.open(DB);
});
afterAll(async () => {
  cache.close();
  await new Promise((ok) => {
    const req = indexedDB.deleteDatabase(DB);
    req.onsuccess = req.onerror = req.onblocked = ok;
  });
});

function rows(n: number, dim: number, seed: number): Float32Array {
  return Float32Array.from({ length: n * dim }, (_, i) => seed + i * 0.5);
}

describe('EmbeddingCache', () => {
  it('stores rows in chunks of at most CHUNK_ROWS and finds any subset again', async () => {
    const n = CHUNK_ROWS * 2 + 5;
    const dim = 3;
    const hashes = Array.from({ length: n }, (_, i) => `h${i}`);
    const data = rows(n, dim, 1);
    await cache.store('m', 'p', dim, hashes, data);
    expect(await cache.count('m', 'p')).toBe(n);

    const chunks = await new Promise<number>((ok, fail) => {
      const open = indexedDB.open(DB);
      open.onsuccess = () => {
        const req = open.result.transaction('chunks').objectStore('chunks').count();
        req.onsuccess = () => {
          ok(req.result);
          open.result.close();
        };
        req.onerror = () => fail(req.error);
      };
    });
    expect(chunks).toBe(3);

    const want = ['h0', `h${CHUNK_ROWS}`, `h${n - 1}`, 'missing'];
    const found = await cache.lookup('m', 'p', want);
    expect([...found.keys()].sort()).toEqual(['h0', `h${CHUNK_ROWS}`, `h${n - 1}`].sort());
    const last = found.get(`h${n - 1}`)!;
    expect(last.dim).toBe(dim);
    expect(Array.from(last.row)).toEqual(Array.from(data.subarray((n - 1) * dim, n * dim)));
  });

  it('keys by model and preprocessing, and clears one model (with its #hash variants)', async () => {
    await cache.store('m', 'other-prep', 2, ['h0'], Float32Array.of(9, 9));
    await cache.store('m#abc', 'p', 2, ['h0'], Float32Array.of(8, 8));
    await cache.store('n', 'p', 2, ['h0'], Float32Array.of(7, 7));
    expect(Array.from((await cache.lookup('m', 'other-prep', ['h0'])).get('h0')!.row)).toEqual([
      9, 9,
    ]);
    expect((await cache.lookup('m', 'p', ['h0'])).get('h0')!.dim).toBe(3);
    await cache.clear('m');
    expect((await cache.lookup('m', 'p', ['h0'])).size).toBe(0);
    expect((await cache.lookup('m#abc', 'p', ['h0'])).size).toBe(0);
    expect((await cache.lookup('n', 'p', ['h0'])).size).toBe(1);
    await cache.clear();
    expect(await cache.count('n', 'p')).toBe(0);
  });
});
