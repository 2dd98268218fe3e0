/** What the run executor hands each stage (types only, so stages never import the executor). */
import type { Db } from '../../store/db';
import type { DatasetRecord, RunRecord } from '../../store/schema';
import type { ClusterPort } from '../cluster-port';
import type { Notice, RunCounters, StageName, WorkspaceEvent } from '../contract';
import type { WorkerPool } from '../workers';

export interface RunContext {
  db: Db;
  pool: WorkerPool;
  cluster: ClusterPort;
  emit: (e: WorkspaceEvent) => void;
  /** the person's cancel */
  cancel: AbortSignal;
}

/** What a stage may use: the run's services and the run record it updates. */
export interface StageContext extends RunContext {
  readonly run: RunRecord;
  readonly dataset: DatasetRecord;
  /** true once the Workspace is closing: stop quietly, write nothing more */
  readonly closing: boolean;
  /** add to a work counter (summed over every resume; tests read them) */
  count(counter: keyof RunCounters, n?: number): void;
  notice(stage: StageName, level: Notice['level'], message: string): void;
  /** record a file the run could not use, with its reason */
  skip(path: string, reason: string): void;
  /** throws CancelledError after a cancel or close */
  checkCancel(): void;
  /** emit the run record (after a change the UI should see at once) */
  emitRun(): void;
}
