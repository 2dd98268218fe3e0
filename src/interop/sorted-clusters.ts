/**
 * The reference pipeline's `sorted_clusters.npy`: a 1-D numpy object array whose element j is the
 * int64 array of cluster j's members, closest to the centroid first, saved with
 * `np.save(..., allow_pickle=True)`. This module reads it through the restricted pickle reader
 * (never executing anything) and writes the same structure, byte-compatible with what numpy loads.
 * A plain 2-D integer .npy (every cluster the same size) is accepted too.
 */
import {
  INT32_LIMIT,
  PickleError,
  readPickledClusters,
  toInt32,
  type PickleLimits,
} from './pickle.ts';

/** What the header of a .npy file says. */
export interface NpyHeaderInfo {
  readonly descr: string;
  readonly fortranOrder: boolean;
  readonly shape: readonly number[];
  /** byte offset of the payload */
  readonly dataOffset: number;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Largest header a .npy may announce here; numpy itself caps headers at 10 kB when loading. */
const MAX_HEADER_BYTES = 1 << 16;

/**
 * Parses a .npy header (versions 1-3). Strict: the dict must hold exactly descr, fortran_order
 * and shape, as numpy writes it. Errors are `PickleError`s that name the file.
 */
export function readNpyHeader(bytes: Uint8Array, name = 'file'): NpyHeaderInfo {
  const fail = (why: string): never => {
    throw new PickleError(`${name}: ${why}`);
  };
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    fail('not a .npy file (the magic string \\x93NUMPY is missing)');
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail('the .npy header is truncated');
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    return fail(`.npy format version ${major} is unknown`);
  }
  if (headerLen > MAX_HEADER_BYTES || start + headerLen > bytes.length) {
    fail(`the .npy header claims ${headerLen} bytes: the file is truncated or corrupt`);
  }
  let text = '';
  for (let i = start; i < start + headerLen; i++) text += String.fromCharCode(bytes[i]);
  const trimmed = text.trim();
  const keys = trimmed.match(/'[a-z_]+'\s*:/g) ?? [];
  const descr = /'descr':\s*'([^']{1,32})'/.exec(text)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape':\s*\(([\d\s,L]*)\)/.exec(text)?.[1];
  if (
    !trimmed.startsWith('{') ||
    !trimmed.endsWith('}') ||
    keys.length !== 3 ||
    descr === undefined ||
    fortran === undefined ||
    shapeText === undefined
  ) {
    return fail('the .npy header is not the dict numpy writes (descr, fortran_order, shape)');
  }
  const shape = shapeText
    .split(',')
    .map((s) => s.trim().replace(/L$/, ''))
    .filter((s) => s.length > 0)
    .map((s) => {
      const v = Number(s);
      if (!Number.isSafeInteger(v)) fail(`.npy shape entry ${s} is absurd`);
      return v;
    });
  return { descr, fortranOrder: fortran === 'True', shape, dataOffset: start + headerLen };
}

/** The integer dtypes a cluster or index file may use, keyed by numpy descr. */
const INT_DESCR: Record<string, { code: 'i8' | 'i4' | 'u8' | 'u4'; byteOrder: '<' | '>' }> = {
  '<i8': { code: 'i8', byteOrder: '<' },
  '>i8': { code: 'i8', byteOrder: '>' },
  '<i4': { code: 'i4', byteOrder: '<' },
  '>i4': { code: 'i4', byteOrder: '>' },
  '<u8': { code: 'u8', byteOrder: '<' },
  '>u8': { code: 'u8', byteOrder: '>' },
  '<u4': { code: 'u4', byteOrder: '<' },
  '>u4': { code: 'u4', byteOrder: '>' },
};

export interface ReadClustersOptions {
  /** exclusive bound on member ids (rows of the level below), when known */
  readonly idLimit?: number;
  /** file name used in messages */
  readonly name?: string;
  readonly limits?: PickleLimits;
}

/**
 * Reads a `sorted_clusters.npy` into one Int32Array per cluster (members in file order).
 * Throws `PickleError` with the file name and the reason for anything else.
 */
