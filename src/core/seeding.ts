/**
 * Which rows greedy k-means++ seeds from: all of them ('full', the reference), or a uniform
 * sample of a few rows per cluster ('sampled', the default where the input is large).
 *
 * Why: greedy k-means++ scores 2 + ln k candidates against every row for each of the k centres,
 * about 2 + ln k full assignment passes (k = 2000: 9 passes against 11 for 10 Lloyd rounds), and
 * its few-candidate calls run slower than assignment. Seeding from SEED_ROWS_PER_CLUSTER rows a
 * cluster cuts that to a fraction of one pass, and the Lloyd rounds that follow on all rows
 * recover the difference (bench/seeding.ts measures the objective against full seeding).
 *
 * Every backend calls seedingInput() with the run's seed before its own k-means++ draws, so the
 * CPU kernels and the GPU seed from the same rows and stay comparable draw for draw.
 */
import { gatherRows } from './matrix.ts';
import { Rng } from './rng.ts';
import type { Matrix } from './types.ts';

export type Seeding = 'sampled' | 'full';

/** The default: sampled (it changes nothing for inputs of at most SEED_MIN_ROWS rows). */
export const DEFAULT_SEEDING: Seeding = 'sampled';

/**
 * Rows per cluster of the seeding sample. bench/seeding.ts (N 100k x D 384, 500-centre Gaussian
 * mixture, 10 Lloyd rounds after seeding, objective relative to full greedy k-means++, mean of 3
 * seeds) measured at k = 2000: 4 rows +0.34%, 8 rows +0.12%, 16 rows +0.05%; at k = 5000:
 * 4 rows +0.41%, 8 rows +0.16%. 8 stays well inside the 1% bound at a third of the seeding cost
 * of 16 rows... see bench/seeding.ts for the run that produced these figures.
 */
export const SEED_ROWS_PER_CLUSTER = 8;

/**
 * Inputs of at most this many rows always seed from all rows: seeding them costs little, and
 * the small fixed-size workloads (the paper's 9000-point toy, the tests) keep the reference's
 * exact seeding.
 */
export const SEED_MIN_ROWS = 16_384;

/** Stream of Rng.derive(seed, ...) that draws the sample (apart from the k-means++ draws). */
const SAMPLE_STREAM = 0x5eed;

/** Rows greedy k-means++ seeds from for k clusters over n rows. */
export function seedingRows(n: number, k: number, seeding: Seeding = DEFAULT_SEEDING): number {
  if (seeding === 'full') return n;
  return Math.min(n, Math.max(SEED_MIN_ROWS, SEED_ROWS_PER_CLUSTER * k));
}

/**
 * The rows to seed from: x itself when seedingRows covers it, else a uniform sample without
 * replacement, in row order, drawn from its own stream of `seed` (so the k-means++ draws that
 * follow use the run's generator exactly as an unsampled run would).
 */
export function seedingInput(
  x: Matrix,
  k: number,
  seed: number,
  seeding: Seeding = DEFAULT_SEEDING,
): Matrix {
  const s = seedingRows(x.rows, k, seeding);
  if (s >= x.rows) return x;
  const idx = new Rng(Rng.derive(seed, SAMPLE_STREAM)).sample(x.rows, s).sort();
  return gatherRows(x, idx);
}
