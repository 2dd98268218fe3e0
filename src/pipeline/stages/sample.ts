/**
 * The sample stage: balanced hierarchical sampling over the stored levels (cheap: a resample
 * with another target or leaf strategy reruns only this stage).
 */
import { sampleHierarchy, type Hierarchy } from '../../core';
import { getLevels } from '../../store/levels';
import { putSelection } from '../../store/records';
import type { StageContext } from './context';
import { toCoreLevel } from '../run-data';

export async function sampleStage(ctx: StageContext): Promise<void> {
  const { db } = ctx;
  const s = ctx.run.settings;
  const levels = await getLevels(db, ctx.run.id, { centroids: false });
  const h: Hierarchy = { levels: levels.map(toCoreLevel) };
  // Rows the sampler can pick: level 1's members (near-duplicates set aside are not among them).
  const n = levels[0]?.members.length ?? 0;
  if (s.target >= n) {
    ctx.notice(
      'sample',
      'warning',
      `The target (${s.target}) is not smaller than the pool (${n}): every item is kept.`,
    );
  }
  const rows = sampleHierarchy(h, s.target, { leafStrategy: s.leafStrategy, seed: s.seed });
  await putSelection(db, {
    runId: ctx.run.id,
    rows,
    target: s.target,
    leafStrategy: s.leafStrategy,
    seed: s.seed,
    createdAt: Date.now(),
  });
  ctx.run.selected = rows.length;
  ctx.run.stages.sample = { ...ctx.run.stages.sample, done: rows.length, total: rows.length };
}
