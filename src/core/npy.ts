/**
 * NumPy .npy reading and writing, pure (bytes in, bytes out), so the same code serves the CLI,
 * workers and pages. Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 * Versions 1.0 (2-byte header length), 2.0 (4-byte) and 3.0 (4-byte, UTF-8 header); little-endian
 * (and single-byte) dtypes only.
 */
import { InputError } from './errors.ts';

export class NpyError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'NpyError';
  }
}

export type NpyDtype =
  | 'float32'
  | 'float64'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'bool';

export type NpyData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

export interface NpyArray {
  readonly dtype: NpyDtype;
  readonly shape: number[];
  /** always in C (row-major) order; Fortran-order files are transposed on read */
  readonly data: NpyData;
  /** whether the file stored the array in Fortran (column-major) order */
  readonly fortranOrder: boolean;
}

interface DtypeInfo {
  readonly dtype: NpyDtype;
  readonly size: number;
  readonly descr: string;
  make(buf: ArrayBuffer, offset: number, length: number): NpyData;
}

const DTYPES: Record<string, DtypeInfo> = {};
function addDtype(codes: string[], dtype: NpyDtype, size: number, make: DtypeInfo['make']): void {
  for (const c of codes) DTYPES[c] = { dtype, size, descr: codes[0], make };
}
addDtype(['<f4'], 'float32', 4, (b, o, n) => new Float32Array(b, o, n));
addDtype(['<f8'], 'float64', 8, (b, o, n) => new Float64Array(b, o, n));
addDtype(['|i1', '<i1', 'i1'], 'int8', 1, (b, o, n) => new Int8Array(b, o, n));
addDtype(['<i2'], 'int16', 2, (b, o, n) => new Int16Array(b, o, n));
addDtype(['<i4'], 'int32', 4, (b, o, n) => new Int32Array(b, o, n));
addDtype(['<i8'], 'int64', 8, (b, o, n) => new BigInt64Array(b, o, n));
addDtype(['|u1', '<u1', 'u1'], 'uint8', 1, (b, o, n) => new Uint8Array(b, o, n));
addDtype(['<u2'], 'uint16', 2, (b, o, n) => new Uint16Array(b, o, n));
addDtype(['<u4'], 'uint32', 4, (b, o, n) => new Uint32Array(b, o, n));
addDtype(['<u8'], 'uint64', 8, (b, o, n) => new BigUint64Array(b, o, n));
addDtype(['|b1', '<b1', 'b1'], 'bool', 1, (b, o, n) => new Uint8Array(b, o, n));

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Parses the header dict, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } */
function parseHeader(text: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /['"]descr['"]\s*:\s*(['"])(.*?)\1/.exec(text);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr) {
    if (/['"]descr['"]\s*:\s*\[/.test(text)) {
      throw new NpyError('structured (record) arrays are not supported; save a plain 2-D array');
    }
    throw new NpyError(`malformed .npy header (no 'descr'): ${text.trim().slice(0, 80)}`);
  }
  if (!fortran) throw new NpyError("malformed .npy header (no 'fortran_order')");
  if (!shape) throw new NpyError("malformed .npy header (no 'shape')");
  const dims = shape[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const v = Number(s.replace(/L$/, ''));
      if (!Number.isInteger(v) || v < 0) throw new NpyError(`malformed .npy shape entry '${s}'`);
      return v;
    });
  return { descr: descr[2], fortran: fortran[1] === 'True', shape: dims };
}

function describeDtype(descr: string): string {
  if (descr.startsWith('>') && DTYPES['<' + descr.slice(1)]) {
    return `big-endian arrays (${descr}) are not supported; convert with arr.astype('<${descr.slice(1)}')`;
  }
  if (/^[<>|=]?O/.test(descr)) return 'pickled object arrays are not supported here';
  return `unsupported dtype '${descr}' (supported: float32, float64, integer and bool arrays)`;
}

/** Transposes Fortran-order data into C order. */
function toCOrder(src: NpyData, shape: number[]): NpyData {
  const n = src.length;
  const ctor = src.constructor as new (n: number) => NpyData;
  const out = new ctor(n);
  const nd = shape.length;
  // C strides of the output and F strides of the source, in elements.
  const fStride = new Array<number>(nd);
  let s = 1;
  for (let a = 0; a < nd; a++) {
    fStride[a] = s;
    s *= shape[a];
  }
  const idx = new Array<number>(nd).fill(0);
  for (let p = 0; p < n; p++) {
    let q = 0;
    for (let a = 0; a < nd; a++) q += idx[a] * fStride[a];
    (out as unknown as unknown[])[p] = (src as unknown as unknown[])[q];
    for (let a = nd - 1; a >= 0; a--) {
      if (++idx[a] < shape[a]) break;
      idx[a] = 0;
    }
  }
  return out;
}

