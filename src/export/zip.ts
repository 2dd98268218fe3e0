/**
 * A zip of the selected files, streamed: client-zip pulls one file at a time from an async
 * generator that reads it (from IndexedDB, or from the dataset's folder), so the archive is
 * never held in memory whole. A file that cannot be read is left out and listed, with why, in
 * a last entry, so one gone file does not lose the export of the rest.
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
  /** read when the archive reaches this entry; `missing` says why there is no file */
  open: () => Promise<Blob | { readonly missing: string }>;
}

/** The entry that lists the files left out of an export, one "path: reason" a line. */
export const MISSING_NAME = 'missing-files.txt';

export function missingText(missing: readonly { name: string; reason: string }[]): string {
  const lines = missing.map((m) => `${m.name}: ${m.reason}`);
  return `${missing.length} selected file${missing.length === 1 ? ' was' : 's were'} left out:\n${lines.join('\n')}\n`;
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
    const missing: { name: string; reason: string }[] = [];
    onProgress?.({ done, total, bytes });
    for (const e of entries) {
      signal?.throwIfAborted();
      const blob = await e.open();
      if (!(blob instanceof Blob)) {
        missing.push({ name: e.name, reason: blob.missing });
        onProgress?.({ done: ++done, total, bytes });
        continue;
      }
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
    if (missing.length > 0) {
      yield { name: MISSING_NAME, input: missingText(missing), lastModified: new Date() };
    }
  }
  return makeZip(files(), { buffersAreUTF8: true });
}
