/**
 * The Workspace: the facade the UI talks to (see `WorkspaceApi` in contract.ts for what each
 * method promises). It lives on the main thread, owns the database, the workers and the event
 * listeners, and delegates: ingest to stages/ingest.ts, runs to the RunManager (runs.ts),
 * questions about a run to the RunInspector (inspect.ts), exports to export.ts.
 */
import * as Comlink from 'comlink';
import type { KMeansThroughput } from '../core/kmeans-throughput';
import { estimate, isPersisted, openStrataDb, type Db } from '../store/db';
import {
  deleteDatasetData,
  getDataset as getDatasetRecord,
  getItems,
  getRunRecord,
  getThumb,
  listDatasets as listDatasetRecords,
  listRunRecords,
  pageItems,
} from '../store/records';
import { requestPersist } from '../store/db';
import type { RunRecord } from '../store/schema';
import type {
  BalanceReport,
  ClusterDetail,
  ClusterSummary,
  CurationEdits,
  DatasetId,
  EditAction,
  DatasetInfo,
  DuplicateGroups,
  ExportProgress,
  IngestOptions,
  IngestReport,
  IngestSource,
  ItemDetail,
  JobBundleInfo,
  JobBundlePlan,
  ReferenceImportReport,
  ReferenceImportSource,
  ItemIndex,
  ItemInfo,
  ManifestFormat,
  ManifestOptions,
  Projection,
  RunId,
  RunInfo,
  RowFacts,
  RunSettings,
  SearchHit,
  SettingsProblem,
  SizeDistribution,
  StorageInfo,
  SuggestedSettings,
  WorkspaceApi,
  WorkspaceEvent,
  WorkspaceListener,
  WorkspaceOptions,
} from './contract';
import { workerClusterPort, type ClusterPort } from './cluster-port';
import { toDatasetInfo, toItemInfo } from './convert';
import { asUserError, CancelledError, UserInputError } from './errors';
import { exportName, manifestBlob, writeRunToFolder, zipRun } from './export';
import { EditLog, listEdits } from './edits';
import { importReferenceRun } from './import-run';
import { allowDatasetFolder, datasetFolderAccess, openItemFiles, readItemFile } from './item-files';
import { prepareJobBundle, writeJobBundle, zipJobBundle, type PreparedBundle } from './job-bundle';
import { RunInspector } from './inspect';
import { duplicateGroups } from './inspect-dedup';
import { itemDetail, rowFacts, searchRows } from './inspect-rows';
import { RunManager } from './runs';
import { planThroughput, suggest, validate } from './settings';
import { ingestSource, rescanDataset, takeDropped, type IngestServices } from './stages/ingest';
import { WorkerPool } from './workers';

export class Workspace implements WorkspaceApi {
  readonly #db: Db;
  readonly #pool: WorkerPool;
  readonly #cluster: ClusterPort;
  readonly #listeners = new Set<WorkspaceListener>();
  readonly #inspector: RunInspector;
  readonly #runs: RunManager;
  readonly #edits: EditLog;
  #closed = false;

