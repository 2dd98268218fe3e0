/**
 * One run, stage by stage: ingest -> embed -> cluster -> sample. Each stage reads its input from
 * the database and writes its output there, and a stage marked done is never run again, so a
 * run interrupted anywhere (cancel, crash, closed tab) continues from what is stored: embedded
 * rows are not embedded again, stored levels and resampling steps are not recomputed.
 */
import * as Comlink from 'comlink';
import {
  sampleHierarchy,
  type Hierarchy,
  type HierarchyProgress,
  type HierarchyResume,
  type Level,
  type Matrix,
} from '../core';
import { readI32, write, type Db } from '../store/db';
import { embeddedIndices, gatherMatrix, putEmbeddingRows } from '../store/embeddings';
import {
  getLevels,
  lastStep,
  packClusters,
  putLevel,
  putStep,
  unpackClusters,
} from '../store/levels';
import type { LevelData } from '../store/levels';
import { allItems, getDataset, putSelection } from '../store/records';
import type { DatasetRecord, ItemRecord, RunRecord } from '../store/schema';
import type { EmbedItem, EmbedProgress, EmbedRows, EmbedSkip } from '../embed/service';
import type { Notice, RunCounters, StageName, WorkspaceEvent } from './contract';
import type { ClusterPort } from './cluster-port';
import { CancelledError, isCancellation, UserInputError } from './errors';
import { normaliseRows } from './normalise';
import { embeddingKey, hierarchyConfig, modelOf } from './settings';
import { Throughput } from './throughput';
import { toRunInfo } from './convert';
import type { WorkerPool } from './workers';

export interface RunContext {
  db: Db;
  pool: WorkerPool;
  cluster: ClusterPort;
  emit: (e: WorkspaceEvent) => void;
  /** the person's cancel */
  cancel: AbortSignal;
}

type Counter = keyof RunCounters;

/** A stored level as the core sees it (centroids optional: sampling needs only the clusters). */
export function toCoreLevel(l: LevelData): Level {
  return {
    k: l.k,
    centroids: { data: l.centroids, rows: l.centroids.length > 0 ? l.k : 0, cols: l.cols },
    labels: l.labels,
    dist2: l.dist2,
    clusters: unpackClusters(l.members, l.offsets),
  };
}

export class RunExecutor {
  readonly #ctx: RunContext;
  readonly run: RunRecord;
  #dataset!: DatasetRecord;

  constructor(ctx: RunContext, run: RunRecord) {
    this.#ctx = ctx;
    this.run = run;
  }

