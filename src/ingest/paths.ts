/** Relative paths, the shared root folder, folder labels and empty-folder reports. */
import type { SkippedFile } from '../store/schema';
import type { WalkResult } from './walk';

/**
 * The single folder every path starts with (a dropped or picked folder), or null. Paths are
 * stored without it so that labels come from the first folder *inside* what was picked.
 */
export function commonRoot(paths: readonly string[]): string | null {
  let root: string | null = null;
  for (const p of paths) {
    const slash = p.indexOf('/');
    if (slash < 0) return null;
    const first = p.slice(0, slash);
    if (root === null) root = first;
    else if (root !== first) return null;
  }
  return root;
}

export function stripRoot(path: string, root: string | null): string {
  if (root === null) return path;
  if (path === root || path === root + '/') return '';
  return path.startsWith(root + '/') ? path.slice(root.length + 1) : path;
}

/** The folder label: first folder of the relative path, null for files at the top. */
export function labelOf(path: string): string | null {
  const slash = path.indexOf('/');
  return slash > 0 ? path.slice(0, slash) : null;
}

export function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * Folders with no file that was taken anywhere beneath them, topmost only (a report that says
 * "a/ is empty" need not also list a/b/). The reason says whether the folder held nothing at all
 * or only files that were skipped.
 */
export function emptyFolders(walk: WalkResult, taken: readonly string[]): SkippedFile[] {
  const hasTaken = new Set<string>();
  const hasAny = new Map<string, number>();
  const mark = (path: string, set: (folder: string) => void): void => {
    for (let i = path.indexOf('/'); i > 0; i = path.indexOf('/', i + 1)) set(path.slice(0, i));
  };
  for (const p of taken) mark(p, (f) => hasTaken.add(f));
  for (const s of walk.skipped) {
    if (!s.path.endsWith('/')) mark(s.path, (f) => hasAny.set(f, (hasAny.get(f) ?? 0) + 1));
  }
  const out: SkippedFile[] = [];
  const reported: string[] = [];
  for (const folder of [...walk.folders].sort()) {
    if (hasTaken.has(folder)) continue;
    if (reported.some((r) => folder.startsWith(r + '/'))) continue;
    reported.push(folder);
    const skipped = hasAny.get(folder) ?? 0;
    out.push({
      path: folder + '/',
      reason:
        skipped === 0
          ? 'empty folder: nothing to curate here'
          : `no usable images here (${skipped} file${skipped === 1 ? '' : 's'} skipped, see below)`,
    });
  }
  return out;
}
