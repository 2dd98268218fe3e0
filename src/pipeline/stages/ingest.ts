/**
 * The ingest stage, every source in one place: drop events, file inputs, code-supplied files,
 * folder handles (stored instead of copies of the files, and for rescans), and precomputed
 * matrices. Walking and filtering live in
 * src/ingest; storing a walk is ingest-store.ts; storing a matrix is ingest-precomputed.ts.
 * Inside a run the stage only checks that the dataset's ingest finished.
 */
import { normaliseExtensions } from '../../ingest/filters';
import { requestFolderAccess } from '../../ingest/folder-read';
import { emptyWalk, walkEntries, walkFiles, walkHandle, type WalkResult } from '../../ingest/walk';
import { getHandle, putHandle } from '../../store/handles';
import { getDataset } from '../../store/records';
import type { IngestOptions, IngestReport, IngestSource } from '../contract';
import { asUserError, UserInputError } from '../errors';
import type { StageContext } from './context';
import { storePrecomputed, type ReadPrecomputed } from './ingest-precomputed';
import { ingestWalk, rescanWalk, type IngestContext, type NewDatasetMeta } from './ingest-store';

/** What a drop event held, taken before its handler returns (the browser empties it after). */
export interface Dropped {
  readonly entries: FileSystemEntry[];
  readonly loose: File[];
  /** Chromium's handles of the dropped items (asked for during the drop), when it has them */
  readonly handles: Promise<(FileSystemHandle | null)[]> | null;
}

/** Chromium's drop-to-handle method; TypeScript's DOM library does not declare it yet. */
interface HandleItem {
  getAsFileSystemHandle?(): Promise<FileSystemHandle | null>;
}

/**
 * Read a drop's entries synchronously: call inside the drop handler, before any await.
 * Items without an entry (e.g. files dragged from some apps) come as loose files.
 */
export function takeDropped(source: IngestSource): Dropped {
  const entries: FileSystemEntry[] = [];
  let loose: File[] = [];
  let handles: Promise<(FileSystemHandle | null)[]> | null = null;
  if (source.kind === 'dataTransfer') {
    const asked: Promise<FileSystemHandle | null>[] = [];
    for (const item of Array.from(source.dataTransfer.items)) {
      if (item.kind !== 'file') continue;
      // Both are asked for now: the handle only resolves later, and the entry expires after
      // the handler returns. A refused handle falls back to the entry (copies).
      const ask = (item as DataTransferItem & HandleItem).getAsFileSystemHandle;
      if (ask) asked.push(ask.call(item).catch(() => null));
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
    if (asked.length > 0) handles = Promise.all(asked);
  } else if (source.kind === 'entries') {
    entries.push(...source.entries);
  }
  return { entries, loose, handles };
}

/**
 * The folder handle of a drop of exactly one folder, or null. Only such a drop can be read
 * again later through one handle; several folders or loose files are copied.
 */
async function droppedFolder(dropped: Dropped): Promise<FileSystemDirectoryHandle | null> {
  if (!dropped.handles || dropped.loose.length > 0 || dropped.entries.length !== 1) return null;
  const handles = await dropped.handles;
  const only = handles.length === 1 ? handles[0] : null;
  return only?.kind === 'directory' ? (only as FileSystemDirectoryHandle) : null;
}

/** An ingest's services: the store, the ingest worker's digest and matrix reader, events. */
export interface IngestServices extends IngestContext {
  readPrecomputed: ReadPrecomputed;
}

/** Walk the source and store it as a new dataset (see WorkspaceApi.ingest). */
export async function ingestSource(
  ctx: IngestServices,
  source: IngestSource,
  options: IngestOptions,
  dropped: Dropped,
): Promise<IngestReport> {
  const filter = {
    include: normaliseExtensions(options.include),
    exclude: normaliseExtensions(options.exclude),
  };
  const meta: NewDatasetMeta = {
    source: 'files',
    storage: 'copies',
    include: filter.include,
    exclude: filter.exclude,
    ...(options.name ? { name: options.name } : {}),
    ...(options.halfEmbeddings ? { halfEmbeddings: true } : {}),
  };
  const signal = options.signal;
  // A picked or dropped folder: its handle is stored, its files are read from it, never copied.
  const folder = source.kind === 'directoryHandle' ? source.handle : await droppedFolder(dropped);
  if (folder) {
    return ingestWalk(
      ctx,
      await walkHandle(folder, filter, signal),
      { ...meta, source: 'directory', storage: 'folder', root: folder.name },
      (d) => putHandle(ctx.db, d.id, folder),
    );
  }
  let walk: WalkResult;
  switch (source.kind) {
    case 'dataTransfer':
    case 'entries': {
      walk = await walkEntries(dropped.entries, filter, signal);
      if (dropped.loose.length > 0) {
        const more = walkFiles(dropped.loose, null, filter);
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
    case 'precomputed':
      return storePrecomputed(ctx, source.npy, source.ids, ctx.readPrecomputed, options);
    default:
      walk = emptyWalk();
  }
  return ingestWalk(ctx, walk, meta);
}

/** Re-read a 'directory' dataset's folder, asking for permission again when needed. */
export async function rescanDataset(ctx: IngestContext, datasetId: string): Promise<IngestReport> {
  const dataset = await getDataset(ctx.db, datasetId);
  if (!dataset) throw new UserInputError('That dataset no longer exists.');
  const stored = await getHandle(ctx.db, datasetId);
  if (dataset.source !== 'directory' || !stored) {
    throw new UserInputError(
      'Only a folder opened with "Open folder" can be rescanned; add the files again instead.',
    );
  }
  const handle = stored;
  if ((await requestFolderAccess(handle)) !== 'granted') {
    throw new UserInputError(`The browser was not allowed to read "${handle.name}" again.`);
  }
  try {
    const filter = { include: dataset.include, exclude: dataset.exclude };
    const walk = await walkHandle(handle, filter, ctx.signal);
    return await rescanWalk(ctx, dataset, walk, handle.name);
  } catch (e) {
    if (e instanceof DOMException && e.name === 'NotFoundError') {
      throw new UserInputError(`The folder "${handle.name}" was moved or deleted.`);
    }
    throw asUserError(e);
  }
}

/** The run's ingest stage: items were stored when the dataset was ingested; check they all are. */
export async function ingestStage(ctx: StageContext): Promise<void> {
  if (ctx.dataset.complete === false) {
    throw new UserInputError(
      'Reading the files of this dataset did not finish. Add the folder again to curate it.',
    );
  }
  const n = ctx.dataset.itemCount;
  ctx.run.stages.ingest = { ...ctx.run.stages.ingest, done: n, total: n };
}
