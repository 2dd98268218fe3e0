/**
 * Embeddings kept at half precision: a .npy loaded with the option is stored as binary16 (half
 * the bytes of float32), the dataset says so, its rows read back within half-precision rounding,
 * and a run on it curates a subset of the same size as on the float32 copy.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { deleteDB } from 'idb';
import { duplicatePool, writeNpy } from '../../src/core';
import { Workspace } from '../../src/pipeline/workspace';
import type { RunSettings } from '../../src/pipeline/contract';
import { openStrataDb } from '../../src/store/db';
import { gatherMatrix } from '../../src/store/embeddings';
import { datasetBytes } from '../../src/store/usage';

const POOL = duplicatePool({
  bases: 300,
  d: 64,
  classes: 4,
  copiedShare: 0,
  maxCopies: 0,
  seed: 9,
});

const SETTINGS: RunSettings = {
  model: 'precomputed',
  provider: 'auto',
  batchSize: 8,
  normalisation: 'l2',
  k: [20, 5],
  r: [1, 3],
  resamplingSteps: 2,
  resampleStrategy: 'closest',
  iterations: 6,
  target: 80,
  leafStrategy: 'random',
  seed: 2,
  backend: 'cpu',
  dedup: null,
};

const dbName = `strata-half-${crypto.randomUUID()}`;

afterAll(async () => {
  await deleteDB(dbName);
});

describe('embeddings at half precision', () => {
  it('stores half the bytes, reads back within half-precision rounding, and runs', async () => {
    const ws = await Workspace.open({ dbName });
    const npy = writeNpy(POOL.x, [POOL.n, POOL.d]) as Uint8Array<ArrayBuffer>;
    const full = (await ws.ingest({ kind: 'precomputed', npy: new File([npy], 'full.npy') }))
      .dataset;
    const half = (
      await ws.ingest(
        { kind: 'precomputed', npy: new File([npy], 'half.npy') },
        { halfEmbeddings: true },
      )
    ).dataset;
    expect(full.halfEmbeddings).toBe(false);
    expect(half.halfEmbeddings).toBe(true);
    expect((await ws.getDataset(half.id))?.halfEmbeddings).toBe(true);

    const db = await openStrataDb(dbName);
    const rows = Int32Array.from({ length: POOL.n }, (_, i) => i);
    const a = await gatherMatrix(db, full.id, 'precomputed', rows);
    const b = await gatherMatrix(db, half.id, 'precomputed', rows);
    expect(a.data).toEqual(POOL.x);
    let worst = 0;
    for (let i = 0; i < a.data.length; i++) {
      if (Math.abs(a.data[i]) > 2 ** -14) {
        worst = Math.max(worst, Math.abs(b.data[i] - a.data[i]) / Math.abs(a.data[i]));
      }
    }
    expect(worst).toBeLessThanOrEqual(2 ** -11);
    const bytesFull = (await datasetBytes(db, full.id)).embeddings;
    const bytesHalf = (await datasetBytes(db, half.id)).embeddings;
    // Rows halve; the item numbers of each chunk (4 bytes a row) stay as they are.
    const dataBytes = POOL.n * POOL.d * 4;
    expect(bytesFull - bytesHalf).toBe(dataBytes / 2);
    db.close();

    const runFull = await ws.start((await ws.createRun(full.id, SETTINGS)).id);
    const runHalf = await ws.start((await ws.createRun(half.id, SETTINGS)).id);
    expect(runHalf.status).toBe('done');
    expect(runHalf.selected).toBe(runFull.selected);
    await ws.close();
  });
});