export function readSortedClustersNpy(
  bytes: Uint8Array,
  options: ReadClustersOptions = {},
): Int32Array[] {
  const name = options.name ?? 'sorted_clusters.npy';
  const h = readNpyHeader(bytes, name);
  const payload = bytes.subarray(h.dataOffset);
  const limit = Math.min(options.idLimit ?? INT32_LIMIT, INT32_LIMIT);
  if (h.descr === '|O') {
    if (h.shape.length !== 1) {
      throw new PickleError(`${name}: object array of shape (${h.shape.join(', ')}), expected 1-D`);
    }
    try {
      return readPickledClusters(payload, {
        expectedClusters: h.shape[0],
        idLimit: limit,
        limits: options.limits,
      });
    } catch (e) {
      if (e instanceof PickleError) throw new PickleError(`${name}: ${e.message}`);
      throw e;
    }
  }
  const dtype = INT_DESCR[h.descr];
  if (!dtype) {
    throw new PickleError(
      `${name}: dtype ${h.descr} is neither an object array nor integers; expected the reference's pickled clusters`,
    );
  }
  if (h.shape.length !== 2 || h.fortranOrder) {
    throw new PickleError(
      `${name}: a plain integer cluster file must be a C-order 2-D array (clusters x members), got shape (${h.shape.join(', ')})`,
    );
  }
  const [k, m] = h.shape;
  const item = dtype.code.endsWith('8') ? 8 : 4;
  if (payload.length !== k * m * item) {
    throw new PickleError(
      `${name}: shape (${k}, ${m}) needs ${k * m * item} bytes of data, the file has ${payload.length}`,
    );
  }
  const out: Int32Array[] = [];
  for (let c = 0; c < k; c++) {
    out.push(
      toInt32(payload.subarray(c * m * item, (c + 1) * m * item), dtype, m, limit, (i, v) => {
        throw new PickleError(
          `${name}: cluster ${c} member ${i} is ${v}: ids must lie in [0, ${limit})`,
        );
      }),
    );
  }
  return out;
}

/**
 * Reads a 1-D integer .npy of row indices (a selection) into an Int32Array, checking every id
 * against [0, idLimit).
 */
export function readIndexNpy(
  bytes: Uint8Array,
  options: { idLimit?: number; name?: string } = {},
): Int32Array {
  const name = options.name ?? 'selection.npy';
  const h = readNpyHeader(bytes, name);
  const dtype = INT_DESCR[h.descr];
  if (!dtype) throw new PickleError(`${name}: dtype ${h.descr} is not an integer index array`);
  if (h.shape.length !== 1) {
    throw new PickleError(`${name}: shape (${h.shape.join(', ')}) is not 1-D`);
  }
  const n = h.shape[0];
  const item = dtype.code.endsWith('8') ? 8 : 4;
  const payload = bytes.subarray(h.dataOffset);
  if (payload.length !== n * item) {
    throw new PickleError(
      `${name}: ${n} indices need ${n * item} bytes, the file has ${payload.length}`,
    );
  }
  const limit = Math.min(options.idLimit ?? INT32_LIMIT, INT32_LIMIT);
  return toInt32(payload, dtype, n, limit, (i, v) => {
    throw new PickleError(`${name}: entry ${i} is ${v}: ids must lie in [0, ${limit})`);
  });
}

/**
 * A .npy header as numpy 1.x/2.x writes it: format 1.0, the dict padded with spaces and ended by
 * a newline so that the payload starts on a 64-byte boundary.
 */
export function encodeNpyHeader(
  descr: string,
  shape: readonly number[],
  fortranOrder = false,
): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': ${fortranOrder ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const unpadded = 10 + dict.length + 1;
  const total = Math.ceil(unpadded / 64) * 64;
  const headerLen = total - 10;
  if (headerLen > 0xffff) throw new RangeError('npy header too long for format 1.0');
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = headerLen & 0xff;
  out[9] = headerLen >> 8;
  for (let i = 0; i < dict.length; i++) out[10 + i] = dict.charCodeAt(i);
  out.fill(0x20, 10 + dict.length, total - 1);
  out[total - 1] = 0x0a;
  return out;
}

