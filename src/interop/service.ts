/**
 * The interop service: what the interop worker (src/workers/interop.worker.ts) exposes over
 * Comlink, so that a reference output folder picked in the page (a file list, a directory handle
 * or a zip of it) is listed, unzipped, unpickled by the restricted reader and checked off the
 * main thread. Callers type the worker as `Comlink.Remote<InteropService>`.
 *
 * Next to the run folder (in it, or in the job folder around it) it also reads what a Strata job
 * bundle left there: embeddings.npy (the rows the reference clustered, for level-1 distances and
 * the explorer), ids.txt (to find the stored dataset the rows came from) and strata.json.
 */
import * as Comlink from 'comlink';
import { InputError } from '../core/errors.ts';
import { parseNpy } from '../core/npy.ts';
import type { Matrix } from '../core/types.ts';
import type { ReferenceConfig } from './config.ts';
import { importReference, sourceFromFiles, type ReferenceSource } from './import.ts';
import type { BundleManifest } from './job-bundle.ts';
import { sourceFromZip } from './zip-read.ts';

/** What the page hands over: a picked folder's files, a folder handle, or a zip of the folder. */
export type ReferenceInput =
  | { readonly kind: 'files'; readonly files: readonly { path: string; blob: Blob }[] }
  | { readonly kind: 'directoryHandle'; readonly handle: FileSystemDirectoryHandle }
  | { readonly kind: 'zip'; readonly blob: Blob; readonly name: string };

/** One level, flat (the store's shape), ready to be transferred. */
export interface ParsedLevel {
  readonly k: number;
  readonly cols: number;
  /** rows clustered at this level */
  readonly n: number;
  readonly centroids: Float32Array;
  readonly labels: Int32Array;
  readonly dist2: Float32Array;
  readonly members: Int32Array;
  readonly offsets: Int32Array;
}

export interface ParsedReference {
  /** the picked folder's (or zip's) name */
  readonly folder: string;
  readonly levels: ParsedLevel[];
  readonly rows: number;
  readonly dim: number;
  /** whether level-1 distances are known (they need the embeddings) */
  readonly distancesKnown: boolean;
  readonly curated: { readonly name: string; readonly indices: Int32Array }[];
  readonly config: ReferenceConfig | null;
  readonly warnings: string[];
  /** ids.txt next to the run: one per row */
  readonly ids: string[] | null;
  /** embeddings.npy next to the run, rows x dim float32 */
  readonly embeddings: Float32Array | null;
  /** strata.json next to the run: how the bundle was made */
  readonly bundle: BundleManifest | null;
}

/**
 * Folder depth and file count limits of a picked directory: the reference layout is two levels
 * deep below the run folder plus step folders, and the job folder around it adds one; a wrong
 * pick (a home folder) fails fast instead. The same limits as the Node reader.
 */
const MAX_DEPTH = 4;
const MAX_FILES = 100_000;

/** Files under a directory handle; a link shows as what it points to (see import.ts). */
export async function filesFromHandle(
  dir: FileSystemDirectoryHandle,
): Promise<{ path: string; blob: Blob }[]> {
  const out: { path: string; blob: Blob }[] = [];
  const walk = async (d: FileSystemDirectoryHandle, prefix: string, depth: number) => {
    for await (const h of d.values()) {
      if (h.kind === 'directory') {
        if (depth < MAX_DEPTH)
          await walk(h as FileSystemDirectoryHandle, `${prefix}${h.name}/`, depth + 1);
        continue;
      }
      out.push({ path: `${prefix}${h.name}`, blob: await (h as FileSystemFileHandle).getFile() });
      if (out.length > MAX_FILES) {
        throw new InputError(
          `"${dir.name}" holds more than ${MAX_FILES} files: is it the run folder?`,
        );
      }
    }
  };
  await walk(dir, `${dir.name}/`, 0);
  return out;
}

/** The folder holding level1/ (as findRoot in import.ts sees it) and the one around it. */
function companions(paths: readonly string[]): string[] {
  const m = paths
    .map((p) => /^(.*?)(?:^|\/)?level1\/(?:step\d+\/)?sorted_clusters\.npy$/.exec(p)?.[1])
    .filter((r): r is string => r !== undefined)
    .sort((a, b) => a.length - b.length)[0];
  if (m === undefined) return [];
  const root = m === '' || m.endsWith('/') ? m : `${m}/`;
  const parent = root.replace(/[^/]*\/$/, '');
  return parent === root ? [root] : [root, parent];
}

async function findCompanion(
  source: ReferenceSource,
  dirs: readonly string[],
  name: string,
): Promise<{ path: string; bytes: Uint8Array } | null> {
  const have = new Set(source.paths);
  for (const d of dirs) {
    if (have.has(d + name)) return { path: d + name, bytes: await source.read(d + name) };
  }
  return null;
}

