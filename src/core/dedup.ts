/**
 * Near-duplicate removal (SemDeDup-style): rows are centred and L2-normalised, split into coarse
 * clusters through a k-means seam (`CoarseAssign`), and near-duplicate groups are found only
 * inside each cluster, so the work is a sum of small blocks and nothing is ever N x N.
 *
 * Choices, and why:
 *  - Grouping is greedy, not union-find: inside a cluster, rows are taken in ascending row order;
 *    the first row not yet in a group becomes a seed and takes every later free row whose cosine
 *    similarity to it is at or above the threshold. Every member is then within the threshold of
 *    its seed, so a chain A~B~C~...~Z cannot pull two unrelated rows into one group, which
 *    connected components do (chaining drift).
 *  - The representative kept for a group is the member closest to the group's centre (the
 *    largest sum of cosine similarities to the other members, which for unit rows is the largest
 *    dot product with the members' mean). It is the most typical copy, and it only needs the
 *    embeddings, so a folder of images and a loaded .npy of the same rows keep the same items;
 *    file size or sharpness would need the files, which a .npy does not have.
 *  - Clusters larger than LEAF_MAX rows are split again through the same seam, so the work of a
 *    cluster stays O(LEAF_MAX^2) dot products and its memory O(cluster rows) indices.
 *    A cluster that k-means cannot split (every row the same) is grouped directly: its first
 *    seed takes every row, so that costs one pass.
 *  - Rows that are all zero after centring (or all zero as given) are exactly the mean row, so
 *    they are copies of each other: they form one group of their own.
 *  - Pairs that the coarse pass puts in different clusters are missed; test/unit/core/dedup.test.ts
 *    measures recall on a pool with known groups.
 *  - Deterministic: the seam gets seeds derived from `seed` and the node's place in the split
 *    tree, groups are numbered by their first row, so same input + seed => same groups.
 */
import { throwIfAborted } from './errors.ts';
import { CpuBackend } from './kmeans.ts';
import { createMatrix } from './matrix.ts';
import { Rng } from './rng.ts';
import type { KMeansBackend } from './types.ts';

export interface DedupOptions {
  /** cosine similarity above which two rows are near-duplicates (rows are centred + L2-normalised first, or as given if `prepared`) */
  readonly threshold: number;
  /** coarse clusters for the SemDeDup-style pass; default from the row count */
  readonly coarseK?: number;
  readonly seed: number;
  /** rows are already centred and L2-normalised (or zero): use them as given, without a copy */
  readonly prepared?: boolean;
}

export interface DedupResult {
  /** per row: 1 kept, 0 removed as a near-duplicate */
  readonly keep: Uint8Array;
  /** per row: its group id, or -1 when it has no near-duplicate */
  readonly group: Int32Array;
  /** per group id: the row kept for it (its representative) */
  readonly representative: Int32Array;
  readonly groups: number;
  readonly removed: number;
}

/** coarse assignment provider: the k-means backend seam (CPU in tests/CLI, the cluster worker in the app) */
export type CoarseAssign = (
  x: Float32Array,
  n: number,
  d: number,
  k: number,
  seed: number,
) => Promise<Int32Array>;

/**
 * 0.85, measured by `npm run bench:quality` (the table of docs/quality.md: means of seeds 0-2,
 * 20% of the pool kept, raw features, load 6.5-11): normalised label entropy of dedup + hierarchy
 * at 0.85 / 0.875 / 0.9 was 0.834 / 0.815 / 0.786 on the emoji near-copy pool (random subsets
 * 0.712; a copy's median cosine to its original is 0.90 there, so 0.9 catches only half) and
 * 0.822 / 0.836 / 0.880 on the font-drawn digits pool (random 0.744; two renderings of one digit
 * often sit closer than a copy does to its original). 0.85 is the threshold that clears the
 * +0.10 bar on the emoji pool with a margin; 0.8 merges distinct digits and leaves fewer rows
 * than the target there.
 */
