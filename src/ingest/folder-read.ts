/**
 * Reading the files of a folder the person opened, through its directory handle, by the relative
 * paths its walk stored: a dataset whose pictures stay in their folder is never copied into the
 * browser. Also the read permission of such a handle (the browser asks again after a reload).
 */
import { errText } from './walk';

/** Chromium's permission methods on handles; TypeScript's DOM library does not declare them. */
interface PermissionHandle {
  queryPermission?(d: { mode: 'read' }): Promise<PermissionState>;
  requestPermission?(d: { mode: 'read' }): Promise<PermissionState>;
}

/** 'ask': the browser will ask the person (only from a click); 'denied': it will not. */
export type FolderAccess = 'granted' | 'ask' | 'denied';

function toAccess(state: PermissionState | undefined): FolderAccess {
  // A browser without the permission methods reads its handles freely (there is nothing to ask).
  if (state === undefined || state === 'granted') return 'granted';
  return state === 'prompt' ? 'ask' : 'denied';
}

export async function folderAccess(handle: FileSystemDirectoryHandle): Promise<FolderAccess> {
  const h = handle as FileSystemDirectoryHandle & PermissionHandle;
  return toAccess(await h.queryPermission?.({ mode: 'read' }));
}

/** Ask for read access; shows the browser's prompt only when called during a click. */
export async function requestFolderAccess(
  handle: FileSystemDirectoryHandle,
): Promise<FolderAccess> {
  const h = handle as FileSystemDirectoryHandle & PermissionHandle;
  const now = toAccess(await h.queryPermission?.({ mode: 'read' }));
  if (now !== 'ask') return now;
  try {
    return toAccess(await h.requestPermission?.({ mode: 'read' }));
  } catch {
    // Without a click (no user activation) Chromium refuses to ask: the person still can.
    return 'ask';
  }
}

/** Whether the folder itself is still there (false: moved, renamed or deleted). */
export async function folderExists(handle: FileSystemDirectoryHandle): Promise<boolean> {
  try {
    await handle.keys().next();
    return true;
  } catch (e) {
    if (e instanceof DOMException && e.name === 'NotFoundError') return false;
    throw e;
  }
}

/** What reading one file gave: the file, or why it cannot be used, in words a person reads. */
export type FolderRead = { readonly file: File } | { readonly problem: string };

/** What the ingest recorded of a file, to tell a changed file from the one that was embedded. */
export interface Recorded {
  readonly size: number;
  readonly lastModified: number;
}

/** Reads files by relative path under one root, finding each sub-folder once. */
export class FolderReader {
  readonly #root: FileSystemDirectoryHandle;
  readonly #dirs = new Map<string, Promise<FileSystemDirectoryHandle>>();

  constructor(root: FileSystemDirectoryHandle) {
    this.#root = root;
  }

  #dir(parts: readonly string[]): Promise<FileSystemDirectoryHandle> {
    if (parts.length === 0) return Promise.resolve(this.#root);
    const key = parts.join('/');
    let d = this.#dirs.get(key);
    if (!d) {
      d = this.#dir(parts.slice(0, -1)).then((p) => p.getDirectoryHandle(parts[parts.length - 1]));
      // A failed lookup is not kept: the folder may come back before the next read.
      d.catch(() => this.#dirs.delete(key));
      this.#dirs.set(key, d);
    }
    return d;
  }

  /**
   * The file at `path` (relative to the root, '/' separated). With `recorded`, a file whose size
   * or modification time differ is a problem: it is not the picture that was embedded.
   * Throws only when the browser no longer lets the folder be read at all.
   */
  async read(path: string, recorded?: Recorded): Promise<FolderRead> {
    const parts = path.split('/');
    const where = `the folder “${this.#root.name}”`;
    let file: File;
    try {
      const dir = await this.#dir(parts.slice(0, -1));
      file = await (await dir.getFileHandle(parts[parts.length - 1])).getFile();
    } catch (e) {
      if (e instanceof DOMException && e.name === 'NotAllowedError') throw e;
      if (
        e instanceof DOMException &&
        (e.name === 'NotFoundError' || e.name === 'TypeMismatchError')
      ) {
        return {
          problem: `it is no longer in ${where} (moved, renamed or deleted); rescan the folder to update the dataset`,
        };
      }
      return { problem: `it could not be read from ${where} (${errText(e)})` };
    }
    if (recorded && (file.size !== recorded.size || file.lastModified !== recorded.lastModified)) {
      return {
        problem: `it changed in ${where} since it was added (its size or date differ); rescan the folder to take the new version`,
      };
    }
    return { file };
  }
}
