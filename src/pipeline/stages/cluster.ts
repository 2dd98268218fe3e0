/**
 * The cluster stage: hierarchical k-means with resampling in the cluster worker. Every finished
 * resampling step and level is stored before the worker goes on, so a resume starts from the
 * last stored step of the last stored level and recomputes nothing.
 *
 * With near-duplicates found (the dedup stage), only the kept rows are clustered; level 1 is
 * stored mapped back to the run's rows (dedup-rows.ts), so everything after speaks of run rows.
 * A fresh start first plans the automatic hierarchy settings for the rows clustered and stores
 * them with the run, so what the run record says is what ran.
 */
import {
  gatherRows,
  type HierarchyProgress,
  type HierarchyResume,
  type Level,
  type Matrix,
} from '../../core';
import { getDedup } from '../../store/dedup';
import { getLevels, lastStep, packClusters, putLevel, putStep } from '../../store/levels';
import { putRun } from '../../store/records';
import type { RunRecord } from '../../store/schema';
import { CancelledError } from '../errors';
import type { StageContext } from './context';
import { hierarchyConfig, planForRows, planThroughput } from '../settings';
import { Throughput } from '../throughput';
import { loadRunMatrix, toCoreLevel } from '../run-data';
import { keptRows, levelToRunRows } from '../dedup-rows';

/**
 * Before anything is clustered: the settings for the rows this run clusters. Automatic k, r and
 * rounds are planned for those rows (as `strata curate` plans for the rows it keeps); a level 1
 * or a target larger than the rows left is said plainly, and level 1 is capped at the rows.
 */
async function settingsForRows(ctx: StageContext, n: number): Promise<void> {
  const s = ctx.run.settings;
  const removed = ctx.run.duplicates?.removed ?? 0;
  const left = removed > 0 ? ' left after near-duplicate removal' : '';
  const throughput = s.autoPlan?.length ? planThroughput(await ctx.cluster.probe()) : undefined;
  let next = planForRows(s, n, ctx.run.dim, throughput);
  if (next !== s && (next.k.join() !== s.k.join() || next.r.join() !== s.r.join())) {
    ctx.notice(
      'cluster',
      'info',
      `Planned for the ${n} items${left}: ${next.k.length} level(s), k = ${next.k.join(' / ')}, r = ${next.r.join(' / ')}.`,
    );
  }
  if (next.k[0] > n) {
    ctx.notice(
      'cluster',
      'warning',
      `Level 1 asks for ${next.k[0]} clusters but only ${n} items are${left || ' there'}: it makes ${n} (one item each).`,
    );
    next = { ...next, k: [n, ...next.k.slice(1)] };
  }
  if (removed > 0 && next.target > n) {
    ctx.notice(
      'cluster',
      'warning',
      `The target (${next.target}) is more than the ${n} items${left}: every one of them is kept.`,
    );
  }
  if (JSON.stringify(next) !== JSON.stringify(s)) {
    ctx.run.settings = next;
    await putRun(ctx.db, ctx.run);
    ctx.emitRun();
  }
}

