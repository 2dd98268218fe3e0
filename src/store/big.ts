/**
 * Big typed arrays (centroids, labels, member lists) are split over several 'chunks' records so
 * that no single put clones tens of megabytes in one go (a long task on the main thread) and
 * the records stay under what every browser's IndexedDB accepts comfortably.
 */
import type { ArrayKind, BigRef, ChunkRecord } from './schema';

/**
 * Elements per chunk: 1 Mi elements = 4 MiB of float32. The synchronous part of a 4 MiB put
 * (the structured clone) took 7-19 ms in Chromium here (2 busy cores, load ~10), under the
 * 50 ms long-task line, while a 10k x 1792 level-1 centroid matrix stays at ~18 records.
 */
export const CHUNK_ELEMENTS = 1 << 20;

export type BigArray = Float32Array | Int32Array | Uint8Array;

export function kindOf(a: BigArray): ArrayKind {
  if (a instanceof Float32Array) return 'f32';
  if (a instanceof Int32Array) return 'i32';
  return 'u8';
}

export function allocate(kind: ArrayKind, length: number): BigArray {
  if (kind === 'f32') return new Float32Array(length);
  if (kind === 'i32') return new Int32Array(length);
  return new Uint8Array(length);
}

/** Split `a` into the records to store under `key` and the reference that finds them again. */
export function split(
  key: string,
  a: BigArray,
  chunk = CHUNK_ELEMENTS,
): {
  ref: BigRef;
  records: ChunkRecord[];
} {
  const records: ChunkRecord[] = [];
  for (let off = 0, part = 0; off < a.length || part === 0; off += chunk, part++) {
    // slice (a copy) so the stored record does not keep the whole source buffer alive
    records.push({ key, part, data: a.slice(off, Math.min(a.length, off + chunk)) });
    if (a.length === 0) break;
  }
  return { ref: { key, kind: kindOf(a), length: a.length, parts: records.length }, records };
}

/** Reassemble the parts of `ref`; throws when a part is missing (a damaged database). */
export function join(ref: BigRef, parts: readonly (ChunkRecord | undefined)[]): BigArray {
  const out = allocate(ref.kind, ref.length);
  let off = 0;
  for (let p = 0; p < ref.parts; p++) {
    const rec = parts[p];
    if (!rec) throw new Error(`stored array ${ref.key} is missing part ${p} of ${ref.parts}`);
    out.set(rec.data, off);
    off += rec.data.length;
  }
  if (off !== ref.length) {
    throw new Error(`stored array ${ref.key} has ${off} elements, expected ${ref.length}`);
  }
  return out;
}
