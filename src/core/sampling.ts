/**
 * Balanced hierarchical sampling, top-down (algorithm.md section 3): allocate the target over the
 * top-level clusters by water-filling, then each cluster's budget over its children, down to
 * level 1, whose clusters hold raw rows; inside a level-1 cluster pick random (default), closest
 * or furthest members.
 *
 * Repeats: with multiplier m > 1 a cluster's capacity is m x (raw rows under it), so small
 * clusters can be drawn more than once. A leaf with budget b and s members gives every member
 * floor(b / s) copies and b mod s members (chosen by the leaf strategy) one more. Repeats appear
 * as repeated indices in the returned sorted array (e.g. [3, 3, 7, ...]).
 *
 * Randomness: allocation draws from Rng(Rng.derive(seed, 1)) and leaf picks from
 * Rng(Rng.derive(seed, 2)), so `allocationTree` and `sampleHierarchy` agree for the same seed.
 */
import type { Hierarchy } from './hierarchy.ts';
import { Rng } from './rng.ts';

/**
 * Water-filling: give every cluster min(x, cap_i) for the largest integer x that fits the budget,
 * then +1 to (budget - sum) distinct clusters drawn uniformly among those with cap_i > x.
 * Returns the caps unchanged when they fit the budget.
 */
export function allocate(caps: readonly number[], budget: number, rng: Rng): number[] {
  if (!Number.isInteger(budget) || budget < 0) {
    throw new RangeError(`budget must be a non-negative integer, got ${budget}`);
  }
  let total = 0;
  let maxCap = 0;
  for (const c of caps) {
    if (!Number.isInteger(c) || c < 0)
      throw new RangeError(`capacity must be an integer >= 0, got ${c}`);
    total += c;
    if (c > maxCap) maxCap = c;
  }
  if (total <= budget) return caps.slice();
  const filled = (x: number): number => {
    let s = 0;
    for (const c of caps) s += c < x ? c : x;
    return s;
  };
  // Largest x in [0, maxCap] with filled(x) <= budget; filled(0) = 0 <= budget always holds.
  let lo = 0;
  let hi = maxCap;
  while (lo < hi) {
    const mid = lo + Math.ceil((hi - lo) / 2);
    if (filled(mid) <= budget) lo = mid;
    else hi = mid - 1;
  }
  const x = lo;
  const alloc = caps.map((c) => (c < x ? c : x));
  const left = budget - filled(x);
  if (left > 0) {
    const open: number[] = [];
    caps.forEach((c, i) => {
      if (c > x) open.push(i);
    });
    // left < open.length because filled(x + 1) > budget.
    const pick = rng.sample(open.length, left);
    for (let i = 0; i < left; i++) alloc[open[pick[i]]]++;
  }
  return alloc;
}

export type LeafStrategy = 'random' | 'closest' | 'furthest';

export interface SampleOptions {
  readonly leafStrategy: LeafStrategy;
  /** capacity multiplier, >= 1 (default 1: no repeats) */
  readonly multiplier?: number;
  readonly seed: number;
}

export interface AllocationTree {
  /**
   * budgets[t][j]: points allocated to cluster j of level t (same indexing as
   * Hierarchy.levels); budgets[0] are the level-1 (leaf) budgets.
   */
  readonly budgets: Int32Array[];
  /** rawCounts[t][j]: raw rows under cluster j of level t */
  readonly rawCounts: Int32Array[];
  /** sum of the top-level budgets: min(target, multiplier x rows) */
  readonly total: number;
}

/** Raw rows under every cluster of every level. */
export function rawCounts(h: Hierarchy): Int32Array[] {
  const out: Int32Array[] = [];
  h.levels.forEach((level, t) => {
    const counts = new Int32Array(level.clusters.length);
    level.clusters.forEach((members, j) => {
      if (t === 0) counts[j] = members.length;
      else {
        let s = 0;
        for (let i = 0; i < members.length; i++) s += out[t - 1][members[i]];
        counts[j] = s;
      }
    });
    out.push(counts);
  });
  return out;
}

function checkTarget(h: Hierarchy, target: number, multiplier: number): void {
  if (h.levels.length === 0) throw new RangeError('the hierarchy has no levels');
  if (!Number.isInteger(target) || target <= 0) {
    throw new RangeError(`target must be a positive integer, got ${target}`);
  }
  if (!Number.isInteger(multiplier) || multiplier < 1) {
    throw new RangeError(`multiplier must be an integer >= 1, got ${multiplier}`);
  }
}

/** The per-cluster budgets of balanced sampling, level by level (for exploration and for the sampler). */
export function allocationTree(
  h: Hierarchy,
  target: number,
  options: { multiplier?: number; seed: number },
): AllocationTree {
  const mult = options.multiplier ?? 1;
  checkTarget(h, target, mult);
  const counts = rawCounts(h);
  const rng = new Rng(Rng.derive(options.seed, 1));
  const T = h.levels.length;
  const budgets = h.levels.map((l) => new Int32Array(l.clusters.length));
  const top = Array.from(counts[T - 1], (c) => c * mult);
  const topAlloc = allocate(top, target, rng);
  budgets[T - 1].set(topAlloc);
  for (let t = T - 1; t >= 1; t--) {
    const clusters = h.levels[t].clusters;
    for (let j = 0; j < clusters.length; j++) {
      const b = budgets[t][j];
      if (b === 0) continue;
      const children = clusters[j];
      const caps = Array.from(children, (c) => counts[t - 1][c] * mult);
      const alloc = allocate(caps, b, rng);
      for (let i = 0; i < children.length; i++) budgets[t - 1][children[i]] = alloc[i];
    }
  }
  return { budgets, rawCounts: counts, total: topAlloc.reduce((a, b) => a + b, 0) };
}

/**
 * Balanced hierarchical sample of `target` raw row indices (fewer when the pool times the
 * multiplier is smaller), sorted ascending. With multiplier 1 there are no duplicates.
 */
export function sampleHierarchy(h: Hierarchy, target: number, options: SampleOptions): Int32Array {
  const tree = allocationTree(h, target, options);
  const rng = new Rng(Rng.derive(options.seed, 2));
  const leaves = h.levels[0].clusters;
  const leafBudget = tree.budgets[0];
  const out = new Int32Array(tree.total);
  let w = 0;
  for (let j = 0; j < leaves.length; j++) {
    const b = leafBudget[j];
    if (b === 0) continue;
    const members = leaves[j];
    const s = members.length;
    const copies = Math.floor(b / s);
    for (let c = 0; c < copies; c++) {
      out.set(members, w);
      w += s;
    }
    const rest = b - copies * s;
    if (rest === 0) continue;
    if (options.leafStrategy === 'closest') {
      out.set(members.subarray(0, rest), w);
      w += rest;
    } else if (options.leafStrategy === 'furthest') {
      out.set(members.subarray(s - rest), w);
      w += rest;
    } else if (options.leafStrategy === 'random') {
      const pick = rng.sample(s, rest);
      for (let i = 0; i < rest; i++) out[w++] = members[pick[i]];
    } else {
      throw new RangeError(`unknown leaf strategy '${String(options.leafStrategy)}'`);
    }
  }
  return out.sort();
}
