/**
 * The contract between the UI and the pipeline: what the UI may ask (`WorkspaceApi`) and what it
 * hears back (events, infos, reports). Types only, plus the stage order; no classes, no UI text.
 * The UI imports this module and the `Workspace` facade (workspace.ts), nothing else of the
 * pipeline.
 *
 * Threading: the Workspace lives on the main thread and only orchestrates. Hashing and
 * thumbnails run in an ingest worker, embeddings in the embed worker, k-means in the cluster
 * worker; database writes are split into small transactions so no write is a long task.
 */

import type {
  DatasetSource,
  DatasetStorage,
  Notice,
  RunCounters,
  RunInfo,
  RunStatus,
  SkippedFile,
  StageName,
  StageState,
  StageStatus,
} from '../store/schema';
import type { KMeansThroughput } from '../core/kmeans-throughput';
import type { RunSettings } from '../core/settings';
import type { ExportProgress } from '../export/zip';
import type { ManifestOptions } from '../export/manifest';
import type { JobBundleInfo, JobBundlePlan, ReferenceImportSource } from './interop-types';
import type {
  ItemInfo,
  ClusterSummary,
  ClusterDetail,
  BalanceReport,
  SizeDistribution,
  Projection,
  RowFacts,
  SearchHit,
  ItemDetail,
  EditAction,
  CurationEdits,
  DuplicateGroups,
} from './explore-types';

// Every explorer type, as the UI's one door to them.
export type * from './explore-types';

export type { JobBundleInfo, JobBundlePlan, ReferenceImportSource } from './interop-types';
export type {
  BackendChoice,
  LeafStrategy,
  ModelSpec,
  Normalisation,
  ProviderChoice,
  ResampleStrategy,
  RunSettings,
} from '../core/settings';
export type {
  DatasetSource,
  DatasetStorage,
  ExportProgress,
  Notice,
  RunCounters,
  RunInfo,
  RunStatus,
  SkippedFile,
  StageName,
  StageState,
  StageStatus,
};

/** The stages of a run, in order. */
export const STAGES: readonly StageName[] = ['ingest', 'embed', 'dedup', 'cluster', 'sample'];

/* ------------------------------------------------------------------------------------------ */
/* Identifiers                                                                                */
/* ------------------------------------------------------------------------------------------ */

export type DatasetId = string;
export type RunId = string;
/** Position of an item inside its dataset (stable across rescans: new files get new numbers). */
export type ItemIndex = number;

/* ------------------------------------------------------------------------------------------ */
/* Datasets and items                                                                         */
/* ------------------------------------------------------------------------------------------ */

export interface DatasetInfo {
  readonly id: DatasetId;
  readonly name: string;
  readonly source: DatasetSource;
  /** where its pictures are kept: copies in this browser, or only in the folder on the device */
  readonly storage: DatasetStorage;
  /** embeddings are stored at half precision (half the space) */
  readonly halfEmbeddings: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** items that can be embedded / clustered (skipped files are not counted) */
  readonly itemCount: number;
  /** total bytes of the items' files (0 for precomputed) */
  readonly bytes: number;
  /** distinct folder labels (first folder level of the relative path); empty when there are none */
  readonly labels: readonly string[];
  /** embedding dimension for precomputed datasets */
  readonly dim?: number;
  /** extensions filter used at ingest (lower case, no dot); empty = every supported image type */
  readonly include: readonly string[];
  readonly exclude: readonly string[];
  /** false while an ingest is still adding items (or was interrupted before it finished) */
  readonly complete: boolean;
}

export interface IngestReport {
  readonly dataset: DatasetInfo;
  /** items added by this ingest (for a rescan: the new ones) */
  readonly added: number;
  /** rescan only: items whose file disappeared or changed and were dropped/replaced */
  readonly removed: number;
  /** rescan only: items kept untouched (same path, size and modification time) */
  readonly unchanged: number;
  /** every file that was not taken, each with its reason */
  readonly skipped: readonly SkippedFile[];
  /** folders that held no usable file, each with an explanation */
  readonly emptyFolders: readonly SkippedFile[];
}