export async function clusterStage(ctx: StageContext): Promise<void> {
  const { db } = ctx;
  let stored = await getLevels(db, ctx.run.id);
  if (stored.length >= ctx.run.settings.k.length) return;
  let partialStep = await lastStep(db, ctx.run.id, stored.length + 1);
  const dedup = ctx.run.settings.dedup != null ? await getDedup(db, ctx.run.id) : undefined;
  const kept = dedup && dedup.removed > 0 ? keptRows(dedup.keep) : undefined;
  // A fresh start plans for the rows clustered; a resume keeps the settings stored with the run.
  if (stored.length === 0 && !partialStep) {
    await settingsForRows(ctx, kept ? kept.length : ctx.run.rows);
    stored = await getLevels(db, ctx.run.id);
    partialStep = await lastStep(db, ctx.run.id, stored.length + 1);
  }
  const config = hierarchyConfig(ctx.run.settings);
  const T = config.levels.length;
  let resume: HierarchyResume | undefined;
  if (stored.length > 0 || partialStep) {
    resume = {
      levels: stored.map(toCoreLevel),
      ...(partialStep
        ? {
            partial: {
              level: stored.length,
              step: partialStep.step,
              centroids: {
                data: partialStep.centroids,
                rows: partialStep.k,
                cols: partialStep.cols,
              },
            },
          }
        : {}),
    };
    ctx.count('clusterResumes');
    ctx.notice(
      'cluster',
      'info',
      partialStep
        ? `Resumed at level ${stored.length + 1} after step ${partialStep.step}.`
        : `Resumed after level ${stored.length}.`,
    );
  }

  const all = await loadRunMatrix(ctx.db, ctx.run);
  const x = kept ? gatherRows(all, kept) : all;
  ctx.checkCancel();
  const n = x.rows;
  const rate = new Throughput();
  let lastFraction = 0;
  const onProgress = (p: HierarchyProgress): void => {
    rate.add((p.fraction - lastFraction) * n);
    lastFraction = p.fraction;
    const stepText =
      p.steps > 0 ? (p.step === 0 ? ', first fit' : `, refit ${p.step} of ${p.steps}`) : '';
    const done = Math.round(p.fraction * n);
    ctx.run.stages.cluster = { ...ctx.run.stages.cluster, done, total: n };
    ctx.emit({
      type: 'progress',
      runId: ctx.run.id,
      datasetId: ctx.dataset.id,
      stage: 'cluster',
      done,
      total: n,
      itemsPerSecond: rate.perSecond(),
      etaSeconds: rate.eta(n - done),
      level: p.level + 1,
      levels: p.levels,
      step: p.step,
      steps: p.steps,
      message: `level ${p.level + 1} of ${p.levels}${stepText}, round ${p.iteration} of ${p.iterations}`,
    });
  };
  const runRecord = (w: { put: (s: 'runs', v: RunRecord) => Promise<void> }): void => {
    ctx.run.updatedAt = Date.now();
    void w.put('runs', ctx.run);
  };
  const onStep = async (level: number, step: number, c: Matrix): Promise<void> => {
    if (ctx.closing) return;
    ctx.count('stepsComputed');
    await putStep(
      db,
      ctx.run.id,
      { level: level + 1, step, k: c.rows, cols: c.cols, centroids: c.data },
      runRecord,
    );
  };
  const onLevel = async (index: number, computed: Level): Promise<void> => {
    if (ctx.closing) return;
    const level =
      index === 0 && kept && dedup
        ? levelToRunRows(computed, kept, all.rows, dedup.group, dedup.representative)
        : computed;
    ctx.count('levelsComputed');
    const { members, offsets } = packClusters(level.clusters);
    await putLevel(
      db,
      ctx.run.id,
      {
        level: index + 1,
        k: level.k,
        cols: level.centroids.cols,
        n: level.labels.length,
        centroids: level.centroids.data,
        labels: level.labels,
        dist2: level.dist2,
        members,
        offsets,
      },
      runRecord,
    );
    ctx.emitRun();
  };
  const onNotice = (message: string): void => ctx.notice('cluster', 'warning', message);

  const stop = (): void => ctx.cluster.cancel();
  ctx.cancel.addEventListener('abort', stop);
  try {
    const outcome = await ctx.cluster.run(x, config, ctx.run.settings.backend, resume, {
      onProgress,
      onStep,
      onLevel,
      onNotice,
    });
    ctx.run.backendUsed = outcome.backend;
    if (outcome.fellBackToCpu) {
      ctx.notice('cluster', 'warning', 'The graphics card failed mid-run; the CPU finished it.');
    }
  } catch (e) {
    if (ctx.cancel.aborted && !ctx.closing) throw new CancelledError();
    throw e;
  } finally {
    ctx.cancel.removeEventListener('abort', stop);
  }
  const levels = await getLevels(db, ctx.run.id, { centroids: false });
  if (levels.length < T) {
    throw new Error(`clustering ended with ${levels.length} of ${T} levels stored`);
  }
}
