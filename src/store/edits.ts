/** A run's hands-on curation edits (include / exclude, with undo and redo), read and written whole. */
import { write, type Db } from './db';
import type { EditsRecord, RunRecord } from './schema';

export function getEdits(db: Db, runId: string): Promise<EditsRecord | undefined> {
  return db.get('edits', runId);
}

/**
 * Store the edits and the run record (whose `selected` count they change) in one transaction,
 * so the count shown and the edits stored never disagree.
 */
export async function putEdits(db: Db, rec: EditsRecord, run: RunRecord): Promise<void> {
  await write(db, ['edits', 'runs'], 'your curation edits', async (w) => {
    void w.put('edits', rec);
    await w.put('runs', run);
  });
}
