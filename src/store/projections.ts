/**
 * The stored 2-D maps of a run's embeddings (computed once, then read on every visit): the PCA
 * map and, in the same record, the neighbourhood-keeping layout once it is computed.
 */
import { write, type Db } from './db';
import type { ProjectionRecord } from './schema';

export function getProjection(db: Db, runId: string): Promise<ProjectionRecord | undefined> {
  return db.get('projections', runId);
}

export async function putProjection(db: Db, rec: ProjectionRecord): Promise<void> {
  await write(db, ['projections'], 'the map', (w) => w.put('projections', rec));
}

/** Add the neighbourhood-keeping layout to the run's stored map (read and written in one transaction). */
export async function putLayout(
  db: Db,
  runId: string,
  x: Float32Array,
  y: Float32Array,
): Promise<void> {
  await write(db, ['projections'], 'the map', async (w) => {
    const rec = await w.tx.objectStore('projections').get(runId);
    if (!rec) throw new Error('the run has no stored map to add a layout to');
    await w.put('projections', { ...rec, layoutX: x, layoutY: y });
  });
}
