/**
 * A restricted pickle reader for exactly one structure: what `np.save(path, arr, allow_pickle=True)`
 * writes for a 1-D numpy object array whose elements are 1-D integer arrays. That is the layout of
 * the reference pipeline's `level{t}/sorted_clusters.npy` (the members of every cluster, closest
 * to its centroid first).
 *
 * Pickle is a program for a stack machine, and a normal unpickler runs whatever callables the
 * program names (`os.system` included). This reader is an *interpreter of a whitelist*: it knows
 * the opcodes numpy's pickles use (protocols 2 to 5, as CPython writes them) and five callables,
 * each of which it models itself instead of calling anything:
 *   numpy.core.multiarray._reconstruct / numpy._core.multiarray._reconstruct  -> empty ndarray
 *   numpy.ndarray                                                           -> only as its argument
 *   numpy.dtype                                                             -> integer or object dtype
 *   _codecs.encode(str, 'latin1') and bytes()                               -> bytes (protocol 2)
 *   numpy.core.numeric._frombuffer / numpy._core.numeric._frombuffer        -> ndarray (protocol 5)
 * Every other opcode or global, any shape that does not fit the data, any length beyond the bytes
 * left, and any structure other than "object array of integer arrays" ends in a `PickleError` that
 * names the problem and its byte offset. Nothing is executed; the worst a hostile file can do is be
 * rejected. Pure TypeScript: runs in Node, workers and pages.
 */

import { InputError } from '../core/errors.ts';

/**
 * A file that is not the pickled structure this module reads, with the reason. An InputError, so
 * the CLI prints it as one line and the page shows it as a message, not a crash.
 */
export class PickleError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'PickleError';
  }
}

/** Limits that keep a hostile file from exhausting memory before it is rejected. */
export interface PickleLimits {
  /** Largest number of entries on the stack (numpy batches list appends by 1000). */
  readonly maxStack: number;
  /** Largest MARK nesting depth (numpy's pickles nest 4 deep). */
  readonly maxMarks: number;
  /** Largest number of memo entries (numpy writes about 12 per cluster). */
  readonly maxMemo: number;
  /** Largest number of elements in one array (clusters, or members of one cluster). */
  readonly maxElements: number;
}

/**
 * Defaults sized for what a browser tab can curate (1-2 million points, so at most that many
 * clusters at level 1): 2^24 memo entries cover 1.4 M clusters at numpy's 12 entries per cluster.
 */
export const DEFAULT_PICKLE_LIMITS: PickleLimits = {
  maxStack: 1 << 20,
  maxMarks: 64,
  maxMemo: 1 << 24,
  maxElements: 1 << 28,
};

type Callable = 'reconstruct' | 'ndarray' | 'dtype' | 'codecs.encode' | 'bytes' | 'frombuffer';

interface PyGlobal {
  readonly kind: 'global';
  readonly fn: Callable;
}
interface PyTuple {
  readonly kind: 'tuple';
  readonly items: readonly PyValue[];
}
interface PyList {
  readonly kind: 'list';
  readonly items: PyValue[];
}
/** A numpy dtype made by `numpy.dtype(code, False, True)`, completed by BUILD with its byte order. */
export interface PyDtype {
  readonly kind: 'dtype';
  readonly code: DtypeCode;
  byteOrder: '<' | '>' | '|' | '=' | null;
}
/** A numpy array: made empty by `_reconstruct`, filled by BUILD (or whole by `_frombuffer`). */
export interface PyNdarray {
  readonly kind: 'ndarray';
  built: boolean;
  shape: number[];
  dtype: PyDtype | null;
  /** raw bytes for an integer dtype, the element list for the object dtype */
  data: Uint8Array | readonly PyValue[] | null;
}
type PyValue =
  null | boolean | number | string | Uint8Array | PyGlobal | PyTuple | PyList | PyDtype | PyNdarray;

