/**
 * A run's near-duplicate groups: written in one transaction with their chunks and the run
 * record, so after a crash the groups are either whole and the stage marked as having found
 * them, or absent.
 */
import { readBig, readI32, write, type Db, type Writer } from './db';
import type { DedupRecord } from './schema';

/** The groups as the pipeline hands them over and reads them back. */
export interface DedupData {
  threshold: number;
  groups: number;
  removed: number;
  keep: Uint8Array;
  group: Int32Array;
  representative: Int32Array;
}

export async function putDedup(
  db: Db,
  runId: string,
  d: DedupData,
  also?: (w: Writer) => void,
): Promise<void> {
  const base = `${runId}/dedup/`;
  await write(db, ['dedup', 'chunks', 'runs'], 'the near-duplicate groups', (w) => {
    also?.(w);
    const rec: DedupRecord = {
      runId,
      threshold: d.threshold,
      groups: d.groups,
      removed: d.removed,
      keep: w.putBig(base + 'keep', d.keep),
      group: w.putBig(base + 'group', d.group),
      representative: w.putBig(base + 'representative', d.representative),
    };
    return w.put('dedup', rec);
  });
}

/** The stored groups of a run, or undefined when it has none (dedup off, or a run from before). */
export async function getDedup(db: Db, runId: string): Promise<DedupData | undefined> {
  const rec = await db.get('dedup', runId);
  if (!rec) return undefined;
  const keep = await readBig(db, rec.keep);
  if (!(keep instanceof Uint8Array)) throw new Error(`stored array ${rec.keep.key} is not u8`);
  return {
    threshold: rec.threshold,
    groups: rec.groups,
    removed: rec.removed,
    keep,
    group: await readI32(db, rec.group),
    representative: await readI32(db, rec.representative),
  };
}
