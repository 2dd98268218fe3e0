/**
 * The run manager, the one owner of a run's lifecycle: create, execute (start, resume, resample),
 * cancel, delete; one run at a time per Workspace, a Web Lock per run so two tabs never execute
 * the same run, and runs left 'running' by a tab that is gone marked 'interrupted' on open.
 */
import {
  deleteRunData,
  getDataset,
  getRunRecord,
  listRunRecords,
  putRun,
  runsWithStatus,
} from '../store/records';
import type { Db } from '../store/db';
import type { RunRecord } from '../store/schema';
import { zeroCounters } from '../store/schema';
import type { ClusterPort } from './cluster-port';
import { STAGES, type RunInfo, type RunSettings, type WorkspaceEvent } from './contract';
import { toRunInfo } from './convert';
import { asUserError, UserInputError } from './errors';
import { RunExecutor } from './executor';
import { PRECOMPUTED_MODEL, validate } from './settings';
import type { WorkerPool } from './workers';

/** Web Lock held while a run executes, so another tab never marks it interrupted. */
const lockName = (runId: string): string => `strata-run-${runId}`;

export interface RunServices {
  readonly db: Db;
  readonly pool: WorkerPool;
  readonly cluster: ClusterPort;
  readonly emit: (e: WorkspaceEvent) => void;
  /** called when a run's stored results are about to change or vanish (explore caches) */
  readonly forget: (runId: string) => void;
}

export class RunManager {
  readonly #s: RunServices;
  #active: { runId: string; controller: AbortController; done: Promise<unknown> } | null = null;

  constructor(services: RunServices) {
    this.#s = services;
  }

  get activeRunId(): string | null {
    return this.#active?.runId ?? null;
  }

  /** Resolves once the active run (if any) has stopped. */
  async settled(): Promise<void> {
    await this.#active?.done;
  }

