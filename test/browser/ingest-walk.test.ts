import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteDB } from 'idb';
import { Workspace } from '../../src/pipeline/workspace';
import type { IngestReport } from '../../src/pipeline/contract';
import { readAllEntries } from '../../src/ingest/walk';
import { THUMB_SIZE } from '../../src/ingest/digest';

/* ---------- real files in the browser's sandboxed file system (real FileSystemEntry objects) ---------- */

type Fs = { root: FileSystemDirectoryEntry };
type RequestFs = (
  type: number,
  size: number,
  ok: (fs: Fs) => void,
  err: (e: DOMException) => void,
) => void;

function sandbox(): Promise<Fs> {
  const req = (window as unknown as { webkitRequestFileSystem: RequestFs }).webkitRequestFileSystem;
  return new Promise((resolve, reject) => req(0 /* TEMPORARY */, 64 << 20, resolve, reject));
}

function mkdir(dir: FileSystemDirectoryEntry, name: string): Promise<FileSystemDirectoryEntry> {
  return new Promise((resolve, reject) =>
    dir.getDirectory(name, { create: true }, (d) => resolve(d as FileSystemDirectoryEntry), reject),
  );
}

function writeFile(dir: FileSystemDirectoryEntry, name: string, data: Blob): Promise<void> {
  return new Promise((resolve, reject) =>
    dir.getFile(
      name,
      { create: true },
      (entry) => {
        const fe = entry as FileSystemFileEntry & {
          createWriter(
            ok: (w: {
              write(b: Blob): void;
              onwriteend: () => void;
              onerror: (e: unknown) => void;
            }) => void,
            err: (e: unknown) => void,
          ): void;
        };
        fe.createWriter((w) => {
          w.onwriteend = () => resolve();
          w.onerror = reject;
          w.write(data);
        }, reject);
      },
      reject,
    ),
  );
}

function removeRecursively(dir: FileSystemDirectoryEntry): Promise<void> {
  const d = dir as FileSystemDirectoryEntry & {
    removeRecursively(ok: () => void, err: () => void): void;
  };
  return new Promise((resolve) => d.removeRecursively(resolve, () => resolve()));
}

/** A real PNG of the given size and colour. */
async function png(w: number, h: number, hue: number): Promise<Blob> {
  const c = new OffscreenCanvas(w, h);
  const ctx = c.getContext('2d')!;
  ctx.fillStyle = `hsl(${hue} 80% 50%)`;
  ctx.fillRect(0, 0, w, h);
  ctx.fillStyle = '#fff';
  ctx.fillRect(w / 4, h / 4, w / 3, h / 5);
  return c.convertToBlob({ type: 'image/png' });
}

async function sha256(b: Blob): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', await b.arrayBuffer()));
  return Array.from(d, (x) => x.toString(16).padStart(2, '0')).join('');
}

const CATS = 130; // more than the 100 entries readEntries hands out per call
const dbName = `strata-ingest-${crypto.randomUUID()}`;
let ws: Workspace;
let root: FileSystemDirectoryEntry;

beforeAll(async () => {
  const fs = await sandbox();
  root = await mkdir(fs.root, `photos-${Date.now()}`);
  const cats = await mkdir(root, 'cats');
  const catPng = await png(40, 30, 10);
  for (let i = 0; i < CATS; i++) {
    // different bytes per file: a 1-pixel change in size keeps each one a distinct image
    await writeFile(
      cats,
      `cat ${String(i).padStart(3, '0')}.png`,
      i === 0 ? catPng : await png(40 + (i % 7), 30, i * 3),
    );
  }
  const dogs = await mkdir(root, 'dogs');
  await writeFile(dogs, 'rex.png', await png(200, 100, 200));
  await writeFile(
    dogs,
    'broken.jpg',
    new Blob([new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3])]),
  );
  await writeFile(dogs, 'zero.png', new Blob([]));
  await writeFile(root, 'notes.txt', new Blob(['hello']));
  await writeFile(root, '.DS_Store', new Blob(['junk']));
  await writeFile(root, 'Thumbs.db', new Blob(['junk']));
  await writeFile(root, '.hidden.png', await png(8, 8, 0));
  const mac = await mkdir(root, '__MACOSX');
  await writeFile(mac, '._rex.png', new Blob(['x']));
  const secret = await mkdir(root, '.cache');
  await writeFile(secret, 'a.png', await png(8, 8, 0));
  await mkdir(root, 'empty');
  const textOnly = await mkdir(root, 'texts');
  await writeFile(textOnly, 'readme.md', new Blob(['# hi']));
  ws = await Workspace.open({ dbName });
});

