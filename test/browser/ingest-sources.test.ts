import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteDB } from 'idb';
import { Workspace } from '../../src/pipeline/workspace';

async function png(w: number, h: number, hue: number): Promise<Blob> {
  const c = new OffscreenCanvas(w, h);
  const ctx = c.getContext('2d')!;
  ctx.fillStyle = `hsl(${hue} 70% 50%)`;
  ctx.fillRect(0, 0, w, h);
  return c.convertToBlob({ type: 'image/png' });
}

async function put(dir: FileSystemDirectoryHandle, path: string, data: Blob): Promise<void> {
  const parts = path.split('/');
  let d = dir;
  for (const p of parts.slice(0, -1)) d = await d.getDirectoryHandle(p, { create: true });
  const w = await (
    await d.getFileHandle(parts[parts.length - 1], { create: true })
  ).createWritable();
  await w.write(data);
  await w.close();
}

const dbName = `strata-sources-${crypto.randomUUID()}`;
let ws: Workspace;
let opfs: FileSystemDirectoryHandle;
let folder: FileSystemDirectoryHandle;

beforeAll(async () => {
  ws = await Workspace.open({ dbName });
  opfs = await navigator.storage.getDirectory();
  folder = await opfs.getDirectoryHandle(`album-${crypto.randomUUID().slice(0, 8)}`, {
    create: true,
  });
});

afterAll(async () => {
  await ws?.close();
  await opfs.removeEntry(folder.name, { recursive: true });
  await deleteDB(dbName);
});

describe('ingest sources', () => {
  it('walks a directory handle, keeps it, and rescans incrementally', async () => {
    await put(folder, 'beach/a.png', await png(20, 20, 10));
    await put(folder, 'beach/b.png', await png(21, 20, 20));
    await put(folder, 'city/c.png', await png(22, 20, 30));
    await put(folder, 'city/gone.png', await png(23, 20, 40));
    await put(folder, '.DS_Store', new Blob(['x']));

    const first = await ws.ingest({ kind: 'directoryHandle', handle: folder });
    expect(first.added).toBe(4);
    expect(first.dataset.source).toBe('directory');
    expect(first.dataset.name).toBe(folder.name);
    expect(first.dataset.labels).toEqual(['beach', 'city']);
    expect(first.skipped).toEqual([{ path: '.DS_Store', reason: 'operating-system file' }]);
    const before = await ws.listItems(first.dataset.id);

    // one new file, one changed (different bytes and time), one removed, two untouched
    await new Promise((r) => setTimeout(r, 20));
    await put(folder, 'forest/d.png', await png(24, 20, 50));
    await put(folder, 'beach/b.png', await png(30, 30, 60));
    await folder.getDirectoryHandle('city').then((d) => d.removeEntry('gone.png'));

    const again = await ws.rescan(first.dataset.id);
    expect(again).toMatchObject({ added: 2, removed: 2, unchanged: 2 });
    expect(again.dataset.itemCount).toBe(4);
    expect(again.dataset.labels).toEqual(['beach', 'city', 'forest']);
    const after = await ws.listItems(first.dataset.id);
    expect(after.map((i) => i.path).sort()).toEqual([
      'beach/a.png',
      'beach/b.png',
      'city/c.png',
      'forest/d.png',
    ]);
    // untouched items keep their index (and so their stored embeddings); changed ones get a new one
    const idx = (list: typeof before, p: string) => list.find((i) => i.path === p)?.index;
    expect(idx(after, 'beach/a.png')).toBe(idx(before, 'beach/a.png'));
    expect(idx(after, 'city/c.png')).toBe(idx(before, 'city/c.png'));
    expect(idx(after, 'beach/b.png')).not.toBe(idx(before, 'beach/b.png'));
  });

  it('reads a folder input FileList by webkitRelativePath', async () => {
    const files = await Promise.all(
      [
        'trip/sea/1.png',
        'trip/sea/2.png',
        'trip/hills/3.png',
        'trip/.git/x.png',
        'trip/Thumbs.db',
      ].map(async (p, i) => {
        const f = new File([await png(10 + i, 10, i * 40)], p.split('/').pop()!, {
          type: 'image/png',
        });
        Object.defineProperty(f, 'webkitRelativePath', { value: p });
        return f;
      }),
    );
    const report = await ws.ingest({ kind: 'fileList', files });
    expect(report.added).toBe(3);
    expect(report.dataset.name).toBe('trip');
    expect(report.dataset.labels).toEqual(['hills', 'sea']);
    expect(report.skipped.map((s) => s.path).sort()).toEqual(['.git/', 'Thumbs.db']);
  });

  it('takes files with an explicit path list (demo data) and loose dropped files', async () => {
    const a = new File([await png(12, 12, 5)], 'x.png', { type: 'image/png' });
    const b = new File([await png(13, 12, 5)], 'y.png', { type: 'image/png' });
    const withPaths = await ws.ingest({
      kind: 'files',
      files: [a, b],
      paths: ['flags/x.png', 'food/y.png'],
    });
    expect(withPaths.dataset.labels).toEqual(['flags', 'food']);
    expect((await ws.listItems(withPaths.dataset.id)).map((i) => i.path)).toEqual([
      'flags/x.png',
      'food/y.png',
    ]);

    // A DataTransfer built in script has no directory entries: its files are taken as loose files.
    const dt = new DataTransfer();
    dt.items.add(a);
    dt.items.add(new File(['not an image'], 'notes.txt'));
    const loose = await ws.ingest({ kind: 'dataTransfer', dataTransfer: dt });
    expect(loose.added).toBe(1);
    expect(loose.dataset.labels).toEqual([]);
    expect(loose.skipped.map((s) => s.path)).toEqual(['notes.txt']);

    await expect(ws.ingest({ kind: 'files', files: [a], paths: [] })).rejects.toThrow(
      /1 files came with 0 paths/,
    );
    await expect(ws.ingest({ kind: 'fileList', files: [] })).rejects.toThrow(/no files arrived/);
  });
});
