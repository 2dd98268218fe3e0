/**
 * Exporting a run: the manifest rows of the curated subset (path, size, hash, label, cluster at
 * every level, distance to its level-1 centroid), the run metadata that heads each manifest, the
 * file list of a zip or folder export, and the suggested file names.
 */
import { readI32, type Db } from '../store/db';
import { getDedup } from '../store/dedup';
import { getLevels } from '../store/levels';
import { getDataset, getItems } from '../store/records';
import { DB_VERSION, type ItemRecord, type RunRecord } from '../store/schema';
import {
  clusterPath,
  manifestCsv,
  manifestJson,
  manifestJsonl,
  manifestTxt,
  safeFileName,
  safeSegments,
  type ManifestMeta,
  type ManifestOptions,
  type ManifestRow,
} from '../export/manifest';
import { zipStream, type ExportProgress, type ZipEntry } from '../export/zip';
import { writeFilesToFolder } from '../export/folder';
import { findModel } from '../embed/models';
import type { ManifestFormat } from './contract';
import { curatedRows, editsMeta } from './edits';
import { openItemFiles } from './item-files';
import { UserInputError } from './errors';
import { PRECOMPUTED_MODEL } from './settings';
import { dependencies, version } from '../../package.json';

/**
 * The curated subset's rows (with their items, for file exports), then, when asked for, the
 * near-duplicates set aside and not brought back by an edit, each naming the path of the item
 * kept for its group. Off by default: a person reading the manifest as the subset must not get
 * extra rows.
 */
async function manifestRows(
  db: Db,
  run: RunRecord,
  options: ManifestOptions,
): Promise<{ rows: ManifestRow[]; items: ItemRecord[] }> {
  // The curated subset as the person left it: the sampling's choice with their edits.
  const sel = { rows: await curatedRows(db, run) };
  if (!sel.rows)
    throw new UserInputError('This run has no curated subset yet: let it finish first.');
  if (!run.rowItems) throw new Error('the run has no row list');
  const rowItems = await readI32(db, run.rowItems);
  const levels = await getLevels(db, run.id, { centroids: false });
  const labels = levels.map((l) => l.labels);
  const dist2 = levels[0]?.dist2;
  const picked = sel.rows;
  const recs = await getItems(
    db,
    run.datasetId,
    Array.from(picked, (r) => rowItems[r]),
  );
  const items: ItemRecord[] = [];
  const rows: ManifestRow[] = [];
  picked.forEach((row, i) => {
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
  const dedup =
    options.listDuplicates && run.settings.dedup != null ? await getDedup(db, run.id) : undefined;
  if (dedup && dedup.removed > 0) {
    const inSubset = new Set(picked);
    const aside: number[] = [];
    for (let r = 0; r < dedup.keep.length; r++)
      if (!dedup.keep[r] && !inSubset.has(r)) aside.push(r);
    const reps = aside.map((r) => dedup.representative[dedup.group[r]]);
    const recs2 = await getItems(
      db,
      run.datasetId,
      [...aside, ...reps].map((r) => rowItems[r]),
    );
    aside.forEach((row, i) => {
      const it = recs2[i];
      const rep = recs2[aside.length + i];
      if (!it || !rep) throw new Error(`item of row ${row} is missing from the database`);
      rows.push({
        path: it.path,
        size: it.size,
        hash: it.hash,
        label: it.label,
        clusters: clusterPath(row, labels),
        distance: dist2 ? Math.sqrt(Math.max(0, dist2[row])) : 0,
        duplicateOf: rep.path,
      });
    });
  }
  return { rows, items };
}

/** The run's metadata: the JSON manifest's `meta`, the JSONL manifest's first line. */
export function manifestMeta(
  run: RunRecord,
  selected: number,
  edits?: { sampled: number; edits: number; edit_log: string },
  options: ManifestOptions = {},
): ManifestMeta {
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
    dedup_threshold: s.dedup ?? null,
    duplicates_set_aside: run.duplicates?.removed ?? 0,
    // whether the rows set aside follow the subset (with duplicate_of), as the person asked
    duplicates_listed: options.listDuplicates === true && (run.duplicates?.removed ?? 0) > 0,
    selected,
    distance: 'Euclidean distance to the level-1 centroid, after normalisation',
    onnxruntime_web_declared: dependencies['onnxruntime-web'],
    schema: DB_VERSION,
    // Hands-on edits: how many the sampling chose, how many changes the person made, and each
    // change (time, include/exclude, rows, what) so the subset can be explained and rebuilt.
    ...(edits && edits.edits > 0 ? edits : {}),
  };
}

/** The curated subset's manifest in one of the formats. */
export async function manifestBlob(
  db: Db,
  run: RunRecord,
  format: ManifestFormat,
  options: ManifestOptions = {},
): Promise<Blob> {
  const { rows, items } = await manifestRows(db, run, options);
  const meta = manifestMeta(run, items.length, await editsMeta(db, run), options);
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

/** Suggested file name for an export of this run, e.g. "strata-photos-2024-05-01-1a2b3c4d.csv". */
export function exportName(run: RunRecord, ext: string): string {
  const day = new Date(run.createdAt).toISOString().slice(0, 10);
  return `strata-${safeFileName(run.datasetName)}-${day}-${run.id.slice(0, 8)}.${safeFileName(ext)}`;
}

/** Manifests written next to the files of a zip or folder export: a plain CSV, and JSON with the run's metadata. */
interface Extra {
  readonly name: string;
  readonly data: string;
}

async function fileEntries(
  db: Db,
  run: RunRecord,
  options: ManifestOptions,
): Promise<{ entries: ZipEntry[]; extras: Extra[] }> {
  const dataset = await getDataset(db, run.datasetId);
  if (!dataset) throw new UserInputError('The dataset of this run no longer exists.');
  if (dataset.storage === 'none') {
    throw new UserInputError(
      'This dataset is precomputed embeddings: there are no files to export, only the manifest.',
    );
  }
  const { rows, items } = await manifestRows(db, run, options);
  // A folder that cannot be read at all says so before anything is written.
  const files = await openItemFiles(db, dataset);
  const entries: ZipEntry[] = items.map((it) => ({
    name: safeSegments(it.path).join('/'),
    lastModified: it.lastModified,
    size: it.size,
    open: async () => {
      const [got] = await files.read([it]);
      return 'file' in got ? got.file : { missing: got.problem };
    },
  }));
  const meta = manifestMeta(run, items.length, await editsMeta(db, run), options);
  const extras = [
    { name: 'manifest.csv', data: manifestCsv(meta, rows) },
    { name: 'manifest.json', data: manifestJson(meta, rows) },
  ];
  return { entries, extras };
}

/** A zip of the selected files plus manifest.csv and manifest.json, as a stream (nothing built in memory). */
export async function zipRun(
  db: Db,
  run: RunRecord,
  onProgress?: (p: ExportProgress) => void,
  options: ManifestOptions = {},
): Promise<ReadableStream<Uint8Array>> {
  const { entries, extras } = await fileEntries(db, run, options);
  return zipStream(entries, extras, onProgress);
}

/** The selected files (relative paths kept) manifest.csv and manifest.json, written into a picked folder. */
export async function writeRunToFolder(
  db: Db,
  run: RunRecord,
  dir: FileSystemDirectoryHandle,
  onProgress?: (p: ExportProgress) => void,
  signal?: AbortSignal,
  options: ManifestOptions = {},
): Promise<void> {
  const { entries, extras } = await fileEntries(db, run, options);
  try {
    await writeFilesToFolder(dir, entries, extras, onProgress, signal);
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