afterAll(async () => {
  await ws?.close();
  await removeRecursively(root);
  await deleteDB(dbName);
});

function reasonOf(report: IngestReport, path: string): string | undefined {
  return [...report.skipped, ...report.emptyFolders].find((s) => s.path === path)?.reason;
}

describe('ingest of dropped folders (real directory entries)', () => {
  it('reads folders with more than 100 entries completely', async () => {
    const cats = await new Promise<FileSystemDirectoryEntry>((resolve, reject) =>
      root.getDirectory('cats', {}, (d) => resolve(d as FileSystemDirectoryEntry), reject),
    );
    expect((await readAllEntries(cats)).length).toBe(CATS);
  });

  it('stores every image with path, label, hash and thumbnail, and explains every file left out', async () => {
    const report = await ws.ingest({ kind: 'entries', entries: [root] });
    expect(report.added).toBe(CATS + 1);
    expect(report.dataset.name).toBe(root.name);
    expect(report.dataset.itemCount).toBe(CATS + 1);
    expect(report.dataset.labels).toEqual(['cats', 'dogs']);
    expect(report.dataset.complete).toBe(true);

    expect(reasonOf(report, 'notes.txt')).toMatch(/\.txt is not an image type/);
    expect(reasonOf(report, '.DS_Store')).toBe('operating-system file');
    expect(reasonOf(report, 'Thumbs.db')).toBe('operating-system file');
    expect(reasonOf(report, '.hidden.png')).toBe('hidden file');
    expect(reasonOf(report, '__MACOSX/')).toMatch(/operating-system folder/);
    expect(reasonOf(report, '.cache/')).toMatch(/hidden folder/);
    expect(reasonOf(report, 'dogs/zero.png')).toBe('empty file (0 bytes)');
    expect(reasonOf(report, 'dogs/broken.jpg')).toMatch(/could not be decoded as an image/);
    expect(reasonOf(report, 'empty/')).toMatch(/empty folder/);
    expect(reasonOf(report, 'texts/')).toMatch(/no usable images here \(1 file skipped/);
    expect(reasonOf(report, 'texts/readme.md')).toMatch(/\.md is not an image type/);
    // nothing taken appears as skipped, nothing skipped twice
    const paths = report.skipped.map((s) => s.path);
    expect(new Set(paths).size).toBe(paths.length);
    expect(paths.some((p) => p.startsWith('cats/'))).toBe(false);

    const items = await ws.listItems(report.dataset.id, 0, 1000);
    expect(items).toHaveLength(CATS + 1);
    const rex = items.find((i) => i.path === 'dogs/rex.png')!;
    expect(rex).toMatchObject({ name: 'rex.png', label: 'dogs', type: 'image/png' });
    const first = items.find((i) => i.path === 'cats/cat 000.png')!;
    expect(first.label).toBe('cats');
    expect(first.hash).toBe(await sha256(await png(40, 30, 10)));

    const thumb = await ws.thumbnail(rex.datasetId, rex.index);
    expect(thumb?.type).toBe('image/webp');
    const bmp = await createImageBitmap(thumb!);
    // 200 x 100 shrinks to fit 96 px, keeping its aspect ratio
    expect([bmp.width, bmp.height]).toEqual([THUMB_SIZE, THUMB_SIZE / 2]);
  });

  it('applies include and exclude lists, and says why nothing was usable', async () => {
    const err = await ws
      .ingest({ kind: 'entries', entries: [root] }, { exclude: ['.PNG'] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('UserInputError');
    expect((err as Error).message).toMatch(/None of the \d+ files can be used/);
    const report = (err as Error).cause as IngestReport;
    expect(reasonOf(report, 'cats/cat 000.png')).toBe('excluded by the extension filter (.png)');
    expect(reasonOf(report, 'dogs/broken.jpg')).toMatch(/could not be decoded/);
    expect(reasonOf(report, 'cats/')).toMatch(/no usable images here/);
    // a rejected ingest keeps no dataset
    expect((await ws.listDatasets()).map((d) => d.name)).toEqual([root.name]);

    const pngOnly = await ws.ingest(
      { kind: 'entries', entries: [root] },
      { include: ['png'], name: 'pngs' },
    );
    expect(pngOnly.added).toBe(CATS + 1);
    expect(pngOnly.dataset.name).toBe('pngs');
    expect(reasonOf(pngOnly, 'dogs/broken.jpg')).toBe('.jpg is not in the include list (.png)');
  });
});
