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
 * Saves a stream. Where the File System Access API exists the bytes go straight to the file the
 * person picks (nothing held in memory: a zip of 10k photos stays small in RAM); elsewhere the
 * stream is collected into a blob and downloaded. Returns false if the person closed the picker.
 */
export async function saveStream(
  stream: ReadableStream<Uint8Array>,
  name: string,
  mime: string,
): Promise<boolean> {
  if (hasSavePicker(window)) {
    let handle: FileSystemFileHandle;
    try {
      const ext = name.slice(name.lastIndexOf('.'));
      handle = await window.showSaveFilePicker({
        suggestedName: name,
        types: [{ description: name, accept: { [mime]: [ext] } }],
      });
    } catch (e) {
      await stream.cancel();
      if (e instanceof DOMException && e.name === 'AbortError') return false;
      throw e;
    }
    const writable = await handle.createWritable();
    await stream.pipeTo(writable);
    return true;
  }
  saveBlob(await new Response(stream).blob(), name);
  return true;
}
