/**
 * Precomputed embeddings read a slice of rows at a time: a 1,000,000 x 384 float32 .npy
 * (1.5 GB) is never held whole, anywhere. The header is read first, then each slice of rows
 * is read from the file, turned into float32, cleared of non-finite rows and handed to
 * `onChunk`, whose promise paces the reading (the next slice is read once it is stored).
 * Same checks and messages as loadPrecomputed; Fortran-order files, which cannot be read by
 * rows, are read whole by it and handed over in the same slices.
 */
import {
  NpyError,
  NPY_PREAMBLE,
  npyHeaderEnd,
  readNpyHeader,
  truncatedDataMessage,
} from '../core/npy';
import { droppedRowsMessage } from '../core/matrix';
import {
  checkMatrix,
  fileName,
  loadPrecomputed,
  PrecomputedError,
  readIdList,
} from './precomputed';

/** One slice of kept rows. */
export interface PrecomputedChunk {
  /** rows x cols float32, row-major */
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;
  /** id of each row */
  readonly ids: string[];
  /** rows of the file read so far, of `total` (for progress; dropped rows count as read) */
  readonly read: number;
  readonly total: number;
}

export interface PrecomputedSummary {
  /** rows kept (rows with NaN or infinite values are dropped and named in `warnings`) */
  readonly rows: number;
  readonly cols: number;
  readonly warnings: string[];
}

/**
 * Input rows per slice: 256 x 1792 float32 = 1.8 MiB, the store's chunk size for precomputed
 * rows (its clone took 7-19 ms for 4 MiB here), so a slice is one stored record.
 */
export const PRECOMPUTED_CHUNK_ROWS = 256;

/** Bytes read first for the header. */
const HEAD_BYTES = 4096;

function npyFail(npyName: string, err: unknown): never {
  if (err instanceof NpyError) throw new PrecomputedError(`${npyName}: ${err.message}`);
  throw err;
}

export async function streamPrecomputed(
  npy: Blob,
  ids: Blob | undefined,
  onChunk: (chunk: PrecomputedChunk) => Promise<void>,
  chunkRows = PRECOMPUTED_CHUNK_ROWS,
): Promise<PrecomputedSummary> {
  const npyName = fileName(npy, 'the .npy file');
  if (npy.size === 0) throw new PrecomputedError(`${npyName} is empty (0 bytes).`);
  let header;
  try {
    // Headers are about 128 bytes; a longer one is read again whole once its length is known.
    let head = new Uint8Array(await npy.slice(0, HEAD_BYTES).arrayBuffer());
    if (head.length >= NPY_PREAMBLE) {
      const end = npyHeaderEnd(head);
      if (end > head.length && end <= npy.size) {
        head = new Uint8Array(await npy.slice(0, end).arrayBuffer());
      }
    }
    header = readNpyHeader(head);
  } catch (err) {
    npyFail(npyName, err);
  }
  const [n, d] = checkMatrix(npyName, header.dtype, header.shape);
  if (header.fortranOrder) return fromWhole(npy, ids, onChunk, chunkRows);
  const need = n * d * header.itemSize;
  const have = npy.size - header.dataOffset;
  if (have < need) {
    throw new PrecomputedError(`${npyName}: ${truncatedDataMessage(header.shape, need, have)}`);
  }
  const idList = await readIdList(ids, n, npyName);

  const rowBytes = d * header.itemSize;
  const dropped: number[] = [];
  let kept = 0;
  for (let r0 = 0; r0 < n; r0 += chunkRows) {
    const r1 = Math.min(n, r0 + chunkRows);
    const at = header.dataOffset + r0 * rowBytes;
    const buf = await npy.slice(at, at + (r1 - r0) * rowBytes).arrayBuffer();
    // A slice's buffer starts at 0, so float64 values are aligned.
    const src = header.dtype === 'float64' ? new Float64Array(buf) : new Float32Array(buf);
    const out = new Float32Array((r1 - r0) * d);
    const chunkIds: string[] = [];
    let k = 0;
    for (let r = 0; r < r1 - r0; r++) {
      // Copied into the kept slot first (float64 -> float32 there), then checked: a value
      // beyond float32's range became infinite, and v - v is NaN exactly for NaN and +-Infinity.
      const base = k * d;
      out.set(src.subarray(r * d, (r + 1) * d), base);
      let finite = true;
      for (let c = 0; c < d; c++) {
        const v = out[base + c];
        if (v - v !== 0) {
          finite = false;
          break;
        }
      }
      if (!finite) {
        dropped.push(r0 + r);
        continue;
      }
      chunkIds.push(idList[r0 + r]);
      k++;
    }
    if (k === 0) continue;
    kept += k;
    await onChunk({
      data: k === r1 - r0 ? out : out.slice(0, k * d),
      rows: k,
      cols: d,
      ids: chunkIds,
      read: r1,
      total: n,
    });
  }
  if (kept === 0) {
    throw new PrecomputedError(`${npyName}: every row contains NaN or infinite values.`);
  }
  const warnings =
    dropped.length === 0
      ? []
      : [droppedRowsMessage(dropped, n, ids ? (r) => idList[r] : undefined)];
  return { rows: kept, cols: d, warnings };
}

/** Fortran order: the whole matrix is needed to put rows together; hand it over in slices. */
async function fromWhole(
  npy: Blob,
  ids: Blob | undefined,
  onChunk: (chunk: PrecomputedChunk) => Promise<void>,
  chunkRows: number,
): Promise<PrecomputedSummary> {
  const p = await loadPrecomputed(npy, ids);
  const { rows, cols, data } = p.matrix;
  for (let r0 = 0; r0 < rows; r0 += chunkRows) {
    const r1 = Math.min(rows, r0 + chunkRows);
    await onChunk({
      data: data.slice(r0 * cols, r1 * cols),
      rows: r1 - r0,
      cols,
      ids: p.ids.slice(r0, r1),
      read: r1,
      total: rows,
    });
  }
  return { rows, cols, warnings: p.warnings };
}
