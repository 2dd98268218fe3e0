/**
 * Which files and folders an ingest takes, and the reason for each one it leaves out.
 * Reasons are sentences for people; they end up in the ingest report next to the path.
 */
/** Image extensions the embed stage can decode in Chromium (avif where the browser decodes it). */
export const IMAGE_EXTENSIONS: readonly string[] = [
  'jpg',
  'jpeg',
  'png',
  'webp',
  'gif',
  'bmp',
  'avif',
];

/** Files operating systems leave in folders (thumbnail caches, folder settings). */
const JUNK_FILES = new Set(['.ds_store', 'thumbs.db', 'ehthumbs.db', 'desktop.ini', 'icon\r']);
/** Folders operating systems and tools add, never part of a person's data. */
const JUNK_FOLDERS = new Set([
  '__macosx',
  '.spotlight-v100',
  '.trashes',
  '.fseventsd',
  '.temporaryitems',
  '$recycle.bin',
  'system volume information',
  '.git',
]);

/** Lower case, no leading dot; empty strings dropped. */
export function normaliseExtensions(list: readonly string[] | undefined): string[] {
  const out = new Set<string>();
  for (const raw of list ?? []) {
    const e = raw
      .trim()
      .toLowerCase()
      .replace(/^\*?\.+/, '');
    if (e) out.add(e);
  }
  return [...out];
}

export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

/** Why a folder is not walked, or null to walk it. */
export function folderSkipReason(name: string): string | null {
  const lower = name.toLowerCase();
  if (JUNK_FOLDERS.has(lower)) return 'operating-system folder, not read';
  if (name.startsWith('.')) return 'hidden folder, not read';
  return null;
}

export interface ExtensionFilter {
  /** allowed extensions; empty = every supported image type */
  readonly include: readonly string[];
  readonly exclude: readonly string[];
}

/** Why a file is left out before it is read (name, extension, size), or null to take it. */
export function fileSkipReason(name: string, size: number, filter: ExtensionFilter): string | null {
  if (JUNK_FILES.has(name.toLowerCase())) return 'operating-system file';
  if (name.startsWith('.')) return 'hidden file';
  const ext = extensionOf(name);
  if (filter.exclude.includes(ext) && ext) return `excluded by the extension filter (.${ext})`;
  if (filter.include.length > 0 && !filter.include.includes(ext)) {
    return ext
      ? `.${ext} is not in the include list (${filter.include.map((e) => '.' + e).join(', ')})`
      : `no file extension; the include list is ${filter.include.map((e) => '.' + e).join(', ')}`;
  }
  if (!IMAGE_EXTENSIONS.includes(ext)) {
    return ext
      ? `.${ext} is not an image type Strata reads (${IMAGE_EXTENSIONS.join(', ')})`
      : 'no file extension, so not recognised as an image';
  }
  if (size === 0) return 'empty file (0 bytes)';
  return null;
}
