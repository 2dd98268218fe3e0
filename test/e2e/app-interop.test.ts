/**
 * Interop with the reference distributed pipeline in the built app: a job bundle of the demo
 * dataset downloaded from the page and read back with PyYAML and numpy as the reference's
 * launcher reads it; then a folder in the reference's real output layout (step folders, links
 * included) picked with the folder input, imported as a run, and a new subset drawn from it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser, newContext, snap, startPreview, type Preview } from './helpers/app.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const LAYOUT = join(ROOT, 'test', 'fixtures', 'reference', 'layout');
const PYTHON = process.env.STRATA_PYTHON ?? '/usr/bin/python3';
const FIXTURE = JSON.parse(readFileSync(join(LAYOUT, 'fixture.json'), 'utf8')) as {
  n: number;
  target: number;
};

let preview: Preview;
let browser: Browser;
const temporary: string[] = [];

beforeAll(async () => {
  preview = await startPreview();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await preview?.close();
  for (const d of temporary) rmSync(d, { recursive: true, force: true });
});

/** Unzips the bundle and reads it as the reference launcher does: PyYAML and numpy. */
function readWithPython(zipPath: string): {
  cfg: Record<string, unknown>;
  shape: number[];
  dtype: string;
  norms: [number, number];
  ids: number;
  strata: {
    centered: boolean;
    normalized: boolean;
    hierarchy: { resamplingSteps: number; levels: { sampleSize: number }[] };
  };
  readme: string;
} {
  const dir = mkdtempSync(join(tmpdir(), 'strata-e2e-job-'));
  temporary.push(dir);
  const r = spawnSync(
    PYTHON,
    [
      '-c',
      `
import glob, json, sys, zipfile, yaml, numpy as np
zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])
job = glob.glob(sys.argv[2] + '/*/')[0]
cfg = yaml.safe_load(open(job + 'config.yaml'))
x = np.load(job + 'embeddings.npy')
n = np.linalg.norm(x.astype(np.float64), axis=1)
print(json.dumps({'cfg': cfg, 'shape': list(x.shape), 'dtype': str(x.dtype),
  'norms': [float(n.min()), float(n.max())],
  'ids': len(open(job + 'ids.txt').read().splitlines()),
  'strata': json.load(open(job + 'strata.json')), 'readme': open(job + 'README.md').read()}))
`,
      zipPath,
      dir,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe('the reference distributed pipeline, from the page', () => {
  it('exports a job bundle of the demo data, then imports a reference run folder and samples it', async () => {
    const { context, errors } = await newContext(browser);
    // No save dialog can be answered here: the ordinary download path of saveStream.
    await context.addInitScript(() => {
      delete (window as unknown as { showSaveFilePicker?: unknown }).showSaveFilePicker;
    });
    const page = await context.newPage();
    await page.goto(preview.url);

    await page.getByRole('button', { name: 'Try with demo data' }).click();
    await page.getByRole('heading', { name: 'Settings' }).waitFor({ timeout: 120_000 });
    // Before the images are embedded there is nothing to send: said in plain words.
    const job = page.locator('section[aria-labelledby="job-title"]');
    await expect
      .poll(() => job.getByRole('status').textContent(), { timeout: 30_000 })
      .toMatch(/has no stored embeddings for this model yet\. Start a run/);
    await page.getByRole('button', { name: 'Run curation' }).click();
    await page.getByText('Curated subset ready').waitFor({ timeout: 300_000 });

    const facts = job.getByRole('list', { name: 'Job bundle' });
    await facts.waitFor({ timeout: 60_000 });
    expect(await facts.textContent()).toMatch(/GPU/);
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 120_000 }),
      job.getByRole('button', { name: 'Download job bundle' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^strata-job-.*\.zip$/);
    const b = readWithPython(await download.path());
    expect(b.dtype).toBe('float32');
    expect(b.shape[1]).toBe(1792);
    expect(b.ids).toBe(b.shape[0]);
    // the app clusters the bundled model's raw features (its image default, as `strata
    // export-job` without --center / --normalize): so does the bundle
    expect([b.strata.centered, b.strata.normalized]).toEqual([false, false]);
    expect(b.norms[1] - b.norms[0]).toBeGreaterThan(1e-3);
    // the reference counts a level's k-means runs, the first included: m + 1
    const h = b.strata.hierarchy;
    expect(b.cfg.n_resampling_steps).toEqual(
      h.levels.map((l) => (l.sampleSize > 1 && h.resamplingSteps > 0 ? h.resamplingSteps + 1 : 1)),
    );
    expect(b.cfg.n_levels).toBe(h.levels.length);
    expect(b.readme).toContain('bash local_launcher.sh');
    await snap(page, 'i01-job-bundle');

    // A reference run folder, as the reference leaves it (links into step folders).
    await page.reload();
    await page.getByRole('heading', { name: 'Import a cluster run' }).waitFor();
    await page.getByLabel('Pick a cluster run folder').setInputFiles(LAYOUT);
    await page.getByText('Curated subset ready').waitFor({ timeout: 60_000 });
    // The reference's own curated subset first.
    const kept = async (): Promise<number> =>
      Number((await page.locator('.big').first().textContent())?.replace(/,/g, ''));
    expect(await kept()).toBe(FIXTURE.target);
    expect(await page.locator('#summary-title').textContent()).toContain(
      `of ${FIXTURE.n} items kept`,
    );
    await snap(page, 'i02-imported');

    // A new subset from the imported clusters with Strata's sampler.
    await page.getByText('Another subset size (keeps the clusters)').click();
    await page.getByLabel('Subset size').fill('25');
    await page.getByRole('button', { name: 'Sample again' }).click();
    await expect.poll(kept, { timeout: 30_000 }).toBe(25);
    const [manifest] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download manifest as CSV' }).click(),
    ]);
    const lines = readFileSync(await manifest.path(), 'utf8')
      .trim()
      .split('\n');
    expect(lines.filter((l) => /^"?row \d+/.test(l))).toHaveLength(25);
    expect(errors).toEqual([]);
    await context.close();
  });
});
