/**
 * Interop in a real page (headless Chromium): the reference layout picked as files imports,
 * samples and explores; hostile cluster files are rejected with a message and the page goes on;
 * a job bundle streams through the zip writer the app uses.
 */
import { downloadZip } from 'client-zip';
import { describe, expect, it } from 'vitest';
import { parseNpy } from '../../src/core/npy.ts';
import { sampleHierarchy } from '../../src/core/sampling.ts';
import { overview } from '../../src/interop/overview.ts';
import { collectBytes, toReadableStream } from '../../src/interop/files.ts';
import { importReference, sourceFromFiles } from '../../src/interop/import.ts';
import { exportJobBundle, matrixSource } from '../../src/interop/job-bundle.ts';
import { PickleError } from '../../src/interop/pickle.ts';
import { referenceLayoutFiles } from '../../src/interop/reference-layout.ts';
import { InteropService } from '../../src/interop/service.ts';
import { readSortedClustersNpy } from '../../src/interop/sorted-clusters.ts';

const layoutUrls = import.meta.glob('../fixtures/reference/layout/**/*', {
  query: '?url',
  import: 'default',
  eager: true,
}) as Record<string, string>;
const pickleUrls = import.meta.glob('../fixtures/reference/pickles/*.npy', {
  query: '?url',
  import: 'default',
  eager: true,
}) as Record<string, string>;

async function bytes(url: string): Promise<Uint8Array<ArrayBuffer>> {
  const r = await fetch(url);
  expect(r.ok, url).toBe(true);
  return new Uint8Array(await r.arrayBuffer());
}

/** The fixture as a person's folder pick: File objects whose paths start with the folder name. */
async function pickedFolder(): Promise<{ path: string; blob: Blob }[]> {
  const prefix = '../fixtures/reference/layout/';
  return Promise.all(
    Object.entries(layoutUrls).map(async ([key, url]) => ({
      path: `run/${key.slice(prefix.length)}`,
      blob: new File([await bytes(url)], key.split('/').pop()!),
    })),
  );
}