/**
 * What to ingest. `dataTransfer`: pass the drop event's DataTransfer and call `ingest`
 * synchronously inside the drop handler (the browser empties the entries after the handler
 * returns; `ingest` reads them before its first await).
 */
export type IngestSource =
  | { readonly kind: 'dataTransfer'; readonly dataTransfer: DataTransfer }
  /** an <input type=file webkitdirectory> FileList (uses each File's webkitRelativePath) */
  | { readonly kind: 'fileList'; readonly files: FileList | readonly File[] }
  /** files with explicit relative paths, e.g. from loadDemoFiles(); paths.length === files.length */
  | { readonly kind: 'files'; readonly files: readonly File[]; readonly paths: readonly string[] }
  /** a picked folder: its handle is stored instead of copies of its files */
  | { readonly kind: 'directoryHandle'; readonly handle: FileSystemDirectoryHandle }
  /** entries already taken from a DataTransfer (webkitGetAsEntry) or another entry source */
  | { readonly kind: 'entries'; readonly entries: readonly FileSystemEntry[] }
  | { readonly kind: 'precomputed'; readonly npy: File; readonly ids?: File };

export interface IngestOptions {
  /** dataset name shown in the UI; defaults to the root folder's name or "N files" */
  readonly name?: string;
  /** only these extensions (lower case, no dot); empty/absent = every supported image type */
  readonly include?: readonly string[];
  /** never these extensions */
  readonly exclude?: readonly string[];
  /** store the embeddings at half precision: half the space, clustering within 0.5% */
  readonly halfEmbeddings?: boolean;
  readonly signal?: AbortSignal;
}

/* ------------------------------------------------------------------------------------------ */
/* Settings                                                                                   */
/* ------------------------------------------------------------------------------------------ */

/** Problems found by `validateSettings`; `field` names the setting to highlight. */
export interface SettingsProblem {
  readonly field: keyof RunSettings;
  /** 'error' blocks the run; 'warning' explains what will happen instead */
  readonly severity: 'error' | 'warning';
  readonly message: string;
}

export interface SuggestedSettings {
  readonly settings: RunSettings;
  /** one sentence per setting saying why this value was picked for this dataset */
  readonly why: Readonly<Partial<Record<keyof RunSettings, string>>>;
  /**
   * measured k-means throughput (flops per second) of the backend 'auto' picks, which the
   * suggestion was fitted to; absent when none was measured (estimates use the core's default)
   */
  readonly throughput?: KMeansThroughput;
  /** the automatic plan against the paper's shape, for the settings panel */
  readonly shape?: ShapeAdvice;
}

/**
 * How the suggested levels stand against the paper's shape (at most 50 items per finest
 * cluster): one or two sentences, and when the shape does not fit the time budget, the other
 * plan the person may pick instead (the suggestion is the one that fits the budget).
 */
export interface ShapeAdvice {
  /** plain words: what the budget buys and what the paper's shape costs */
  readonly summary: string;
  /** whether the suggested levels keep the paper's shape */
  readonly inBand: boolean;
  readonly alternative?: {
    /** the button's words, e.g. "Keep the paper's shape" */
    readonly label: string;
    readonly k: readonly number[];
    readonly r: readonly number[];
    readonly iterations: number;
    /** estimated clustering seconds on this device */
    readonly seconds: number;
  };
}

/* ------------------------------------------------------------------------------------------ */
/* Runs                                                                                       */
/* ------------------------------------------------------------------------------------------ */

/* ------------------------------------------------------------------------------------------ */
/* Events                                                                                     */
/* ------------------------------------------------------------------------------------------ */

export interface ProgressEvent {
  readonly type: 'progress';
  /** absent while ingesting a new dataset (no run yet) */
  readonly runId?: RunId;
  readonly datasetId?: DatasetId;
  readonly stage: StageName;
  readonly done: number;
  readonly total: number;
  /** smoothed throughput; 0 until measurable */
  readonly itemsPerSecond: number;
  /** seconds left; null until measurable */
  readonly etaSeconds: number | null;
  /** cluster stage: 1-based current level and level count */
  readonly level?: number;
  readonly levels?: number;
  /** cluster stage: resampling step (0 = the initial k-means of the level) and step count */
  readonly step?: number;
  readonly steps?: number;
  /** short text for the status line, e.g. "level 2 of 3, refit 4 of 10" */
  readonly message: string;
}

