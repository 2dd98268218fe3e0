/**
 * "Run it on a cluster": a job bundle for the reference distributed pipeline made from a stored
 * dataset and the current settings, in the page. The files are the interop layer's
 * (exportJobBundle: the same code as `strata export-job`); this module feeds them from the store
 * (the embeddings stream out chunk by chunk as the zip or the folder pulls them, never whole)
 * and writes them as a zip or into a picked folder.
 *
 * The hierarchy comes from the core's plan resolver: the person's settings kept as they are, or
 * the full-size plan for a cluster (no time budget), as `strata export-job` picks it.
 */
import { makeZip } from 'client-zip';
import { resolvePlan } from '../core/plan';
import type { Db } from '../store/db';
import { embeddingChunks } from '../store/embeddings';
import { getDataset, itemPages } from '../store/records';
import type { DatasetRecord } from '../store/schema';
import { safeFileName } from '../export/manifest';
import { toReferenceConfig } from '../interop/config';
import { toReadableStream, type BundleFile } from '../interop/files';
import {
  exportJobBundle,
  jobEstimate,
  jobPlan,
  meanRow,
  type EmbeddingSource,
} from '../interop/job-bundle';
import type { ExportProgress, JobBundleInfo, JobBundlePlan, RunSettings } from './contract';
import { UserInputError } from './errors';
import { embeddingKey, PRECOMPUTED_MODEL } from './settings';
import { version } from '../../package.json';

export interface PreparedBundle {
  readonly info: JobBundleInfo;
  /** the files to write (centring first reads the pool's mean: one more pass over the rows) */
  files(): Promise<BundleFile[]>;
}

/** Which stored chunks and rows go out, in order, and the ids of those rows. */
interface RowPlan {
  readonly rows: number;
  readonly cols: number;
  /** per chunk number: which of its rows are kept (absent = all) */
  readonly masks: Map<number, Uint8Array>;
  readonly ids: string[];
  /** ids whose line breaks became spaces (ids.txt is one id a line) */
  readonly flattened: number;
}

const flat = (path: string): string => path.replace(/[\r\n]+/g, ' ');

/**
 * A precomputed dataset's rows are its items, in index order, stored in chunk order: nothing to
 * read before streaming but the ids. A folder of images may have rows of removed or repeated
 * items: one pass over the row indices (image pools are small) says which rows go out.
 */
async function planRows(db: Db, d: DatasetRecord, key: string): Promise<RowPlan> {
  const paths = new Map<number, string>();
  let flattened = 0;
  for await (const page of itemPages(db, d.id)) {
    for (const it of page) {
      if (it.removed) continue;
      const p = flat(it.path);
      if (p !== it.path) flattened++;
      paths.set(it.index, p);
    }
  }
  const masks = new Map<number, Uint8Array>();
  const ids: string[] = [];
  let cols = d.dim ?? 0;
  if (d.source === 'precomputed') {
    for (let i = 0; i < d.itemCount; i++) ids.push(paths.get(i) ?? `row ${i}`);
    return { rows: d.itemCount, cols, masks, ids, flattened };
  }
  const seen = new Set<number>();
  for await (const rec of embeddingChunks(db, d.id, key)) {
    cols = rec.dim;
    const mask = new Uint8Array(rec.indices.length);
    let all = true;
    rec.indices.forEach((index, i) => {
      const path = paths.get(index);
      if (path === undefined || seen.has(index)) {
        all = false;
        return;
      }
      seen.add(index);
      mask[i] = 1;
      ids.push(path);
    });
    if (!all) masks.set(rec.chunk, mask);
  }
  return { rows: ids.length, cols, masks, ids, flattened };
}

/** The stored rows as an EmbeddingSource: chunk records pulled a page at a time. */
function storeSource(db: Db, d: DatasetRecord, key: string, plan: RowPlan): EmbeddingSource {
  return {
    rows: plan.rows,
    cols: plan.cols,
    async *chunks() {
      let next = 0;
      for await (const rec of embeddingChunks(db, d.id, key)) {
        if (d.source === 'precomputed' && rec.indices[0] !== next) {
          throw new UserInputError(
            `The stored rows of "${d.name}" are out of order (row ${next} expected): add the file again.`,
          );
        }
        next += rec.indices.length;
        const mask = plan.masks.get(rec.chunk);
        if (!mask) {
          yield rec.data;
          continue;
        }
        const kept = mask.reduce((a, b) => a + b, 0);
        const out = new Float32Array(kept * rec.dim);
        for (let i = 0, w = 0; i < mask.length; i++) {
          if (!mask[i]) continue;
          out.set(rec.data.subarray(i * rec.dim, (i + 1) * rec.dim), w * rec.dim);
          w++;
        }
        if (kept) yield out;
      }
    },
  };
}