  private constructor(db: Db, options: WorkspaceOptions) {
    this.#db = db;
    this.#pool = new WorkerPool(options.workers);
    this.#cluster = workerClusterPort(this.#pool);
    this.#inspector = new RunInspector(
      db,
      (data, n, dim) =>
        this.#pool.guard(this.#pool.projection().project(data, n, dim), 'projection'),
      (data, n, dim, seed, init) =>
        this.#pool.guard(this.#pool.projection().layout(data, n, dim, seed, init), 'projection'),
    );
    this.#edits = new EditLog(db, (run) => {
      this.#inspector.forget(run.id);
      this.#emit({ type: 'run', run });
    });
    this.#runs = new RunManager({
      db,
      pool: this.#pool,
      cluster: this.#cluster,
      emit: this.#emit,
      forget: (runId) => this.#inspector.forget(runId),
    });
  }

  /**
   * Open (creating or migrating) the database. Runs left 'running' by a tab that is gone are
   * marked 'interrupted' so the UI can offer to resume them.
   */
  static async open(options: WorkspaceOptions = {}): Promise<Workspace> {
    const db = await openStrataDb(options.dbName);
    const ws = new Workspace(db, options);
    await ws.#runs.markInterrupted();
    return ws;
  }

  /* ------------------------------ events ------------------------------ */

  subscribe(listener: WorkspaceListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit = (event: WorkspaceEvent): void => {
    for (const l of this.#listeners) {
      try {
        l(event);
      } catch (e) {
        // A broken listener must not break the run.
        console.error('workspace listener failed', e);
      }
    }
  };

  get activeRunId(): RunId | null {
    return this.#runs.activeRunId;
  }

  #open(): void {
    if (this.#closed) throw new Error('this workspace is closed');
  }

  /* ------------------------------ datasets ------------------------------ */

  #ingestServices(signal?: AbortSignal): IngestServices {
    return {
      db: this.#db,
      digest: (files) => this.#pool.guard(this.#pool.ingest().digest(files), 'ingest'),
      readPrecomputed: (npy, ids, onChunk) =>
        this.#pool.guard(
          this.#pool.ingest().precomputed(npy, ids, Comlink.proxy(onChunk)),
          'ingest',
        ),
      emit: this.#emit,
      ...(signal ? { signal } : {}),
    };
  }

  ingest(source: IngestSource, options: IngestOptions = {}): Promise<IngestReport> {
    // A drop's entries are only readable during the drop event: take them before any await.
    const dropped = takeDropped(source);
    return (async () => {
      this.#open();
      return ingestSource(this.#ingestServices(options.signal), source, options, dropped);
    })().catch((e: unknown) => {
      // Closed mid-way (the tab went): the database or a worker failing under it is no error.
      if (this.#pool.closed.aborted) throw new CancelledError('the workspace closed');
      throw asUserError(e);
    });
  }

  async rescan(
    datasetId: DatasetId,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<IngestReport> {
    this.#open();
    return rescanDataset(this.#ingestServices(options.signal), datasetId);
  }

  async listDatasets(): Promise<DatasetInfo[]> {
    return (await listDatasetRecords(this.#db)).map(toDatasetInfo);
  }

  async getDataset(datasetId: DatasetId): Promise<DatasetInfo | undefined> {
    const d = await getDatasetRecord(this.#db, datasetId);
    return d && toDatasetInfo(d);
  }

  async listItems(datasetId: DatasetId, offset = 0, limit = 100): Promise<ItemInfo[]> {
    return (await pageItems(this.#db, datasetId, offset, limit)).map(toItemInfo);
  }

  async file(datasetId: DatasetId, index: ItemIndex): Promise<Blob | undefined> {
    const d = await getDatasetRecord(this.#db, datasetId);
    const [item] = await getItems(this.#db, datasetId, [index]);
    if (!d || !item || d.storage === 'none') return undefined;
    return readItemFile(await openItemFiles(this.#db, d), item);
  }

  folderAccess(datasetId: DatasetId): Promise<'granted' | 'ask' | 'denied'> {
    return datasetFolderAccess(this.#db, datasetId);
  }

  allowFolder(datasetId: DatasetId): Promise<boolean> {
    return allowDatasetFolder(this.#db, datasetId);
  }

  thumbnail(datasetId: DatasetId, index: ItemIndex): Promise<Blob | undefined> {
    return getThumb(this.#db, datasetId, index);
  }

  async deleteDataset(datasetId: DatasetId): Promise<void> {
    await this.#runs.assertDatasetIdle(datasetId);
    for (const r of await listRunRecords(this.#db, datasetId)) this.#inspector.forget(r.id);
    await deleteDatasetData(this.#db, datasetId);
    this.#emit({ type: 'datasets' });
  }

  /* ------------------------------ settings ------------------------------ */

  async suggestSettings(datasetId: DatasetId): Promise<SuggestedSettings> {
    const d = await getDatasetRecord(this.#db, datasetId);
    if (!d) throw new UserInputError('That dataset no longer exists.');
    return suggest(d, await this.#flops());
  }

  #probe: Promise<KMeansThroughput | undefined> | null = null;

  /**
   * Measured k-means throughput of the backend 'auto' picks (once per Workspace): the GPU's
   * assignment rate when it wins, else the CPU kernel's assignment and k-means++ rates.
   */
  #flops(): Promise<KMeansThroughput | undefined> {
    this.#probe ??= this.#cluster.probe().then(planThroughput, () => undefined);
    return this.#probe;
  }

  validateSettings(settings: RunSettings, n: number): SettingsProblem[] {
    return validate(settings, n);
  }

  /* ------------------------------ runs ------------------------------ */

  async createRun(datasetId: DatasetId, settings: RunSettings): Promise<RunInfo> {
    this.#open();
    return this.#runs.create(datasetId, settings);
  }

  start(runId: RunId): Promise<RunInfo> {
    return this.#execute(runId);
  }

  resume(runId: RunId): Promise<RunInfo> {
    return this.#execute(runId);
  }

  async #execute(runId: RunId): Promise<RunInfo> {
    this.#open();
    return this.#runs.execute(runId);
  }

  cancel(runId?: RunId): void {
    this.#runs.cancel(runId);
  }

  unfinishedRuns(): Promise<RunInfo[]> {
    return this.#runs.unfinished();
  }

  listRuns(datasetId?: DatasetId): Promise<RunInfo[]> {
    return this.#runs.list(datasetId);
  }

  getRun(runId: RunId): Promise<RunInfo | undefined> {
    return this.#runs.get(runId);
  }

  deleteRun(runId: RunId): Promise<void> {
    return this.#runs.delete(runId);
  }

  async resample(
    runId: RunId,
    change: Partial<Pick<RunSettings, 'target' | 'leafStrategy'>>,
  ): Promise<RunInfo> {
    this.#open();
    const run = await this.#runs.resample(runId, change);
    // The person's edits apply over the new sample too: its count includes them.
    return (await this.#edits.refresh(runId)) ?? run;
  }

  /* ------------------------------ explore ------------------------------ */

  levels(runId: RunId): Promise<{ readonly k: readonly number[] }> {
    return this.#inspector.levels(runId);
  }

  topClusters(runId: RunId): Promise<ClusterSummary[]> {
    return this.#inspector.topClusters(runId);
  }

  cluster(runId: RunId, level: number, id: number, limit = 60): Promise<ClusterDetail> {
    return this.#inspector.cluster(runId, level, id, limit);
  }

  selection(runId: RunId): Promise<Int32Array> {
    return this.#inspector.selection(runId);
  }

  itemsForRows(runId: RunId, rows: ArrayLike<number>): Promise<ItemInfo[]> {
    return this.#inspector.itemsForRows(runId, rows);
  }

  async duplicates(runId: RunId, offset = 0, limit = 50): Promise<DuplicateGroups | null> {
    return duplicateGroups(this.#db, await this.#run(runId), offset, limit);
  }

  balance(runId: RunId): Promise<BalanceReport | null> {
    return this.#inspector.balance(runId);
  }

  sizeDistribution(runId: RunId): Promise<SizeDistribution> {
    return this.#inspector.sizeDistribution(runId);
  }

  projection(runId: RunId): Promise<Projection> {
    return this.#inspector.projection(runId);
  }

  layout(runId: RunId): Promise<Projection> {
    return this.#inspector.layout(runId);
  }

  async rowFacts(runId: RunId): Promise<RowFacts> {
    const { run, index } = await this.#inspector.index(runId);
    return rowFacts(this.#db, run, index);
  }

  async search(runId: RunId, query: string, limit = 50): Promise<SearchHit[]> {
    const { run, index } = await this.#inspector.index(runId);
    return searchRows(this.#db, run, index, query, limit);
  }

  async itemDetail(runId: RunId, row: number, neighbours = 8): Promise<ItemDetail> {
    const { run, index } = await this.#inspector.index(runId);
    if (!Number.isInteger(row) || row < 0 || row >= index.rowItems.length) {
      throw new UserInputError(`Row ${row} is not part of this run.`);
    }
    return itemDetail(this.#db, run, index, row, neighbours);
  }

  /* ------------------------------ hands-on curation ------------------------------ */

  edit(runId: RunId, action: EditAction, rows: ArrayLike<number>, what: string): Promise<RunInfo> {
    this.#open();
    return this.#edits.edit(runId, action, rows, what);
  }

  undoEdit(runId: RunId): Promise<RunInfo> {
    this.#open();
    return this.#edits.undo(runId);
  }

  redoEdit(runId: RunId): Promise<RunInfo> {
    this.#open();
    return this.#edits.redo(runId);
  }

  edits(runId: RunId): Promise<CurationEdits> {
    return listEdits(this.#db, runId);
  }

  /* ------------------------------ export ------------------------------ */

  async #run(runId: RunId): Promise<RunRecord> {
    const r = await getRunRecord(this.#db, runId);
    if (!r) throw new UserInputError('That run no longer exists.');
    return r;
  }

  async manifest(runId: RunId, format: ManifestFormat, options?: ManifestOptions): Promise<Blob> {
    return manifestBlob(this.#db, await this.#run(runId), format, options);
  }

  async exportName(runId: RunId, ext: string): Promise<string> {
    return exportName(await this.#run(runId), ext);
  }

  async zip(
    runId: RunId,
    onProgress?: (p: ExportProgress) => void,
    options?: ManifestOptions,
  ): Promise<ReadableStream<Uint8Array>> {
    return zipRun(this.#db, await this.#run(runId), onProgress, options);
  }

  async writeToFolder(
    runId: RunId,
    dir: FileSystemDirectoryHandle,
    onProgress?: (p: ExportProgress) => void,
    signal?: AbortSignal,
    options?: ManifestOptions,
  ): Promise<void> {
    await writeRunToFolder(this.#db, await this.#run(runId), dir, onProgress, signal, options);
  }

  /* ------------------------------ reference pipeline ------------------------------ */

  /**
   * The last prepared bundle: preparing reads every item's id (about 100 s for a million items
   * at load 20 on 2 cores, bench:job-bundle), and the panel shows it before it is written.
   * Keyed on the dataset's last change, so an ingest or rescan prepares it afresh.
   */
  #bundle: { key: string; prepared: Promise<PreparedBundle> } | null = null;

  async #prepared(
    datasetId: DatasetId,
    settings: RunSettings,
    plan: JobBundlePlan,
  ): Promise<PreparedBundle> {
    const d = await getDatasetRecord(this.#db, datasetId);
    const key = JSON.stringify([datasetId, d?.updatedAt, d?.itemCount, plan, settings]);
    if (this.#bundle?.key !== key) {
      const prepared = prepareJobBundle(this.#db, datasetId, settings, plan);
      this.#bundle = { key, prepared };
      // a failed preparation is not kept: the next ask tries again
      prepared.catch(() => {
        if (this.#bundle?.prepared === prepared) this.#bundle = null;
      });
    }
    return this.#bundle.prepared;
  }

  async jobBundleInfo(
    datasetId: DatasetId,
    settings: RunSettings,
    plan: JobBundlePlan,
  ): Promise<JobBundleInfo> {
    return (await this.#prepared(datasetId, settings, plan)).info;
  }

  async jobBundleZip(
    datasetId: DatasetId,
    settings: RunSettings,
    plan: JobBundlePlan,
    onProgress?: (p: ExportProgress) => void,
  ): Promise<ReadableStream<Uint8Array>> {
    return zipJobBundle(await this.#prepared(datasetId, settings, plan), onProgress);
  }

  async writeJobBundle(
    datasetId: DatasetId,
    settings: RunSettings,
    plan: JobBundlePlan,
    dir: FileSystemDirectoryHandle,
    onProgress?: (p: ExportProgress) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    await writeJobBundle(await this.#prepared(datasetId, settings, plan), dir, onProgress, signal);
  }

  async importReference(source: ReferenceImportSource): Promise<ReferenceImportReport> {
    this.#open();
    try {
      return await importReferenceRun({ db: this.#db, pool: this.#pool, emit: this.#emit }, source);
    } catch (e) {
      throw asUserError(e);
    }
  }

  /* ------------------------------ storage ------------------------------ */

  async storage(): Promise<StorageInfo> {
    const [e, persisted] = await Promise.all([estimate(), isPersisted()]);
    return { usage: e.usage, quota: e.quota, persisted };
  }

  persist(): Promise<boolean> {
    return requestPersist();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#pool.close();
    await this.#runs.settled();
    this.#listeners.clear();
    this.#db.close();
  }
}
