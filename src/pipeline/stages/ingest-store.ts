/**
 * Turning a walk into a stored dataset: hash and thumbnail every file in the ingest worker,
 * store items, files and thumbnails batch by batch (each batch one transaction), and report
 * what was skipped and why. Also the incremental rescan of a folder handle.
 */
import type {
  DatasetSource,
  DatasetStorage,
  IngestReport,
  ProgressEvent,
  SkippedFile,
  WorkspaceEvent,
} from '../contract';
import type { Db } from '../../store/db';
import { addItems, allItems, deleteDatasetData, markRemoved } from '../../store/records';
import type { DatasetRecord, ItemRecord } from '../../store/schema';
import type { Digest } from '../../ingest/digest';
import { commonRoot, emptyFolders, labelOf, nameOf, stripRoot } from '../../ingest/paths';
import type { FoundFile, WalkResult } from '../../ingest/walk';
import { Throughput } from '../throughput';
import { toDatasetInfo } from '../convert';
import { UserInputError } from '../errors';

/**
 * Files per batch: one worker round trip and one transaction each. Digesting 32 emoji-sized
 * files took 76 ms here, so progress moves several times a second and a crash loses little.
 */
export const INGEST_BATCH = 32;

export interface IngestContext {
  db: Db;
  digest: (files: Blob[]) => Promise<Digest[]>;
  emit: (e: WorkspaceEvent) => void;
  signal?: AbortSignal;
}

function progress(datasetId: string, done: number, total: number, rate: Throughput): ProgressEvent {
  return {
    type: 'progress',
    datasetId,
    stage: 'ingest',
    done,
    total,
    itemsPerSecond: rate.perSecond(),
    etaSeconds: rate.eta(total - done),
    message: `reading files: ${done} of ${total}`,
  };
}

/**
 * Paths relative to the common root; returns the root too (used as a default name). A folder
 * handle's walk names its root (`known`): paths must stay relative to the handle, to be read
 * through it later.
 */
function relativise(walk: WalkResult, known?: string): { root: string | null; walk: WalkResult } {
  const all = [
    ...walk.files.map((f) => f.path),
    ...walk.skipped.map((s) => s.path.replace(/\/$/, '/x')),
    ...walk.folders.map((f) => f + '/x'),
  ];
  // A handle without a name (a browser's private root folder) puts no root before its paths.
  const root = known !== undefined ? known || null : commonRoot(all);
  if (root === null) return { root, walk };
  const strip = (p: string): string => stripRoot(p, root);
  return {
    root,
    walk: {
      files: walk.files.map((f) => ({ path: strip(f.path), file: f.file })),
      skipped: walk.skipped.map((s) => ({ path: strip(s.path), reason: s.reason })),
      folders: walk.folders.map(strip).filter((f) => f !== ''),
    },
  };
}

/**
 * Digest and store `files` as new items of `dataset` (which is updated in place and stored).
 * The files' bytes are stored only for a dataset that keeps copies; one read from its folder
 * stores the thumbnail, and the size and date that later reads are checked against.
 */
async function storeFiles(
  ctx: IngestContext,
  dataset: DatasetRecord,
  files: FoundFile[],
  skipped: SkippedFile[],
): Promise<number> {
  const keepFiles = dataset.storage === 'copies';
  const rate = new Throughput();
  let added = 0;
  const labels = new Set(dataset.labels);
  ctx.emit(progress(dataset.id, 0, files.length, rate));
  for (let start = 0; start < files.length; start += INGEST_BATCH) {
    ctx.signal?.throwIfAborted();
    const chunk = files.slice(start, start + INGEST_BATCH);
    const digests = await ctx.digest(chunk.map((f) => f.file));
    const batch = [];
    for (let i = 0; i < chunk.length; i++) {
      const { path, file } = chunk[i];
      const d = digests[i];
      if (d.error || !d.thumb) {
        const s = { path, reason: d.error ?? 'could not be decoded as an image' };
        skipped.push(s);
        ctx.emit({ type: 'skip', datasetId: dataset.id, skipped: s });
        continue;
      }
      const label = labelOf(path);
      if (label !== null) labels.add(label);
      const item: ItemRecord = {
        datasetId: dataset.id,
        index: dataset.nextIndex++,
        path,
        name: nameOf(path),
        size: file.size,
        type: file.type,
        lastModified: file.lastModified,
        hash: d.hash,
        label,
        hasThumb: true,
      };
      batch.push({ item, thumb: d.thumb, file: keepFiles ? file : undefined });
      dataset.bytes += file.size;
    }
    added += batch.length;
    dataset.itemCount += batch.length;
    dataset.labels = [...labels].sort();
    dataset.updatedAt = Date.now();
    await addItems(ctx.db, dataset, batch);
    rate.add(chunk.length);
    ctx.emit(progress(dataset.id, start + chunk.length, files.length, rate));
  }
  return added;
}

