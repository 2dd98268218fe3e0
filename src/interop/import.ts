/**
 * Import of the reference pipeline's output directory into a Strata `Hierarchy`, so the explorer
 * and Strata's balanced sampler run on clusters computed elsewhere.
 *
 * Read: `level{t}/centroids.npy` (k_t x d, float32 or float64) and `level{t}/sorted_clusters.npy`
 * (the pickled object array of int64 member arrays, closest first; read by the restricted reader in
 * pickle.ts), for t = 1, 2, ... without gaps; every `curated_datasets/*.npy` (int64 row indices);
 * and `config.yaml` when present. Level 1's members are rows of the embeddings; level t's members
 * are centroids of level t - 1.
 *
 * Derived: labels (row -> cluster, -1 for a row in no cluster) and dist2. Level t > 1 distances are
 * always computed (its input is level t - 1's centroids); level 1 distances only when the
 * embeddings are given, NaN otherwise (`dist2Known[0]` says which). Member order is kept as the
 * file gives it: that order is what "closest" sampling uses.
 */
import { InputError, throwIfAborted } from '../core/errors.ts';
import type { Hierarchy, Level } from '../core/hierarchy.ts';
import { parseNpy } from '../core/npy.ts';
import type { Matrix } from '../core/types.ts';
import { parseReferenceConfigYaml, type ReferenceConfig } from './config.ts';
import { readIndexNpy, readSortedClustersNpy } from './sorted-clusters.ts';

/** A directory's files, by path relative to it ('/'-separated). */
export interface ReferenceSource {
  readonly paths: readonly string[];
  read(path: string): Promise<Uint8Array>;
  /**
   * Whether the listing saw the folder's symbolic links and checked that they stay inside it
   * (Node's sourceFromDir). A page cannot: a webkitdirectory file list leaves links out, and a
   * directory handle shows a link as whatever it points to. Without that check the level files
   * are read from the step folders they link to (see levelFiles).
   */
  readonly linksChecked?: boolean;
}

/** Files picked in the page (an <input webkitdirectory> FileList, or dropped entries). */
export function sourceFromFiles(
  files: Iterable<{ readonly path: string; readonly blob: Blob }>,
): ReferenceSource {
  const byPath = new Map<string, Blob>();
  for (const f of files) byPath.set(f.path.replace(/^\/+/, ''), f.blob);
  return {
    paths: [...byPath.keys()],
    async read(path) {
      const blob = byPath.get(path);
      if (!blob) throw new InputError(`${path} is missing`);
      return new Uint8Array(await blob.arrayBuffer());
    },
  };
}

export interface CuratedDataset {
  /** file name inside curated_datasets/ */
  readonly name: string;
  /** selected raw row indices, as the file holds them */
  readonly indices: Int32Array;
}

export interface ImportedReference {
  readonly hierarchy: Hierarchy;
  /** raw rows the hierarchy covers (embeddings rows, or the largest level-1 id + 1) */
  readonly rows: number;
  readonly dim: number;
  /** per level: whether dist2 holds real distances (false: NaN, no embeddings for level 1) */
  readonly dist2Known: readonly boolean[];
  /** per level: input rows that are in no cluster (label -1) */
  readonly unassigned: readonly number[];
  readonly curated: readonly CuratedDataset[];
  /** the run's config.yaml, when the directory has a valid one */
  readonly config: ReferenceConfig | null;
  /** non-fatal findings, one sentence each */
  readonly warnings: readonly string[];
}

export interface ImportOptions {
  /** the embeddings the reference clustered (gives level-1 distances and checks the ids) */
  readonly embeddings?: Matrix;
  readonly signal?: AbortSignal;
}

const LEVEL_FILE = /^level(\d+)\/(?:step\d+\/)?(centroids|sorted_clusters)\.npy$/;
const STEP_FILE = /^level(\d+)\/step(\d+)\/(centroids|sorted_clusters)\.npy$/;

type LevelFile = 'centroids.npy' | 'sorted_clusters.npy';

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Where level t's two files are read from. The reference leaves level{t}/centroids.npy and
 * sorted_clusters.npy as links into the level's last step{N}/ folder. A source that checked its
 * links reads the level files themselves. A page's source cannot see links: it reads the last
 * step's files, and where the level's own files are listed too (a directory handle follows the
 * links without saying where to), they must hold the same bytes; otherwise they point somewhere
 * else, perhaps outside the folder, and are refused.
 */
