/**
 * Which rows greedy k-means++ seeds from: all of them ('full', the reference), or a uniform
 * sample of a few rows per cluster ('sampled', the default where the input is large).
 *
 * Why: greedy k-means++ scores 2 + ln k candidates against every row for each of the k centres,
 * about 2 + ln k full assignment passes (k = 2000: 9 passes against 11 for 10 Lloyd rounds), and
 * its few-candidate calls run slower than assignment. Seeding from SEED_ROWS_PER_CLUSTER rows a
 * cluster cuts that to a fraction of one pass, and the Lloyd rounds that follow on all rows
 * recover the difference (bench/seeding.ts: the objective within about 0.1% of full seeding).
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
 * Rows per cluster of the seeding sample. bench/seeding.ts, 10 Lloyd rounds on all rows after
 * seeding, objective relative to greedy k-means++ on every row, Node, wasm kernel on 2 threads,
 * load 12-20 on the 2-core machine:
 *
 *   pool, k                  rows a cluster   objective (2 seeds)    seeding s (full: 110-162)
 *   50k x 128, k 2000        4                +0.049%, +0.027%        10.6, 8.5
 *                            8                +0.011%, +0.035%        29.3, 16.3
 *   30k x 64, k 1000         4                +0.001%, +0.113%        1.3, 0.9 (full 6.5, 4.8)
 *                            8                +0.000%, +0.106%        1.1, 1.5
 *                            16               -0.027%, +0.018%        2.8, 3.2
 *
 * Every size stays far inside the 1% bound; 4 rows halves the seeding time of 8 (full seeding
 * took 2-3x as long as the 10 Lloyd rounds, 54 s, since its few-candidate calls run at about
 * half the assignment rate).
 */
export const SEED_ROWS_PER_CLUSTER = 4;

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