  get #closing(): boolean {
    return this.#ctx.pool.closed.aborted;
  }

  #emitRun(): void {
    this.#ctx.emit({ type: 'run', run: toRunInfo(this.run) });
  }

  async #save(): Promise<void> {
    if (this.#closing) return;
    this.run.updatedAt = Date.now();
    await write(this.#ctx.db, ['runs'], 'the run record', (w) => w.put('runs', this.run));
    this.#emitRun();
  }

  #count(c: Counter, n = 1): void {
    this.run.counters[c] += n;
  }

  #notice(stage: StageName, level: Notice['level'], message: string): void {
    const notice: Notice = { at: Date.now(), stage, level, message };
    this.run.notices.push(notice);
    this.#ctx.emit({ type: 'notice', runId: this.run.id, notice });
  }

  #checkCancel(): void {
    if (this.#ctx.cancel.aborted) throw new CancelledError();
    if (this.#closing) throw new CancelledError('the workspace closed');
  }

  async execute(): Promise<RunRecord> {
    const dataset = await getDataset(this.#ctx.db, this.run.datasetId);
    if (!dataset) throw new UserInputError('The dataset of this run was deleted.');
    this.#dataset = dataset;
    this.run.status = 'running';
    await this.#save();
    try {
      await this.#stage('ingest', () => this.#ingest());
      await this.#stage('embed', () => this.#embed());
      await this.#stage('cluster', () => this.#cluster());
      await this.#stage('sample', () => this.#sample());
    } catch (e) {
      if (this.#closing) throw e;
      const cancelled = isCancellation(e);
      this.run.status = cancelled ? 'cancelled' : 'failed';
      await this.#save().catch(() => undefined);
      throw cancelled && !(e instanceof CancelledError) ? new CancelledError() : e;
    }
    this.run.status = 'done';
    this.run.finishedAt = Date.now();
    await this.#save();
    return this.run;
  }

  async #stage(name: StageName, body: () => Promise<void>): Promise<void> {
    const state = this.run.stages[name];
    if (state.status === 'done') return;
    this.#checkCancel();
    const { error: _previous, ...rest } = state;
    this.run.stages[name] = { ...rest, status: 'running', startedAt: Date.now() };
    await this.#save();
    this.#ctx.emit({ type: 'stage', runId: this.run.id, stage: name, status: 'running' });
    try {
      await body();
    } catch (e) {
      if (this.#closing) throw e;
      const cancelled = isCancellation(e);
      const status = cancelled ? 'cancelled' : 'failed';
      this.run.stages[name] = {
        ...this.run.stages[name],
        status,
        ...(cancelled ? {} : { error: e instanceof Error ? e.message : String(e) }),
      };
      if (!cancelled) this.#notice(name, 'error', e instanceof Error ? e.message : String(e));
      this.#ctx.emit({ type: 'stage', runId: this.run.id, stage: name, status });
      throw e;
    }
    this.run.stages[name] = {
      ...this.run.stages[name],
      status: 'done',
      finishedAt: Date.now(),
    };
    await this.#save();
    this.#ctx.emit({ type: 'stage', runId: this.run.id, stage: name, status: 'done' });
  }

  /* ------------------------------ ingest ------------------------------ */

  async #ingest(): Promise<void> {
    // Items were stored when the dataset was ingested; this stage checks they are all there.
    if (this.#dataset.complete === false) {
      throw new UserInputError(
        'Reading the files of this dataset did not finish. Add the folder again to curate it.',
      );
    }
    const n = this.#dataset.itemCount;
    this.run.stages.ingest = { ...this.run.stages.ingest, done: n, total: n };
  }

  /* ------------------------------ embed ------------------------------ */

  async #embed(): Promise<void> {
    const { db } = this.#ctx;
    const ds = this.#dataset;
    const key = embeddingKey(this.run.settings);
    const skippedPaths = new Set(this.run.skipped.map((s) => s.path));
    const candidates = (await allItems(db, ds.id)).filter((i) => !skippedPaths.has(i.path));
    const { have, dim: storedDim } = await embeddedIndices(db, ds.id, key);
    const missing = candidates.filter((i) => !have.has(i.index));
    this.#count('embedReused', candidates.length - missing.length);
    const total = candidates.length;
    const got = new Set<number>();
    let dim = storedDim;

    if (missing.length > 0) {
      if (ds.source === 'precomputed') {
        throw new Error(`${missing.length} precomputed rows are missing from the database`);
      }
      dim = await this.#embedMissing(missing, key, total - missing.length, total, got);
      if (storedDim && dim && storedDim !== dim) {
        throw new Error(`stored embeddings have ${storedDim} dims, the model gives ${dim}`);
      }
      dim ||= storedDim;
    }

    const skippedNow = new Set(this.run.skipped.map((s) => s.path));
    const rows = candidates.filter(
      (i) => (have.has(i.index) || got.has(i.index)) && !skippedNow.has(i.path),
    );
    if (rows.length === 0) {
      throw new UserInputError('No image could be embedded, so there is nothing to cluster.');
    }
    const rowItems = Int32Array.from(rows, (i) => i.index);
    this.run.rows = rows.length;
    this.run.dim = dim;
    this.run.stages.embed = { ...this.run.stages.embed, done: total, total };
    await write(db, ['runs', 'chunks'], 'the list of embedded items', (w) => {
      this.run.rowItems = w.putBig(`${this.run.id}/rowItems`, rowItems);
      return w.put('runs', this.run);
    });
  }

  /** Embed `missing` in the embed worker, storing rows as they stream in; returns the dim. */
  async #embedMissing(
    missing: ItemRecord[],
    key: string,
    already: number,
    total: number,
    got: Set<number>,
  ): Promise<number> {
    const { db, pool } = this.#ctx;
    const ds = this.#dataset;
    const spec = modelOf(this.run.settings);
    if (!spec) throw new UserInputError(`Unknown model "${this.run.settings.model}".`);

    const items: EmbedItem[] = [];
    const tx = db.transaction('files');
    const files = await Promise.all(missing.map((i) => tx.store.get([ds.id, i.index])));
    missing.forEach((item, i) => {
      const f = files[i];
      if (f) items.push({ key: String(item.index), file: f.file });
      else this.#skip(item.path, 'the file is no longer stored; add the folder again');
    });

    // Chunk numbers from the clock (ms x 1024, +1 per batch): a batch takes far longer than
    // 1/1024 ms, so the counter never passes the clock and a later session or another tab
    // embedding the same dataset never reuses a number. The order of chunks does not matter.
    let nextChunk = Date.now() * 1024;
    let dim = 0;
    let writes = Promise.resolve();
    let writeError: unknown = null;
    const embed = pool.embed();
    const rate = new Throughput();
    const byKey = new Map(missing.map((m) => [String(m.index), m]));

    const onRows = (rows: EmbedRows): void => {
      dim = rows.dim;
      const indices = Int32Array.from(rows.keys, Number);
      const chunk = nextChunk++;
      writes = writes
        .then(() => putEmbeddingRows(db, ds.id, key, chunk, indices, rows.data, rows.dim))
        .then(
          () => indices.forEach((i) => got.add(i)),
          (e: unknown) => {
            writeError ??= e;
            void embed.cancel();
          },
        );
    };
    const onProgress = (p: EmbedProgress): void => {
      if (p.provider) this.run.providerUsed = p.provider;
      rate.set(p.itemsPerSecond);
      const what = p.download
        ? `downloading the model: ${Math.round(p.download.loaded / 1e6)} MB`
        : `embedding${p.provider ? ` with ${p.provider}` : ''}: ${already + p.done} of ${total}`;
      this.run.stages.embed = { ...this.run.stages.embed, done: already + p.done, total };
      this.#ctx.emit({
        type: 'progress',
        runId: this.run.id,
        datasetId: ds.id,
        stage: 'embed',
        done: already + p.done,
        total,
        itemsPerSecond: p.itemsPerSecond,
        etaSeconds: Number.isFinite(p.etaSeconds) ? p.etaSeconds : null,
        message: what,
      });
    };
    const onSkip = (s: EmbedSkip): void => {
      const item = byKey.get(s.key);
      this.#skip(item?.path ?? s.key, s.reason);
    };
    const stop = (): void => void embed.cancel();
    this.#ctx.cancel.addEventListener('abort', stop);
    try {
      const summary = await pool.guard(
        embed.embedFiles(
          items,
          {
            model: spec,
            provider: this.run.settings.provider,
            batchSize: this.run.settings.batchSize,
          },
          Comlink.proxy(onRows),
          Comlink.proxy(onProgress),
          Comlink.proxy(onSkip),
        ),
      );
      await writes;
      if (writeError) throw writeError;
      this.#count('embedded', summary.computed);
      this.#count('embedReused', summary.cached);
      if (summary.provider) this.run.providerUsed = summary.provider;
      for (const w of summary.warnings) this.#notice('embed', 'warning', w);
      if (summary.cancelled) throw new CancelledError();
      return dim;
    } finally {
      this.#ctx.cancel.removeEventListener('abort', stop);
      await writes;
    }
  }

  #skip(path: string, reason: string): void {
    const skipped = { path, reason };
    this.run.skipped.push(skipped);
    this.#ctx.emit({ type: 'skip', runId: this.run.id, skipped });
  }

  /* ------------------------------ cluster ------------------------------ */

  async #matrix(): Promise<Matrix> {
    const { db } = this.#ctx;
    if (!this.run.rowItems) throw new Error('the embed stage left no row list');
    const rowItems = await readI32(db, this.run.rowItems);
    const key = embeddingKey(this.run.settings);
    const { data, dim } = await gatherMatrix(db, this.#dataset.id, key, rowItems);
    await normaliseRows(data, rowItems.length, dim, this.run.settings.normalisation);
    return { data, rows: rowItems.length, cols: dim };
  }

  async #cluster(): Promise<void> {
    const { db } = this.#ctx;
    const config = hierarchyConfig(this.run.settings);
    const T = config.levels.length;
    const stored = await getLevels(db, this.run.id);
    if (stored.length >= T) return;
    const partialStep = await lastStep(db, this.run.id, stored.length + 1);
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
      this.#count('clusterResumes');
      this.#notice(
        'cluster',
        'info',
        partialStep
          ? `Resumed at level ${stored.length + 1} after step ${partialStep.step}.`
          : `Resumed after level ${stored.length}.`,
      );
    }

    const x = await this.#matrix();
    this.#checkCancel();
    const n = x.rows;
    const rate = new Throughput();
    let lastFraction = 0;
    const onProgress = (p: HierarchyProgress): void => {
      rate.add((p.fraction - lastFraction) * n);
      lastFraction = p.fraction;
      const stepText =
        p.steps > 0 ? (p.step === 0 ? ', first fit' : `, refit ${p.step} of ${p.steps}`) : '';
      const done = Math.round(p.fraction * n);
      this.run.stages.cluster = { ...this.run.stages.cluster, done, total: n };
      this.#ctx.emit({
        type: 'progress',
        runId: this.run.id,
        datasetId: this.#dataset.id,
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
      this.run.updatedAt = Date.now();
      void w.put('runs', this.run);
    };
    const onStep = async (level: number, step: number, c: Matrix): Promise<void> => {
      if (this.#closing) return;
      this.#count('stepsComputed');
      await putStep(
        db,
        this.run.id,
        { level: level + 1, step, k: c.rows, cols: c.cols, centroids: c.data },
        runRecord,
      );
    };
    const onLevel = async (index: number, level: Level): Promise<void> => {
      if (this.#closing) return;
      this.#count('levelsComputed');
      const { members, offsets } = packClusters(level.clusters);
      await putLevel(
        db,
        this.run.id,
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
      this.#emitRun();
    };
    const onNotice = (message: string): void => this.#notice('cluster', 'warning', message);

    const stop = (): void => this.#ctx.cluster.cancel();
    this.#ctx.cancel.addEventListener('abort', stop);
    try {
      const outcome = await this.#ctx.cluster.run(x, config, this.run.settings.backend, resume, {
        onProgress,
        onStep,
        onLevel,
        onNotice,
      });
      this.run.backendUsed = outcome.backend;
      if (outcome.fellBackToCpu) {
        this.#notice(
          'cluster',
          'warning',
          'The graphics card failed mid-run; the CPU finished it.',
        );
      }
    } catch (e) {
      if (this.#ctx.cancel.aborted && !this.#closing) throw new CancelledError();
      throw e;
    } finally {
      this.#ctx.cancel.removeEventListener('abort', stop);
    }
    const levels = await getLevels(db, this.run.id, { centroids: false });
    if (levels.length < T) {
      throw new Error(`clustering ended with ${levels.length} of ${T} levels stored`);
    }
  }

  /* ------------------------------ sample ------------------------------ */

  async #sample(): Promise<void> {
    const { db } = this.#ctx;
    const s = this.run.settings;
    const levels = await getLevels(db, this.run.id, { centroids: false });
    const h: Hierarchy = { levels: levels.map(toCoreLevel) };
    const n = levels[0]?.n ?? 0;
    if (s.target >= n) {
      this.#notice(
        'sample',
        'warning',
        `The target (${s.target}) is not smaller than the pool (${n}): every item is kept.`,
      );
    }
    const rows = sampleHierarchy(h, s.target, { leafStrategy: s.leafStrategy, seed: s.seed });
    await putSelection(db, {
      runId: this.run.id,
      rows,
      target: s.target,
      leafStrategy: s.leafStrategy,
      seed: s.seed,
      createdAt: Date.now(),
    });
    this.run.selected = rows.length;
    this.run.stages.sample = { ...this.run.stages.sample, done: rows.length, total: rows.length };
  }
}
