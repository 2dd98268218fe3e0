/**
 * A run imported from the reference pipeline's output, stored whole: its record, its levels and
 * its row list (and the reference's own curated subset, when it had one) in one transaction, so
 * the run list never shows an import that is half there.
 */
import { write, type Db } from './db';
import type { LevelData } from './levels';
import type { LevelRecord, RunRecord, SelectionRecord } from './schema';

export async function putImportedRun(
  db: Db,
  run: RunRecord,
  rowItems: Int32Array,
  levels: readonly LevelData[],
  selection?: SelectionRecord,
): Promise<void> {
  await write(db, ['runs', 'levels', 'chunks', 'selections'], 'the imported run', async (w) => {
    run.rowItems = w.putBig(`${run.id}/rowItems`, rowItems);
    for (const l of levels) {
      const base = `${run.id}/L${l.level}/`;
      const rec: LevelRecord = {
        runId: run.id,
        level: l.level,
        k: l.k,
        cols: l.cols,
        n: l.n,
        centroids: w.putBig(base + 'centroids', l.centroids),
        labels: w.putBig(base + 'labels', l.labels),
        dist2: w.putBig(base + 'dist2', l.dist2),
        members: w.putBig(base + 'members', l.members),
        offsets: w.putBig(base + 'offsets', l.offsets),
      };
      void w.put('levels', rec);
    }
    if (selection) void w.put('selections', selection);
    await w.put('runs', run);
  });
}
