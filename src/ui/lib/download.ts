/** Saving what the app made onto the person's disk. */

/** A normal browser download of a blob (manifests are small). */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  // The download has taken its copy once click() returns in Chromium and Firefox; a minute is a
  // wide margin for slower browsers before the memory is released.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

interface SavePicker {
  showSaveFilePicker(options: {
    suggestedName: string;
    types?: { description: string; accept: Record<string, string[]> }[];
  }): Promise<FileSystemFileHandle>;
}

function hasSavePicker(w: Window): w is Window & SavePicker {
  return 'showSaveFilePicker' in w;
}

/**
 * Saves a stream made by `make`. Where the File System Access API exists the picker opens first
 * (while the click's user activation lasts) and the bytes go straight to the file the person
 * picks, so a zip of 10k photos stays small in RAM. Closing the picker is a cancel: returns
 * false and makes nothing. Where the picker is missing, refused or the file cannot be written,
 * the stream is collected into a blob and downloaded the ordinary way.
 */
export async function saveStream(
  name: string,
  mime: string,
  make: () => Promise<ReadableStream<Uint8Array>>,
): Promise<boolean> {
  if (hasSavePicker(window)) {
    let writable: FileSystemWritableFileStream | null = null;
    try {
      const ext = name.slice(name.lastIndexOf('.'));
      const handle = await window.showSaveFilePicker({
        suggestedName: name,
        types: [{ description: name, accept: { [mime]: [ext] } }],
      });
      writable = await handle.createWritable();
    } catch (e) {
      if (e instanceof DOMException && e.name === 'AbortError') return false;
      // Refused (no user activation, a policy, a locked file): the ordinary download below.
    }
    if (writable) {
      await (await make()).pipeTo(writable);
      return true;
    }
  }
  saveBlob(await new Response(await make()).blob(), name);
  return true;
}
