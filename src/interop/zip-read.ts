/**
 * A restricted zip reader for a zipped reference output folder, browser-safe (Blob and the
 * platform's DecompressionStream; no library): the central directory is read first, every entry
 * is checked against limits and path rules before any byte of it is inflated, and an entry is
 * inflated only when it is read, with its output stopped at the size the directory declared.
 *
 * Accepted: stored and deflated entries, ZIP64 sizes and offsets, UTF-8 or plain names.
 * Skipped with a reason: other compression methods, encrypted entries, names that climb out of
 * the folder ('..', a leading '/', a drive letter). Symbolic links stored as links (zip -y) are
 * followed when they lead to another file of the archive and refused when they lead outside.
 */
import { InputError } from '../core/errors.ts';
import type { ReferenceSource } from './import.ts';

export interface ZipLimits {
  /** entries in the central directory */
  readonly maxEntries: number;
  /** uncompressed bytes of one entry */
  readonly maxEntryBytes: number;
}

/**
 * A reference run folder holds a few files per level and step plus the curated sets: 100k
 * entries is far above that and still a small directory to hold. 4 GiB per entry covers a
 * level-1 sorted_clusters.npy of 500M rows (8 bytes a row), beyond what a tab can hold anyway.
 */
export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxEntries: 100_000,
  maxEntryBytes: 2 ** 32,
};

export interface ZipEntryInfo {
  /** '/'-separated path inside the archive */
  readonly path: string;
  readonly size: number;
  read(): Promise<Uint8Array>;
}

export interface ZipListing {
  readonly entries: ZipEntryInfo[];
  /** entries left out, one sentence each */
  readonly skipped: string[];
}

const EOCD = 0x06054b50;
const EOCD64_LOCATOR = 0x07064b50;
const EOCD64 = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

async function bytesAt(blob: Blob, start: number, end: number): Promise<DataView> {
  const buf = await blob.slice(start, end).arrayBuffer();
  return new DataView(buf);
}

function u64(v: DataView, at: number): number {
  const n = v.getBigUint64(at, true);
  if (n > BigInt(Number.MAX_SAFE_INTEGER))
    throw new InputError('the zip declares an impossible size');
  return Number(n);
}

