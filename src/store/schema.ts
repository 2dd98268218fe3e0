/**
 * The app database ('strata'): record shapes and the idb schema of the current version.
 *
 * Versions
 *  1  datasets, items (file and thumbnail blobs inline), runs, levels, steps, selections.
 *  2  item blobs move to their own stores ('files', 'thumbs') so paging through items never
 *     touches blob handles; big typed arrays go to 'chunks'; embeddings per (dataset, model);
 *     folder handles for rescans; stored 2-D projections; a runs-by-status index.
 *  3  'edits': a run's hands-on curation (items included or excluded by the person), and the
 *     neighbourhood-keeping map as optional fields of a projection record.
 *  4  'dedup': a run's near-duplicate groups. Runs stored before get a 'dedup' stage marked done
 *     with no groups and the setting off, so they open and resume as they were.
 *  5  datasets say where their pictures are kept (`storage`): copies in 'files', or only in the
 *     folder on the person's device, read through its stored handle. Datasets stored before
 *     kept copies, and are marked so.
 * Migrations live in migrations.ts; each one keeps every record of the version before.
 */
import type { DBSchema } from 'idb';
import type { RunSettings } from '../core/settings';

export const DB_NAME = 'strata';
export const DB_VERSION = 5;

/** Where a dataset's items came from; decides what the embed stage does and whether a rescan works. */
export type DatasetSource =
  /** image files dropped, picked with a file input, or handed over by code (demo data) */
  | 'files'
  /** a folder opened with showDirectoryPicker; its handle is kept so a later visit can rescan */
  | 'directory'
  /** an .npy matrix (+ optional ids file): rows are items, the embed stage only copies them */
  | 'precomputed';

/**
 * Where a dataset's pictures are kept. Reading from the folder stores only thumbnails and
 * embeddings, so storage grows by a few kB per picture instead of by the picture itself.
 */
export type DatasetStorage =
  /** a copy of every file in the 'files' store (file lists, drops, browsers without handles) */
  | 'copies'
  /** no copies: every read goes through the folder handle in 'handles', by relative path */
  | 'folder'
  /** no pictures at all: precomputed rows */
  | 'none';

export interface DatasetRecord {
  id: string;
  name: string;
  source: DatasetSource;
  storage: DatasetStorage;
  /**
   * embeddings kept at IEEE half precision (half the space; the clustering objective within
   * 0.5% of float32, test/unit/core/half.test.ts); absent = float32
   */
  halfEmbeddings?: boolean;
  createdAt: number;
  updatedAt: number;
  /** live (not removed) items */
  itemCount: number;
  bytes: number;
  labels: string[];
  dim?: number;
  include: string[];
  exclude: string[];
  /** false while an ingest is still adding items; absent on records older than the field */
  complete?: boolean;
  /** next free item index (indices are never reused, so runs keep pointing at the right files) */
  nextIndex: number;
}

export interface ItemRecord {
  datasetId: string;
  index: number;
  path: string;
  name: string;
  size: number;
  type: string;
  lastModified: number;
  hash: string;
  label: string | null;
  /** set when a rescan found the file gone or changed; runs made before still resolve it */
  removed?: boolean;
  hasThumb: boolean;
}

export interface FileRecord {
  datasetId: string;
  index: number;
  file: Blob;
}

export interface ThumbRecord {
  datasetId: string;
  index: number;
  blob: Blob;
}

/** Typed-array kinds the chunk store holds. */
export type ArrayKind = 'f32' | 'i32' | 'u8';

/** Reference to a typed array split over 'chunks' records under `key`. */
export interface BigRef {
  key: string;
  kind: ArrayKind;
  length: number;
  parts: number;
}

export interface ChunkRecord {
  key: string;
  part: number;
  data: Float32Array | Int32Array | Uint8Array;
}

/** One file that was not taken, and why, in words a person understands. */
export interface SkippedFile {
  readonly path: string;
  readonly reason: string;
}

export type StageName = 'ingest' | 'embed' | 'dedup' | 'cluster' | 'sample';

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
  /** times the dedup stage computed its groups (0 or 1 for a run that resumes correctly) */
  readonly dedupComputed: number;
}

/** Counters of a run that has done no work yet (a new run, an imported one). */
export function zeroCounters(): RunCounters {
  return {
    embedded: 0,
    embedReused: 0,
    levelsComputed: 0,
    stepsComputed: 0,
    clusterResumes: 0,
    dedupComputed: 0,
  };
}