  /** Runs left 'running' whose lock nobody holds: their tab is gone. */
  async markInterrupted(): Promise<void> {
    const running = await runsWithStatus(this.#s.db, 'running');
    if (running.length === 0) return;
    const held = new Set<string>();
    try {
      const q = await navigator.locks?.query();
      for (const l of q?.held ?? []) if (l.name) held.add(l.name);
    } catch {
      /* no Web Locks: treat every running run as interrupted */
    }
    for (const run of running) {
      if (held.has(lockName(run.id))) continue;
      run.status = 'interrupted';
      for (const s of STAGES) {
        if (run.stages[s].status === 'running') {
          run.stages[s] = { ...run.stages[s], status: 'cancelled' };
        }
      }
      run.notices.push({
        at: Date.now(),
        stage: STAGES.find((s) => run.stages[s].status !== 'done') ?? 'sample',
        level: 'info',
        message: 'The page was closed or reloaded while this run was in progress.',
      });
      await putRun(this.#s.db, run);
    }
  }

  async create(datasetId: string, settings: RunSettings): Promise<RunInfo> {
    const d = await getDataset(this.#s.db, datasetId);
    if (!d) throw new UserInputError('That dataset no longer exists.');
    const errors = validate(settings, d.itemCount).filter((p) => p.severity === 'error');
    if (errors.length > 0) throw new UserInputError(errors.map((p) => p.message).join(' '));
    if ((d.source === 'precomputed') !== (settings.model === PRECOMPUTED_MODEL)) {
      throw new UserInputError(
        d.source === 'precomputed'
          ? 'This dataset holds embeddings already: use the "precomputed" model.'
          : 'This dataset holds images: pick an embedding model.',
      );
    }
    const now = Date.now();
    const stages = Object.fromEntries(
      STAGES.map((s) => [s, { status: 'pending' as const }]),
    ) as RunRecord['stages'];
    const run: RunRecord = {
      id: crypto.randomUUID(),
      datasetId,
      datasetName: d.name,
      settings: structuredClone(settings),
      status: 'created',
      stages,
      createdAt: now,
      updatedAt: now,
      rows: 0,
      dim: 0,
      notices: [],
      skipped: [],
      counters: zeroCounters(),
    };
    await putRun(this.#s.db, run);
    const info = toRunInfo(run);
    this.#s.emit({ type: 'run', run: info });
    return info;
  }

  /**
   * Run (or continue) every stage that is not done. `prepare` edits the stored record first
   * (a resample resets the sample stage); without it a finished run is returned as it is.
   */
  async execute(runId: string, prepare?: (run: RunRecord) => void): Promise<RunInfo> {
    if (this.#active) {
      throw new UserInputError(
        this.#active.runId === runId
          ? 'This run is already in progress.'
          : 'Another run is in progress in this tab: wait for it or cancel it first.',
      );
    }
    const controller = new AbortController();
    let finish!: () => void;
    const done = new Promise<void>((r) => (finish = r));
    this.#active = { runId, controller, done };
    try {
      const run = await getRunRecord(this.#s.db, runId);
      if (!run) throw new UserInputError('That run no longer exists.');
      prepare?.(run);
      if (run.status === 'done' && !prepare) return toRunInfo(run);
      this.#s.forget(runId);
      const { db, pool, cluster, emit } = this.#s;
      const go = (): Promise<RunRecord> =>
        new RunExecutor({ db, pool, cluster, emit, cancel: controller.signal }, run).execute();
      const result = navigator.locks
        ? await navigator.locks.request(lockName(runId), { ifAvailable: true }, (lock) => {
            if (!lock) throw new UserInputError('This run is in progress in another tab.');
            return go();
          })
        : await go();
      this.#s.forget(runId);
      return toRunInfo(result);
    } catch (e) {
      throw asUserError(e);
    } finally {
      this.#active = null;
      finish();
    }
  }

  cancel(runId?: string): void {
    if (!this.#active) return;
    if (runId !== undefined && runId !== this.#active.runId) return;
    this.#active.controller.abort();
  }

  /** Redo only the sample stage with another target or leaf strategy. */
  async resample(
    runId: string,
    change: Partial<Pick<RunSettings, 'target' | 'leafStrategy'>>,
  ): Promise<RunInfo> {
    const run = await getRunRecord(this.#s.db, runId);
    if (!run) throw new UserInputError('That run no longer exists.');
    if (run.stages.cluster.status !== 'done') {
      throw new UserInputError('This run has not finished clustering yet: resume it first.');
    }
    const settings = { ...run.settings, ...change };
    const problems = validate(settings, run.rows).filter((p) => p.severity === 'error');
    if (problems.length) throw new UserInputError(problems.map((p) => p.message).join(' '));
    return this.execute(runId, (r) => {
      r.settings = settings;
      r.stages.sample = { status: 'pending' };
      r.status = 'running';
    });
  }

  async unfinished(): Promise<RunInfo[]> {
    const all = await listRunRecords(this.#s.db);
    return all
      .filter((r) => ['interrupted', 'cancelled', 'failed'].includes(r.status))
      .map(toRunInfo);
  }

  async list(datasetId?: string): Promise<RunInfo[]> {
    return (await listRunRecords(this.#s.db, datasetId)).map(toRunInfo);
  }

  async get(runId: string): Promise<RunInfo | undefined> {
    const r = await getRunRecord(this.#s.db, runId);
    return r && toRunInfo(r);
  }

  async delete(runId: string): Promise<void> {
    if (this.#active?.runId === runId) {
      throw new UserInputError('This run is in progress: cancel it first.');
    }
    this.#s.forget(runId);
    await deleteRunData(this.#s.db, runId);
    this.#s.emit({ type: 'datasets' });
  }

  /** Refuses while a run on the dataset executes in this tab. */
  async assertDatasetIdle(datasetId: string): Promise<void> {
    const active = this.#active && (await getRunRecord(this.#s.db, this.#active.runId));
    if (active && active.datasetId === datasetId) {
      throw new UserInputError('A run on this dataset is in progress: cancel it first.');
    }
  }
}
