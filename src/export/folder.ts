/**
 * Writing the selected files into a folder the person picked (File System Access API), keeping
 * their relative paths. Each file is streamed to disk, never read whole; one that cannot be read
 * is left out and listed in missing-files.txt, as in a zip.
 */
import { safeSegments } from './manifest';
import { MISSING_NAME, missingText, type ExportProgress, type ZipEntry } from './zip';

async function dirFor(
  root: FileSystemDirectoryHandle,
  parts: readonly string[],
  cache: Map<string, FileSystemDirectoryHandle>,
): Promise<FileSystemDirectoryHandle> {
  let dir = root;
  let key = '';
  for (const p of parts) {
    key += '/' + p;
    let next = cache.get(key);
    if (!next) {
      next = await dir.getDirectoryHandle(p, { create: true });
      cache.set(key, next);
    }
    dir = next;
  }
  return dir;
}

async function writeOne(dir: FileSystemDirectoryHandle, name: string, data: Blob): Promise<void> {
  const handle = await dir.getFileHandle(name, { create: true });
  const writable = await handle.createWritable();
  // pipeTo closes the writable when the blob's stream ends (and aborts it on error).
  await data.stream().pipeTo(writable);
}

export async function writeFilesToFolder(
  root: FileSystemDirectoryHandle,
  entries: readonly ZipEntry[],
  extra: readonly { name: string; data: string }[],
  onProgress?: (p: ExportProgress) => void,
  signal?: AbortSignal,
): Promise<void> {
  const cache = new Map<string, FileSystemDirectoryHandle>();
  for (const x of extra) await writeOne(root, x.name, new Blob([x.data]));
  const total = entries.length;
  let bytes = 0;
  const missing: { name: string; reason: string }[] = [];
  onProgress?.({ done: 0, total, bytes });
  for (let i = 0; i < total; i++) {
    signal?.throwIfAborted();
    const e = entries[i];
    const parts = safeSegments(e.name);
    if (parts.length === 0) throw new Error(`cannot write a file with the path "${e.name}"`);
    const dir = await dirFor(root, parts.slice(0, -1), cache);
    const blob = await e.open();
    if (blob instanceof Blob) {
      await writeOne(dir, parts[parts.length - 1], blob);
      bytes += blob.size;
    } else missing.push({ name: e.name, reason: blob.missing });
    onProgress?.({ done: i + 1, total, bytes });
  }
  if (missing.length > 0) await writeOne(root, MISSING_NAME, new Blob([missingText(missing)]));
}
