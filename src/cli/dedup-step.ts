/**
 * The near-duplicate step of `strata curate`: its flags (`--dedup THRESHOLD`, `--no-dedup`), the
 * search itself (the core's findDuplicates, its coarse k-means on the command's CPU kernel), and
 * the groups file it writes. On by default, as in the app, with the same normalisation: the rows
 * as read (before --center / --normalize), centred and L2-normalised by the search itself.
 */
import { writeFileSync } from 'node:fs';
import {
  backendCoarseAssign,
  DEFAULT_DEDUP_THRESHOLD,
  findDuplicates,
  type DedupResult,
} from '../core/dedup.ts';
import { CpuBackend } from '../core/kmeans.ts';
import type { CpuKernel, Matrix } from '../core/types.ts';
import { UsageError } from './command.ts';

export const DEDUP_FLAGS = {
  dedup: { type: 'string' },
  'no-dedup': { type: 'boolean' },
} as const;

export const DEDUP_USAGE = `  --dedup T              near-duplicate removal before clustering: rows whose cosine
                         similarity (centred, length 1) is T or more count as copies, and one
                         of each group is kept (default ${DEFAULT_DEDUP_THRESHOLD})
  --no-dedup             cluster every row, copies included`;

/** The threshold the flags ask for, or null when the step is off. */
export function readDedupFlag(f: Record<string, string | boolean | undefined>): number | null {
  if (f['no-dedup'] === true) {
    if (f.dedup !== undefined) throw new UsageError('give --dedup T or --no-dedup, not both');
    return null;
  }
  if (f.dedup === undefined) return DEFAULT_DEDUP_THRESHOLD;
  const s = String(f.dedup).trim();
  const v = Number(s);
  if (s === '' || !(v > 0 && v <= 1)) {
    throw new UsageError(
      `--dedup must be a cosine similarity in (0, 1], for example ${DEFAULT_DEDUP_THRESHOLD}; got '${s}'`,
    );
  }
  return v;
}

export interface DedupStep {
  readonly threshold: number;
  readonly result: DedupResult;
  /** rows of the searched matrix that stay, ascending */
  readonly kept: Int32Array;
}

export async function runDedup(
  x: Matrix,
  threshold: number,
  seed: number,
  kernel: CpuKernel,
  signal?: AbortSignal,
): Promise<DedupStep> {
  const result = await findDuplicates(
    x.data,
    x.rows,
    x.cols,
    { threshold, seed },
    backendCoarseAssign(new CpuBackend(kernel), undefined, undefined, signal),
    signal,
  );
  const kept = new Int32Array(x.rows - result.removed);
  for (let i = 0, j = 0; i < x.rows; i++) if (result.keep[i]) kept[j++] = i;
  return { threshold, result, kept };
}

/**
 * `dedup_groups.csv`: one line per row that has a near-duplicate, as the input's row numbers:
 * row, group, kept (1 for the row kept for the group), duplicate_of (the kept row; empty on it).
 * CSV rather than .npy so it reads in a spreadsheet and joins with an ids file by row number.
 */
export function writeDedupGroups(path: string, step: DedupStep, rowOf: Int32Array): void {
  const { group, representative, keep } = step.result;
  const lines = ['row,group,kept,duplicate_of'];
  for (let i = 0; i < group.length; i++) {
    const g = group[i];
    if (g < 0) continue;
    const dup = keep[i] ? '' : String(rowOf[representative[g]]);
    lines.push(`${rowOf[i]},${g},${keep[i]},${dup}`);
  }
  writeFileSync(path, lines.join('\n') + '\n');
}
