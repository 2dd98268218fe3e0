/**
 * The folder picker path of the scale bench (--via picker): the person picks a folder with
 * "Choose folder…" and the app gets a directory handle, which it may keep instead of copying the
 * files. Headless Chromium cannot answer the real picker, so the folder is first copied into
 * the page's origin-private file system (OPFS: the browser's own disk, counted apart from
 * IndexedDB in the storage estimate) and showDirectoryPicker, replaced before the app's code
 * runs, hands out that folder's handle. The copy goes through a file input the bench adds to the
 * page, so no image bytes travel over the DevTools connection.
 */
import { basename } from 'node:path';
import type { Page } from 'playwright-core';

/** Installed with addInitScript: the picker answers with the OPFS folder named by the bench. */
export const PICKER_INIT = `
window.showDirectoryPicker = async () => {
  const name = window.__scalePickerFolder;
  if (!name) throw new DOMException('no folder prepared', 'AbortError');
  return (await navigator.storage.getDirectory()).getDirectoryHandle(name);
};
`;

/** Copies every file of the bench's hidden input into OPFS, keeping relative paths. */
const COPY = `(async () => {
  const input = document.getElementById('scale-opfs-input');
  const root = await navigator.storage.getDirectory();
  const dirs = new Map();
  const dirOf = async (parts) => {
    let dir = root;
    let key = '';
    for (const p of parts) {
      key += '/' + p;
      let d = dirs.get(key);
      if (!d) {
        d = await dir.getDirectoryHandle(p, { create: true });
        dirs.set(key, d);
      }
      dir = d;
    }
    return dir;
  };
  let copied = 0;
  for (const file of Array.from(input.files)) {
    const parts = file.webkitRelativePath.split('/');
    const dir = await dirOf(parts.slice(0, -1));
    const handle = await dir.getFileHandle(parts[parts.length - 1], { create: true });
    const w = await handle.createWritable();
    await w.write(file);
    await w.close();
    copied++;
  }
  input.remove();
  return copied;
})()`;

/** Puts `folder` into the page's OPFS and points the replaced picker at it. */
export async function prepareOpfsFolder(
  page: Page,
  folder: string,
): Promise<{ files: number; seconds: number }> {
  const t0 = Date.now();
  await page.evaluate(`(() => {
    const input = document.createElement('input');
    input.type = 'file';
    input.webkitdirectory = true;
    input.id = 'scale-opfs-input';
    input.hidden = true;
    document.body.append(input);
  })()`);
  await page.locator('#scale-opfs-input').setInputFiles(folder);
  const files = (await page.evaluate(COPY)) as number;
  await page.evaluate(`window.__scalePickerFolder = ${JSON.stringify(basename(folder))}`);
  return { files, seconds: (Date.now() - t0) / 1000 };
}
