/**
 * The File System Access API's folder picker, where the browser has it (Chromium). TypeScript's
 * DOM library does not declare it, so it is typed here once.
 */
export interface DirectoryPickerOptions {
  /** remembers the last folder per id */
  readonly id?: string;
  readonly mode?: 'read' | 'readwrite';
}

type DirectoryPicker = (options?: DirectoryPickerOptions) => Promise<FileSystemDirectoryHandle>;

/** The picker bound to window, or null where the browser has none. */
export function directoryPicker(): DirectoryPicker | null {
  if (typeof window === 'undefined' || !('showDirectoryPicker' in window)) return null;
  const picker = (window as unknown as { showDirectoryPicker: DirectoryPicker })
    .showDirectoryPicker;
  return (options) => picker.call(window, options);
}
