/**
 * Between the dedup stage's groups and the rest of the run: the rows clustered (the kept ones),
 * and level 1 mapped back from those rows to the run's rows, so levels, selections, the
 * explorer and exports keep speaking of rows of the run's matrix.
 */
import type { Level } from '../core';

/** Rows of the run's matrix that stay in the pool (keep[i] = 1), ascending. */
export function keptRows(keep: Uint8Array): Int32Array {
  let n = 0;
  for (let i = 0; i < keep.length; i++) n += keep[i];
  const out = new Int32Array(n);
  for (let i = 0, j = 0; i < keep.length; i++) if (keep[i]) out[j++] = i;
  return out;
}

/**
 * Level 1 computed on the kept rows, in the run's rows: cluster members become run rows; labels
 * and distances cover every run row, a removed row taking those of the row kept for its group
 * (so the explorer shows it in its representative's cluster), while only kept rows are members
 * (so sampling never picks a removed row).
 */
export function levelToRunRows(
  level: Level,
  kept: Int32Array,
  n: number,
  group: Int32Array,
  representative: Int32Array,
): Level {
  const at = new Int32Array(n).fill(-1);
  for (let j = 0; j < kept.length; j++) at[kept[j]] = j;
  const labels = new Int32Array(n);
  const dist2 = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const j = at[i] >= 0 ? at[i] : at[representative[group[i]]];
    labels[i] = level.labels[j];
    dist2[i] = level.dist2[j];
  }
  const clusters = level.clusters.map((c) => Int32Array.from(c, (j) => kept[j]));
  return { k: level.k, centroids: level.centroids, labels, dist2, clusters };
}