export type WorkspaceEvent =
  | ProgressEvent
  /** a stage changed status */
  | {
      readonly type: 'stage';
      readonly runId: RunId;
      readonly stage: StageName;
      readonly status: StageStatus;
    }
  /** the run record changed (status, notices, counters): re-read with getRun when needed */
  | { readonly type: 'run'; readonly run: RunInfo }
  | { readonly type: 'notice'; readonly runId: RunId; readonly notice: Notice }
  /** a file was skipped (ingest or embed) */
  | {
      readonly type: 'skip';
      readonly runId?: RunId;
      readonly datasetId?: DatasetId;
      readonly skipped: SkippedFile;
    }
  | { readonly type: 'datasets' };

export type WorkspaceListener = (event: WorkspaceEvent) => void;

/* ------------------------------------------------------------------------------------------ */
/* Storage and export                                                                         */
/* ------------------------------------------------------------------------------------------ */

export interface StorageInfo {
  /** bytes used by this origin (navigator.storage.estimate), null when the browser cannot tell */
  readonly usage: number | null;
  readonly quota: number | null;
  /** whether the browser promised not to evict the data */
  readonly persisted: boolean;
}

export type ManifestFormat = 'csv' | 'json' | 'jsonl' | 'txt';
export type { ManifestOptions } from '../export/manifest';

/** What importing a reference output gave. */
export interface ReferenceImportReport {
  /** the stored run, finished: explore, sample again and export it */
  readonly run: RunInfo;
  readonly dataset: DatasetInfo;
  /** true when the ids matched a stored dataset; false: a dataset of the embeddings was made */
  readonly matched: boolean;
  /** findings that did not stop the import, one sentence each */
  readonly warnings: readonly string[];
}

/* ------------------------------------------------------------------------------------------ */
/* Workspace                                                                                  */
/* ------------------------------------------------------------------------------------------ */

/** Creates the workers; tests and the built app use the defaults. */
export interface WorkerFactories {
  readonly embed?: () => Worker;
  readonly cluster?: () => Worker;
  readonly ingest?: () => Worker;
}

export interface WorkspaceOptions {
  /** IndexedDB database name; default 'strata' (tests use a fresh name each) */
  readonly dbName?: string;
  readonly workers?: WorkerFactories;
}

/**
 * Everything the UI can do. `Workspace` (src/pipeline/workspace.ts) implements it; open one with `await Workspace.open()` and keep it for the page's lifetime.
 */
export interface WorkspaceApi {
  /* ---- events ---- */

  /** Listen to progress, stage, run, notice and skip events; returns the unsubscribe function. */
  subscribe(listener: WorkspaceListener): () => void;

  /* ---- datasets ---- */

  /**
   * Walk the source, hash each file, make a ~96 px thumbnail, and store the items as a new
   * dataset. Hidden files, OS junk (.DS_Store, Thumbs.db, desktop.ini, __MACOSX) and excluded or
   * unsupported extensions are skipped and listed with their reason; empty folders are explained.
   * Rejects with UserInputError when nothing usable was found (the report is in `cause`).
   */
  ingest(source: IngestSource, options?: IngestOptions): Promise<IngestReport>;
  /**
   * Re-read a 'directory' dataset's folder: add new files, drop vanished ones, keep unchanged ones
   * (and their embeddings). Needs the person's permission again after a reload, so call it from a
   * click handler.
   */
  rescan(datasetId: DatasetId, options?: { readonly signal?: AbortSignal }): Promise<IngestReport>;
  listDatasets(): Promise<DatasetInfo[]>;
  getDataset(datasetId: DatasetId): Promise<DatasetInfo | undefined>;
  /** Items in index order, `limit` at a time (paging for large datasets). */
  listItems(datasetId: DatasetId, offset?: number, limit?: number): Promise<ItemInfo[]>;
  /** An item's file: its stored copy, or read from its folder (UserInputError: gone or changed). */
  file(datasetId: DatasetId, index: ItemIndex): Promise<Blob | undefined>;
  /** 'ask': the dataset's folder can be read only after `allowFolder`, called from a click. */
  folderAccess(datasetId: DatasetId): Promise<'granted' | 'ask' | 'denied'>;
  /** Ask the browser to read the dataset's folder again (call from a click); true if allowed. */
  allowFolder(datasetId: DatasetId): Promise<boolean>;
  /** The stored ~96 px thumbnail (PNG/WebP blob), or undefined when none could be made. */
  thumbnail(datasetId: DatasetId, index: ItemIndex): Promise<Blob | undefined>;
  /** Delete a dataset with its items, files, embeddings and every run on it. */
  deleteDataset(datasetId: DatasetId): Promise<void>;