export const DEFAULT_DEDUP_THRESHOLD = 0.85;

/**
 * Largest cluster grouped as one block. A block of s rows costs at most s^2/2 dot products (0.2
 * GFLOP at 1024 x 384). bench/dedup-scale.ts, 384 dims, wasm coarse kernel, plain-JS grouping:
 * 100k rows 27 s wall (load 5) / 19 s CPU (load 20), 20 s of it grouping; 1M rows 1212 s wall
 * but 170 s CPU at load 20 (the process had a seventh of a core), peak RSS 3.2 GiB for a
 * 1.43 GiB input. The grouping
 * loop is a 1 x 4 register block reading float32 rows in place; a blocked float64 kernel over a
 * gathered block is the next speed-up to measure, rather than smaller blocks (which cost recall
 * at the cluster boundaries).
 */
export const LEAF_MAX = 1024;
/** Rows a split aims at per child: half of LEAF_MAX so most children need no further split. */
const LEAF_TARGET = 512;
/** Most clusters one coarse call asks for: one assignment pass costs 2 * s * k * d. */
const BRANCH_MAX = 64;
/** Splits deeper than this stop: a pool that keeps peeling one row off per split is grouped directly. */
const MAX_DEPTH = 24;
/** Squared norm below which a prepared row counts as zero (no direction). */
const ZERO_NORM2 = 1e-12;

/** Coarse clusters asked for a node of `rows` rows. */
export function defaultCoarseK(rows: number): number {
  if (rows <= LEAF_MAX) return 1;
  return Math.min(BRANCH_MAX, Math.ceil(rows / LEAF_TARGET));
}

/** The rows centred on their float64 mean and scaled to unit length, in one new array. */
export function centreAndNormalise(x: Float32Array, n: number, d: number): Float32Array {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let t = 0; t < d; t++) mean[t] += x[o + t];
  }
  if (n > 0) for (let t = 0; t < d; t++) mean[t] /= n;
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let s = 0;
    for (let t = 0; t < d; t++) {
      const v = x[o + t] - mean[t];
      s += v * v;
    }
    // A row equal to the mean has no direction: it stays zero (grouped with its copies).
    if (s <= ZERO_NORM2) continue;
    const inv = 1 / Math.sqrt(s);
    for (let t = 0; t < d; t++) out[o + t] = (x[o + t] - mean[t]) * inv;
  }
  return out;
}

/**
 * A CoarseAssign over a KMeansBackend (the CPU one by default): k-means is fitted on at most
 * `fitRows` evenly spaced rows with `nIters` rounds, then every row is assigned once. Coarse
 * clusters only need to keep near-copies together, not to be a good clustering, so a sample fit
 * keeps a 1M-row pass at one assignment sweep per split level.
 */
export function backendCoarseAssign(
  backend: KMeansBackend = new CpuBackend(),
  fitRows = 16384,
  nIters = 10,
  signal?: AbortSignal,
): CoarseAssign {
  return async (x, n, d, k, seed) => {
    const all = createMatrix(n, d, x);
    let fit = all;
    if (n > fitRows) {
      const idx = new Float32Array(fitRows * d);
      const step = n / fitRows;
      for (let r = 0; r < fitRows; r++) {
        const i = Math.floor(r * step);
        idx.set(x.subarray(i * d, i * d + d), r * d);
      }
      fit = createMatrix(fitRows, d, idx);
    }
    const res = await backend.kmeans(fit, k, { nIters, seed, signal });
    if (fit === all) return res.assignment.labels;
    return (await backend.assign(all, res.centroids, signal)).labels;
  };
}

/** Copies the listed rows of x into one contiguous array (the coarse seam takes a matrix). */
function gather(x: Float32Array, d: number, rows: Int32Array): Float32Array {
  const out = new Float32Array(rows.length * d);
  for (let r = 0; r < rows.length; r++) {
    const o = rows[r] * d;
    out.set(x.subarray(o, o + d), r * d);
  }
  return out;
}

