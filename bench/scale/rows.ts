/**
 * The scale bench's embedding file: an N x D float32 .npy (default 1,000,000 x 384, 1.43 GiB)
 * written once under .cache/scale/rows-<N>x<D>.npy, slice by slice so this process never holds
 * the matrix.
 *
 * Structure, so clustering has something to find and dedup something to remove: 64 broad
 * directions, 4,096 concepts around them with long-tailed weights (Zipf, exponent 1), rows
 * spread around their concept, and 5% of rows near-copies of an earlier row (cosine to it about
 * 0.99 after centring and L2, well above the 0.9 threshold), as web data has.
 * Deterministic: every draw comes from Rng(ROWS_SEED).
 */
import { closeSync, existsSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { npyHeader } from '../../src/core/npy.ts';
import { Rng } from '../../src/core/rng.ts';
import { SCALE_CACHE } from './images.ts';

const ROWS_SEED = 20_240_613;
const BROAD = 64;
const CONCEPTS = 4096;
/** Share of rows that are near-copies of an earlier row. */
export const COPY_SHARE = 0.05;
/** Rows per write: 8,192 x 384 floats = 12 MiB. */
const SLICE = 8192;

export interface RowsFile {
  readonly path: string;
  readonly rows: number;
  readonly cols: number;
  readonly bytes: number;
  /** seconds spent writing it now (0: reused) */
  readonly seconds: number;
}

export function rowsFile(rows: number, cols: number, log: (s: string) => void): RowsFile {
  mkdirSync(SCALE_CACHE, { recursive: true });
  const path = join(SCALE_CACHE, `rows-${rows}x${cols}.npy`);
  const header = npyHeader('float32', [rows, cols]);
  const bytes = header.length + rows * cols * 4;
  if (existsSync(path)) return { path, rows, cols, bytes, seconds: 0 };
  log(`writing ${path} (${(bytes / 2 ** 30).toFixed(2)} GiB)`);
  const t0 = performance.now();
  const rng = new Rng(ROWS_SEED);
  const broad = Float32Array.from({ length: BROAD * cols }, () => rng.normal());
  const concepts = new Float32Array(CONCEPTS * cols);
  for (let c = 0; c < CONCEPTS; c++) {
    const b = rng.int(BROAD) * cols;
    for (let j = 0; j < cols; j++) concepts[c * cols + j] = broad[b + j] + 0.6 * rng.normal();
  }
  // Zipf weights as a cumulative table; a draw is a binary search.
  const cumulative = new Float64Array(CONCEPTS);
  let total = 0;
  for (let c = 0; c < CONCEPTS; c++) cumulative[c] = total += 1 / (c + 1);
  const concept = (): number => {
    const x = rng.next() * total;
    let lo = 0;
    let hi = CONCEPTS - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const part = `${path}.part`;
  const fd = openSync(part, 'w');
  writeSync(fd, header);
  const buf = new Float32Array(SLICE * cols);
  for (let r0 = 0; r0 < rows; r0 += SLICE) {
    const m = Math.min(SLICE, rows - r0);
    for (let i = 0; i < m; i++) {
      const o = i * cols;
      // A copy repeats an earlier row of the same slice with a little noise (the slice is
      // what is in memory; copies in web data are as often far apart, which dedup does not mind).
      if (i > 0 && rng.next() < COPY_SHARE) {
        const src = rng.int(i) * cols;
        for (let j = 0; j < cols; j++) buf[o + j] = buf[src + j] + 0.1 * rng.normal();
      } else {
        const c = concept() * cols;
        for (let j = 0; j < cols; j++) buf[o + j] = concepts[c + j] + 0.8 * rng.normal();
      }
    }
    writeSync(fd, new Uint8Array(buf.buffer, 0, m * cols * 4));
  }
  closeSync(fd);
  renameSync(part, path);
  return { path, rows, cols, bytes, seconds: (performance.now() - t0) / 1000 };
}
