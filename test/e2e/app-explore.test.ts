/**
 * The explorer end to end, in the built app: a finished run on the small emoji folder, the map
 * zoomed and lassoed (the results grid filters to the lassoed region), an item opened in its
 * detail view and excluded by hand (the curated count and the manifest drop by one), the
 * exclusion still there after a reload, a search by file name landing on its card, and a
 * near-duplicate group shown on the map.
 * Screenshots of every view at desktop and narrow widths.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  buildEmojiFolder,
  SMALL_EMOJI_FOLDER,
  type EmojiFolder,
} from '../../scripts/fixtures/emoji-folder.ts';
import {
  launchBrowser,
  newContext,
  snap,
  startPreview,
  watchForeignRequests,
  type Preview,
} from './helpers/app.ts';
import { parseCsv } from './helpers/manifest.ts';

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

async function kept(page: Page): Promise<number> {
  return Number((await page.locator('.big').first().textContent())?.replace(/,/g, ''));
}

async function manifestRows(page: Page): Promise<string[][]> {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download manifest as CSV' }).click(),
  ]);
  const csv = parseCsv(readFileSync(await download.path(), 'utf8'));
  // The subset's rows alone: near-duplicates set aside are listed only when asked for.
  expect(csv.header).not.toContain('duplicate_of');
  return csv.rows;
}

describe('exploring and editing a finished run in the built app', () => {
  it('zooms, lassoes, opens an item, excludes it, keeps the edit over a reload, and searches', async () => {
    const { context, errors } = await newContext(browser);
    const page = await context.newPage();
    const foreign = watchForeignRequests(page, new URL(preview.url).origin);

    await page.goto(preview.url);
    await page.locator('input[data-role="folder-input"]').setInputFiles(fixture.root);
    await page.getByRole('heading', { name: 'Settings' }).waitFor({ timeout: 60_000 });
    // Near-duplicate removal on, at a threshold that groups the fixture's skin-tone variants.
    await page.locator('#s-dedup-on').check();
    await page.locator('#s-dedup').fill('0.8');
    await page.locator('#s-dedup').press('Tab');
    await page.getByRole('button', { name: 'Run curation' }).click();
    await page.getByText('Curated subset ready').waitFor({ timeout: 240_000 });
    const map = page.getByRole('img', { name: /^Map of \d+ embeddings/ });
    await map.waitFor({ timeout: 60_000 });
    // Plain words, not internal names, in the summary line.
    const facts = (await page.locator('.summary .muted.small').first().textContent()) ?? '';
    expect(facts).toMatch(
      /clustered on (this device's processor, \d+ threads?|this device's graphics card|a software)/,
    );
    expect(facts).not.toMatch(/cpu-wasm|swiftshader/i);
    await snap(page, 'x01-explore');

    // Zoom the map in with the wheel.
    const canvas = map.locator('canvas');
    await canvas.scrollIntoViewIfNeeded();
    const box = (await canvas.boundingBox())!;
    const zoomBefore = Number(await page.locator('[data-zoom]').getAttribute('data-zoom'));
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, -300);
    await expect
      .poll(async () => Number(await page.locator('[data-zoom]').getAttribute('data-zoom')))
      .toBeGreaterThan(zoomBefore);

    // Zoomed in far enough that few points are in sight, their thumbnails replace the dots;
    // a click on one opens that item.
    await page.getByRole('button', { name: 'Fit the map' }).click();
    const pictures = map.locator('.pic img');
    for (let i = 0; i < 4 && (await pictures.count()) === 0; i++) {
      await page.getByRole('button', { name: 'Zoom in' }).click();
      await page.getByRole('button', { name: 'Zoom in' }).click();
      await expect
        .poll(() => pictures.count(), { timeout: 5_000 })
        .toBeGreaterThan(0)
        .catch(() => undefined);
    }
    await expect.poll(() => pictures.count()).toBeGreaterThan(0);
    await expect
      .poll(() => pictures.first().evaluate((img) => (img as HTMLImageElement).naturalWidth))
      .toBeGreaterThan(0);
    await snap(page, 'x01b-zoomed-thumbnails');
    // The screenshots resized the window: the map kept its zoom, so the pictures are back.
    await expect.poll(() => pictures.count()).toBeGreaterThan(0);
    // One wholly inside the map (those at the edges are partly cut off), the map in sight (the
    // screenshots scrolled the page).
    await canvas.scrollIntoViewIfNeeded();
    const frame = (await canvas.boundingBox())!;
    const inside = [];
    for (const b of await map.locator('.pic').all()) {
      const r = await b.boundingBox();
      if (r && r.x > frame.x && r.y > frame.y && r.x + r.width < frame.x + frame.width) {
        if (r.y + r.height < frame.y + frame.height) inside.push(r);
      }
    }
    expect(inside.length).toBeGreaterThan(0);
    const pic = inside[0];
    await page.mouse.click(pic.x + pic.width / 2, pic.y + pic.height / 2);
    await page.getByRole('dialog').waitFor();
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
    await page.getByRole('button', { name: 'Fit the map' }).click();
    expect(await pictures.count()).toBe(0);

    // Lasso the left half of the map: the results grid filters to it.
    await page.getByRole('button', { name: 'Lasso' }).click();
    const { x, y, width: w, height: h } = box;
    await page.mouse.move(x + 4, y + 4);
    await page.mouse.down();
    for (const [px, py] of [
      [x + w * 0.55, y + 4],
      [x + w * 0.55, y + h - 4],
      [x + 4, y + h - 4],
      [x + 4, y + 8],
    ]) {
      await page.mouse.move(px, py, { steps: 6 });
    }
    await page.mouse.up();
    const matches = page.locator('[data-stat="matches"]');
    await matches.waitFor();
    const lassoed = Number((await matches.textContent())?.replace(/,/g, ''));
    const total = Number((await map.getAttribute('aria-label'))?.match(/^Map of (\d+)/)?.[1]);
    expect(lassoed).toBeGreaterThan(0);
    expect(lassoed).toBeLessThan(total);
    const grid = page.locator('ul[aria-label="Matching items"] > li');
    await expect.poll(() => grid.count()).toBe(Math.min(lassoed, 120));
    await snap(page, 'x02-lasso');

    // Only the curated ones of the region; open the first and exclude it.
    await page.getByLabel('Curated', { exact: true }).selectOption('curated');
    // The grid has reloaded once it lists as many items as match, every one of them curated.
    await expect
      .poll(async () => {
        const n = Number((await matches.textContent())?.replace(/,/g, ''));
        const cells = await grid.count();
        const notCurated = await grid.locator('button:not(.selected)').count();
        return n > 0 && cells === Math.min(n, 120) && notCurated === 0;
      })
      .toBe(true);
    const before = await kept(page);
    const cell = grid.first().locator('button');
    const name = (await cell.locator('.name').textContent()) ?? '';
    await cell.click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('heading', { name }).waitFor();
    expect(await dialog.locator('.why').textContent()).toContain('Kept by the balanced sampling');
    await dialog.getByRole('list', { name: 'Nearest neighbours' }).waitFor();
    await snap(page, 'x03-detail');
    await dialog.getByRole('button', { name: 'Exclude from the subset' }).click();
    await expect.poll(() => kept(page)).toBe(before - 1);
    await expect
      .poll(() => dialog.locator('.why').textContent())
      .toContain('You excluded it by hand');
    await dialog.getByRole('button', { name: 'Close' }).click();
    expect(await manifestRows(page)).toHaveLength(before - 1);
    expect(await page.getByRole('list', { name: 'Edits' }).textContent()).toContain(name);
    await snap(page, 'x04-edited');

    // Reload: the run opens again with the exclusion kept.
    await page.reload();
    const runs = page.locator('section[aria-labelledby="runs-title"] li');
    await runs.first().waitFor({ timeout: 30_000 });
    await runs.first().getByRole('button', { name: 'Open' }).click();
    await page.getByText('Curated subset ready').waitFor();
    await expect.poll(() => kept(page)).toBe(before - 1);
    expect(await manifestRows(page)).toHaveLength(before - 1);

    // Undo brings it back; redo takes it out again.
    await page.getByRole('button', { name: 'Undo' }).click();
    await expect.poll(() => kept(page)).toBe(before);
    await page.getByRole('button', { name: 'Redo' }).click();
    await expect.poll(() => kept(page)).toBe(before - 1);

    // Search a file name: its card is in the results.
    const target = fixture.files.find((f) => f.isImage && !f.path.includes('<'))!;
    const targetName = target.path.split('/').pop()!;
    await page.getByRole('searchbox').fill(targetName);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const hit = page.locator(`ul[aria-label="Matching items"] button[aria-label^="${targetName}"]`);
    await hit.first().waitFor();
    await hit.first().locator('img').waitFor();
    await hit.first().scrollIntoViewIfNeeded();
    await snap(page, 'x05-search');

    // Near-duplicates: a group shown on the map filters the grid to its members, and the map's
    // legend counts the rows set aside.
    await page.getByRole('button', { name: 'Clear', exact: true }).click();
    const dups = page.locator('[data-view="duplicates"]');
    const group = dups.locator('li.group').first();
    await group.waitFor();
    await group.scrollIntoViewIfNeeded();
    const members = await group.locator('ul.thumbs > li').count();
    expect(members).toBeGreaterThan(1);
    await snap(page, 'x06-duplicates');
    await group.getByRole('button', { name: 'Show on the map' }).click();
    await expect
      .poll(async () => Number((await matches.textContent())?.replace(/,/g, '')))
      .toBe(members);
    await expect.poll(() => grid.count()).toBe(members);
    expect(await page.locator('.legend').first().textContent()).toMatch(
      /set aside as near-duplicates \(\d+\)/,
    );
    await snap(page, 'x07-duplicate-group');

    expect(foreign).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });
});
