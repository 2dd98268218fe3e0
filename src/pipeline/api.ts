/**
 * The public face of the data layer: everything the UI needs to ingest files, run the curation
 * pipeline (ingest -> embed -> cluster -> sample), resume it after a reload, explore the result
 * and export it. The UI talks to a `Workspace` and never opens the database itself.
 *
 * Threading: the Workspace lives on the main thread and only orchestrates. Hashing and
 * thumbnails run in an ingest worker, embeddings in the embed worker, k-means in the cluster
 * worker; database writes are split into small transactions so no write is a long task.
 */

import type { ModelSpec } from '../embed/models';

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

/** Where a dataset's items came from; decides what the embed stage does and whether a rescan works. */
export type DatasetSource =
  /** image files dropped, picked with a file input, or handed over by code (demo data) */
  | 'files'
  /** a folder opened with showDirectoryPicker; its handle is kept so a later visit can rescan */
  | 'directory'
  /** an .npy matrix (+ optional ids file): rows are items, the embed stage only copies them */
  | 'precomputed';

export interface DatasetInfo {
  readonly id: DatasetId;
  readonly name: string;
  readonly source: DatasetSource;
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

export interface ItemInfo {
  readonly datasetId: DatasetId;
  readonly index: ItemIndex;
  /** path relative to the dropped/picked root, '/' separated, e.g. "cats/tabby 01.jpg" */
  readonly path: string;
  /** last path segment */
  readonly name: string;
  readonly size: number;
  /** MIME type reported by the browser ('' when unknown) */
  readonly type: string;
  readonly lastModified: number;
  /** lowercase hex SHA-256 of the file's bytes ('' for precomputed rows) */
  readonly hash: string;
  /** first folder of `path` (the "folder label", used only to measure balance); null at the root */
  readonly label: string | null;
}

/** One file that was not taken, and why, in words a person understands. */
export interface SkippedFile {
  readonly path: string;
  readonly reason: string;
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
  readonly signal?: AbortSignal;
}

/** Image extensions the embed stage can decode in Chromium (avif where the browser decodes it). */
export const IMAGE_EXTENSIONS: readonly string[] = [
  'jpg',
  'jpeg',
  'png',
  'webp',
  'gif',
  'bmp',
  'avif',
];

/* ------------------------------------------------------------------------------------------ */
/* Settings                                                                                   */
/* ------------------------------------------------------------------------------------------ */

export type Normalisation = 'center-l2' | 'l2' | 'none';
export type BackendChoice = 'auto' | 'webgpu' | 'cpu';
export type ProviderChoice = 'auto' | 'webgpu' | 'wasm';
export type ResampleStrategy = 'closest' | 'random';
export type LeafStrategy = 'random' | 'closest' | 'furthest';

export interface RunSettings {
  /** embedding model id from MODEL_CATALOGUE ('precomputed' for .npy datasets) */
  readonly model: string;
  /** the person's own model ("use my own .onnx"); used when its id equals `model` */
  readonly customModel?: ModelSpec;
  /** onnxruntime-web execution provider */
  readonly provider: ProviderChoice;
  /** images per inference batch */
  readonly batchSize: number;
  /** row preprocessing before k-means */
  readonly normalisation: Normalisation;
  /** clusters per level, bottom (level 1) first, strictly decreasing */
  readonly k: readonly number[];
  /** points per cluster kept at each resampling step, per level (1 = no resampling there) */
  readonly r: readonly number[];
  /** resampling steps per level (m) */
  readonly resamplingSteps: number;
  readonly resampleStrategy: ResampleStrategy;
  /** Lloyd rounds per k-means run */
  readonly iterations: number;
  /** size of the curated subset */
  readonly target: number;
  /** how points are picked inside a leaf cluster whose budget is smaller than its size */
  readonly leafStrategy: LeafStrategy;
  readonly seed: number;
  readonly backend: BackendChoice;
}

/** One line per setting, for tooltips and the "advanced" fold. */
export const SETTING_HELP: Readonly<Record<keyof RunSettings, string>> = {
  model: 'The network that turns each image into a vector; similar images get nearby vectors.',
  provider: 'Where the model runs: WebGPU on the graphics card, or WebAssembly on the processor.',
  customModel: 'Your own ONNX model: its input size, normalisation and output name.',
  batchSize: 'Images embedded together; larger batches are faster until memory runs short.',
  normalisation:
    'Centre and scale every vector to length 1 so distances compare directions (cosine).',
  k: 'Clusters at each level, finest first; each level clusters the centroids of the one below.',
  r: 'Points kept per cluster when a level is refitted on an even sample (1 = no refit there).',
  resamplingSteps: 'How many times each level is refitted on an even sample of its clusters.',
  resampleStrategy: 'Which members a refit keeps: those closest to the centroid, or random ones.',
  iterations: 'Lloyd rounds per k-means run (the paper uses 50).',
  target: 'How many items the curated subset holds.',
  leafStrategy:
    'How items are picked inside the smallest clusters: at random (best in the paper), closest, or furthest.',
  seed: 'Fixes every random choice: the same seed and data give the same result.',
  backend: 'Where k-means runs: the graphics card (WebGPU) or the processor; auto picks.',
};

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
}