/** What a .npy header says: enough to read the data a slice at a time. */
export interface NpyHeader {
  readonly dtype: NpyDtype;
  readonly shape: number[];
  readonly fortranOrder: boolean;
  /** bytes per value */
  readonly itemSize: number;
  /** byte offset of the first value */
  readonly dataOffset: number;
}

/** Bytes that always hold the header's length field (magic, version, 2 or 4 length bytes). */
export const NPY_PREAMBLE = 12;

/**
 * Parses the header at the start of a .npy file. `bytes` may be just the file's beginning:
 * its first NPY_PREAMBLE bytes tell where the header ends (npyHeaderEnd).
 */
export function readNpyHeader(bytes: Uint8Array): NpyHeader {
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) {
    throw new NpyError('not a .npy file (bad magic bytes; expected \\x93NUMPY)');
  }
  const major = bytes[6];
  if (major !== 1 && major !== 2 && major !== 3) {
    throw new NpyError(`unsupported .npy format version ${major}.${bytes[7]}`);
  }
  const end = npyHeaderEnd(bytes);
  if (bytes.length < end) throw new NpyError('truncated .npy header');
  const start = major === 1 ? 10 : 12;
  const decoder = new TextDecoder(major === 3 ? 'utf-8' : 'latin1');
  const header = parseHeader(decoder.decode(bytes.subarray(start, end)));
  const info = DTYPES[header.descr];
  if (!info) throw new NpyError(describeDtype(header.descr));
  return {
    dtype: info.dtype,
    shape: header.shape,
    fortranOrder: header.fortran,
    itemSize: info.size,
    dataOffset: end,
  };
}

/** Where the header of a .npy file ends, from its first NPY_PREAMBLE bytes. */
export function npyHeaderEnd(bytes: Uint8Array): number {
  const major = bytes[6];
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) throw new NpyError('truncated .npy header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  return 8 + lenBytes + headerLen;
}

/** The error for a file shorter than its header's shape needs. */
export function truncatedDataMessage(shape: readonly number[], need: number, have: number): string {
  return `truncated .npy data: shape (${shape.join(', ')}) needs ${need} bytes, the file has ${have}`;
}

/**
 * Parses a .npy file. The data is a view into `bytes` when its offset is aligned for the dtype,
 * a copy otherwise. Throws NpyError with a specific message for anything it cannot read.
 */
export function parseNpy(bytes: Uint8Array): NpyArray {
  const header = readNpyHeader(bytes);
  const info = DTYPES[descrOf(header.dtype)];
  const count = header.shape.reduce((a, b) => a * b, 1);
  const dataStart = header.dataOffset;
  const need = count * info.size;
  const have = bytes.length - dataStart;
  if (have < need) throw new NpyError(truncatedDataMessage(header.shape, need, have));
  const abs = bytes.byteOffset + dataStart;
  let data: NpyData;
  if (abs % info.size === 0) {
    data = info.make(bytes.buffer as ArrayBuffer, abs, count);
  } else {
    const copy = bytes.slice(dataStart, dataStart + need);
    data = info.make(copy.buffer, 0, count);
  }
  if (header.fortranOrder && header.shape.length > 1) data = toCOrder(data, header.shape);
  return { dtype: info.dtype, shape: header.shape, data, fortranOrder: header.fortranOrder };
}

function dtypeOf(data: NpyData): NpyDtype {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Uint16Array) return 'uint16';
  if (data instanceof Uint32Array) return 'uint32';
  if (data instanceof BigUint64Array) return 'uint64';
  throw new NpyError('unsupported typed array for .npy');
}

function descrOf(dtype: NpyDtype): string {
  for (const info of Object.values(DTYPES)) if (info.dtype === dtype) return info.descr;
  throw new NpyError(`unsupported dtype '${dtype}'`);
}

/**
 * The header bytes of a C-order .npy file (magic, version, length, dict, padding to a multiple
 * of 64 bytes as NumPy does), for writers that stream the data after it.
 */
export function npyHeader(dtype: NpyDtype, shape: readonly number[]): Uint8Array {
  for (const s of shape) {
    if (!Number.isInteger(s) || s < 0) throw new NpyError(`bad .npy shape entry ${s}`);
  }
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descrOf(dtype)}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  let major = 1;
  let pre = 10;
  let total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  if (total - pre > 0xffff) {
    major = 2;
    pre = 12;
    total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  }
  const headerLen = total - pre;
  const text = dict + ' '.repeat(headerLen - dict.length - 1) + '\n';
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, headerLen, true);
  else view.setUint32(8, headerLen, true);
  for (let i = 0; i < text.length; i++) out[pre + i] = text.charCodeAt(i);
  return out;
}

/** A complete .npy file for `data` with the given shape (C order). */
export function writeNpy(data: NpyData, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new NpyError(
      `shape (${shape.join(', ')}) holds ${count} values, the data ${data.length}`,
    );
  }
  const header = npyHeader(dtypeOf(data), shape);
  const out = new Uint8Array(header.length + data.byteLength);
  out.set(header, 0);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), header.length);
  return out;
}
