/**
 * What the explorer shows of an imported hierarchy: for every cluster of every level, the raw rows
 * under it, how many of them a selection keeps, and its children. The shape matches the pipeline's
 * `ClusterSummary`, so the page can show an imported run like one of its own.
 */
import type { Hierarchy } from '../core/hierarchy.ts';
import { rawCounts } from '../core/sampling.ts';

export interface ClusterOverview {
  /** 1-based level; level 1 clusters hold raw rows */
  readonly level: number;
  readonly id: number;
  /** raw rows under this cluster */
  readonly size: number;
  /** of which selected */
  readonly selected: number;
  /** clusters of level - 1 under this one (0 at level 1) */
  readonly childCount: number;
}

export interface HierarchyOverview {
  /** overview[t][j]: cluster j of level t + 1 */
  readonly levels: ClusterOverview[][];
  /** top-level clusters, largest first */
  readonly top: ClusterOverview[];
  /** children of cluster `id` of `level` (1-based), largest first; raw rows at level 1 */
  children(level: number, id: number): ClusterOverview[] | Int32Array;
}

/** Per-cluster sizes and selected counts at every level, for a selection of raw rows. */
export function overview(h: Hierarchy, selection: ArrayLike<number> = []): HierarchyOverview {
  const counts = rawCounts(h);
  const picked: Int32Array[] = h.levels.map((l) => new Int32Array(l.k));
  const leafOf = h.levels[0].labels;
  for (let i = 0; i < selection.length; i++) {
    let c = leafOf[selection[i]];
    for (let t = 0; t < h.levels.length && c >= 0; t++) {
      picked[t][c]++;
      c = t + 1 < h.levels.length ? h.levels[t + 1].labels[c] : -1;
    }
  }
  const levels = h.levels.map((l, t) =>
    l.clusters.map((members, j) => ({
      level: t + 1,
      id: j,
      size: counts[t][j],
      selected: picked[t][j],
      childCount: t === 0 ? 0 : members.length,
    })),
  );
  const bySize = (a: ClusterOverview, b: ClusterOverview): number => b.size - a.size || a.id - b.id;
  return {
    levels,
    top: levels[levels.length - 1].slice().sort(bySize),
    children(level, id) {
      const members = h.levels[level - 1].clusters[id];
      if (level === 1) return members;
      return Array.from(members, (c) => levels[level - 2][c]).sort(bySize);
    },
  };
}