function decodeName(bytes: Uint8Array, utf8: boolean): string {
  if (utf8) return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  // Not flagged UTF-8: zip's old code page. ASCII names (the reference's) read the same.
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

/** The path segments of an entry name, or null when it would land outside the folder. */
function safePath(name: string): string[] | null {
  const parts = name.replace(/\\/g, '/').split('/');
  if (parts[0] === '' || /^[a-zA-Z]:$/.test(parts[0])) return null;
  const out: string[] = [];
  for (const p of parts) {
    if (p === '' || p === '.') continue;
    if (p === '..') return null;
    out.push(p);
  }
  return out;
}

/** Inflates (or copies) an entry's data, refusing more or fewer bytes than declared. */
async function inflate(
  blob: Blob,
  method: number,
  dataStart: number,
  compressed: number,
  size: number,
  path: string,
): Promise<Uint8Array> {
  const raw = blob.slice(dataStart, dataStart + compressed);
  if (method === 0) {
    if (compressed !== size) throw new InputError(`${path}: a stored entry with two sizes`);
    return new Uint8Array(await raw.arrayBuffer());
  }
  const out = new Uint8Array(size);
  let w = 0;
  const reader = raw.stream().pipeThrough(new DecompressionStream('deflate-raw')).getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (w + value.length > size) {
        throw new InputError(`${path}: inflates to more than the ${size} bytes its entry declares`);
      }
      out.set(value, w);
      w += value.length;
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${path}: the compressed data is damaged (${(e as Error).message})`);
  } finally {
    reader.releaseLock();
  }
  if (w !== size)
    throw new InputError(`${path}: inflates to ${w} bytes, its entry declares ${size}`);
  return out;
}

/** Lists a zip's files. InputError when it is not a zip or its directory breaks a limit. */
export async function listZip(
  blob: Blob,
  limits: ZipLimits = DEFAULT_ZIP_LIMITS,
): Promise<ZipListing> {
  // The end record sits in the last 22 bytes plus a comment of at most 65535 bytes.
  const tailStart = Math.max(0, blob.size - 22 - 0xffff);
  const tail = await bytesAt(blob, tailStart, blob.size);
  let eocd = -1;
  for (let i = tail.byteLength - 22; i >= 0; i--) {
    if (tail.getUint32(i, true) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new InputError('this is not a zip file (no end of central directory)');
  let count = tail.getUint16(eocd + 10, true);
  let dirSize = tail.getUint32(eocd + 12, true);
  let dirStart = tail.getUint32(eocd + 16, true);
  if (count === 0xffff || dirSize === 0xffffffff || dirStart === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || tail.getUint32(loc, true) !== EOCD64_LOCATOR) {
      throw new InputError('the zip announces ZIP64 sizes but has no ZIP64 record');
    }
    const at = u64(tail, loc + 8);
    const rec = await bytesAt(blob, at, at + 56);
    if (rec.byteLength < 56 || rec.getUint32(0, true) !== EOCD64) {
      throw new InputError('the ZIP64 end record is damaged');
    }
    count = u64(rec, 32);
    dirSize = u64(rec, 40);
    dirStart = u64(rec, 48);
  }
  if (count > limits.maxEntries) {
    throw new InputError(
      `the zip holds ${count} entries, more than the ${limits.maxEntries} accepted`,
    );
  }
  if (dirStart + dirSize > blob.size) throw new InputError('the zip is cut short');
  const dir = await bytesAt(blob, dirStart, dirStart + dirSize);

  interface Raw {
    path: string;
    method: number;
    compressed: number;
    size: number;
    offset: number;
    link: boolean;
  }
  const raws: Raw[] = [];
  const skipped: string[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > dir.byteLength || dir.getUint32(p, true) !== CENTRAL) {
      throw new InputError('the zip central directory is damaged');
    }
    const madeBy = dir.getUint16(p + 4, true) >> 8;
    const flags = dir.getUint16(p + 8, true);
    const method = dir.getUint16(p + 10, true);
    let compressed = dir.getUint32(p + 20, true);
    let size = dir.getUint32(p + 24, true);
    const nameLen = dir.getUint16(p + 28, true);
    const extraLen = dir.getUint16(p + 30, true);
    const commentLen = dir.getUint16(p + 32, true);
    const external = dir.getUint32(p + 38, true);
    let offset = dir.getUint32(p + 42, true);
    const nameBytes = new Uint8Array(dir.buffer, dir.byteOffset + p + 46, nameLen);
    const name = decodeName(nameBytes, (flags & 0x800) !== 0);
    // ZIP64 extra field: the 64-bit values of the fields that read 0xffffffff, in order.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = dir.getUint16(e, true);
      const len = dir.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff) {
          size = u64(dir, q);
          q += 8;
        }
        if (compressed === 0xffffffff) {
          compressed = u64(dir, q);
          q += 8;
        }
        if (offset === 0xffffffff) offset = u64(dir, q);
      }
      e += 4 + len;
    }
    p = extraEnd + commentLen;
    if (name.endsWith('/')) continue; // a folder
    const parts = safePath(name);
    if (!parts || parts.length === 0) {
      skipped.push(`${name}: its path leads outside the folder; skipped`);
      continue;
    }
    const path = parts.join('/');
    if (flags & 0x1) {
      skipped.push(`${path}: encrypted; skipped`);
      continue;
    }
    if (method !== 0 && method !== 8) {
      skipped.push(`${path}: compressed with method ${method}, which Strata cannot read; skipped`);
      continue;
    }
    if (size > limits.maxEntryBytes) {
      throw new InputError(
        `${path}: ${size} bytes uncompressed, more than the ${limits.maxEntryBytes} accepted`,
      );
    }
    const link = madeBy === 3 && ((external >>> 16) & S_IFMT) === S_IFLNK;
    raws.push({ path, method, compressed, size, offset, link });
  }

  const readRaw = async (r: Raw): Promise<Uint8Array> => {
    const head = await bytesAt(blob, r.offset, r.offset + 30);
    if (head.byteLength < 30 || head.getUint32(0, true) !== LOCAL) {
      throw new InputError(`${r.path}: its entry in the zip is damaged`);
    }
    const start = r.offset + 30 + head.getUint16(26, true) + head.getUint16(28, true);
    return inflate(blob, r.method, start, r.compressed, r.size, r.path);
  };

  const byPath = new Map(raws.filter((r) => !r.link).map((r) => [r.path, r]));
  const entries: ZipEntryInfo[] = [];
  for (const r of raws) {
    if (!r.link) {
      entries.push({ path: r.path, size: r.size, read: () => readRaw(r) });
      continue;
    }
    // A link's content is its target, relative to the link's folder.
    if (r.size > 4096) throw new InputError(`${r.path}: a link with a ${r.size}-byte target`);
    const target = new TextDecoder().decode(await readRaw(r));
    const base = r.path.split('/').slice(0, -1).join('/');
    // Resolved by hand (safePath refuses '..'): a link such as ../level1/step0/x stays inside.
    const stack: string[] = [];
    let outside = target.startsWith('/');
    for (const seg of `${base}/${target}`.split('/')) {
      if (seg === '' || seg === '.') continue;
      if (seg === '..') {
        if (stack.length === 0) outside = true;
        else stack.pop();
      } else stack.push(seg);
    }
    const to = byPath.get(stack.join('/'));
    if (outside || !to) {
      throw new InputError(
        `${r.path} links ${outside ? 'outside the folder' : 'to a file that is not in the zip'} (to ${target}); refusing to follow it`,
      );
    }
    entries.push({ path: r.path, size: to.size, read: () => readRaw(to) });
  }
  return { entries, skipped };
}

/** A zipped reference output folder as a ReferenceSource (its links were resolved here). */
export async function sourceFromZip(
  blob: Blob,
  limits: ZipLimits = DEFAULT_ZIP_LIMITS,
): Promise<ReferenceSource & { readonly skipped: readonly string[] }> {
  const { entries, skipped } = await listZip(blob, limits);
  const byPath = new Map(entries.map((e) => [e.path, e]));
  return {
    paths: [...byPath.keys()],
    linksChecked: true,
    skipped,
    async read(path) {
      const e = byPath.get(path);
      if (!e) throw new InputError(`${path} is missing`);
      return e.read();
    },
  };
}
