/** Small helpers over the row-major float32 `Matrix` of types.ts. */
import { InputError } from './errors.ts';
import type { Matrix } from './types.ts';

/** A rows x cols matrix over `data` (zero-filled when omitted). The data is used, not copied. */
export function createMatrix(rows: number, cols: number, data?: Float32Array): Matrix {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) {
    throw new RangeError(`matrix shape must be non-negative integers, got ${rows} x ${cols}`);
  }
  const buf = data ?? new Float32Array(rows * cols);
  if (buf.length !== rows * cols) {
    throw new RangeError(`matrix ${rows} x ${cols} needs ${rows * cols} values, got ${buf.length}`);
  }
  return { data: buf, rows, cols };
}

/** Row i as a view (no copy). */
export function rowView(m: Matrix, i: number): Float32Array {
  return m.data.subarray(i * m.cols, (i + 1) * m.cols);
}

/** A new matrix holding rows idx[0], idx[1], ... of m, in that order. */
export function gatherRows(m: Matrix, idx: ArrayLike<number>): Matrix {
  const d = m.cols;
  const out = new Float32Array(idx.length * d);
  for (let r = 0; r < idx.length; r++) {
    const i = idx[r];
    if (!(i >= 0 && i < m.rows)) throw new RangeError(`row index ${i} out of range [0, ${m.rows})`);
    out.set(m.data.subarray(i * d, i * d + d), r * d);
  }
  return { data: out, rows: idx.length, cols: d };
}

/** Squared L2 norm of every row, accumulated in float64. */
export function rowNorms2(m: Matrix): Float64Array {
  const { data, rows, cols } = m;
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    const o = i * cols;
    for (let j = 0; j < cols; j++) s += data[o + j] * data[o + j];
    out[i] = s;
  }
  return out;
}

/**
 * A copy with every row scaled to unit L2 norm, so squared Euclidean distance becomes
 * 2 - 2 cos. All-zero rows stay zero (they have no direction).
 */
export function l2NormalizeRows(m: Matrix): Matrix {
  return l2NormalizeRowsInPlace({ data: m.data.slice(), rows: m.rows, cols: m.cols });
}

/**
 * l2NormalizeRows without the copy: scales m's own rows and returns m. For a pool read just for
 * this run (a 1M x 384 pool is 1.5 GB; a copy would double it). The same arithmetic as the
 * app's normaliseRows (float64 norm, float64 scale, float32 store), so both give equal rows.
 */
export function l2NormalizeRowsInPlace(m: Matrix): Matrix {
  const { data, rows, cols } = m;
  const n2 = rowNorms2(m);
  for (let i = 0; i < rows; i++) {
    if (n2[i] === 0) continue;
    const inv = 1 / Math.sqrt(n2[i]);
    const o = i * cols;
    for (let j = 0; j < cols; j++) data[o + j] = data[o + j] * inv;
  }
  return m;
}

/** A copy with the mean row (accumulated in float64) subtracted from every row. */
export function centerRows(m: Matrix): Matrix {
  return centerRowsInPlace({ data: m.data.slice(), rows: m.rows, cols: m.cols });
}

/** centerRows without the copy: subtracts the mean from m's own rows and returns m. */
export function centerRowsInPlace(m: Matrix): Matrix {
  const { data, rows, cols } = m;
  const mean = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let j = 0; j < cols; j++) mean[j] += data[o + j];
  }
  if (rows > 0) for (let j = 0; j < cols; j++) mean[j] /= rows;
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let j = 0; j < cols; j++) data[o + j] = data[o + j] - mean[j];
  }
  return m;
}

/**
 * Throws an InputError naming the first row (0-based) that holds NaN or +-Infinity: k-means on
 * such rows silently produces garbage, so they must be rejected up front.
 */
export function assertFinite(m: Matrix, what = 'input'): void {
  const { data, cols } = m;
  for (let p = 0; p < data.length; p++) {
    const v = data[p];
    // v - v is NaN exactly for NaN and +-Infinity; one comparison per value keeps this fast.
    if (v - v !== 0) {
      const row = Math.floor(p / cols);
      const col = p - row * cols;
      throw new InputError(
        `${what} row ${row} has a non-finite value (${v} at column ${col}); remove or fix that row`,
      );
    }
  }
}

/** Rows without NaN or +-Infinity, and which rows were left out (ascending). */
export interface FiniteRows {
  readonly matrix: Matrix;
  /** input row of each kept row */
  readonly kept: Int32Array;
  readonly dropped: readonly number[];
}

/**
 * The one NaN/Inf policy of the app and the command line: rows holding a non-finite value are
 * left out (k-means on them silently produces garbage) and named in a warning; the run goes on
 * with the rest, and outputs keep the input's row numbers. Only a matrix with no finite row at
 * all is refused. Returns `m` itself (no copy) when every row is finite.
 */
export function dropNonFiniteRows(m: Matrix): FiniteRows {
  const { data, rows, cols } = m;
  const dropped: number[] = [];
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) {
      const v = data[base + c];
      // v - v is NaN exactly for NaN and +-Infinity: one subtraction per value.
      if (v - v !== 0) {
        dropped.push(r);
        break;
      }
    }
  }
  if (dropped.length === 0) {
    return { matrix: m, kept: Int32Array.from({ length: rows }, (_, i) => i), dropped };
  }
  if (dropped.length === rows) {
    throw new InputError('every row contains NaN or infinite values');
  }
  const keep = rows - dropped.length;
  const out = new Float32Array(keep * cols);
  const kept = new Int32Array(keep);
  let b = 0;
  let k = 0;
  for (let r = 0; r < rows; r++) {
    if (b < dropped.length && dropped[b] === r) {
      b++;
      continue;
    }
    out.set(data.subarray(r * cols, (r + 1) * cols), k * cols);
    kept[k++] = r;
  }
  return { matrix: { data: out, rows: keep, cols }, kept, dropped };
}

/** Rows named in a message before "and N more". */
const LIST_MAX = 10;

/** The warning for rows left out by dropNonFiniteRows; `names` labels rows (e.g. their ids). */
export function droppedRowsMessage(
  dropped: readonly number[],
  rows: number,
  names?: (row: number) => string,
): string {
  const named = dropped.map((r) => (names ? `${r} (${names(r)})` : String(r)));
  const shown = named.slice(0, LIST_MAX).join(', ');
  const list = named.length > LIST_MAX ? `${shown} and ${named.length - LIST_MAX} more` : shown;
  return `Dropped ${dropped.length} of ${rows} rows with NaN or infinite values: ${dropped.length === 1 ? 'row' : 'rows'} ${list}.`;
}