/** The dtypes a cluster file may hold: the object dtype of the outer array, integers inside. */
type DtypeCode = 'O8' | 'i8' | 'i4' | 'u8' | 'u4';
const DTYPE_CODES: ReadonlySet<string> = new Set(['O8', 'i8', 'i4', 'u8', 'u4']);
const ITEM_SIZE: Record<DtypeCode, number> = { O8: 8, i8: 8, i4: 4, u8: 8, u4: 4 };

const GLOBALS: ReadonlyMap<string, Callable> = new Map([
  ['numpy.core.multiarray _reconstruct', 'reconstruct'],
  ['numpy._core.multiarray _reconstruct', 'reconstruct'],
  ['numpy ndarray', 'ndarray'],
  ['numpy dtype', 'dtype'],
  ['_codecs encode', 'codecs.encode'],
  ['__builtin__ bytes', 'bytes'],
  ['builtins bytes', 'bytes'],
  ['numpy.core.numeric _frombuffer', 'frombuffer'],
  ['numpy._core.numeric _frombuffer', 'frombuffer'],
]);

/** Names of opcodes this reader refuses, so the message says what was found. */
const REFUSED_NAMES: Record<number, string> = {
  0x30: 'POP',
  0x31: 'POP_MARK',
  0x32: 'DUP',
  0x46: 'FLOAT',
  0x47: 'BINFLOAT',
  0x49: 'INT',
  0x4c: 'LONG',
  0x50: 'PERSID',
  0x51: 'BINPERSID',
  0x53: 'STRING',
  0x54: 'BINSTRING',
  0x55: 'SHORT_BINSTRING',
  0x56: 'UNICODE',
  0x64: 'DICT',
  0x7d: 'EMPTY_DICT',
  0x67: 'GET',
  0x69: 'INST',
  0x6c: 'LIST',
  0x6f: 'OBJ',
  0x70: 'PUT',
  0x73: 'SETITEM',
  0x75: 'SETITEMS',
  0x81: 'NEWOBJ',
  0x82: 'EXT1',
  0x83: 'EXT2',
  0x84: 'EXT4',
  0x8b: 'LONG4',
  0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS',
  0x91: 'FROZENSET',
  0x92: 'NEWOBJ_EX',
  0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
};

const MARK = Symbol('mark');

/** Member ids become Int32Array entries: every id must lie below 2^31. */
export const INT32_LIMIT = 0x80000000;