/** Splits `rows` by label, keeping ascending row order inside every part. */
function bucket(rows: Int32Array, labels: Int32Array, k: number): Int32Array[] {
  if (labels.length !== rows.length) {
    throw new RangeError(`coarse pass returned ${labels.length} labels for ${rows.length} rows`);
  }
  const counts = new Int32Array(k);
  for (let r = 0; r < labels.length; r++) {
    const j = labels[r];
    if (!(j >= 0 && j < k))
      throw new RangeError(`coarse pass returned label ${j} outside [0, ${k})`);
    counts[j]++;
  }
  const parts = Array.from({ length: k }, (_, j) => new Int32Array(counts[j]));
  const fill = new Int32Array(k);
  for (let r = 0; r < rows.length; r++) {
    const j = labels[r];
    parts[j][fill[j]++] = rows[r];
  }
  return parts.filter((p) => p.length > 0);
}

/**
 * Greedy grouping of one cluster (rows ascending): each free row seeds a group of the later free
 * rows at or above the threshold. Calls `emit` with every group of two or more (seed first).
 * Seeds are scored against 4 candidates at a time so each seed value loaded feeds 4
 * multiply-adds.
 */
function groupLeaf(
  x: Float32Array,
  d: number,
  rows: Int32Array,
  threshold: number,
  emit: (members: Int32Array) => void,
): void {
  const s = rows.length;
  const taken = new Uint8Array(s);
  const free = new Int32Array(s);
  const hit = new Int32Array(s);
  for (let a = 0; a < s; a++) {
    if (taken[a]) continue;
    // Free rows after the seed, compacted so the inner loop has no branches on `taken`.
    let m = 0;
    for (let b = a + 1; b < s; b++) if (!taken[b]) free[m++] = b;
    if (m === 0) continue;
    const so = rows[a] * d;
    let h = 0;
    for (let q = 0; q < m; q += 4) {
      const b0 = free[q];
      const b1 = free[Math.min(q + 1, m - 1)];
      const b2 = free[Math.min(q + 2, m - 1)];
      const b3 = free[Math.min(q + 3, m - 1)];
      const o0 = rows[b0] * d;
      const o1 = rows[b1] * d;
      const o2 = rows[b2] * d;
      const o3 = rows[b3] * d;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let t = 0; t < d; t++) {
        const u = x[so + t];
        s0 += u * x[o0 + t];
        s1 += u * x[o1 + t];
        s2 += u * x[o2 + t];
        s3 += u * x[o3 + t];
      }
      // Past the end, b1..b3 alias the last candidate: count it once.
      if (s0 >= threshold) hit[h++] = b0;
      if (q + 1 < m && s1 >= threshold) hit[h++] = b1;
      if (q + 2 < m && s2 >= threshold) hit[h++] = b2;
      if (q + 3 < m && s3 >= threshold) hit[h++] = b3;
    }
    if (h === 0) continue;
    const members = new Int32Array(h + 1);
    members[0] = rows[a];
    taken[a] = 1;
    for (let i = 0; i < h; i++) {
      members[i + 1] = rows[hit[i]];
      taken[hit[i]] = 1;
    }
    emit(members);
  }
}

/** The member with the largest dot product with the members' mean; the first row on ties. */
function representativeOf(x: Float32Array, d: number, members: Int32Array): number {
  const mean = new Float64Array(d);
  for (let i = 0; i < members.length; i++) {
    const o = members[i] * d;
    for (let t = 0; t < d; t++) mean[t] += x[o + t];
  }
  let best = members[0];
  let bestDot = -Infinity;
  for (let i = 0; i < members.length; i++) {
    const o = members[i] * d;
    let s = 0;
    for (let t = 0; t < d; t++) s += x[o + t] * mean[t];
    if (s > bestDot || (s === bestDot && members[i] < best)) {
      bestDot = s;
      best = members[i];
    }
  }
  return best;
}