async function levelFiles(
  source: ReferenceSource,
  root: string,
  have: ReadonlySet<string>,
  T: number,
): Promise<Map<string, string>> {
  const lastStep = new Map<number, number>();
  for (const p of have) {
    const m = STEP_FILE.exec(p);
    if (!m) continue;
    const [t, step] = [Number(m[1]), Number(m[2])];
    const both = ['centroids.npy', 'sorted_clusters.npy'].every((f) =>
      have.has(`level${t}/step${step}/${f}`),
    );
    if (both && step >= (lastStep.get(t) ?? -1)) lastStep.set(t, step);
  }
  const out = new Map<string, string>();
  for (let t = 1; t <= T; t++) {
    for (const f of ['centroids.npy', 'sorted_clusters.npy'] as LevelFile[]) {
      const own = `level${t}/${f}`;
      const step = lastStep.get(t);
      const linked = step === undefined ? undefined : `level${t}/step${step}/${f}`;
      if (source.linksChecked || linked === undefined) {
        if (!have.has(own)) {
          throw new InputError(
            `${own} is missing (the run has files up to level${T}); was the level interrupted?`,
          );
        }
        out.set(own, own);
        continue;
      }
      if (have.has(own)) {
        const [a, b] = await Promise.all([source.read(root + own), source.read(root + linked)]);
        if (!sameBytes(a, b)) {
          throw new InputError(
            `${own} is not the same file as ${linked}, the last step it should link to: it may be a link to somewhere outside the folder; refusing it`,
          );
        }
      }
      out.set(own, linked);
    }
  }
  return out;
}

/**
 * The folder inside `paths` that holds level1/: the picked folder itself, or the one folder a
 * browser puts in front of every path (webkitRelativePath starts with the picked folder's name).
 */
function findRoot(paths: readonly string[]): string {
  // level1/step{N}/ too: a page's file list leaves out level1/sorted_clusters.npy, a link
  const level1 = /(?:^|\/)level1\/(?:step\d+\/)?sorted_clusters\.npy$/;
  const roots = paths
    .map((p) => ({ p, m: level1.exec(p) }))
    .filter(({ m }) => m !== null)
    .map(({ p, m }) => p.slice(0, m!.index + (m![0].startsWith('/') ? 1 : 0)))
    .sort((a, b) => a.length - b.length);
  if (roots.length === 0) {
    throw new InputError(
      'no level1/sorted_clusters.npy found: pick the reference run folder (the --exp_dir given to hierarchical_kmeans_launcher.py)',
    );
  }
  return roots[0];
}

/** float32 or float64 k x d centroids as a Strata matrix. */
function readCentroids(bytes: Uint8Array, path: string): Matrix {
  let arr;
  try {
    arr = parseNpy(bytes);
  } catch (e) {
    throw new InputError(`${path}: ${(e as Error).message}`);
  }
  if (arr.shape.length !== 2) {
    throw new InputError(
      `${path}: centroids must be 2-D (k x d), got shape (${arr.shape.join(', ')})`,
    );
  }
  if (arr.dtype !== 'float32' && arr.dtype !== 'float64') {
    throw new InputError(`${path}: centroids must be float32 or float64, got ${arr.dtype}`);
  }
  const [rows, cols] = arr.shape;
  const data =
    arr.data instanceof Float32Array
      ? arr.data.slice()
      : Float32Array.from(arr.data as Float64Array);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new InputError(`${path}: centroid ${Math.floor(i / cols)} holds a non-finite value`);
    }
  }
  return { data, rows, cols };
}

/** Squared distance of input row i to centroid j, accumulated in float64. */
function dist2Of(x: Matrix, i: number, c: Matrix, j: number): number {
  const d = x.cols;
  let s = 0;
  for (let a = 0; a < d; a++) {
    const v = x.data[i * d + a] - c.data[j * d + a];
    s += v * v;
  }
  return s;
}

/**
 * Relative slack when checking that members are closest first: the reference may compute in
 * float64 where Strata recomputes in float32 from float32 rows, which reorders near-ties.
 */
const ORDER_TOLERANCE = 1e-4;

function buildLevel(
  t: number,
  clusters: Int32Array[],
  centroids: Matrix,
  inputRows: number,
  input: Matrix | undefined,
  warnings: string[],
): { level: Level; unassigned: number } {
  const name = `level${t + 1}`;
  const labels = new Int32Array(inputRows).fill(-1);
  clusters.forEach((members, j) => {
    for (let i = 0; i < members.length; i++) {
      const m = members[i];
      if (labels[m] !== -1) {
        throw new InputError(
          `${name}/sorted_clusters.npy: ${t === 0 ? 'row' : `level${t} centroid`} ${m} is in cluster ${labels[m]} and in cluster ${j}; a level must partition its input`,
        );
      }
      labels[m] = j;
    }
  });
  let unassigned = 0;
  for (let i = 0; i < inputRows; i++) if (labels[i] === -1) unassigned++;
  if (unassigned > 0) {
    warnings.push(
      `${name}: ${unassigned} of ${inputRows} ${t === 0 ? 'rows' : `level${t} clusters`} are in no cluster and can never be sampled`,
    );
  }
  const dist2 = new Float32Array(inputRows).fill(Number.NaN);
  if (input) {
    let unordered = 0;
    clusters.forEach((members, j) => {
      let prev = -Infinity;
      let flagged = false;
      for (let i = 0; i < members.length; i++) {
        const d = dist2Of(input, members[i], centroids, j);
        dist2[members[i]] = d;
        if (!flagged && d < prev - ORDER_TOLERANCE * Math.max(prev, 1e-12)) {
          unordered++;
          flagged = true;
        }
        prev = Math.max(prev, d);
      }
    });
    if (unordered > 0) {
      warnings.push(
        `${name}: the members of ${unordered} clusters are not closest-first; Strata keeps the file's order`,
      );
    }
  }
  return {
    level: { k: clusters.length, centroids, labels, dist2, clusters },
    unassigned,
  };
}

