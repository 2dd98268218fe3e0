/**
 * A zip of the selected files, streamed: client-zip pulls one file at a time from an async
 * generator that reads it from IndexedDB, so the archive is never held in memory whole.
 */
import { makeZip } from 'client-zip';

/** Progress of a zip or folder export. */
export interface ExportProgress {
  readonly done: number;
  readonly total: number;
  readonly bytes: number;
}

export interface ZipEntry {
  /** path inside the archive */
  name: string;
  lastModified: number;
  size: number;
  /** read when the archive reaches this entry */
  open: () => Promise<Blob>;
}

export function zipStream(
  entries: readonly ZipEntry[],
  extra: readonly { name: string; data: string }[],
  onProgress?: (p: ExportProgress) => void,
  signal?: AbortSignal,
): ReadableStream<Uint8Array> {
  const total = entries.length;
  async function* files() {
    for (const x of extra) {
      yield { name: x.name, input: x.data, lastModified: new Date() };
    }
    let done = 0;
    let bytes = 0;
    onProgress?.({ done, total, bytes });
    for (const e of entries) {
      signal?.throwIfAborted();
      const blob = await e.open();
      yield {
        name: e.name,
        lastModified: new Date(e.lastModified),
        size: blob.size,
        input: blob.stream(),
      };
      done++;
      bytes += blob.size;
      onProgress?.({ done, total, bytes });
    }
  }
  return makeZip(files(), { buffersAreUTF8: true });
}
