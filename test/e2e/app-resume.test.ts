/**
 * Resume after a reload, in the built app: start a run on the emoji folder, reload the page while
 * it clusters, and resume from the banner. The run must complete without embedding anything
 * again (the data layer's work counters, shown under "Work done") and report its resume.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  SMALL_EMOJI_FOLDER,
  buildEmojiFolder,
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

let preview: Preview;
let browser: Browser;
let fixture: EmojiFolder;

beforeAll(async () => {
  // 61 images: embedding is the slow part here, and resume needs only enough to cluster.
  fixture = buildEmojiFolder(SMALL_EMOJI_FOLDER, { small: true });
  preview = await startPreview();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await preview?.close();
});

async function counter(page: Page, name: string): Promise<number> {
  const text = await page.locator(`[data-counter="${name}"]`).textContent();
  return Number(text?.replace(/,/g, ''));
}

async function setNumber(page: Page, label: string, value: number): Promise<void> {
  const input = page.getByLabel(label, { exact: true });
  await input.fill(String(value));
  await input.press('Tab');
}

describe('resuming a run after a reload', () => {
  it('continues from the stored steps and never embeds twice', async () => {
    const { context, errors } = await newContext(browser);
    const page = await context.newPage();
    const foreign = watchForeignRequests(page, new URL(preview.url).origin);
    await page.goto(preview.url);
    await page.locator('input[data-role="folder-input"]').setInputFiles(fixture.root);
    await page.getByRole('heading', { name: 'Settings' }).waitFor({ timeout: 60_000 });

    // Two levels with resampling and long Lloyd runs: level 1 alone is 11 fits of 300 rounds
    // (several seconds on a 2-core CPU), long enough to reload in the middle of it.
    await page.getByText('Advanced', { exact: true }).click();
    await setNumber(page, 'Levels', 2);
    await setNumber(page, 'Clusters at level 1', 20);
    await setNumber(page, 'Clusters at level 2', 5);
    await setNumber(page, 'Points per cluster at level 1', 2);
    await setNumber(page, 'Points per cluster at level 2', 2);
    await setNumber(page, 'Resampling steps', 10);
    await setNumber(page, 'Lloyd iterations', 300);
    await page.getByRole('button', { name: 'Run curation' }).click();

    // Where the cluster stage is: (level, step) from its progress, as one comparable number.
    const clustering = page.locator('li[data-stage="cluster"][data-status="running"]');
    const position = async (): Promise<number> => {
      const [level, step] = await Promise.all([
        clustering.getAttribute('data-level', { timeout: 1000 }).catch(() => null),
        clustering.getAttribute('data-step', { timeout: 1000 }).catch(() => null),
      ]);
      return level === null || step === null ? -1 : Number(level) * 100 + Number(step);
    };
    await clustering.waitFor({ timeout: 180_000 });
    // Let a few resampling steps of level 1 finish and be stored, then pull the plug.
    await expect.poll(position, { timeout: 60_000, interval: 100 }).toBeGreaterThanOrEqual(103);
    const reachedBeforeReload = await position();
    expect(reachedBeforeReload).toBeLessThan(200 + 10);
    await page.reload();

    const banner = page.getByRole('region', { name: 'Unfinished run' });
    await banner.waitFor({ timeout: 30_000 });
    expect(await banner.textContent()).toContain('during clustering');
    await snap(page, '08-resume-banner');
    await banner.getByRole('button', { name: 'Resume' }).click();
    // The resumed run picks up at the step it had reached, not at level 1, step 0.
    await clustering.waitFor({ timeout: 60_000 });
    await expect.poll(position, { timeout: 30_000, interval: 50 }).toBeGreaterThanOrEqual(0);
    const firstAfterResume = await position();
    console.log(JSON.stringify({ reachedBeforeReload, firstAfterResume }));
    expect(firstAfterResume).toBeGreaterThanOrEqual(reachedBeforeReload - 1);
    await page.getByText('Curated subset ready').waitFor({ timeout: 240_000 });

    await page.getByText('Work done').click();
    const names = [
      'embedded',
      'embedReused',
      'dedupComputed',
      'levelsComputed',
      'stepsComputed',
      'clusterResumes',
    ];
    const counters = Object.fromEntries(
      await Promise.all(names.map(async (n) => [n, await counter(page, n)] as const)),
    );
    console.log(JSON.stringify({ counters }));
    const images = fixture.files.filter((f) => f.isImage).length;
    expect(await counter(page, 'embedded')).toBe(images);
    expect(await counter(page, 'clusterResumes')).toBeGreaterThanOrEqual(1);
    expect(await counter(page, 'levelsComputed')).toBe(2);
    // (1 + m) fits per level at most: a resumed run recomputes no finished step.
    expect(await counter(page, 'stepsComputed')).toBeLessThanOrEqual(2 * 11);
    // Near-duplicate removal (on by default) ran once, before the reload, and not again.
    expect(await counter(page, 'dedupComputed')).toBe(1);
    await snap(page, '09-resumed');

    expect(foreign).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });
});
