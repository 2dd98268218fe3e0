/**
 * One run, stage by stage: ingest -> embed -> dedup -> cluster -> sample (one module each under
 * stages/). Each stage reads its input from the database and writes its output there, and a
 * stage marked done is never run again, so a run interrupted anywhere (cancel, crash, closed
 * tab) continues from what is stored: embedded rows are not embedded again, stored levels and
 * resampling steps are not recomputed.
 *
 * The executor owns the run record while it runs: stage status, notices, counters and skipped
 * files all go through the `StageContext` (stages/context.ts) it hands each stage.
 */
import { write } from '../store/db';
import { getDataset } from '../store/records';
import type { DatasetRecord, RunRecord } from '../store/schema';
import type { Notice, StageName } from './contract';
import { toRunInfo } from './convert';
import { CancelledError, isCancellation, UserInputError } from './errors';
import { clusterStage } from './stages/cluster';
import { dedupStage } from './stages/dedup';
import { embedStage } from './stages/embed';
import { ingestStage } from './stages/ingest';
import { sampleStage } from './stages/sample';
import type { RunContext, StageContext } from './stages/context';

const STAGE_BODIES: readonly [StageName, (ctx: StageContext) => Promise<void>][] = [
  ['ingest', ingestStage],
  ['embed', embedStage],
  ['dedup', dedupStage],
  ['cluster', clusterStage],
  ['sample', sampleStage],
];

export class RunExecutor {
  readonly #ctx: RunContext;
  readonly run: RunRecord;
  #stageContext!: StageContext;

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

  #notice(stage: StageName, level: Notice['level'], message: string): void {
    const notice: Notice = { at: Date.now(), stage, level, message };
    this.run.notices.push(notice);
    this.#ctx.emit({ type: 'notice', runId: this.run.id, notice });
  }

  #checkCancel(): void {
    if (this.#ctx.cancel.aborted) throw new CancelledError();
    if (this.#closing) throw new CancelledError('the workspace closed');
  }

  #makeStageContext(dataset: DatasetRecord): StageContext {
    const run = this.run;
    const emit = this.#ctx.emit;
    const isClosing = (): boolean => this.#closing;
    return {
      ...this.#ctx,
      run,
      dataset,
      get closing() {
        return isClosing();
      },
      count: (c, n = 1) => {
        run.counters[c] += n;
      },
      notice: (stage, level, message) => this.#notice(stage, level, message),
      skip: (path, reason) => {
        const skipped = { path, reason };
        run.skipped.push(skipped);
        emit({ type: 'skip', runId: run.id, skipped });
      },
      checkCancel: () => this.#checkCancel(),
      emitRun: () => this.#emitRun(),
    };
  }

  async execute(): Promise<RunRecord> {
    const dataset = await getDataset(this.#ctx.db, this.run.datasetId);
    if (!dataset) throw new UserInputError('The dataset of this run was deleted.');
    this.#stageContext = this.#makeStageContext(dataset);
    this.run.status = 'running';
    await this.#save();
    try {
      for (const [name, body] of STAGE_BODIES) await this.#stage(name, body);
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

  async #stage(name: StageName, body: (ctx: StageContext) => Promise<void>): Promise<void> {
    const state = this.run.stages[name];
    if (state.status === 'done') return;
    this.#checkCancel();
    const { error: _previous, ...rest } = state;
    this.run.stages[name] = { ...rest, status: 'running', startedAt: Date.now() };
    await this.#save();
    this.#ctx.emit({ type: 'stage', runId: this.run.id, stage: name, status: 'running' });
    try {
      await body(this.#stageContext);
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
}