class Reader {
  pos = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly view: DataView,
  ) {}

  fail(message: string, at = this.pos): never {
    throw new PickleError(`${message} (pickle byte ${at})`);
  }

  need(n: number, what: string): void {
    if (!Number.isSafeInteger(n) || n < 0 || n > this.bytes.length - this.pos) {
      this.fail(
        `${what} claims ${n} bytes but only ${this.bytes.length - this.pos} are left: the file is truncated or corrupt`,
      );
    }
  }
  u8(): number {
    this.need(1, 'opcode argument');
    return this.bytes[this.pos++];
  }
  u16(): number {
    this.need(2, 'opcode argument');
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4, 'opcode argument');
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  i32(): number {
    this.need(4, 'opcode argument');
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u64(what: string): number {
    this.need(8, 'opcode argument');
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} length ${v} is absurd`);
    return Number(v);
  }
  take(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  utf8(n: number, what: string): string {
    const raw = this.take(n, what);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      return this.fail(`${what} is not valid UTF-8`);
    }
  }
  /** A newline-terminated ASCII line, as GLOBAL's arguments are written. */
  line(): string {
    const max = Math.min(this.bytes.length, this.pos + 256);
    for (let i = this.pos; i < max; i++) {
      if (this.bytes[i] === 0x0a) {
        let s = '';
        for (let j = this.pos; j < i; j++) {
          const c = this.bytes[j];
          if (c < 0x20 || c > 0x7e) this.fail('GLOBAL name holds a non-printable byte');
          s += String.fromCharCode(c);
        }
        this.pos = i + 1;
        return s;
      }
    }
    return this.fail('GLOBAL name is unterminated or longer than 255 bytes');
  }
}

function describe(v: PyValue | typeof MARK): string {
  if (v === MARK) return 'a MARK';
  if (v === null) return 'None';
  if (typeof v === 'boolean') return 'a bool';
  if (typeof v === 'number') return 'an int';
  if (typeof v === 'string') return 'a str';
  if (v instanceof Uint8Array) return 'bytes';
  if (v.kind === 'ndarray') return v.dtype?.code === 'O8' ? 'an object array' : 'an array';
  return `a ${v.kind}`;
}

function isTuple(v: PyValue): v is PyTuple {
  return typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && v.kind === 'tuple';
}
function isDtype(v: PyValue): v is PyDtype {
  return typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && v.kind === 'dtype';
}
function isNdarray(v: PyValue): v is PyNdarray {
  return typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && v.kind === 'ndarray';
}
function isGlobal(v: PyValue, fn: Callable): boolean {
  return (
    typeof v === 'object' &&
    v !== null &&
    !(v instanceof Uint8Array) &&
    v.kind === 'global' &&
    v.fn === fn
  );
}

/**
 * Interprets a pickle stream restricted to numpy's array reconstruction and returns its single
 * result (an ndarray model). Throws `PickleError` on anything else.
 */
export function unpickleNumpy(
  bytes: Uint8Array,
  limits: PickleLimits = DEFAULT_PICKLE_LIMITS,
): PyNdarray {
  const r: Reader = new Reader(
    bytes,
    new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
  );
  const stack: (PyValue | typeof MARK)[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PyValue>();

  const push = (v: PyValue | typeof MARK): void => {
    if (stack.length >= limits.maxStack) r.fail(`stack grows past ${limits.maxStack} entries`);
    stack.push(v);
  };
  // Values above the innermost MARK; the MARK itself sits at marks[last].
  const floor = (): number => (marks.length ? marks[marks.length - 1] + 1 : 0);
  const pop = (what: string): PyValue => {
    if (stack.length <= floor()) r.fail(`${what} finds the stack empty`);
    const v = stack.pop() as PyValue | typeof MARK;
    if (v === MARK) r.fail(`${what} pops a MARK`);
    return v;
  };
  const top = (what: string): PyValue => {
    if (stack.length <= floor()) r.fail(`${what} finds the stack empty`);
    return stack[stack.length - 1] as PyValue;
  };
  const popMark = (what: string): PyValue[] => {
    const m = marks.pop();
    if (m === undefined) return r.fail(`${what} without a MARK`);
    const items = stack.splice(m) as (PyValue | typeof MARK)[];
    // items[0] is the MARK itself
    return items.slice(1) as PyValue[];
  };
  const put = (index: number): void => {
    if (!memo.has(index) && memo.size >= limits.maxMemo) {
      r.fail(`memo grows past ${limits.maxMemo} entries`);
    }
    memo.set(index, top('PUT'));
  };
  const get = (index: number): void => {
    const v = memo.get(index);
    if (v === undefined) r.fail(`GET of memo entry ${index}, which was never stored`);
    push(v);
  };
  const pushBytes = (data: Uint8Array): void => push(data);

  let sawProto = false;
  while (true) {
    const at = r.pos;
    if (at >= bytes.length) r.fail('pickle ends without STOP: the file is truncated');
    const op = bytes[r.pos++];
    switch (op) {
      case 0x80: {
        // PROTO
        const v = r.u8();
        if (sawProto || at !== 0) r.fail('PROTO after the start of the stream', at);
        if (v < 2 || v > 5) r.fail(`pickle protocol ${v} is not one numpy writes (2 to 5)`, at);
        sawProto = true;
        break;
      }
      case 0x95: // FRAME: a length hint; only its bounds matter here
        r.need(r.u64('FRAME'), 'FRAME');
        break;
      case 0x63: {
        // GLOBAL
        const name = `${r.line()} ${r.line()}`;
        const fn = GLOBALS.get(name);
        if (!fn)
          r.fail(
            `refusing global ${name.replace(' ', '.')}: only numpy array reconstruction is allowed`,
            at,
          );
        push({ kind: 'global', fn });
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const qual = pop('STACK_GLOBAL');
        const mod = pop('STACK_GLOBAL');
        if (typeof mod !== 'string' || typeof qual !== 'string') {
          r.fail('STACK_GLOBAL needs two strings', at);
        }
        const name = `${mod} ${qual}`;
        const fn = GLOBALS.get(name);
        if (!fn)
          r.fail(`refusing global ${mod}.${qual}: only numpy array reconstruction is allowed`, at);
        push({ kind: 'global', fn });
        break;
      }
      case 0x4b: // BININT1
        push(r.u8());
        break;
      case 0x4d: // BININT2
        push(r.u16());
        break;
      case 0x4a: // BININT
        push(r.i32());
        break;
      case 0x8a: {
        // LONG1: little-endian two's complement, at most 8 bytes here
        const n = r.u8();
        if (n > 8) r.fail(`LONG1 of ${n} bytes is an absurd integer`, at);
        const raw = r.take(n, 'LONG1');
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(raw[i]);
        if (n > 0 && raw[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
          r.fail(`integer ${v} is absurd`, at);
        }
        push(Number(v));
        break;
      }
      case 0x43: // SHORT_BINBYTES
        pushBytes(r.take(r.u8(), 'SHORT_BINBYTES'));
        break;
      case 0x42: // BINBYTES
        pushBytes(r.take(r.u32(), 'BINBYTES'));
        break;
      case 0x8e: // BINBYTES8
        pushBytes(r.take(r.u64('BINBYTES8'), 'BINBYTES8'));
        break;
      case 0x96: // BYTEARRAY8 (protocol 5, in-band buffer)
        pushBytes(r.take(r.u64('BYTEARRAY8'), 'BYTEARRAY8'));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(r.utf8(r.u8(), 'SHORT_BINUNICODE'));
        break;
      case 0x58: // BINUNICODE
        push(r.utf8(r.u32(), 'BINUNICODE'));
        break;
      case 0x8d: // BINUNICODE8
        push(r.utf8(r.u64('BINUNICODE8'), 'BINUNICODE8'));
        break;
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x29: // EMPTY_TUPLE
        push({ kind: 'tuple', items: [] });
        break;
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: {
        // TUPLE3
        const n = op - 0x84;
        const items: PyValue[] = [];
        for (let i = 0; i < n; i++) items.unshift(pop(`TUPLE${n}`));
        push({ kind: 'tuple', items });
        break;
      }
      case 0x74: // TUPLE
        push({ kind: 'tuple', items: popMark('TUPLE') });
        break;
      case 0x5d: // EMPTY_LIST
        push({ kind: 'list', items: [] });
        break;
      case 0x28: // MARK
        if (marks.length >= limits.maxMarks)
          r.fail(`MARKs nest deeper than ${limits.maxMarks}`, at);
        marks.push(stack.length);
        push(MARK);
        break;
      case 0x61: {
        // APPEND
        const v = pop('APPEND');
        const list = top('APPEND');
        if (
          typeof list !== 'object' ||
          list === null ||
          list instanceof Uint8Array ||
          list.kind !== 'list'
        ) {
          r.fail(`APPEND to ${describe(list)}, not a list`, at);
        }
        if (list.items.length >= limits.maxElements)
          r.fail('list grows past the element limit', at);
        list.items.push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark('APPENDS');
        const list = top('APPENDS');
        if (
          typeof list !== 'object' ||
          list === null ||
          list instanceof Uint8Array ||
          list.kind !== 'list'
        ) {
          r.fail(`APPENDS to ${describe(list)}, not a list`, at);
        }
        if (list.items.length + items.length > limits.maxElements) {
          r.fail('list grows past the element limit', at);
        }
        for (const v of items) list.items.push(v);
        break;
      }
      case 0x71: // BINPUT
        put(r.u8());
        break;
      case 0x72: // LONG_BINPUT
        put(r.u32());
        break;
      case 0x94: // MEMOIZE
        put(memo.size);
        break;
      case 0x68: // BINGET
        get(r.u8());
        break;
      case 0x6a: // LONG_BINGET
        get(r.u32());
        break;
      case 0x52: {
        // REDUCE
        const args = pop('REDUCE');
        const fn = pop('REDUCE');
        if (!isTuple(args)) r.fail(`REDUCE with ${describe(args)} as arguments`, at);
        push(reduce(r, fn, args.items, limits, at));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop('BUILD');
        build(r, top('BUILD'), state, limits, at);
        break;
      }
      case 0x2e: {
        // STOP
        if (marks.length) r.fail('STOP with an open MARK', at);
        if (stack.length !== 1) r.fail(`STOP with ${stack.length} values on the stack, not 1`, at);
        const result = stack[0] as PyValue;
        if (!isNdarray(result) || !result.built) {
          r.fail(`the pickle holds ${describe(result)}, not a numpy array`, at);
        }
        if (r.pos !== bytes.length) {
          r.fail(`${bytes.length - r.pos} bytes follow STOP`, r.pos);
        }
        return result;
      }
      default: {
        const name = REFUSED_NAMES[op];
        const label = name
          ? `${name} (0x${op.toString(16)})`
          : `0x${op.toString(16).padStart(2, '0')}`;
        r.fail(`pickle opcode ${label} is not allowed in a numpy cluster file`, at);
      }
    }
  }
}

function checkedShape(r: Reader, v: PyValue, limits: PickleLimits, at: number): number[] {
  if (!isTuple(v)) return r.fail(`array shape is ${describe(v)}, not a tuple`, at);
  if (v.items.length > 32) r.fail(`array has ${v.items.length} dimensions`, at);
  let count = 1;
  const shape: number[] = [];
  for (const d of v.items) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      r.fail(`array shape holds ${typeof d === 'number' ? d : describe(d)}, not a size`, at);
    }
    count *= d;
    if (count > limits.maxElements)
      r.fail(`array shape ${JSON.stringify(v.items)} is absurdly large`, at);
    shape.push(d);
  }
  return shape;
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function reduce(
  r: Reader,
  fn: PyValue,
  args: readonly PyValue[],
  limits: PickleLimits,
  at: number,
): PyValue {
  if (isGlobal(fn, 'reconstruct')) {
    // _reconstruct(numpy.ndarray, (0,), b'b'): an empty array that BUILD fills in.
    if (args.length !== 3 || !isGlobal(args[0], 'ndarray')) {
      r.fail('_reconstruct called with arguments other than (numpy.ndarray, shape, typecode)', at);
    }
    checkedShape(r, args[1], limits, at);
    if (!(args[2] instanceof Uint8Array) && typeof args[2] !== 'string') {
      r.fail('_reconstruct typecode is not bytes', at);
    }
    return { kind: 'ndarray', built: false, shape: [], dtype: null, data: null };
  }
  if (isGlobal(fn, 'dtype')) {
    const [code, align, copy] = args;
    if (
      args.length !== 3 ||
      typeof code !== 'string' ||
      typeof align !== 'boolean' ||
      typeof copy !== 'boolean'
    ) {
      r.fail('numpy.dtype called with arguments other than (str, bool, bool)', at);
    }
    if (!DTYPE_CODES.has(code)) {
      r.fail(
        `dtype '${code.slice(0, 16)}' is not allowed: cluster files hold object arrays of integer arrays`,
        at,
      );
    }
    return { kind: 'dtype', code: code as DtypeCode, byteOrder: null };
  }
  if (isGlobal(fn, 'codecs.encode')) {
    // Protocol 2 writes bytes as _codecs.encode(latin-1 text, 'latin1').
    const [text, encoding] = args;
    if (args.length !== 2 || typeof text !== 'string' || encoding !== 'latin1') {
      r.fail("_codecs.encode called with arguments other than (str, 'latin1')", at);
    }
    const out = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c > 0xff) r.fail('_codecs.encode text is not latin-1', at);
      out[i] = c;
    }
    return out;
  }
  if (isGlobal(fn, 'bytes')) {
    // Protocol 2 writes b'' as bytes().
    if (args.length !== 0) r.fail('bytes called with arguments', at);
    return new Uint8Array(0);
  }
  if (isGlobal(fn, 'frombuffer')) {
    // Protocol 5: _frombuffer(bytearray, dtype, shape, order).
    const [data, dtype, shapeArg, order] = args;
    if (
      args.length !== 4 ||
      !(data instanceof Uint8Array) ||
      !isDtype(dtype) ||
      (order !== 'C' && order !== 'F')
    ) {
      r.fail('_frombuffer called with arguments other than (bytes, dtype, shape, order)', at);
    }
    const shape = checkedShape(r, shapeArg, limits, at);
    return finishArray(r, shape, dtype, data, at);
  }
  return r.fail(`REDUCE calls ${describe(fn)} that is not allowed here`, at);
}

function finishArray(
  r: Reader,
  shape: number[],
  dtype: PyDtype,
  data: PyValue,
  at: number,
): PyNdarray {
  if (dtype.byteOrder === null) r.fail('array uses a dtype that was never completed by BUILD', at);
  const count = elementCount(shape);
  if (dtype.code === 'O8') {
    if (
      typeof data !== 'object' ||
      data === null ||
      data instanceof Uint8Array ||
      data.kind !== 'list'
    ) {
      r.fail(`object array data is ${describe(data)}, not a list`, at);
    }
    if (data.items.length !== count) {
      r.fail(`object array of shape (${shape.join(', ')}) holds ${data.items.length} elements`, at);
    }
    return { kind: 'ndarray', built: true, shape, dtype, data: data.items.slice() };
  }
  if (!(data instanceof Uint8Array))
    r.fail(`integer array data is ${describe(data)}, not bytes`, at);
  const expected = count * ITEM_SIZE[dtype.code];
  if (data.length !== expected) {
    r.fail(
      `integer array of shape (${shape.join(', ')}) and dtype ${dtype.code} needs ${expected} bytes, has ${data.length}`,
      at,
    );
  }
  return { kind: 'ndarray', built: true, shape, dtype, data };
}

function build(r: Reader, target: PyValue, state: PyValue, limits: PickleLimits, at: number): void {
  if (!isTuple(state)) r.fail(`BUILD with ${describe(state)} as state`, at);
  const s = state.items;
  if (isDtype(target)) {
    // dtype.__setstate__((version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata]))
    if (target.byteOrder !== null) r.fail('BUILD of a dtype twice', at);
    if ((s.length !== 8 && s.length !== 9) || (s[0] !== 3 && s[0] !== 4)) {
      r.fail("dtype state is not numpy's (version 3 or 4, 8 or 9 fields)", at);
    }
    const order = s[1];
    if (order !== '<' && order !== '>' && order !== '|' && order !== '=') {
      r.fail('dtype byte order is not one of < > | =', at);
    }
    if (s[2] !== null || s[3] !== null || s[4] !== null) {
      r.fail('dtype with sub-arrays or fields is not allowed here', at);
    }
    for (const v of s.slice(5)) {
      if (v !== null && typeof v !== 'number' && typeof v !== 'boolean') {
        r.fail('dtype state holds an unexpected value', at);
      }
    }
    target.byteOrder = order;
    return;
  }
  if (isNdarray(target)) {
    // ndarray.__setstate__(([version,] shape, dtype, is_fortran, data))
    if (target.built) r.fail('BUILD of an array twice', at);
    const fields = s.length === 5 ? s.slice(1) : s;
    if (fields.length !== 4 || (s.length === 5 && s[0] !== 1)) {
      r.fail("array state is not numpy's (version 1: shape, dtype, fortran flag, data)", at);
    }
    const [shapeArg, dtype, fortran, data] = fields;
    if (!isDtype(dtype)) return r.fail(`array dtype is ${describe(dtype)}`, at);
    if (typeof fortran !== 'boolean') r.fail('array fortran flag is not a bool', at);
    const shape = checkedShape(r, shapeArg, limits, at);
    const done = finishArray(r, shape, dtype, data, at);
    target.built = true;
    target.shape = done.shape;
    target.dtype = done.dtype;
    target.data = done.data;
    return;
  }
  r.fail(`BUILD on ${describe(target)}`, at);
}

/** What a cluster file's members may be at most, and how many clusters it must hold. */
export interface ClusterReadOptions {
  /** number of clusters the .npy header announced (the outer shape) */
  readonly expectedClusters: number;
  /** exclusive upper bound of a member id (rows of the level below), if known */
  readonly idLimit?: number;
  readonly limits?: PickleLimits;
}

/**
 * Reads the pickle payload of a `sorted_clusters.npy` into one Int32Array per cluster, members in
 * file order (closest first in the reference). Ids must be non-negative and below 2^31 (and below
 * `idLimit` when given).
 */
export function readPickledClusters(
  payload: Uint8Array,
  options: ClusterReadOptions,
): Int32Array[] {
  const arr = unpickleNumpy(payload, options.limits);
  const fail = (message: string): never => {
    throw new PickleError(message);
  };
  if (arr.dtype?.code !== 'O8' || !Array.isArray(arr.data)) {
    fail(`the pickled array has dtype ${arr.dtype?.code ?? '?'}, not object`);
  }
  if (arr.shape.length !== 1)
    fail(`the pickled array has shape (${arr.shape.join(', ')}), not 1-D`);
  if (arr.shape[0] !== options.expectedClusters) {
    fail(
      `the pickled array holds ${arr.shape[0]} clusters but the .npy header says ${options.expectedClusters}`,
    );
  }
  const limit = Math.min(options.idLimit ?? INT32_LIMIT, INT32_LIMIT);
  const elements = arr.data as readonly PyValue[];
  return elements.map((el, c) => {
    if (!isNdarray(el) || !el.built || !el.dtype || !(el.data instanceof Uint8Array)) {
      return fail(`cluster ${c} is ${describe(el)}, not an integer array`);
    }
    if (el.dtype.code === 'O8')
      return fail(`cluster ${c} is an object array, not an integer array`);
    if (el.shape.length !== 1)
      return fail(`cluster ${c} has shape (${el.shape.join(', ')}), not 1-D`);
    return toInt32(el.data, el.dtype, el.shape[0], limit, (i, v) =>
      fail(`cluster ${c} member ${i} is ${v}: ids must lie in [0, ${limit})`),
    );
  });
}

/** Integer array bytes -> Int32Array, checking every value against [0, limit). */
export function toInt32(
  data: Uint8Array,
  dtype: Pick<PyDtype, 'code' | 'byteOrder'>,
  n: number,
  limit: number,
  onBad: (index: number, value: string) => never,
): Int32Array {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const little = dtype.byteOrder !== '>';
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let v: number;
    switch (dtype.code) {
      case 'i8': {
        const lo = view.getUint32(i * 8 + (little ? 0 : 4), little);
        const hi = view.getInt32(i * 8 + (little ? 4 : 0), little);
        v = hi * 0x100000000 + lo;
        break;
      }
      case 'u8': {
        const lo = view.getUint32(i * 8 + (little ? 0 : 4), little);
        const hi = view.getUint32(i * 8 + (little ? 4 : 0), little);
        v = hi * 0x100000000 + lo;
        break;
      }
      case 'i4':
        v = view.getInt32(i * 4, little);
        break;
      case 'u4':
        v = view.getUint32(i * 4, little);
        break;
      default:
        return onBad(i, 'an object');
    }
    // hi * 2^32 + lo is exact for |v| < 2^53 and still far outside [0, limit) beyond it.
    if (v < 0 || v >= limit) onBad(i, String(v));
    out[i] = v;
  }
  return out;
}