export interface NewDatasetMeta {
  source: DatasetSource;
  storage: DatasetStorage;
  name?: string;
  /** the folder handle's name, which its walk puts before every path */
  root?: string;
  include: string[];
  exclude: string[];
  halfEmbeddings?: boolean;
}

/**
 * Store a walk as a new dataset. Rejects with UserInputError (report in `cause`) when nothing
 * usable was found; the dataset is then not kept.
 */
export async function ingestWalk(
  ctx: IngestContext,
  rawWalk: WalkResult,
  meta: NewDatasetMeta,
  onCreated?: (dataset: DatasetRecord) => Promise<void>,
): Promise<IngestReport> {
  const { root, walk } = relativise(rawWalk, meta.root);
  const now = Date.now();
  const dataset: DatasetRecord = {
    id: crypto.randomUUID(),
    name: meta.name?.trim() || root || `${walk.files.length} files`,
    source: meta.source,
    storage: meta.storage,
    ...(meta.halfEmbeddings ? { halfEmbeddings: true } : {}),
    createdAt: now,
    updatedAt: now,
    itemCount: 0,
    bytes: 0,
    labels: [],
    include: meta.include,
    exclude: meta.exclude,
    nextIndex: 0,
    complete: false,
  };
  const skipped = [...walk.skipped];
  for (const s of walk.skipped) ctx.emit({ type: 'skip', datasetId: dataset.id, skipped: s });
  let added = 0;
  if (walk.files.length > 0) {
    if (onCreated) await onCreated(dataset);
    added = await storeFiles(ctx, dataset, walk.files, skipped);
  }
  const taken = (await allItems(ctx.db, dataset.id)).map((i) => i.path);
  const report: IngestReport = {
    dataset: toDatasetInfo(dataset),
    added,
    removed: 0,
    unchanged: 0,
    skipped,
    emptyFolders: emptyFolders(walk, taken),
  };
  if (added === 0) {
    // Batches of undecodable files still wrote the dataset record: keep nothing.
    if (walk.files.length > 0) await deleteDatasetData(ctx.db, dataset.id);
    throw new UserInputError(nothingUsable(walk, skipped), { cause: report });
  }
  dataset.complete = true;
  dataset.updatedAt = Date.now();
  await addItems(ctx.db, dataset, []);
  ctx.emit({ type: 'datasets' });
  return { ...report, dataset: toDatasetInfo(dataset) };
}

function nothingUsable(walk: WalkResult, skipped: SkippedFile[]): string {
  if (walk.files.length === 0 && skipped.length === 0) {
    return walk.folders.length > 0
      ? 'The folder is empty: there are no files in it to curate.'
      : 'Nothing was dropped or picked: no files arrived.';
  }
  return (
    `None of the ${skipped.length} file${skipped.length === 1 ? '' : 's'} can be used ` +
    `(see the list of skipped files for each reason). Strata curates images: jpg, png, webp, gif, bmp, avif.`
  );
}

/**
 * Incremental rescan: files with the same path, size and modification time are kept as they
 * are (with their embeddings); new or changed files are added; vanished ones are marked removed.
 */
export async function rescanWalk(
  ctx: IngestContext,
  dataset: DatasetRecord,
  rawWalk: WalkResult,
  root: string,
): Promise<IngestReport> {
  // A folder handle's walk starts every path with the folder's own name.
  const { walk } = relativise(rawWalk, root);
  const existing = new Map<string, ItemRecord>();
  for (const item of await allItems(ctx.db, dataset.id)) existing.set(item.path, item);
  const seen = new Set<string>();
  const fresh: FoundFile[] = [];
  const changed: ItemRecord[] = [];
  let unchanged = 0;
  for (const f of walk.files) {
    seen.add(f.path);
    const old = existing.get(f.path);
    if (old && old.size === f.file.size && old.lastModified === f.file.lastModified) {
      unchanged++;
      continue;
    }
    if (old) changed.push(old);
    fresh.push(f);
  }
  const gone = [...existing.values()].filter((i) => !seen.has(i.path));
  const removed = [...changed, ...gone];
  if (removed.length > 0) {
    dataset.itemCount -= removed.length;
    dataset.bytes -= removed.reduce((s, i) => s + i.size, 0);
    dataset.updatedAt = Date.now();
    await markRemoved(ctx.db, dataset, removed);
  }
  const skipped = [...walk.skipped];
  const added = await storeFiles(ctx, dataset, fresh, skipped);
  const live = await allItems(ctx.db, dataset.id);
  dataset.labels = [
    ...new Set(live.map((i) => i.label).filter((l): l is string => l !== null)),
  ].sort();
  dataset.updatedAt = Date.now();
  await addItems(ctx.db, dataset, []);
  ctx.emit({ type: 'datasets' });
  return {
    dataset: toDatasetInfo(dataset),
    added,
    removed: removed.length,
    unchanged,
    skipped,
    emptyFolders: emptyFolders(
      walk,
      live.map((i) => i.path),
    ),
  };
}