/** Reads a reference output directory into a Hierarchy. InputError for anything unusable. */
export async function importReference(
  source: ReferenceSource,
  options: ImportOptions = {},
): Promise<ImportedReference> {
  const root = findRoot(source.paths);
  const rel = source.paths.filter((p) => p.startsWith(root)).map((p) => p.slice(root.length));
  const have = new Set(rel);
  const levelNumbers = new Set<number>();
  for (const p of rel) {
    const m = LEVEL_FILE.exec(p);
    if (m) levelNumbers.add(Number(m[1]));
  }
  const T = Math.max(...levelNumbers);
  const files = await levelFiles(source, root, have, T);
  const warnings: string[] = [];
  const x = options.embeddings;
  const levels: Level[] = [];
  const unassigned: number[] = [];
  let rows = 0;
  let dim = 0;
  for (let t = 0; t < T; t++) {
    throwIfAborted(options.signal);
    const name = `level${t + 1}`;
    const centroids = readCentroids(
      await source.read(root + files.get(`${name}/centroids.npy`)!),
      `${name}/centroids.npy`,
    );
    if (t === 0) {
      dim = centroids.cols;
      if (x && x.cols !== dim) {
        throw new InputError(
          `the embeddings have ${x.cols} columns but level1 centroids have ${dim}`,
        );
      }
    } else if (centroids.cols !== dim) {
      throw new InputError(
        `${name}/centroids.npy has ${centroids.cols} columns, level1 has ${dim}`,
      );
    }
    const inputRows = t === 0 ? x?.rows : levels[t - 1].k;
    const clusters = readSortedClustersNpy(
      await source.read(root + files.get(`${name}/sorted_clusters.npy`)!),
      {
        name: `${name}/sorted_clusters.npy`,
        idLimit: inputRows,
      },
    );
    if (clusters.length !== centroids.rows) {
      throw new InputError(
        `${name}: sorted_clusters.npy holds ${clusters.length} clusters but centroids.npy has ${centroids.rows}`,
      );
    }
    let n = inputRows;
    if (n === undefined) {
      n = 0;
      for (const members of clusters) for (const m of members) if (m + 1 > n) n = m + 1;
      rows = n;
    } else if (t === 0) rows = n;
    const input = t === 0 ? x : levels[t - 1].centroids;
    const built = buildLevel(t, clusters, centroids, n, input, warnings);
    levels.push(built.level);
    unassigned.push(built.unassigned);
  }
  if (!x) {
    warnings.push(
      'no embeddings given: level1 distances are unknown (NaN); closest/furthest sampling still follows the member order of the files',
    );
  }

  const curated: CuratedDataset[] = [];
  for (const p of rel.filter((q) => /^curated_datasets\/[^/]+\.npy$/.test(q)).sort()) {
    try {
      curated.push({
        name: p.slice('curated_datasets/'.length),
        indices: readIndexNpy(await source.read(root + p), { idLimit: rows, name: p }),
      });
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      warnings.push(`${p} was skipped: ${(e as Error).message}`);
    }
  }

  let config: ReferenceConfig | null = null;
  if (have.has('config.yaml')) {
    try {
      config = parseReferenceConfigYaml(
        new TextDecoder().decode(await source.read(root + 'config.yaml')),
      );
      const ks = config.n_clusters.map((k, t) => k * config!.n_splits[t]);
      const got = levels.map((l) => l.k);
      if (ks.join() !== got.join()) {
        warnings.push(
          `config.yaml asks for k = ${ks.join(' / ')}, the levels hold ${got.join(' / ')}`,
        );
      }
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      warnings.push(e.message);
    }
  }

  return {
    hierarchy: { levels },
    rows,
    dim,
    dist2Known: levels.map((_, t) => t > 0 || !!x),
    unassigned,
    curated,
    config,
    warnings,
  };
}