describe('interop in the page', () => {
  it('imports a picked reference run folder, samples it and explores it', async () => {
    const files = await pickedFolder();
    const emb = files.find((f) => f.path === 'run/embeddings.npy')!;
    const a = parseNpy(new Uint8Array(await emb.blob.arrayBuffer()));
    const x = { data: a.data as Float32Array, rows: a.shape[0], cols: a.shape[1] };
    const r = await importReference(sourceFromFiles(files), { embeddings: x });
    expect(r.hierarchy.levels.map((l) => l.k)).toEqual([20, 5, 2]);
    expect(r.warnings).toEqual([]);
    const sel = sampleHierarchy(r.hierarchy, 40, { leafStrategy: 'random', seed: 0 });
    expect(new Set(sel).size).toBe(40);
    const view = overview(r.hierarchy, sel);
    expect(view.top.map((c) => c.selected).reduce((p, q) => p + q, 0)).toBe(40);
    expect(r.curated[0].indices).toHaveLength(40);
  });

  it('reads a folder handle (the origin-private file system stands in for a picked folder)', async () => {
    // What a directory handle shows of a link is the file it points to: written here as plain
    // files, the level files with the bytes of the last step they link to.
    const opfs = await navigator.storage.getDirectory();
    const name = `run-${crypto.randomUUID()}`;
    const root = await opfs.getDirectoryHandle(name, { create: true });
    try {
      for (const f of await pickedFolder()) {
        const parts = f.path.split('/').slice(1);
        let dir = root;
        for (const p of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(p, { create: true });
        const w = await (
          await dir.getFileHandle(parts[parts.length - 1], { create: true })
        ).createWritable();
        await w.write(f.blob);
        await w.close();
      }
      const r = await new InteropService().read({ kind: 'directoryHandle', handle: root });
      expect(r.folder).toBe(name);
      expect(r.levels.map((l) => l.k)).toEqual([20, 5, 2]);
      expect([r.rows, r.dim, r.distancesKnown]).toEqual([150, 6, true]);
      expect(r.warnings).toEqual([]);
      // a level file that is not its last step (a link leading elsewhere) is refused
      const level2 = await root.getDirectoryHandle('level2');
      const other = await (
        await (await level2.getDirectoryHandle('step0')).getFileHandle('centroids.npy')
      ).getFile();
      const w = await (await level2.getFileHandle('centroids.npy')).createWritable();
      await w.write(other);
      await w.close();
      await expect(
        new InteropService().read({ kind: 'directoryHandle', handle: root }),
      ).rejects.toThrow(
        /level2\/centroids\.npy is not the same file as level2\/step2\/centroids\.npy/,
      );
    } finally {
      await opfs.removeEntry(name, { recursive: true });
    }
  });

  it('rejects every hostile cluster file with a PickleError and keeps working', async () => {
    const bad = Object.entries(pickleUrls).filter(([k]) => k.includes('/bad-'));
    expect(bad.length).toBeGreaterThan(25);
    for (const [key, url] of bad) {
      let error: unknown;
      try {
        readSortedClustersNpy(await bytes(url), { name: key.split('/').pop() });
      } catch (e) {
        error = e;
      }
      expect(error, key).toBeInstanceOf(PickleError);
      expect((error as Error).message).toMatch(/^bad-[\w-]+\.npy: \S/);
    }
    const good = await bytes(pickleUrls['../fixtures/reference/pickles/ok-proto4.npy']);
    expect(readSortedClustersNpy(good).map((c) => Array.from(c))).toEqual([
      [5, 2, 9],
      [],
      [7],
      [0, 1],
    ]);
  });

  it('streams a job bundle and a reference layout through the zip writer', async () => {
    const rows = 3000;
    const x = { data: new Float32Array(rows * 16).map((_, i) => Math.sin(i)), rows, cols: 16 };
    const bundle = exportJobBundle({
      embeddings: matrixSource(x, 256),
      ids: Array.from({ length: rows }, (_, i) => `img-${i}.png`),
      config: {
        levels: [
          { k: 300, sampleSize: 1 },
          { k: 60, sampleSize: 3 },
        ],
        resamplingSteps: 10,
        strategy: 'closest',
        nIters: 50,
        seed: 0,
      },
      target: 500,
    });
    const zip = downloadZip(
      bundle.map((f) => ({ name: `job/${f.path}`, input: toReadableStream(f), size: f.size })),
    );
    const blob = await zip.blob();
    const head = new Uint8Array(await blob.slice(0, 4).arrayBuffer());
    expect(Array.from(head)).toEqual([0x50, 0x4b, 0x03, 0x04]);
    // stored (uncompressed) entries: the zip holds every byte of the bundle
    const total = bundle.reduce((s, f) => s + f.size, 0);
    expect(blob.size).toBeGreaterThan(total);
    const npy = parseNpy(
      await collectBytes(
        exportJobBundle({
          embeddings: matrixSource(x),
          config: {
            levels: [{ k: 2, sampleSize: 1 }],
            resamplingSteps: 0,
            strategy: 'closest',
            nIters: 1,
            seed: 0,
          },
        })[0],
      ),
    );
    expect(npy.shape).toEqual([rows, 16]);

    const files = await pickedFolder();
    const r = await importReference(sourceFromFiles(files));
    const layout = referenceLayoutFiles(r.hierarchy, { selection: r.curated[0].indices });
    expect(layout.map((f) => f.path)).toEqual([
      'level1/centroids.npy',
      'level1/sorted_clusters.npy',
      'level2/centroids.npy',
      'level2/sorted_clusters.npy',
      'level3/centroids.npy',
      'level3/sorted_clusters.npy',
      'curated_datasets/strata_40.npy',
      'selection.npy',
    ]);
    const back = readSortedClustersNpy(await collectBytes(layout[1]));
    expect(back).toEqual(r.hierarchy.levels[0].clusters);
  });
});
