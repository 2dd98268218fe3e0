import { describe, expect, it } from 'vitest';
import {
  DemoDataError,
  loadDemoDataset,
  loadDemoFiles,
  loadDemoManifest,
} from '../../src/demo/demo-data';

// The test server serves public/ at its root, as a built app serves it next to index.html.
const base = new URL('/demo/', location.origin);

describe('the built-in demo dataset', () => {
  it('loads every image as a dropped file with its folder label', async () => {
    let lastProgress = [0, 0];
    const demo = await loadDemoDataset({
      baseUrl: base,
      onProgress: (done, total) => (lastProgress = [done, total]),
    });
    const { files, paths, labels, manifest } = demo;
    expect(files.length).toBe(manifest.files.length);
    expect(lastProgress).toEqual([files.length, files.length]);
    expect(files.length).toBe(200);
    for (let i = 0; i < files.length; i++) {
      expect(files[i].webkitRelativePath).toBe(paths[i]);
      expect(paths[i]).toBe(`emoji/${labels[i]}/${files[i].name}`);
      expect(files[i].type).toBe('image/png');
      expect(files[i].size).toBe(manifest.files[i].bytes);
    }
  });

  it('is long-tailed, with a head inflated by near-duplicates', async () => {
    const manifest = await loadDemoManifest({ baseUrl: base });
    const counts = new Map<string, number>();
    for (const f of manifest.files) counts.set(f.label, (counts.get(f.label) ?? 0) + 1);
    const sorted = [...counts.values()].sort((a, b) => b - a);
    expect(counts.size).toBeGreaterThanOrEqual(8);
    expect(sorted[0] / sorted[sorted.length - 1]).toBeGreaterThanOrEqual(20);
    expect(Object.fromEntries(counts)).toEqual(manifest.counts);
    // The head: every people emoji comes with its five skin tones.
    const people = manifest.files.filter((f) => f.label === 'people-body').map((f) => f.path);
    const tones = people.filter((p) =>
      /-(light|medium-light|medium|medium-dark|dark)\.png$/.test(p),
    );
    expect(tones.length).toBe((people.length * 5) / 6);
  });

  it('holds real, decodable 64-px images', async () => {
    const files = await loadDemoFiles({ baseUrl: base });
    for (const file of [files[0], files[100], files[files.length - 1]]) {
      const bitmap = await createImageBitmap(file);
      expect([bitmap.width, bitmap.height]).toEqual([64, 64]);
      bitmap.close();
    }
  });

  it('says plainly when the demo data is not in the build', async () => {
    const missing = loadDemoManifest({ baseUrl: new URL('/no-such-folder/', location.origin) });
    await expect(missing).rejects.toBeInstanceOf(DemoDataError);
    await expect(missing).rejects.toThrow(/demo data is not part of this build.*npm run assets/);
  });
});