/* ------------------------------------------------------------------------------------------ */
/* Runs                                                                                       */
/* ------------------------------------------------------------------------------------------ */

export type StageName = 'ingest' | 'embed' | 'cluster' | 'sample';
export const STAGES: readonly StageName[] = ['ingest', 'embed', 'cluster', 'sample'];

export type StageStatus = 'pending' | 'running' | 'done' | 'failed' | 'cancelled';

/**
 * A run's overall state. 'interrupted' = it was running when the tab went away (found on open);
 * it can be resumed like 'cancelled' and 'failed'.
 */
export type RunStatus = 'created' | 'running' | 'done' | 'failed' | 'cancelled' | 'interrupted';

export interface StageState {
  readonly status: StageStatus;
  readonly startedAt?: number;
  readonly finishedAt?: number;
  /** last progress reached, so the UI can draw a bar for a stopped run */
  readonly done?: number;
  readonly total?: number;
  readonly error?: string;
}

export interface Notice {
  readonly at: number;
  readonly stage: StageName;
  readonly level: 'info' | 'warning' | 'error';
  readonly message: string;
}

/**
 * Work counters: how much each stage actually computed in this run, summed over every resume.
 * Tests assert on them that nothing finished was recomputed.
 */
export interface RunCounters {
  /** rows the embed worker computed (cache misses) */
  readonly embedded: number;
  /** rows taken from stored embeddings or the embed cache */
  readonly embedReused: number;
  /** hierarchy levels computed */
  readonly levelsComputed: number;
  /** resampling steps computed */
  readonly stepsComputed: number;
  /** times the cluster stage restarted from stored levels/steps */
  readonly clusterResumes: number;
}

export interface RunInfo {
  readonly id: RunId;
  readonly datasetId: DatasetId;
  readonly datasetName: string;
  readonly settings: RunSettings;
  readonly status: RunStatus;
  readonly stages: Readonly<Record<StageName, StageState>>;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly finishedAt?: number;
  /** rows clustered (items that were embedded) */
  readonly rows: number;
  readonly dim: number;
  /** k-means backend actually used, e.g. "webgpu (SwiftShader, fallback)" or "cpu-wasm-simd" */
  readonly backendUsed?: string;
  /** embedding provider actually used */
  readonly providerUsed?: string;
  readonly notices: readonly Notice[];
  /** items the embed stage could not use, with reasons */
  readonly skipped: readonly SkippedFile[];
  readonly counters: RunCounters;
  /** size of the curated subset once sampled */
  readonly selected?: number;
}

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
/* Explore                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/** A cluster of some level, seen from above: how many raw items it covers and how many were kept. */
export interface ClusterSummary {
  /** 1-based level; level 1 clusters hold items */
  readonly level: number;
  readonly id: number;
  /** raw items under this cluster */
  readonly size: number;
  /** of which selected in the curated subset */
  readonly selected: number;
  /** clusters of level - 1 under this one (empty at level 1) */
  readonly childCount: number;
}

