/**
 * Walking what a person hands over (dropped entries, a folder input's FileList, a directory
 * handle, or files with explicit paths) into one flat list of candidate files with their
 * relative paths, every folder seen, and every file or folder left out with its reason.
 */
import { fileSkipReason, folderSkipReason, type ExtensionFilter } from './filters';
import type { SkippedFile } from '../store/schema';

export interface FoundFile {
  /** relative path including the dropped/picked root folder, '/' separated */
  path: string;
  file: File;
}

export interface WalkResult {
  files: FoundFile[];
  skipped: SkippedFile[];
  /** every folder walked (relative paths, root included), for empty-folder reports */
  folders: string[];
}

export function emptyWalk(): WalkResult {
  return { files: [], skipped: [], folders: [] };
}

function join(parent: string, name: string): string {
  return parent ? `${parent}/${name}` : name;
}

/** Take or skip one file (by name, extension and size). */
function consider(out: WalkResult, path: string, file: File, filter: ExtensionFilter): void {
  const reason = fileSkipReason(file.name, file.size, filter);
  if (reason) out.skipped.push({ path, reason });
  else out.files.push({ path, file });
}

/* ------------------------------ dropped entries ------------------------------ */

function readBatch(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

function entryFile(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

/**
 * All entries of a directory. readEntries hands out at most 100 entries per call in Chromium,
 * so it is called again until it returns an empty batch.
 */
export async function readAllEntries(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  for (;;) {
    const batch = await readBatch(reader);
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

function isDirectory(e: FileSystemEntry): e is FileSystemDirectoryEntry {
  return e.isDirectory;
}

function isFile(e: FileSystemEntry): e is FileSystemFileEntry {
  return e.isFile;
}

/** Walk dropped entries (from DataTransferItem.webkitGetAsEntry) depth first. */
export async function walkEntries(
  entries: readonly FileSystemEntry[],
  filter: ExtensionFilter,
  signal?: AbortSignal,
): Promise<WalkResult> {
  const out = emptyWalk();
  const visit = async (entry: FileSystemEntry, parent: string): Promise<void> => {
    signal?.throwIfAborted();
    const path = join(parent, entry.name);
    if (isDirectory(entry)) {
      const why = folderSkipReason(entry.name);
      if (why) {
        out.skipped.push({ path: path + '/', reason: why });
        return;
      }
      out.folders.push(path);
      let children: FileSystemEntry[];
      try {
        children = await readAllEntries(entry);
      } catch (e) {
        out.skipped.push({ path: path + '/', reason: `folder could not be read (${errText(e)})` });
        return;
      }
      children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const c of children) await visit(c, path);
    } else if (isFile(entry)) {
      let file: File;
      try {
        file = await entryFile(entry);
      } catch (e) {
        out.skipped.push({ path, reason: `file could not be read (${errText(e)})` });
        return;
      }
      consider(out, path, file, filter);
    }
  };
  for (const e of entries) await visit(e, '');
  return out;
}

/* ------------------------------ FileList / explicit paths ------------------------------ */

/**
 * Files with relative paths (a webkitdirectory FileList uses webkitRelativePath; loose files
 * their name). Hidden and junk folders anywhere in a path are skipped with their files.
 */
export function walkFiles(
  files: readonly File[],
  paths: readonly string[] | null,
  filter: ExtensionFilter,
): WalkResult {
  const out = emptyWalk();
  const folders = new Set<string>();
  const skippedFolders = new Set<string>();
  files.forEach((file, i) => {
    const raw = paths ? paths[i] : file.webkitRelativePath || file.name;
    const parts = raw.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
    const path = parts.join('/');
    // A picked folder's files never say '..'; a path that does would name a file outside it.
    if (parts.includes('..')) {
      out.skipped.push({
        path,
        reason: "its path leads out of the folder ('..'), so it was not read",
      });
      return;
    }
    for (let d = 1; d < parts.length; d++) {
      const folder = parts.slice(0, d).join('/');
      const why = folderSkipReason(parts[d - 1]);
      if (why) {
        if (!skippedFolders.has(folder)) {
          skippedFolders.add(folder);
          out.skipped.push({ path: folder + '/', reason: why });
        }
        return;
      }
      folders.add(folder);
    }
    consider(out, path, file, filter);
  });
  out.folders = [...folders];
  return out;
}

/* ------------------------------ directory handles ------------------------------ */

/** Walk a directory handle (showDirectoryPicker) depth first; the root's name starts every path. */
export async function walkHandle(
  root: FileSystemDirectoryHandle,
  filter: ExtensionFilter,
  signal?: AbortSignal,
): Promise<WalkResult> {
  const out = emptyWalk();
  const visit = async (dir: FileSystemDirectoryHandle, path: string): Promise<void> => {
    out.folders.push(path);
    const children: (FileSystemDirectoryHandle | FileSystemFileHandle)[] = [];
    try {
      for await (const h of dir.values()) children.push(h);
    } catch (e) {
      out.skipped.push({ path: path + '/', reason: `folder could not be read (${errText(e)})` });
      return;
    }
    children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const h of children) {
      signal?.throwIfAborted();
      const p = join(path, h.name);
      if (h.kind === 'directory') {
        const why = folderSkipReason(h.name);
        if (why) out.skipped.push({ path: p + '/', reason: why });
        else await visit(h as FileSystemDirectoryHandle, p);
      } else {
        let file: File;
        try {
          file = await (h as FileSystemFileHandle).getFile();
        } catch (e) {
          out.skipped.push({ path: p, reason: `file could not be read (${errText(e)})` });
          continue;
        }
        consider(out, p, file, filter);
      }
    }
  };
  await visit(root, root.name);
  return out;
}

export function errText(e: unknown): string {
  if (e instanceof Error || e instanceof DOMException) return e.message || e.name;
  return String(e);
}