  /* ---- settings ---- */

  /** Defaults picked from the dataset's size (via suggestHierarchy), each with a reason. */
  suggestSettings(datasetId: DatasetId): Promise<SuggestedSettings>;
  /**
   * Check settings against a pool of `n` items: k larger than what it clusters, a target at or
   * above the pool size (everything would be kept: no curation), non-decreasing k, bad numbers.
   */
  validateSettings(settings: RunSettings, n: number): SettingsProblem[];

  /* ---- runs ---- */

  /** Store a new run (status 'created'); does not start it. */
  createRun(datasetId: DatasetId, settings: RunSettings): Promise<RunInfo>;
  /**
   * Run (or continue) every stage that is not done: embed -> cluster -> sample. Resolves with
   * the finished run; rejects with CancelledError after `cancel`, or with the stage's error
   * (the run is then 'failed' and can be resumed). One run at a time per Workspace.
   */
  start(runId: RunId): Promise<RunInfo>;
  /** Same as start: continues from the last stored level / resampling step. */
  resume(runId: RunId): Promise<RunInfo>;
  /** Stop the active run at the next safe point; finished work stays stored. */
  cancel(runId?: RunId): void;
  /** The run being executed by this Workspace, if any. */
  readonly activeRunId: RunId | null;
  /** Runs that did not finish (interrupted by a reload/closed tab, cancelled or failed): offer resume. */
  unfinishedRuns(): Promise<RunInfo[]>;
  listRuns(datasetId?: DatasetId): Promise<RunInfo[]>;
  getRun(runId: RunId): Promise<RunInfo | undefined>;
  deleteRun(runId: RunId): Promise<void>;
  /**
   * Redo only the sample stage with another target or leaf strategy (cheap: the hierarchy is
   * kept; the seed stays the run's, which the hierarchy was computed with). Returns the run.
   */
  resample(
    runId: RunId,
    change: Partial<Pick<RunSettings, 'target' | 'leafStrategy'>>,
  ): Promise<RunInfo>;

  /* ---- explore (finished or partly finished runs) ---- */

  /** Number of levels stored so far and k of each. */
  levels(runId: RunId): Promise<{ readonly k: readonly number[] }>;
  /** Every cluster of the top stored level, largest first. */
  topClusters(runId: RunId): Promise<ClusterSummary[]>;
  /** One cluster with its children and up to `limit` (default 60) of its raw items. */
  cluster(runId: RunId, level: number, id: number, limit?: number): Promise<ClusterDetail>;
  /** Curated row indices (ascending: the sampling's choice with the person's edits), empty before sampling. */
  selection(runId: RunId): Promise<Int32Array>;
  /** Items of the given rows of the run's matrix. */
  itemsForRows(runId: RunId, rows: ArrayLike<number>): Promise<ItemInfo[]>;
  /** Folder-label balance of pool, random subset and curated subset; null without labels. */
  balance(runId: RunId): Promise<BalanceReport | null>;
  sizeDistribution(runId: RunId): Promise<SizeDistribution>;
  /** 2-D PCA map of the embeddings (computed once in a worker, then stored). */
  projection(runId: RunId): Promise<Projection>;
  /**
   * The neighbourhood-keeping map (UMAP method, started from the PCA map): computed once in the
   * projection worker (seconds to a minute for 100k rows), then stored with the run.
   */
  layout(runId: RunId): Promise<Projection>;
  /** Cluster at every level, folder label and curated state of every row. */
  rowFacts(runId: RunId): Promise<RowFacts>;
  /**
   * Near-duplicate groups set aside before clustering, largest first (`limit` groups from
   * `offset`); null when the run had the search off or predates it.
   */
  duplicates(runId: RunId, offset?: number, limit?: number): Promise<DuplicateGroups | null>;
  /** Rows whose path contains `query` (case-insensitive), or whose item number or hash it is. */
  search(runId: RunId, query: string, limit?: number): Promise<SearchHit[]>;
  /** One row up close: clusters, why it was or was not kept, `neighbours` (default 8) nearest rows. */
  itemDetail(runId: RunId, row: number, neighbours?: number): Promise<ItemDetail>;

