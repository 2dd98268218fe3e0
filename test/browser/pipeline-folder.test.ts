import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteDB } from 'idb';
import { Workspace } from '../../src/pipeline/workspace';
import { CancelledError } from '../../src/core/errors';
import type { RunSettings } from '../../src/pipeline/contract';
import { BUNDLED_MODEL } from '../../src/embed/models';
import { openStrataDb } from '../../src/store/db';
import { datasetBytes } from '../../src/store/usage';

/** A real, distinct picture: a shape of one colour on another. */
async function picture(i: number): Promise<Blob> {
  const c = new OffscreenCanvas(64, 64);
  const ctx = c.getContext('2d')!;
  ctx.fillStyle = `hsl(${(i * 47) % 360} 60% 80%)`;
  ctx.fillRect(0, 0, 64, 64);
  ctx.fillStyle = `hsl(${(i * 91) % 360} 80% 35%)`;
  if (i % 3 === 0) ctx.fillRect(10 + (i % 5), 12, 40, 30);
  else {
    ctx.beginPath();
    ctx.arc(32, 32, 12 + (i % 7) * 2, 0, Math.PI * 2);
    ctx.fill();
  }
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

async function remove(dir: FileSystemDirectoryHandle, path: string): Promise<void> {
  const [folder, name] = path.split('/');
  await (await dir.getDirectoryHandle(folder)).removeEntry(name);
}

const SETTINGS: RunSettings = {
  model: BUNDLED_MODEL.id,
  provider: 'wasm',
  batchSize: 2,
  normalisation: 'center-l2',
  k: [3, 2],
  r: [1, 1],
  resamplingSteps: 0,
  resampleStrategy: 'closest',
  iterations: 5,
  target: 3,
  leafStrategy: 'random',
  seed: 1,
  backend: 'cpu',
  dedup: null,
};

/** Few images: the bundled model takes seconds per batch on a busy 2-core machine. */
const N = 7;
const PATHS = Array.from({ length: N }, (_, i) => `${['red', 'green', 'blue'][i % 3]}/p${i}.png`);
const dbName = `strata-folder-${crypto.randomUUID()}`;
let opfs: FileSystemDirectoryHandle;
let folder: FileSystemDirectoryHandle;

beforeAll(async () => {
  opfs = await navigator.storage.getDirectory();
  folder = await opfs.getDirectoryHandle(`pictures-${crypto.randomUUID().slice(0, 8)}`, {
    create: true,
  });
  for (let i = 0; i < N; i++) await put(folder, PATHS[i], await picture(i));
});

afterAll(async () => {
  await opfs.removeEntry(folder.name, { recursive: true });
  await deleteDB(dbName);
});

describe('a dataset read from its folder', () => {
  it('stores no copies, skips a gone and a changed file with clear reasons, resumes after a reload, and exports from the folder', async () => {
    let ws = await Workspace.open({ dbName });
    const report = await ws.ingest({ kind: 'directoryHandle', handle: folder });
    const { dataset } = report;
    expect(report.added).toBe(N);
    expect(dataset).toMatchObject({ source: 'directory', storage: 'folder' });
    expect((await ws.listDatasets())[0].storage).toBe('folder');

    // After ingest, one file is deleted and one is rewritten (other bytes, later date).
    await remove(folder, PATHS[1]);
    await new Promise((r) => setTimeout(r, 20));
    await put(folder, PATHS[2], await picture(50));

    // Cancel once the first rows are stored, then "reload": a new Workspace on the same
    // database reads the folder through the stored handle and embeds only the rest.
    const run = await ws.createRun(dataset.id, SETTINGS);
    const stop = ws.subscribe((e) => {
      if (e.type === 'progress' && e.stage === 'embed' && e.done >= 2) ws.cancel(run.id);
    });
    await expect(ws.start(run.id)).rejects.toBeInstanceOf(CancelledError);
    stop();
    const cancelled = (await ws.getRun(run.id))!;
    expect(cancelled.counters.embedded).toBeGreaterThanOrEqual(2);
    await ws.close();

    ws = await Workspace.open({ dbName });
    expect(await ws.folderAccess(dataset.id)).toBe('granted');
    const done = await ws.resume(run.id);
    expect(done.status).toBe('done');
    expect(done.rows).toBe(N - 2);
    expect(done.counters.embedded).toBeLessThanOrEqual(N - 2);
    expect(done.selected).toBe(SETTINGS.target);
    const reasons = new Map(done.skipped.map((s) => [s.path, s.reason]));
    expect(reasons.get(PATHS[1])).toMatch(/no longer in the folder “pictures-\w+”.*rescan/);
    expect(reasons.get(PATHS[2])).toMatch(/changed in the folder .* since it was added/);

    // Nothing but thumbnails, embeddings and small item records: no copy of any picture.
    const db = await openStrataDb(dbName);
    const bytes = await datasetBytes(db, dataset.id);
    db.close();
    expect(bytes.fileRecords).toBe(0);
    expect(bytes.files).toBe(0);
    const pictureBytes = bytes.thumbs + bytes.embeddings;
    const stored = pictureBytes + bytes.items;
    console.log(JSON.stringify({ overThumbsAndEmbeddings: stored / pictureBytes - 1, ...bytes }));
    expect(stored).toBeLessThanOrEqual(1.1 * pictureBytes);

    // The large view reads the folder; a gone file says so.
    const items = await ws.listItems(dataset.id);
    const kept = items.find((i) => i.path === PATHS[0])!;
    const big = (await ws.file(dataset.id, kept.index))!;
    expect(big.size).toBe(kept.size);
    const gone = items.find((i) => i.path === PATHS[1])!;
    await expect(ws.file(dataset.id, gone.index)).rejects.toThrow(
      /“green\/p1\.png” cannot be read: it is no longer in the folder/,
    );

    // A selected file deleted before the export: the zip keeps the rest and lists it.
    const selected = JSON.parse(await (await ws.manifest(run.id, 'json')).text()).items as {
      path: string;
    }[];
    await remove(folder, selected[0].path);
    const zip = new Uint8Array(await new Response(await ws.zip(run.id)).arrayBuffer());
    const names = zipNames(zip);
    expect(names).toContain('missing-files.txt');
    expect(names).not.toContain(selected[0].path);
    for (const s of selected.slice(1)) expect(names).toContain(s.path);
    await ws.close();
  });

  it('asks again for the folder when the browser requires it, with a clear message', async () => {
    const ws = await Workspace.open({ dbName });
    const [dataset] = await ws.listDatasets();
    const red = (await ws.listItems(dataset.id)).find((i) => i.path === PATHS[0])!;
    // A second run still has the gone and the changed file to read (they were only skipped).
    const run = await ws.createRun(dataset.id, { ...SETTINGS, seed: 2 });
    // After a reload Chromium answers 'prompt' until the person allows it from a click.
    const proto = FileSystemHandle.prototype as unknown as Record<string, unknown>;
    const query = proto.queryPermission;
    const request = proto.requestPermission;
    let allowed = false;
    proto.queryPermission = async () => (allowed ? 'granted' : 'prompt');
    proto.requestPermission = async () => {
      allowed = true;
      return 'granted';
    };
    try {
      expect(await ws.folderAccess(dataset.id)).toBe('ask');
      await expect(ws.file(dataset.id, red.index)).rejects.toThrow(
        /needs your permission to read it again.*Allow reading the folder/,
      );
      await expect(ws.start(run.id)).rejects.toThrow(/needs your permission to read it again/);
      expect((await ws.getRun(run.id))?.status).toBe('failed');
      expect(await ws.allowFolder(dataset.id)).toBe(true);
      expect(await ws.folderAccess(dataset.id)).toBe('granted');
      expect((await ws.file(dataset.id, red.index))?.size).toBe(red.size);
      const done = await ws.resume(run.id);
      expect(done).toMatchObject({ status: 'done', rows: N - 2 });
      expect(done.counters.embedded).toBe(0);
    } finally {
      proto.queryPermission = query;
      proto.requestPermission = request;
      await ws.close();
    }
  });
});

/** Member names of a zip, read through its central directory. */
function zipNames(zip: Uint8Array): string[] {
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let eocd = zip.length - 22;
  while (eocd >= 0 && v.getUint32(eocd, true) !== 0x06054b50) eocd--;
  const count = v.getUint16(eocd + 10, true);
  let p = v.getUint32(eocd + 16, true);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const nameLen = v.getUint16(p + 28, true);
    const extra = v.getUint16(p + 30, true);
    const comment = v.getUint16(p + 32, true);
    out.push(new TextDecoder().decode(zip.subarray(p + 46, p + 46 + nameLen)));
    p += 46 + nameLen + extra + comment;
  }
  return out;
}