/** A run as the UI sees it (the contract re-exports it); RunRecord below adds what only the pipeline needs. */
export interface RunInfo {
  readonly id: string;
  readonly datasetId: string;
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
  /** where the model ran, in plain words, e.g. "this device's processor, 2 threads" */
  readonly embeddedOn?: string;
  readonly notices: readonly Notice[];
  /** items the embed stage could not use, with reasons */
  readonly skipped: readonly SkippedFile[];
  readonly counters: RunCounters;
  /** size of the curated subset once sampled */
  readonly selected?: number;
  /** near-duplicate groups found and rows removed, once the dedup stage is done */
  readonly duplicates?: { readonly groups: number; readonly removed: number };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A run: the public RunInfo plus what only the pipeline needs. */
export interface RunRecord extends Mutable<
  Omit<RunInfo, 'status' | 'stages' | 'notices' | 'skipped' | 'counters'>
> {
  status: RunInfo['status'];
  counters: Mutable<RunInfo['counters']>;
  stages: { -readonly [K in keyof RunInfo['stages']]: RunInfo['stages'][K] };
  notices: RunInfo['notices'][number][];
  skipped: RunInfo['skipped'][number][];
  /** item index of each row of the run's matrix (set when the embed stage finishes) */
  rowItems?: BigRef;
}

export interface LevelRecord {
  runId: string;
  /** 1-based */
  level: number;
  k: number;
  cols: number;
  /** rows clustered at this level (items at level 1, centroids of level - 1 above) */
  n: number;
  centroids: BigRef;
  labels: BigRef;
  dist2: BigRef;
  /** members of every cluster, closest to its centroid first, concatenated */
  members: BigRef;
  /** k + 1 offsets into members */
  offsets: BigRef;
}

export interface StepRecord {
  runId: string;
  level: number;
  /** 1-based resampling step */
  step: number;
  k: number;
  cols: number;
  centroids: BigRef;
}

export interface SelectionRecord {
  runId: string;
  /** selected rows of the run's matrix, ascending */
  rows: Int32Array;
  target: number;
  leafStrategy: string;
  seed: number;
  createdAt: number;
}

export interface EmbeddingChunkRecord {
  datasetId: string;
  /** model id, or 'precomputed' */
  model: string;
  chunk: number;
  dim: number;
  /** item index of each row */
  indices: Int32Array;
  data: Float32Array;
}

/**
 * A chunk as stored: rows in float32, or in IEEE half precision (binary16 bits) where the
 * dataset keeps its embeddings at half the space. Readers in store/embeddings.ts decode.
 */
export type StoredEmbeddingChunk = Omit<EmbeddingChunkRecord, 'data'> & {
  data: Float32Array | Uint16Array;
};

export interface HandleRecord {
  datasetId: string;
  handle: FileSystemDirectoryHandle;
}

export interface ProjectionRecord {
  runId: string;
  /** first two principal components (the instant first map) */
  x: Float32Array;
  y: Float32Array;
  /** the neighbourhood-keeping layout (UMAP method), once computed; absent before version 3 */
  layoutX?: Float32Array;
  layoutY?: Float32Array;
}

/** A run's near-duplicate groups (rows are rows of the run's matrix). */
export interface DedupRecord {
  runId: string;
  /** the cosine threshold they were found with */
  threshold: number;
  groups: number;
  removed: number;
  /** per row: 1 kept, 0 removed (u8) */
  keep: BigRef;
  /** per row: group id or -1 (i32) */
  group: BigRef;
  /** per group: the row kept for it (i32) */
  representative: BigRef;
}

/** One hands-on change to a run's curated subset. */
export interface EditRecord {
  at: number;
  action: 'include' | 'exclude';
  /** rows of the run's matrix the change names */
  rows: Int32Array;
  /** what the person acted on, in words, e.g. "cats/tabby.png" or "level 2 cluster 4" */
  what: string;
}

/** A run's edits: `applied` in order, `undone` the most recently undone last (for redo). */
export interface EditsRecord {
  runId: string;
  applied: EditRecord[];
  undone: EditRecord[];
}

export interface StrataDB extends DBSchema {
  datasets: { key: string; value: DatasetRecord };
  items: {
    key: [string, number];
    value: ItemRecord;
    indexes: { byDataset: string };
  };
  files: { key: [string, number]; value: FileRecord };
  thumbs: { key: [string, number]; value: ThumbRecord };
  runs: {
    key: string;
    value: RunRecord;
    indexes: { byDataset: string; byStatus: string };
  };
  levels: { key: [string, number]; value: LevelRecord };
  steps: { key: [string, number, number]; value: StepRecord };
  selections: { key: string; value: SelectionRecord };
  chunks: { key: [string, number]; value: ChunkRecord };
  embeddings: { key: [string, string, number]; value: StoredEmbeddingChunk };
  handles: { key: string; value: HandleRecord };
  projections: { key: string; value: ProjectionRecord };
  edits: { key: string; value: EditsRecord };
  dedup: { key: string; value: DedupRecord };
}

export type StoreName =
  | 'datasets'
  | 'items'
  | 'files'
  | 'thumbs'
  | 'runs'
  | 'levels'
  | 'steps'
  | 'selections'
  | 'chunks'
  | 'embeddings'
  | 'handles'
  | 'projections'
  | 'edits'
  | 'dedup';

/** Key range of every compound key whose first component is `first` (arrays sort after all else). */
export function prefixRange(first: string, second?: string | number): IDBKeyRange {
  const lower: (string | number)[] = second === undefined ? [first] : [first, second];
  return IDBKeyRange.bound(lower, [...lower, []]);
}