  /* ---- hands-on curation (stored with the run; undoable) ---- */

  /** Include or exclude rows by hand; `what` names them for the edit list. Returns the run. */
  edit(runId: RunId, action: EditAction, rows: ArrayLike<number>, what: string): Promise<RunInfo>;
  undoEdit(runId: RunId): Promise<RunInfo>;
  redoEdit(runId: RunId): Promise<RunInfo>;
  edits(runId: RunId): Promise<CurationEdits>;

  /* ---- export ---- */

  /** Manifest of the selection (CSV table, JSON/JSONL with metadata, TXT paths); the subset only unless `options` asks for the near-duplicates set aside too (as for zip and folder). */
  manifest(runId: RunId, format: ManifestFormat, options?: ManifestOptions): Promise<Blob>;
  /** Suggested file name for a manifest or zip of this run, e.g. "strata-photos-2024-05-01.csv". */
  exportName(runId: RunId, ext: string): Promise<string>;
  /** A zip of the selected files (plus manifest.csv) as a stream: nothing is built in memory. */
  zip(
    runId: RunId,
    onProgress?: (p: ExportProgress) => void,
    options?: ManifestOptions,
  ): Promise<ReadableStream<Uint8Array>>;
  /**
   * Write the selected files (keeping their relative paths) and manifest.csv into a folder the
   * person picked with showDirectoryPicker (File System Access API; Chromium only).
   */
  writeToFolder(
    runId: RunId,
    dir: FileSystemDirectoryHandle,
    onProgress?: (p: ExportProgress) => void,
    signal?: AbortSignal,
    options?: ManifestOptions,
  ): Promise<void>;

  /* ---- interop with the reference distributed pipeline ---- */

  /**
   * What a job bundle of a stored dataset with these settings holds (rows, levels, sizes,
   * estimated GPU-hours). Rejects with UserInputError when the dataset has no stored embeddings
   * for the settings' model yet.
   */
  jobBundleInfo(
    datasetId: DatasetId,
    settings: RunSettings,
    plan: JobBundlePlan,
  ): Promise<JobBundleInfo>;
  /** The job bundle as a zip stream: the embeddings stream from the store, never held whole. */
  jobBundleZip(
    datasetId: DatasetId,
    settings: RunSettings,
    plan: JobBundlePlan,
    onProgress?: (p: ExportProgress) => void,
  ): Promise<ReadableStream<Uint8Array>>;
  /** The job bundle written into a new folder inside `dir` (File System Access API). */
  writeJobBundle(
    datasetId: DatasetId,
    settings: RunSettings,
    plan: JobBundlePlan,
    dir: FileSystemDirectoryHandle,
    onProgress?: (p: ExportProgress) => void,
    signal?: AbortSignal,
  ): Promise<void>;
  /**
   * Import the reference pipeline's output (a picked folder, folder handle or zip): parsed and
   * checked in a worker, stored as a finished run. Rejects with UserInputError naming the file
   * and the problem when the folder cannot be used.
   */
  importReference(source: ReferenceImportSource): Promise<ReferenceImportReport>;

  /* ---- storage ---- */

  storage(): Promise<StorageInfo>;
  /** Ask the browser not to evict our data; returns whether it agreed. */
  persist(): Promise<boolean>;

  /**
   * Terminate the workers and close the database without touching any run's status (what a
   * closed tab does). A run in progress is found 'interrupted' by the next Workspace.open().
   */
  close(): Promise<void>;
}
