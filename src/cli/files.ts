/** Reading embeddings and writing arrays for the CLI (the only place that touches the disk). */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { InputError } from '../core/errors.ts';
import { createMatrix } from '../core/matrix.ts';
import { parseNpy, writeNpy, type NpyData, type NpyDtype } from '../core/npy.ts';
import type { Matrix } from '../core/types.ts';

export interface LoadedEmbeddings {
  readonly matrix: Matrix;
  /** dtype in the file (float64 is converted to float32 on load) */
  readonly dtype: NpyDtype;
}

function readBytes(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(`${what} '${path}' does not exist`);
    if (code === 'EISDIR')
      throw new InputError(`${what} '${path}' is a directory, not a .npy file`);
    if (code === 'EACCES')
      throw new InputError(`${what} '${path}' is not readable (permission denied)`);
    throw new InputError(`cannot read ${what} '${path}': ${(e as Error).message}`);
  }
}

/** A 2-D float32/float64 .npy as a float32 matrix, with specific errors for anything else. */
export function readEmbeddings(path: string): LoadedEmbeddings {
  const arr = parseNpy(readBytes(path, 'embeddings file'));
  if (arr.shape.length !== 2) {
    throw new InputError(
      `embeddings must be a 2-D array (rows x dims); '${path}' has shape (${arr.shape.join(', ')})`,
    );
  }
  const [rows, cols] = arr.shape;
  if (rows === 0 || cols === 0) {
    throw new InputError(`embeddings '${path}' are empty (shape (${rows}, ${cols}))`);
  }
  let data: Float32Array;
  if (arr.data instanceof Float32Array) data = arr.data;
  else if (arr.data instanceof Float64Array) data = Float32Array.from(arr.data);
  else throw new InputError(`embeddings must be float32 or float64; '${path}' holds ${arr.dtype}`);
  return { matrix: createMatrix(rows, cols, data), dtype: arr.dtype };
}

/** Writes a .npy, creating parent folders. */
export function writeArray(path: string, data: NpyData, shape: number[]): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, writeNpy(data, shape));
}

/** int32 indices as the int64 that NumPy tools expect for row ids. */
export function toInt64(a: Int32Array): BigInt64Array {
  const out = new BigInt64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = BigInt(a[i]);
  return out;
}

/** This package's version, for run metadata. */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
