/**
 * The dedup stage, between embed and cluster: near-duplicate groups of the run's rows, found in
 * the cluster worker (core findDuplicates; its coarse k-means on the worker's backend), stored
 * whole with the run record. A resume finds them stored and computes nothing; the cluster stage
 * then clusters the kept rows only.
 *
 * The stage reads the rows as stored, not as the run's normalisation setting prepares them for
 * k-means: findDuplicates centres and L2-normalises them itself, so a folder of images and an
 * .npy of the same embeddings give the same groups.
 */
import { getDedup, putDedup } from '../../store/dedup';
import type { RunRecord } from '../../store/schema';
import { CancelledError } from '../errors';
import { loadRunMatrix } from '../run-data';
import type { StageContext } from './context';

export async function dedupStage(ctx: StageContext): Promise<void> {
  const { db, run } = ctx;
  const threshold = run.settings.dedup ?? null;
  if (threshold === null) {
    delete run.duplicates;
    return;
  }
  const stored = await getDedup(db, run.id);
  if (stored && stored.threshold === threshold && stored.keep.length === run.rows) {
    run.duplicates = { groups: stored.groups, removed: stored.removed };
    return;
  }
  const x = await loadRunMatrix(db, run, { raw: true });
  ctx.checkCancel();
  ctx.emit({
    type: 'progress',
    runId: run.id,
    datasetId: ctx.dataset.id,
    stage: 'dedup',
    done: 0,
    total: x.rows,
    itemsPerSecond: 0,
    etaSeconds: null,
    message: `looking for near-duplicates among ${x.rows} items`,
  });
  ctx.checkCancel();
  const stop = (): void => ctx.cluster.cancel();
  ctx.cancel.addEventListener('abort', stop);
  let found;
  try {
    found = await ctx.cluster.findDuplicates(
      x,
      { threshold, seed: run.settings.seed },
      run.settings.backend,
    );
  } catch (e) {
    if (ctx.cancel.aborted && !ctx.closing) throw new CancelledError();
    throw e;
  } finally {
    ctx.cancel.removeEventListener('abort', stop);
  }
  if (ctx.closing) return;
  ctx.checkCancel();
  ctx.count('dedupComputed');
  run.duplicates = { groups: found.groups, removed: found.removed };
  await putDedup(
    db,
    run.id,
    {
      threshold,
      groups: found.groups,
      removed: found.removed,
      keep: found.keep,
      group: found.group,
      representative: found.representative,
    },
    (w) => {
      run.updatedAt = Date.now();
      void w.put('runs', run as RunRecord);
    },
  );
  ctx.notice(
    'dedup',
    'info',
    found.groups === 0
      ? 'No near-duplicates found.'
      : `${found.groups} groups of near-duplicates: ${found.removed} items set aside, one of each group kept.`,
  );
  ctx.emitRun();
}