/** Lets a worker or page handle messages (a cancel) between clusters of a long pass. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Near-duplicate groups of the n x d rows of x (see the header for the method). Rows with a
 * non-finite value must be left out before (dropNonFiniteRows); x is not modified.
 */
export async function findDuplicates(
  x: Float32Array,
  n: number,
  d: number,
  opts: DedupOptions,
  coarse: CoarseAssign,
  signal?: AbortSignal,
): Promise<DedupResult> {
  const { threshold, seed } = opts;
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(d) || d < 1) {
    throw new RangeError(`dedup needs n >= 0 rows of d >= 1 values, got ${n} x ${d}`);
  }
  if (x.length !== n * d)
    throw new RangeError(`${n} x ${d} rows need ${n * d} values, got ${x.length}`);
  if (!(threshold > 0 && threshold <= 1)) {
    throw new RangeError(
      `the duplicate threshold must be a cosine similarity in (0, 1], got ${threshold}`,
    );
  }
  if (opts.coarseK !== undefined && !(Number.isInteger(opts.coarseK) && opts.coarseK >= 1)) {
    throw new RangeError(`coarse clusters must be an integer >= 1, got ${opts.coarseK}`);
  }
  throwIfAborted(signal);
  const y = opts.prepared ? x : centreAndNormalise(x, n, d);

  // Zero rows have no direction: set them aside as one group of exact copies.
  const zero: number[] = [];
  const live: number[] = [];
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let s = 0;
    for (let t = 0; t < d; t++) s += y[o + t] * y[o + t];
    (s <= ZERO_NORM2 ? zero : live).push(i);
  }

  const found: Int32Array[] = [];
  if (zero.length > 1) found.push(Int32Array.from(zero));
  const emit = (members: Int32Array): void => {
    found.push(members);
  };

  // Depth-first over the split tree with an explicit stack; `node` numbers nodes in visit order,
  // which is fixed by the input and seed, so it can seed each split.
  const stack: { rows: Int32Array; depth: number }[] = [{ rows: Int32Array.from(live), depth: 0 }];
  let node = 0;
  while (stack.length > 0) {
    throwIfAborted(signal);
    const { rows, depth } = stack.pop() as { rows: Int32Array; depth: number };
    const id = node++;
    const k = Math.min(
      rows.length,
      depth === 0 && opts.coarseK !== undefined ? opts.coarseK : defaultCoarseK(rows.length),
    );
    if (k <= 1 || depth >= MAX_DEPTH) {
      groupLeaf(y, d, rows, threshold, emit);
      await yieldToEventLoop();
      continue;
    }
    // The whole matrix goes to the seam as it is; only sub-clusters are copied.
    const sub = rows.length === n && depth === 0 ? y : gather(y, d, rows);
    const labels = await coarse(sub, rows.length, d, k, Rng.derive(seed, id));
    throwIfAborted(signal);
    const parts = bucket(rows, labels, k);
    if (parts.length === 1) {
      // k-means could not split it (every row the same direction): group it directly.
      groupLeaf(y, d, rows, threshold, emit);
      await yieldToEventLoop();
      continue;
    }
    // Pushed in reverse so the first part is visited first.
    for (let p = parts.length - 1; p >= 0; p--) stack.push({ rows: parts[p], depth: depth + 1 });
  }

  // Canonical numbering: by each group's first row, whatever order the clusters were visited in.
  found.sort((a, b) => a[0] - b[0]);
  const keep = new Uint8Array(n).fill(1);
  const group = new Int32Array(n).fill(-1);
  const representative = new Int32Array(found.length);
  let removed = 0;
  for (let g = 0; g < found.length; g++) {
    const members = found[g];
    const rep = representativeOf(y, d, members);
    representative[g] = rep;
    for (let i = 0; i < members.length; i++) {
      group[members[i]] = g;
      if (members[i] !== rep) {
        keep[members[i]] = 0;
        removed++;
      }
    }
  }
  return { keep, group, representative, groups: found.length, removed };
}