export interface ClusterItem {
  /** row of the run's matrix */
  readonly row: number;
  readonly item: ItemInfo;
  /** squared distance to its level-1 centroid */
  readonly dist2: number;
  readonly selected: boolean;
}

export interface ClusterDetail extends ClusterSummary {
  /** children (level - 1), largest first; empty at level 1 */
  readonly children: readonly ClusterSummary[];
  /** up to `limit` raw items under this cluster, closest to their centroid first */
  readonly items: readonly ClusterItem[];
}

export interface LabelCounts {
  readonly counts: readonly number[];
  readonly total: number;
  /** Shannon entropy / ln(number of labels): 1 = perfectly balanced */
  readonly normalisedEntropy: number;
  /** largest count / smallest non-zero count */
  readonly maxMinRatio: number;
}

export interface BalanceReport {
  readonly labels: readonly string[];
  readonly pool: LabelCounts;
  /** a seeded uniform random subset of the same size as the curated one */
  readonly random: LabelCounts;
  readonly curated: LabelCounts;
}

export interface SizeDistribution {
  /** raw items per level-1 cluster before curation */
  readonly before: Int32Array;
  /** selected items per level-1 cluster */
  readonly after: Int32Array;
}

/** A 2-D projection of the run's embeddings (principal components), one point per row. */
export interface Projection {
  readonly x: Float32Array;
  readonly y: Float32Array;
  readonly selected: Uint8Array;
}

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

export interface ExportProgress {
  readonly done: number;
  readonly total: number;
  readonly bytes: number;
}

export { CancelledError, StorageFullError, UserInputError } from './errors';

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
 * Everything the UI can do. `Workspace` (src/pipeline/workspace.ts, re-exported here) implements
 * it; open one with `await Workspace.open()` and keep it for the page's lifetime.
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
  /** Selected row indices (ascending), empty before sampling. */
  selection(runId: RunId): Promise<Int32Array>;
  /** Items of the given rows of the run's matrix. */
  itemsForRows(runId: RunId, rows: ArrayLike<number>): Promise<ItemInfo[]>;
  /** Folder-label balance of pool, random subset and curated subset; null without labels. */
  balance(runId: RunId): Promise<BalanceReport | null>;
  sizeDistribution(runId: RunId): Promise<SizeDistribution>;
  /** 2-D PCA map of the embeddings (computed once in a worker, then stored). */
  projection(runId: RunId): Promise<Projection>;

  /* ---- export ---- */

  /** Manifest of the selection with a run-metadata header (CSV comment lines, JSON object, JSONL first line). */
  manifest(runId: RunId, format: ManifestFormat): Promise<Blob>;
  /** Suggested file name for a manifest or zip of this run, e.g. "strata-photos-2024-05-01.csv". */
  exportName(runId: RunId, ext: string): Promise<string>;
  /** A zip of the selected files (plus manifest.csv) as a stream: nothing is built in memory. */
  zip(runId: RunId, onProgress?: (p: ExportProgress) => void): Promise<ReadableStream<Uint8Array>>;
  /**
   * Write the selected files (keeping their relative paths) and manifest.csv into a folder the
   * person picked with showDirectoryPicker (File System Access API; Chromium only).
   */
  writeToFolder(
    runId: RunId,
    dir: FileSystemDirectoryHandle,
    onProgress?: (p: ExportProgress) => void,
    signal?: AbortSignal,
  ): Promise<void>;

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

export { Workspace } from './workspace';