/** The bundle's files and what the page shows about them, before anything large is read. */
export async function prepareJobBundle(
  db: Db,
  datasetId: string,
  settings: RunSettings,
  plan: JobBundlePlan,
): Promise<PreparedBundle> {
  const d = await getDataset(db, datasetId);
  if (!d) throw new UserInputError('That dataset no longer exists.');
  if (d.complete === false) {
    throw new UserInputError(`"${d.name}" was not added completely: add it again first.`);
  }
  const precomputed = d.source === 'precomputed';
  const key = precomputed ? PRECOMPUTED_MODEL : embeddingKey(settings);
  const rows = await planRows(db, d, key);
  if (rows.rows === 0 || rows.cols === 0) {
    throw new UserInputError(
      `"${d.name}" has no stored embeddings for this model yet. Start a run: once its images are embedded, the bundle can be made (the run can be stopped there).`,
    );
  }
  const target = Math.min(settings.target, rows.rows);
  // One resolver for every plan: given values kept ('settings'), or the cluster's own plan.
  const config =
    plan === 'settings'
      ? resolvePlan({
          n: rows.rows,
          d: rows.cols,
          settings: {
            k: settings.k,
            r: settings.r,
            resamplingSteps: settings.resamplingSteps,
            resampleStrategy: settings.resampleStrategy,
            iterations: settings.iterations,
            target,
            seed: settings.seed,
          },
        }).config
      : jobPlan(rows.rows, rows.cols, { target, seed: settings.seed }).config;
  const source = storeSource(db, d, key, rows);
  const normalize = settings.normalisation !== 'none';
  const center = settings.normalisation === 'center-l2';
  const folder = `strata-job-${safeFileName(d.name)}`;
  const estimate = jobEstimate(rows.rows, rows.cols, config);
  const ref = toReferenceConfig(config);
  const files = (meanOf?: Float32Array): BundleFile[] =>
    exportJobBundle({
      embeddings: source,
      ids: rows.ids,
      config,
      target,
      center: meanOf,
      normalize,
      name: d.name,
      strataVersion: version,
    });
  // Sizes do not depend on the centre row: list them now, make the real files when written.
  const listed = files(center ? new Float32Array(rows.cols) : undefined);
  const info: JobBundleInfo = {
    folder,
    datasetName: d.name,
    rows: rows.rows,
    cols: rows.cols,
    k: config.levels.map((l) => l.k),
    r: config.levels.map((l) => l.sampleSize),
    resamplingSteps: config.resamplingSteps,
    referenceSteps: ref.n_resampling_steps,
    iterations: config.nIters,
    target,
    normalisation: settings.normalisation,
    embeddingBytes: estimate.embeddingBytes,
    totalBytes: listed.reduce((s, f) => s + f.size, 0),
    gpuHours: estimate.gpuHours,
    flattenedIds: rows.flattened,
    files: listed.map((f) => ({ path: f.path, size: f.size })),
  };
  return {
    info,
    files: async () => (center ? files(await meanRow(source)) : listed),
  };
}

/** Counts bytes through a file's stream, for the progress bar. */
function counted(f: BundleFile, onBytes: (n: number) => void): ReadableStream<Uint8Array> {
  return toReadableStream(f).pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        onBytes(chunk.length);
        controller.enqueue(chunk);
      },
    }),
  );
}

/** The bundle as a zip stream (stored entries, sizes known up front), under its folder name. */
export async function zipJobBundle(
  p: PreparedBundle,
  onProgress?: (e: ExportProgress) => void,
): Promise<ReadableStream<Uint8Array>> {
  const files = await p.files();
  let bytes = 0;
  let done = 0;
  const total = files.length;
  onProgress?.({ done, total, bytes });
  async function* entries() {
    for (const f of files) {
      yield {
        name: `${p.info.folder}/${f.path}`,
        size: f.size,
        lastModified: new Date(),
        input: counted(f, (n) => {
          bytes += n;
          onProgress?.({ done, total, bytes });
        }),
      };
      done++;
    }
  }
  return makeZip(entries(), { buffersAreUTF8: true });
}

/** The bundle written into a new folder inside the one the person picked. */
export async function writeJobBundle(
  p: PreparedBundle,
  dir: FileSystemDirectoryHandle,
  onProgress?: (e: ExportProgress) => void,
  signal?: AbortSignal,
): Promise<void> {
  const files = await p.files();
  const root = await dir.getDirectoryHandle(p.info.folder, { create: true });
  let bytes = 0;
  const total = files.length;
  onProgress?.({ done: 0, total, bytes });
  for (let i = 0; i < total; i++) {
    signal?.throwIfAborted();
    const f = files[i];
    const handle = await root.getFileHandle(f.path, { create: true });
    const writable = await handle.createWritable();
    await counted(f, (n) => {
      bytes += n;
      onProgress?.({ done: i, total, bytes });
    }).pipeTo(writable, signal ? { signal } : {});
    onProgress?.({ done: i + 1, total, bytes });
  }
}