function readEmbeddings(bytes: Uint8Array, path: string): Matrix {
  const a = parseNpy(bytes);
  if (a.shape.length !== 2 || (a.dtype !== 'float32' && a.dtype !== 'float64')) {
    throw new InputError(`${path}: expected a 2-D float32 or float64 array`);
  }
  const data = a.data instanceof Float32Array ? a.data : Float32Array.from(a.data as Float64Array);
  return { data, rows: a.shape[0], cols: a.shape[1] };
}

export class InteropService {
  /** Reads and checks a reference output folder; InputError with a clear message otherwise. */
  async read(input: ReferenceInput): Promise<ParsedReference> {
    let source: ReferenceSource;
    let folder: string;
    const warnings: string[] = [];
    if (input.kind === 'zip') {
      const z = await sourceFromZip(input.blob);
      warnings.push(...z.skipped);
      source = z;
      folder = input.name.replace(/\.zip$/i, '');
    } else {
      const files = input.kind === 'files' ? input.files : await filesFromHandle(input.handle);
      source = sourceFromFiles(files);
      folder = input.kind === 'files' ? (files[0]?.path.split('/')[0] ?? 'run') : input.handle.name;
    }
    const dirs = companions(source.paths);
    let x: Matrix | undefined;
    const emb = await findCompanion(source, dirs, 'embeddings.npy');
    if (emb) {
      try {
        x = readEmbeddings(emb.bytes, emb.path);
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        warnings.push(`${emb.path} was not used: ${e.message}`);
      }
    }
    let r = await importReference(source, { embeddings: x }).catch((e: unknown) => {
      // Embeddings that do not fit the levels are a finding, not a reason to stop.
      if (x && e instanceof InputError && /embeddings|rows|ids must lie/.test(e.message)) {
        warnings.push(`${emb!.path} was not used: ${e.message}`);
        x = undefined;
        return null;
      }
      throw e;
    });
    r ??= await importReference(source);
    let ids: string[] | null = null;
    const idsFile = await findCompanion(source, dirs, 'ids.txt');
    if (idsFile) {
      const lines = new TextDecoder().decode(idsFile.bytes).split(/\r?\n/);
      if (lines[lines.length - 1] === '') lines.pop();
      if (lines.length === r.rows) ids = lines;
      else warnings.push(`${idsFile.path} has ${lines.length} ids for ${r.rows} rows: not used`);
    }
    let bundle: BundleManifest | null = null;
    const manifest = await findCompanion(source, dirs, 'strata.json');
    if (manifest) {
      try {
        const m = JSON.parse(new TextDecoder().decode(manifest.bytes)) as BundleManifest;
        if (m.format === 'strata-job-bundle') bundle = m;
      } catch {
        warnings.push(`${manifest.path} is not valid JSON: not used`);
      }
    }
    const levels: ParsedLevel[] = r.hierarchy.levels.map((l) => {
      const offsets = new Int32Array(l.clusters.length + 1);
      l.clusters.forEach((c, j) => (offsets[j + 1] = offsets[j] + c.length));
      const members = new Int32Array(offsets[l.clusters.length]);
      l.clusters.forEach((c, j) => members.set(c, offsets[j]));
      return {
        k: l.k,
        cols: l.centroids.cols,
        n: l.labels.length,
        centroids: l.centroids.data,
        labels: l.labels,
        dist2: l.dist2,
        members,
        offsets,
      };
    });
    const out: ParsedReference = {
      folder,
      levels,
      rows: r.rows,
      dim: r.dim,
      distancesKnown: r.dist2Known[0] ?? false,
      curated: r.curated.map((c) => ({ name: c.name, indices: c.indices })),
      config: r.config,
      warnings: [...warnings, ...r.warnings],
      ids,
      embeddings: x ? x.data : null,
      bundle,
    };
    const buffers = [
      ...levels.flatMap((l) => [l.centroids, l.labels, l.dist2, l.members, l.offsets]),
      ...(x ? [x.data] : []),
    ].map((a) => a.buffer as ArrayBuffer);
    // The arrays move to the caller instead of being copied; a direct call ignores the mark.
    return Comlink.transfer(out, [...new Set(buffers)]);
  }

  /**
   * Squared distance of every row of `x` (rows x cols) to its level-1 centroid: for an import
   * matched to a stored dataset whose rows were not next to the run. NaN for a row in no cluster.
   */
  level1Distances(
    x: Float32Array,
    cols: number,
    centroids: Float32Array,
    labels: Int32Array,
  ): Float32Array {
    const out = new Float32Array(labels.length).fill(Number.NaN);
    for (let i = 0; i < labels.length; i++) {
      const j = labels[i];
      if (j < 0) continue;
      let s = 0;
      for (let a = 0; a < cols; a++) {
        const v = x[i * cols + a] - centroids[j * cols + a];
        s += v * v;
      }
      out[i] = s;
    }
    return Comlink.transfer(out, [out.buffer]);
  }
}