/** A growable byte sink for the pickle writer. */
class ByteSink {
  private buf = new Uint8Array(1024);
  length = 0;
  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  byte(...bs: number[]): void {
    this.reserve(bs.length);
    for (const b of bs) this.buf[this.length++] = b;
  }
  u32(v: number): void {
    this.byte(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }
  ascii(s: string): void {
    this.reserve(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.length++] = s.charCodeAt(i);
  }
  raw(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }
  /** the written bytes (a view; copy before writing more) */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
  int(v: number): void {
    if (v >= 0 && v < 0x100)
      this.byte(0x4b, v); // BININT1
    else if (v >= 0 && v < 0x10000)
      this.byte(0x4d, v & 0xff, v >> 8); // BININT2
    else if (v >= -0x80000000 && v < 0x80000000) {
      this.byte(0x4a); // BININT
      this.u32(v >>> 0);
    } else throw new RangeError(`integer ${v} is outside the 32-bit range this writer emits`);
  }
  unicode(s: string): void {
    this.byte(0x58); // BINUNICODE (ASCII-only strings here)
    this.u32(s.length);
    this.ascii(s);
  }
  /** SHORT_BINBYTES or BINBYTES header for n payload bytes */
  bytesHeader(n: number): void {
    if (n < 0x100) this.byte(0x43, n);
    else {
      this.byte(0x42);
      this.u32(n);
    }
  }
}

// Opcodes used by the writer.
const PROTO = 0x80;
const GLOBAL = 0x63;
const BINPUT = 0x71;
const BINGET = 0x68;
const TUPLE1 = 0x85;
const TUPLE3 = 0x87;
const REDUCE = 0x52;
const MARK = 0x28;
const TUPLE = 0x74;
const BUILD = 0x62;
const NEWFALSE = 0x89;
const NEWTRUE = 0x88;
const NONE = 0x4e;
const EMPTY_LIST = 0x5d;
const APPENDS = 0x65;
const STOP = 0x2e;
/** CPython's pickler appends list items in batches of 1000; numpy's files follow it. */
const APPEND_BATCH = 1000;

/** Memo slots the writer reuses: the two globals, the typecode, and the two dtypes. */
const MEMO_RECONSTRUCT = 0;
const MEMO_NDARRAY = 1;
const MEMO_TYPECODE = 2;
const MEMO_DTYPE_GLOBAL = 3;
const MEMO_INT64 = 4;

function writeDtype(s: ByteSink, code: string, order: '|' | '<', flags: number): void {
  s.byte(BINGET, MEMO_DTYPE_GLOBAL);
  writeDtypeArgs(s, code, order, flags);
}

/** numpy.dtype(code, False, True) with its BUILD state; the callable is already on the stack. */
function writeDtypeArgs(s: ByteSink, code: string, order: '|' | '<', flags: number): void {
  s.unicode(code);
  s.byte(NEWFALSE, NEWTRUE, TUPLE3, REDUCE, MARK);
  s.int(3);
  s.unicode(order);
  s.byte(NONE, NONE, NONE);
  s.int(-1);
  s.int(-1);
  s.int(flags);
  s.byte(TUPLE, BUILD);
}

function writeEmptyArray(s: ByteSink): void {
  // _reconstruct(numpy.ndarray, (0,), b'b')
  s.byte(BINGET, MEMO_RECONSTRUCT, BINGET, MEMO_NDARRAY);
  s.int(0);
  s.byte(TUPLE1, BINGET, MEMO_TYPECODE, TUPLE3, REDUCE);
}

/**
 * Encodes clusters as the reference's `sorted_clusters.npy`: a 1-D object array of int64 arrays,
 * pickled with protocol 3 as `np.save(..., allow_pickle=True)` does. Members are written in the
 * order given (closest first, by the layout's convention).
 */
export function encodeSortedClustersNpy(clusters: readonly ArrayLike<number>[]): Uint8Array {
  const s = new ByteSink();
  s.byte(PROTO, 3);
  s.byte(GLOBAL);
  s.ascii('numpy.core.multiarray\n_reconstruct\n');
  s.byte(BINPUT, MEMO_RECONSTRUCT, GLOBAL);
  s.ascii('numpy\nndarray\n');
  s.byte(BINPUT, MEMO_NDARRAY);
  s.int(0);
  s.byte(TUPLE1, 0x43, 1, 0x62, BINPUT, MEMO_TYPECODE, TUPLE3, REDUCE);
  // state of the outer array: (1, (k,), dtype('O'), False, [elements])
  s.byte(MARK);
  s.int(1);
  s.int(clusters.length);
  s.byte(TUPLE1, GLOBAL);
  s.ascii('numpy\ndtype\n');
  s.byte(BINPUT, MEMO_DTYPE_GLOBAL);
  // dtype('O'): numpy pickles it as ('O8', False, True) with byte order '|' and flags 63
  writeDtypeArgs(s, 'O8', '|', 63);
  s.byte(NEWFALSE, EMPTY_LIST);
  let int64Written = false;
  for (let start = 0; start < clusters.length; start += APPEND_BATCH) {
    s.byte(MARK);
    for (let c = start; c < Math.min(clusters.length, start + APPEND_BATCH); c++) {
      const members = clusters[c];
      writeEmptyArray(s);
      s.byte(MARK);
      s.int(1);
      s.int(members.length);
      s.byte(TUPLE1);
      if (int64Written) s.byte(BINGET, MEMO_INT64);
      else {
        writeDtype(s, 'i8', '<', 0);
        s.byte(BINPUT, MEMO_INT64);
        int64Written = true;
      }
      s.byte(NEWFALSE);
      const n = members.length;
      s.bytesHeader(n * 8);
      const data = new Uint8Array(n * 8);
      const view = new DataView(data.buffer);
      for (let i = 0; i < n; i++) {
        const v = members[i];
        if (!Number.isSafeInteger(v))
          throw new RangeError(`cluster ${c} member ${i} is not an integer`);
        view.setBigInt64(i * 8, BigInt(v), true);
      }
      s.raw(data);
      s.byte(TUPLE, BUILD);
    }
    s.byte(APPENDS);
  }
  s.byte(TUPLE, BUILD, STOP);
  const header = encodeNpyHeader('|O', [clusters.length]);
  const out = new Uint8Array(header.length + s.length);
  out.set(header, 0);
  out.set(s.bytes(), header.length);
  return out;
}

/** A 1-D int64 .npy of row indices (the reference's selection format). */
export function encodeIndexNpy(ids: ArrayLike<number>): Uint8Array {
  const header = encodeNpyHeader('<i8', [ids.length]);
  const out = new Uint8Array(header.length + ids.length * 8);
  out.set(header, 0);
  const view = new DataView(out.buffer, header.length);
  for (let i = 0; i < ids.length; i++) view.setBigInt64(i * 8, BigInt(ids[i]), true);
  return out;
}
