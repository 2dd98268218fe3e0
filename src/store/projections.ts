/** The stored 2-D map of a run's embeddings (computed once, then read on every visit). */
import { write, type Db } from './db';
import type { ProjectionRecord } from './schema';

export function getProjection(db: Db, runId: string): Promise<ProjectionRecord | undefined> {
  return db.get('projections', runId);
}

export async function putProjection(db: Db, rec: ProjectionRecord): Promise<void> {
  await write(db, ['projections'], 'the map', (w) => w.put('projections', rec));
}
