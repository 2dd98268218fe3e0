/**
 * The data layer's entry point (see `WorkspaceApi` in api.ts for what each method promises).
 * It lives on the main thread and only orchestrates: files are hashed and thumbnailed in the
 * ingest worker, embedded in the embed worker, clustered in the cluster worker; results go to
 * IndexedDB in small transactions.
 */
import { DB_VERSION } from '../store/schema';
import type { DatasetRecord, ItemRecord, RunRecord } from '../store/schema';
import {
  estimate,
  isPersisted,
  openStrataDb,
  readI32,
  requestPersist,
  write,
  type Db,
} from '../store/db';
import { getLevels } from '../store/levels';
import { gatherMatrix } from '../store/embeddings';
import {
  deleteDatasetData,
  deleteRunData,
  getDataset as getDatasetRecord,
  getFile,
  getItems,
  getRunRecord,
  getSelection,
  getThumb,
  listDatasets as listDatasetRecords,
  listRunRecords,
  pageItems,
  putRun,
} from '../store/records';
import { normaliseExtensions } from '../ingest/filters';
import { ingestWalk, rescanWalk, type IngestContext, type NewDatasetMeta } from './stages/ingest';
import { emptyWalk, walkEntries, walkFiles, walkHandle, type WalkResult } from '../ingest/walk';
import { nameOf, labelOf } from '../ingest/paths';
import {
  clusterPath,
  manifestCsv,
  manifestJson,
  manifestJsonl,
  manifestTxt,
  safeFileName,
  safeSegments,
  type ManifestMeta,
  type ManifestRow,
} from '../export/manifest';
import { zipStream, type ZipEntry } from '../export/zip';
import { writeFilesToFolder } from '../export/folder';
import { findModel } from '../embed/models';
import type {
  BalanceReport,
  ClusterDetail,
  ClusterSummary,
  DatasetId,
  DatasetInfo,
  ExportProgress,
  IngestOptions,
  IngestReport,
  IngestSource,
  ItemIndex,
  ItemInfo,
  ManifestFormat,
  Projection,
  RunId,
  RunInfo,
  RunSettings,
  SettingsProblem,
  SizeDistribution,
  StorageInfo,
  SuggestedSettings,
  WorkspaceApi,
  WorkspaceEvent,
  WorkspaceListener,
  WorkspaceOptions,
} from './contract';
import { STAGES } from './contract';
import { toDatasetInfo, toItemInfo, toRunInfo } from './convert';
import { asUserError, UserInputError } from './errors';
import {
  balanceReport,
  clusterDetail,
  ExploreIndex,
  itemsOfRows,
  sizeDistribution,
} from './explore';
import { normaliseRows } from './normalise';
import { RunExecutor } from './run';
import { workerClusterPort, type ClusterPort } from './cluster-port';
import { embeddingKey, PRECOMPUTED_MODEL, suggest, validate } from './settings';
import { WorkerPool } from './workers';
import { Throughput } from './throughput';
import { dependencies, version } from '../../package.json';

/**
 * Rows per stored chunk of a precomputed matrix: 256 x 1792 floats = 1.8 MiB per record, under
 * the 4 MiB chunks whose clone took 7-19 ms here.
 */
const PRECOMPUTED_CHUNK_ROWS = 256;

/** Web Lock held while a run executes, so another tab never marks it interrupted. */
const lockName = (runId: string): string => `strata-run-${runId}`;

interface PermissionHandle {
  queryPermission?(d: { mode: 'read' | 'readwrite' }): Promise<PermissionState>;
  requestPermission?(d: { mode: 'read' | 'readwrite' }): Promise<PermissionState>;
}

export class Workspace implements WorkspaceApi {
  readonly #db: Db;
  readonly #pool: WorkerPool;
  readonly #cluster: ClusterPort;
  readonly #listeners = new Set<WorkspaceListener>();
  readonly #explore = new Map<RunId, Promise<ExploreIndex>>();
  #active: { runId: RunId; controller: AbortController; done: Promise<unknown> } | null = null;
  #closed = false;

  private constructor(db: Db, options: WorkspaceOptions) {
    this.#db = db;
    this.#pool = new WorkerPool(options.workers);
    this.#cluster = workerClusterPort(this.#pool);
  }

