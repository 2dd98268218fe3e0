/**
 * A folder opened with "Choose folder…" in the built app: the dataset keeps no copies of the
 * pictures (only thumbnails and embeddings in IndexedDB), says so in plain words, and a run
 * embeds, clusters and samples by reading the folder through its handle.
 *
 * Headless automation cannot click through the browser's own folder dialog, so the page's
 * `showDirectoryPicker` is replaced before the app loads by one that returns a real
 * FileSystemDirectoryHandle: a folder in the page's private file system filled with the emoji
 * fixture. Everything after the dialog is the app's own code.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import {
  SMALL_EMOJI_FOLDER,
  buildEmojiFolder,
  type EmojiFolder,
} from '../../scripts/fixtures/emoji-folder.ts';
import { launchBrowser, newContext, startPreview, type Preview } from './helpers/app.ts';

let preview: Preview;
let browser: Browser;
let fixture: EmojiFolder;

beforeAll(async () => {
  fixture = buildEmojiFolder(SMALL_EMOJI_FOLDER, { small: true });
  preview = await startPreview();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await preview?.close();
});

/** The picker the app finds: the private file system's "emoji" folder. */
const PICKER = `
  window.showDirectoryPicker = async () =>
    (await navigator.storage.getDirectory()).getDirectoryHandle('emoji');
  window.__tasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__tasks.push([e.startTime, e.duration]);
  }).observe({ type: 'longtask', buffered: true });
`;

describe('a folder read in place', () => {
  it('stores only thumbnails and embeddings, and runs end to end from the folder', async () => {
    const { context, errors } = await newContext(browser);
    await context.addInitScript(PICKER);
    const page = await context.newPage();
    await page.goto(preview.url);
    const files = fixture.files.map((f) => ({
      path: f.path,
      b64: readFileSync(join(fixture.root, f.path)).toString('base64'),
    }));
    await page.evaluate(async (list) => {
      const root = await navigator.storage.getDirectory();
      const top = await root.getDirectoryHandle('emoji', { create: true });
      for (const { path, b64 } of list) {
        const parts = path.split('/');
        let dir = top;
        for (const p of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(p, { create: true });
        const w = await (await dir.getFileHandle(parts.at(-1)!, { create: true })).createWritable();
        await w.write(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
        await w.close();
      }
    }, files);

    const ingestStart = await page.evaluate(() => performance.now());
    await page.getByRole('button', { name: 'Choose folder…' }).click();
    await page.getByRole('heading', { name: 'Settings' }).waitFor({ timeout: 60_000 });
    await expect
      .poll(() => page.locator('[data-storage="folder"]').first().textContent())
      .toMatch(/reads the pictures from the folder on this device; stores only thumbnails/);

    await page.getByRole('button', { name: 'Run curation' }).click();
    await page.getByText('Curated subset ready').waitFor({ timeout: 240_000 });

    const stored = await page.evaluate(async () => {
      const db = await new Promise<IDBDatabase>((ok, fail) => {
        const r = indexedDB.open('strata');
        r.onsuccess = () => ok(r.result);
        r.onerror = () => fail(r.error);
      });
      const count = (store: string) =>
        new Promise<number>((ok) => {
          const r = db.transaction(store).objectStore(store).count();
          r.onsuccess = () => ok(r.result);
        });
      const out = { files: await count('files'), thumbs: await count('thumbs') };
      db.close();
      return out;
    });
    const images = fixture.files.filter((f) => f.isImage).length;
    expect(stored).toEqual({ files: 0, thumbs: images });
    // The longest main-thread tasks after the ingest started (the page's own start-up before).
    const tasks = await page.evaluate(
      () => (window as unknown as { __tasks: [number, number][] }).__tasks,
    );
    const after = tasks
      .filter(([start]) => start >= ingestStart)
      .map(([, d]) => Math.round(d))
      .sort((a, b) => b - a);
    console.log(JSON.stringify({ e2e: 'folder', images, longestTasksMs: after.slice(0, 5) }));
    expect(errors).toEqual([]);
    await context.close();
  });
});
