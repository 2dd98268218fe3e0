/// <reference lib="dom" />
/**
 * The app around the curate run, in the built app: the About page (attributions, the honest
 * note on the bundled model), How it works, the theme toggle, a skip link for the keyboard, a
 * drop of loose files, and the inline messages for bad input (a folder with nothing usable,
 * a target as large as the pool). No run is started here, so this file stays fast.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { buildEmojiFolder, type EmojiFolder } from '../../scripts/fixtures/emoji-folder.ts';
import {
  ROOT,
  launchBrowser,
  newContext,
  snap,
  startPreview,
  watchForeignRequests,
  type Preview,
} from './helpers/app.ts';

let preview: Preview;
let browser: Browser;
let fixture: EmojiFolder;
const NOTHING = join(ROOT, '.cache/fixtures/nothing-usable');

beforeAll(async () => {
  fixture = buildEmojiFolder();
  // A folder a person might pick by mistake: a text file and an empty sub-folder.
  rmSync(NOTHING, { recursive: true, force: true });
  mkdirSync(join(NOTHING, 'empty'), { recursive: true });
  writeFileSync(join(NOTHING, 'readme.txt'), 'no images here\n');
  preview = await startPreview();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await preview?.close();
  rmSync(NOTHING, { recursive: true, force: true });
});

describe('the app around a run', () => {
  it('has About with attributions, How it works, a theme toggle and a skip link', async () => {
    const { context, errors } = await newContext(browser);
    const page = await context.newPage();
    const foreign = watchForeignRequests(page, new URL(preview.url).origin);
    await page.goto(preview.url);

    const skip = page.getByRole('link', { name: 'Skip to content' });
    await skip.waitFor({ state: 'attached' });
    await page.keyboard.press('Tab');
    expect(await skip.evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true);

    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'About' })
      .click();
    await page.getByRole('heading', { name: 'About Strata' }).waitFor();
    const about = (await page.locator('main').textContent()) ?? '';
    expect(about).toContain('an ImageNet-supervised CNN');
    expect(about).toContain('nsfwjs');
    expect(about).toContain('Apache License 2.0');
    expect(page.url()).toContain('#/about');
    await snap(page, '11-about');

    await page.getByRole('link', { name: 'How it works' }).click();
    await page.getByRole('heading', { name: 'How it works', level: 1 }).waitFor();
    await page.waitForTimeout(1500);
    await snap(page, '12-how-it-works');

    // Back returns to About: views are history entries.
    await page.goBack();
    await page.getByRole('heading', { name: 'About Strata' }).waitFor();

    const html = page.locator('html');
    const toggle = page.getByRole('button', { name: /theme \(change\)$/ });
    await toggle.click();
    expect(await html.getAttribute('data-theme')).toBe('light');
    await toggle.click();
    expect(await html.getAttribute('data-theme')).toBe('dark');
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg).toBe('rgb(18, 19, 21)');
    await page.getByRole('link', { name: 'Curate' }).click();
    await snap(page, '13-start-dark');
    await page.reload();
    expect(await html.getAttribute('data-theme')).toBe('dark');
    await toggle.click();
    expect(await html.getAttribute('data-theme')).toBeNull();

    expect(foreign).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('explains a folder with nothing usable, takes loose dropped files, cancels a run', async () => {
    const { context, errors } = await newContext(browser);
    const page = await context.newPage();
    await page.goto(preview.url);

    await page.locator('input[data-role="folder-input"]').setInputFiles(NOTHING);
    const alert = page.getByRole('alert').filter({ hasText: 'Could not read those files' });
    await alert.waitFor({ timeout: 30_000 });
    expect(await page.locator('main').textContent()).toContain('readme.txt');
    await snap(page, '10-nothing-usable');

    // Drag and drop of three loose files (no folder entries: synthetic DataTransfer items).
    const images = fixture.files.filter((f) => f.isImage).slice(0, 3);
    const payload = images.map((f) => ({
      name: f.path.split('/').pop() ?? f.path,
      bytes: readFileSync(join(fixture.root, f.path)).toString('base64'),
    }));
    await page.evaluate((files) => {
      const dt = new DataTransfer();
      for (const f of files) {
        const bin = Uint8Array.from(atob(f.bytes), (c) => c.charCodeAt(0));
        dt.items.add(new File([bin], f.name, { type: 'image/png' }));
      }
      const zone = document.querySelector('section[aria-label="Add images"]');
      if (!zone) throw new Error('no drop zone');
      for (const type of ['dragenter', 'dragover', 'drop']) {
        zone.dispatchEvent(
          new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }),
        );
      }
    }, payload);
    await page.getByRole('heading', { name: 'Settings' }).waitFor({ timeout: 30_000 });
    expect(await page.locator('[data-stat="items"]').textContent()).toBe('3');
    // Loose files have no folder: the report says balance cannot be shown.
    expect(await page.locator('main').textContent()).toContain('No sub-folders');

    // A target as large as the pool keeps everything: explained next to the setting.
    await page.locator('#s-target').fill('3');
    await page.locator('#s-target').press('Tab');
    const problem = page.locator('.problem').filter({ hasText: /3/ }).first();
    await problem.waitFor();
    expect((await problem.textContent())?.length).toBeGreaterThan(20);
    await snap(page, '14-target-too-large');

    // Cancel while embedding: a note says what is kept, and the run can be resumed later.
    await page.locator('#s-target').fill('2');
    await page.locator('#s-target').press('Tab');
    await page.getByRole('button', { name: 'Run curation' }).click();
    await page.locator('li[data-stage="embed"][data-status="running"]').waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: 'Run cancelled' })
      .waitFor({ timeout: 30_000 });
    const run = page.locator('section[aria-labelledby="runs-title"] li').first();
    expect(await run.textContent()).toContain('cancelled');
    await run.getByRole('button', { name: 'Resume' }).waitFor();

    expect(errors).toEqual([]);
    await context.close();
  });

  it('says the storage is full when the browser refuses more, and takes a smaller folder after', async () => {
    // A real quota: Chromium's DevTools Storage.overrideQuotaForOrigin, set in a fresh context
    // before the origin stores anything (set later, on an origin that holds data, it is not
    // enforced). The service worker is blocked so its offline copy does not use the quota up.
    const context = await browser.newContext({ serviceWorkers: 'block' });
    const errors: string[] = [];
    context.on('weberror', (e) => errors.push(String(e.error())));
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    const origin = new URL(preview.url).origin;
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 3 * 1024 * 1024 });
    await page.goto(preview.url);

    // Incompressible pictures, made in the page: 24 of about 190 KB each, 4.5 MB in all.
    const drop = (count: number, folder: string): Promise<void> =>
      page.evaluate(
        async ({ count, folder }) => {
          const dt = new DataTransfer();
          const canvas = new OffscreenCanvas(220, 220);
          const g = canvas.getContext('2d');
          if (!g) throw new Error('no 2d context');
          for (let i = 0; i < count; i++) {
            const pixels = g.createImageData(220, 220);
            crypto.getRandomValues(pixels.data.subarray(0, 65536));
            for (let o = 65536; o < pixels.data.length; o += 65536) {
              crypto.getRandomValues(
                pixels.data.subarray(o, Math.min(o + 65536, pixels.data.length)),
              );
            }
            for (let a = 3; a < pixels.data.length; a += 4) pixels.data[a] = 255;
            g.putImageData(pixels, 0, 0);
            const blob = await canvas.convertToBlob({ type: 'image/png' });
            dt.items.add(new File([blob], `${folder}-${i}.png`, { type: 'image/png' }));
          }
          const zone = document.querySelector('section[aria-label="Add images"]');
          if (!zone) throw new Error('no drop zone');
          for (const type of ['dragenter', 'dragover', 'drop']) {
            zone.dispatchEvent(
              new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }),
            );
          }
        },
        { count, folder },
      );

    await drop(24, 'big');
    const full = page.getByRole('alert').filter({ hasText: 'storage for this site is full' });
    await full.waitFor({ timeout: 60_000 });
    const message = (await full.textContent()) ?? '';
    // (The override does not change what navigator.storage.estimate() reports, so the numbers
    // in the message are the browser's usual ones; what is checked is the sentence itself.)
    expect(message).toMatch(/so a batch of \d+ files was not saved; nothing was half-written/);
    expect(message.match(/Delete old runs or datasets/g)?.length).toBe(1);
    expect(await page.getByRole('heading', { name: 'Settings' }).count()).toBe(0);
    await snap(page, '15-storage-full');

    // What was refused left nothing behind: a small folder fits in the same quota afterwards.
    await drop(3, 'small');
    await page.getByRole('heading', { name: 'Settings' }).waitFor({ timeout: 60_000 });
    expect(await page.locator('[data-stat="items"]').textContent()).toBe('3');
    expect(errors).toEqual([]);
    await context.close();
  });
});