  /**
   * Open (creating or migrating) the database. Runs left 'running' by a tab that is gone are
   * marked 'interrupted' so the UI can offer to resume them.
   */
  static async open(options: WorkspaceOptions = {}): Promise<Workspace> {
    const db = await openStrataDb(options.dbName);
    const ws = new Workspace(db, options);
    await ws.#markInterrupted();
    return ws;
  }

  async #markInterrupted(): Promise<void> {
    const running = await this.#db.getAllFromIndex('runs', 'byStatus', 'running');
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
      await putRun(this.#db, run);
    }
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
    return this.#active?.runId ?? null;
  }

  #open(): void {
    if (this.#closed) throw new Error('this workspace is closed');
  }

  /* ------------------------------ datasets ------------------------------ */

  ingest(source: IngestSource, options: IngestOptions = {}): Promise<IngestReport> {
    // DataTransfer entries are only readable during the drop event: take them synchronously.
    let entries: FileSystemEntry[] = [];
    let loose: File[] = [];
    if (source.kind === 'dataTransfer') {
      for (const item of Array.from(source.dataTransfer.items)) {
        if (item.kind !== 'file') continue;
        const entry = item.webkitGetAsEntry();
        if (entry) entries.push(entry);
        else {
          const f = item.getAsFile();
          if (f) loose.push(f);
        }
      }
      if (entries.length === 0 && loose.length === 0) {
        loose = Array.from(source.dataTransfer.files);
      }
    } else if (source.kind === 'entries') {
      entries = [...source.entries];
    }
    return this.#ingest(source, options, entries, loose).catch((e: unknown) => {
      throw asUserError(e);
    });
  }

  async #ingest(
    source: IngestSource,
    options: IngestOptions,
    entries: FileSystemEntry[],
    loose: File[],
  ): Promise<IngestReport> {
    this.#open();
    const filter = {
      include: normaliseExtensions(options.include),
      exclude: normaliseExtensions(options.exclude),
    };
    const meta: NewDatasetMeta = {
      source: 'files',
      include: filter.include,
      exclude: filter.exclude,
      ...(options.name ? { name: options.name } : {}),
    };
    const signal = options.signal;
    let walk: WalkResult;
    let onCreated: ((d: DatasetRecord) => Promise<void>) | undefined;
    switch (source.kind) {
      case 'dataTransfer':
      case 'entries': {
        walk = await walkEntries(entries, filter, signal);
        if (loose.length > 0) {
          const more = walkFiles(loose, null, filter);
          walk.files.push(...more.files);
          walk.skipped.push(...more.skipped);
        }
        break;
      }
      case 'fileList':
        walk = walkFiles(Array.from(source.files), null, filter);
        break;
      case 'files':
        if (source.paths.length !== source.files.length) {
          throw new UserInputError(
            `${source.files.length} files came with ${source.paths.length} paths; they must match.`,
          );
        }
        walk = walkFiles(source.files, source.paths, filter);
        break;
      case 'directoryHandle': {
        walk = await walkHandle(source.handle, filter, signal);
        meta.source = 'directory';
        const handle = source.handle;
        onCreated = (d) =>
          write(this.#db, ['handles'], 'the folder handle', (w) =>
            w.put('handles', { datasetId: d.id, handle }),
          );
        break;
      }
      case 'precomputed':
        return this.#ingestPrecomputed(source.npy, source.ids, options);
      default:
        walk = emptyWalk();
    }
    return ingestWalk(this.#ingestContext(signal), walk, meta, onCreated);
  }

  #ingestContext(signal?: AbortSignal): IngestContext {
    return {
      db: this.#db,
      digest: (files) => this.#pool.guard(this.#pool.ingest().digest(files)),
      emit: this.#emit,
      ...(signal ? { signal } : {}),
    };
  }

  async #ingestPrecomputed(
    npy: File,
    ids: File | undefined,
    options: IngestOptions,
  ): Promise<IngestReport> {
    const parsed = await this.#pool.guard(this.#pool.ingest().precomputed(npy, ids));
    const now = Date.now();
    const base = npy.name.replace(/\.npy$/i, '');
    const dataset: DatasetRecord = {
      id: crypto.randomUUID(),
      name: options.name?.trim() || base || 'embeddings',
      source: 'precomputed',
      createdAt: now,
      updatedAt: now,
      itemCount: 0,
      bytes: 0,
      labels: [],
      dim: parsed.cols,
      include: [],
      exclude: [],
      nextIndex: 0,
      complete: false,
    };
    const labels = new Set<string>();
    const { rows, cols, data } = parsed;
    const rate = new Throughput();
    for (let r0 = 0, chunk = 0; r0 < rows; r0 += PRECOMPUTED_CHUNK_ROWS, chunk++) {
      options.signal?.throwIfAborted();
      const r1 = Math.min(rows, r0 + PRECOMPUTED_CHUNK_ROWS);
      const items: ItemRecord[] = [];
      for (let r = r0; r < r1; r++) {
        const path = parsed.ids[r];
        const label = labelOf(path);
        if (label !== null) labels.add(label);
        items.push({
          datasetId: dataset.id,
          index: r,
          path,
          name: nameOf(path),
          size: 0,
          type: '',
          lastModified: 0,
          hash: '',
          label,
          hasThumb: false,
        });
      }
      dataset.nextIndex = r1;
      dataset.itemCount = r1;
      dataset.labels = [...labels].sort();
      dataset.updatedAt = Date.now();
      const indices = Int32Array.from({ length: r1 - r0 }, (_, i) => r0 + i);
      const slice = data.slice(r0 * cols, r1 * cols);
      await write(this.#db, ['datasets', 'items', 'embeddings'], 'the embeddings', async (w) => {
        for (const it of items) void w.put('items', it);
        void w.put('embeddings', {
          datasetId: dataset.id,
          model: PRECOMPUTED_MODEL,
          chunk,
          dim: cols,
          indices,
          data: slice,
        });
        await w.put('datasets', dataset);
      });
      rate.add(r1 - r0);
      this.#emit({
        type: 'progress',
        datasetId: dataset.id,
        stage: 'ingest',
        done: r1,
        total: rows,
        itemsPerSecond: rate.perSecond(),
        etaSeconds: rate.eta(rows - r1),
        message: `storing embeddings: ${r1} of ${rows}`,
      });
    }
    dataset.complete = true;
    await write(this.#db, ['datasets'], 'the dataset', (w) => w.put('datasets', dataset));
    this.#emit({ type: 'datasets' });
    const skipped = parsed.warnings.map((w) => ({ path: npy.name, reason: w }));
    return {
      dataset: toDatasetInfo(dataset),
      added: rows,
      removed: 0,
      unchanged: 0,
      skipped,
      emptyFolders: [],
    };
  }

  async rescan(
    datasetId: DatasetId,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<IngestReport> {
    this.#open();
    const dataset = await getDatasetRecord(this.#db, datasetId);
    if (!dataset) throw new UserInputError('That dataset no longer exists.');
    const rec = await this.#db.get('handles', datasetId);
    if (dataset.source !== 'directory' || !rec) {
      throw new UserInputError(
        'Only a folder opened with "Open folder" can be rescanned; add the files again instead.',
      );
    }
    const handle = rec.handle as FileSystemDirectoryHandle & PermissionHandle;
    const mode = { mode: 'read' as const };
    if ((await handle.queryPermission?.(mode)) !== 'granted') {
      const answer = await handle.requestPermission?.(mode);
      if (answer !== undefined && answer !== 'granted') {
        throw new UserInputError(`The browser was not allowed to read "${handle.name}" again.`);
      }
    }
    try {
      const filter = { include: dataset.include, exclude: dataset.exclude };
      const walk = await walkHandle(handle, filter, options.signal);
      return await rescanWalk(this.#ingestContext(options.signal), dataset, walk);
    } catch (e) {
      if (e instanceof DOMException && e.name === 'NotFoundError') {
        throw new UserInputError(`The folder "${handle.name}" was moved or deleted.`);
      }
      throw asUserError(e);
    }
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

  thumbnail(datasetId: DatasetId, index: ItemIndex): Promise<Blob | undefined> {
    return getThumb(this.#db, datasetId, index);
  }

  async deleteDataset(datasetId: DatasetId): Promise<void> {
    const active = this.#active && (await getRunRecord(this.#db, this.#active.runId));
    if (active && active.datasetId === datasetId) {
      throw new UserInputError('A run on this dataset is in progress: cancel it first.');
    }
    for (const r of await listRunRecords(this.#db, datasetId)) this.#explore.delete(r.id);
    await deleteDatasetData(this.#db, datasetId);
    this.#emit({ type: 'datasets' });
  }

  /* ------------------------------ settings ------------------------------ */

  async suggestSettings(datasetId: DatasetId): Promise<SuggestedSettings> {
    const d = await getDatasetRecord(this.#db, datasetId);
    if (!d) throw new UserInputError('That dataset no longer exists.');
    return suggest(d, await this.#flops());
  }

  #probe: Promise<number | undefined> | null = null;

  /** Measured k-means throughput of the backend 'auto' picks (once per Workspace). */
  #flops(): Promise<number | undefined> {
    this.#probe ??= this.#cluster.probe().then(
      (p) => (p.backend === 'webgpu' ? p.gpuFlopsPerSecond : p.cpuFlopsPerSecond),
      () => undefined,
    );
    return this.#probe;
  }

  validateSettings(settings: RunSettings, n: number): SettingsProblem[] {
    return validate(settings, n);
  }

  /* ------------------------------ runs ------------------------------ */

  async createRun(datasetId: DatasetId, settings: RunSettings): Promise<RunInfo> {
    this.#open();
    const d = await getDatasetRecord(this.#db, datasetId);
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
      counters: {
        embedded: 0,
        embedReused: 0,
        levelsComputed: 0,
        stepsComputed: 0,
        clusterResumes: 0,
      },
    };
    await putRun(this.#db, run);
    const info = toRunInfo(run);
    this.#emit({ type: 'run', run: info });
    return info;
  }

  start(runId: RunId): Promise<RunInfo> {
    return this.#execute(runId);
  }

  resume(runId: RunId): Promise<RunInfo> {
    return this.#execute(runId);
  }

  async #execute(runId: RunId, prepare?: (run: RunRecord) => void): Promise<RunInfo> {
    this.#open();
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
      const run = await getRunRecord(this.#db, runId);
      if (!run) throw new UserInputError('That run no longer exists.');
      prepare?.(run);
      if (run.status === 'done' && !prepare) return toRunInfo(run);
      this.#explore.delete(runId);
      const go = async (): Promise<RunRecord> => {
        const ex = new RunExecutor(
          {
            db: this.#db,
            pool: this.#pool,
            cluster: this.#cluster,
            emit: this.#emit,
            cancel: controller.signal,
          },
          run,
        );
        return ex.execute();
      };
      const result = navigator.locks
        ? await navigator.locks.request(lockName(runId), { ifAvailable: true }, (lock) => {
            if (!lock) throw new UserInputError('This run is in progress in another tab.');
            return go();
          })
        : await go();
      this.#explore.delete(runId);
      return toRunInfo(result);
    } catch (e) {
      throw asUserError(e);
    } finally {
      this.#active = null;
      finish();
    }
  }

  cancel(runId?: RunId): void {
    if (!this.#active) return;
    if (runId !== undefined && runId !== this.#active.runId) return;
    this.#active.controller.abort();
  }

  async unfinishedRuns(): Promise<RunInfo[]> {
    const all = await listRunRecords(this.#db);
    return all
      .filter((r) => ['interrupted', 'cancelled', 'failed'].includes(r.status))
      .map(toRunInfo);
  }

  async listRuns(datasetId?: DatasetId): Promise<RunInfo[]> {
    return (await listRunRecords(this.#db, datasetId)).map(toRunInfo);
  }

  async getRun(runId: RunId): Promise<RunInfo | undefined> {
    const r = await getRunRecord(this.#db, runId);
    return r && toRunInfo(r);
  }

  async deleteRun(runId: RunId): Promise<void> {
    if (this.#active?.runId === runId) {
      throw new UserInputError('This run is in progress: cancel it first.');
    }
    this.#explore.delete(runId);
    await deleteRunData(this.#db, runId);
    this.#emit({ type: 'datasets' });
  }

  async resample(
    runId: RunId,
    change: Partial<Pick<RunSettings, 'target' | 'leafStrategy'>>,
  ): Promise<RunInfo> {
    const run = await getRunRecord(this.#db, runId);
    if (!run) throw new UserInputError('That run no longer exists.');
    if (run.stages.cluster.status !== 'done') {
      throw new UserInputError('This run has not finished clustering yet: resume it first.');
    }
    const settings = { ...run.settings, ...change };
    const problems = validate(settings, run.rows).filter((p) => p.severity === 'error');
    if (problems.length) throw new UserInputError(problems.map((p) => p.message).join(' '));
    return this.#execute(runId, (r) => {
      r.settings = settings;
      r.stages.sample = { status: 'pending' };
      r.status = 'running';
    });
  }

  /* ------------------------------ explore ------------------------------ */

  async #run(runId: RunId): Promise<RunRecord> {
    const r = await getRunRecord(this.#db, runId);
    if (!r) throw new UserInputError('That run no longer exists.');
    return r;
  }

  #index(run: RunRecord): Promise<ExploreIndex> {
    // A run still computing changes under us: only cache finished ones.
    if (run.status !== 'done') return ExploreIndex.load(this.#db, run);
    let p = this.#explore.get(run.id);
    if (!p) {
      p = ExploreIndex.load(this.#db, run);
      this.#explore.set(run.id, p);
      p.catch(() => this.#explore.delete(run.id));
    }
    return p;
  }

  async levels(runId: RunId): Promise<{ readonly k: readonly number[] }> {
    const recs = await this.#db.getAll('levels', IDBKeyRange.bound([runId], [runId, []]));
    return { k: recs.map((r) => r.k) };
  }

  async topClusters(runId: RunId): Promise<ClusterSummary[]> {
    return (await this.#index(await this.#run(runId))).top();
  }

  async cluster(runId: RunId, level: number, id: number, limit = 60): Promise<ClusterDetail> {
    const run = await this.#run(runId);
    const index = await this.#index(run);
    return clusterDetail(this.#db, index, run.datasetId, level, id, limit);
  }

  async selection(runId: RunId): Promise<Int32Array> {
    return (await getSelection(this.#db, runId))?.rows.slice() ?? new Int32Array(0);
  }

  async itemsForRows(runId: RunId, rows: ArrayLike<number>): Promise<ItemInfo[]> {
    const run = await this.#run(runId);
    return itemsOfRows(this.#db, await this.#index(run), run.datasetId, rows);
  }

  async balance(runId: RunId): Promise<BalanceReport | null> {
    const run = await this.#run(runId);
    return balanceReport(this.#db, await this.#index(run), run.datasetId, run.settings.seed);
  }

  async sizeDistribution(runId: RunId): Promise<SizeDistribution> {
    return sizeDistribution(await this.#index(await this.#run(runId)));
  }

  async projection(runId: RunId): Promise<Projection> {
    const run = await this.#run(runId);
    const index = await this.#index(run);
    let stored = await this.#db.get('projections', runId);
    if (!stored) {
      if (!run.rowItems) throw new UserInputError('This run has no embeddings yet.');
      const rowItems = await readI32(this.#db, run.rowItems);
      const key = embeddingKey(run.settings);
      const { data, dim } = await gatherMatrix(this.#db, run.datasetId, key, rowItems);
      await normaliseRows(data, rowItems.length, dim, run.settings.normalisation);
      const p = await this.#pool.guard(this.#pool.projection().project(data, rowItems.length, dim));
      stored = { runId, x: p.x, y: p.y };
      const rec = stored;
      await write(this.#db, ['projections'], 'the map', (w) => w.put('projections', rec));
    }
    return { x: stored.x, y: stored.y, selected: index.selected.slice() };
  }

  /* ------------------------------ export ------------------------------ */

  async #manifestRows(run: RunRecord): Promise<{ rows: ManifestRow[]; items: ItemRecord[] }> {
    const sel = await getSelection(this.#db, run.id);
    if (!sel) throw new UserInputError('This run has no curated subset yet: let it finish first.');
    if (!run.rowItems) throw new Error('the run has no row list');
    const rowItems = await readI32(this.#db, run.rowItems);
    const levels = await getLevels(this.#db, run.id, { centroids: false });
    const labels = levels.map((l) => l.labels);
    const dist2 = levels[0]?.dist2;
    const recs = await getItems(
      this.#db,
      run.datasetId,
      Array.from(sel.rows, (r) => rowItems[r]),
    );
    const items: ItemRecord[] = [];
    const rows: ManifestRow[] = [];
    sel.rows.forEach((row, i) => {
      const it = recs[i];
      if (!it) throw new Error(`item of row ${row} is missing from the database`);
      items.push(it);
      rows.push({
        path: it.path,
        size: it.size,
        hash: it.hash,
        label: it.label,
        clusters: clusterPath(row, labels),
        distance: dist2 ? Math.sqrt(Math.max(0, dist2[row])) : 0,
      });
    });
    return { rows, items };
  }

  #meta(run: RunRecord, selected: number): ManifestMeta {
    const s = run.settings;
    const model = s.model === PRECOMPUTED_MODEL ? undefined : (s.customModel ?? findModel(s.model));
    return {
      generator: `strata ${version}`,
      method:
        'hierarchical k-means with resampling + balanced hierarchical sampling (Vo et al., 2024)',
      run: run.id,
      dataset: run.datasetName,
      created: new Date(run.createdAt).toISOString(),
      finished: run.finishedAt ? new Date(run.finishedAt).toISOString() : null,
      model: s.model,
      model_name: model?.name ?? 'precomputed embeddings',
      model_dim: run.dim,
      provider: run.providerUsed ?? null,
      backend: run.backendUsed ?? null,
      normalisation: s.normalisation,
      levels: s.k.length,
      k: s.k,
      r: s.r,
      resampling_steps: s.resamplingSteps,
      resampling_strategy: s.resampleStrategy,
      iterations: s.iterations,
      target: s.target,
      leaf_strategy: s.leafStrategy,
      seed: s.seed,
      pool: run.rows,
      selected,
      distance: 'Euclidean distance to the level-1 centroid, after normalisation',
      onnxruntime_web_declared: dependencies['onnxruntime-web'],
      schema: DB_VERSION,
    };
  }

  async manifest(runId: RunId, format: ManifestFormat): Promise<Blob> {
    const run = await this.#run(runId);
    const { rows } = await this.#manifestRows(run);
    const meta = this.#meta(run, rows.length);
    switch (format) {
      case 'csv':
        return new Blob([manifestCsv(meta, rows)], { type: 'text/csv;charset=utf-8' });
      case 'json':
        return new Blob([manifestJson(meta, rows)], { type: 'application/json' });
      case 'jsonl':
        return new Blob([manifestJsonl(meta, rows)], { type: 'application/x-ndjson' });
      case 'txt':
        return new Blob([manifestTxt(rows)], { type: 'text/plain;charset=utf-8' });
      default:
        throw new UserInputError(`Unknown manifest format "${String(format)}".`);
    }
  }

  async exportName(runId: RunId, ext: string): Promise<string> {
    const run = await this.#run(runId);
    const day = new Date(run.createdAt).toISOString().slice(0, 10);
    return `strata-${safeFileName(run.datasetName)}-${day}-${run.id.slice(0, 8)}.${safeFileName(ext)}`;
  }

  async #fileEntries(run: RunRecord): Promise<{ entries: ZipEntry[]; csv: string }> {
    const dataset = await getDatasetRecord(this.#db, run.datasetId);
    if (dataset?.source === 'precomputed') {
      throw new UserInputError(
        'This dataset is precomputed embeddings: there are no files to export, only the manifest.',
      );
    }
    const { rows, items } = await this.#manifestRows(run);
    const entries: ZipEntry[] = items.map((it) => ({
      name: safeSegments(it.path).join('/'),
      lastModified: it.lastModified,
      size: it.size,
      open: async () => {
        const f = await getFile(this.#db, it.datasetId, it.index);
        if (!f) throw new UserInputError(`The file "${it.path}" is no longer stored.`);
        return f;
      },
    }));
    return { entries, csv: manifestCsv(this.#meta(run, rows.length), rows) };
  }

  async zip(
    runId: RunId,
    onProgress?: (p: ExportProgress) => void,
  ): Promise<ReadableStream<Uint8Array>> {
    const run = await this.#run(runId);
    const { entries, csv } = await this.#fileEntries(run);
    return zipStream(entries, [{ name: 'manifest.csv', data: csv }], onProgress);
  }

  async writeToFolder(
    runId: RunId,
    dir: FileSystemDirectoryHandle,
    onProgress?: (p: ExportProgress) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const run = await this.#run(runId);
    const { entries, csv } = await this.#fileEntries(run);
    try {
      await writeFilesToFolder(
        dir,
        entries,
        [{ name: 'manifest.csv', data: csv }],
        onProgress,
        signal,
      );
    } catch (e) {
      if (e instanceof DOMException && e.name === 'QuotaExceededError') {
        throw new UserInputError(`The disk of "${dir.name}" is full: the export stopped.`);
      }
      if (e instanceof DOMException && e.name === 'NotAllowedError') {
        throw new UserInputError(`The browser was not allowed to write into "${dir.name}".`);
      }
      throw e;
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
    const active = this.#active;
    this.#pool.close();
    if (active) await active.done;
    this.#listeners.clear();
    this.#db.close();
  }
}
