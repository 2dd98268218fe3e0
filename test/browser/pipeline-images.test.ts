import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteDB } from 'idb';
import { Workspace } from '../../src/pipeline/workspace';
import { CancelledError } from '../../src/core/errors';
import type { RunSettings } from '../../src/pipeline/contract';
import { BUNDLED_MODEL } from '../../src/embed/models';

/** A real, distinct picture: a shape of one colour on another. */
async function picture(i: number): Promise<File> {
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
  const blob = await c.convertToBlob({ type: 'image/png' });
  return new File([blob], `p${i}.png`, { type: 'image/png', lastModified: 1_700_000_000_000 });
}

const SETTINGS: RunSettings = {
  model: BUNDLED_MODEL.id,
  provider: 'wasm',
  batchSize: 6,
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
};

/** Few images: the bundled model takes seconds per batch on a busy 2-core machine. */
const N = 6;
const dbName = `strata-images-${crypto.randomUUID()}`;
let ws: Workspace;
let files: File[];
let paths: string[];
let finished: string | null = null;

beforeAll(async () => {
  ws = await Workspace.open({ dbName });
  files = await Promise.all(Array.from({ length: N }, (_, i) => picture(i)));
  paths = files.map((f, i) => `${['red', 'green', 'blue'][i % 3]}/${f.name}`);
});

afterAll(async () => {
  await ws?.close();
  await deleteDB(dbName);
});

describe('a run on images with the bundled model', () => {
  it('embeds every image once: a second run and a re-added folder compute nothing new', async () => {
    const { dataset } = await ws.ingest({ kind: 'files', files, paths });
    // Cancel as soon as the first rows are stored, then resume: only the rest is embedded.
    const run = await ws.createRun(dataset.id, { ...SETTINGS, batchSize: 2 });
    const stop = ws.subscribe((e) => {
      if (e.type === 'progress' && e.stage === 'embed' && e.done >= 2) ws.cancel(run.id);
    });
    await expect(ws.start(run.id)).rejects.toBeInstanceOf(CancelledError);
    stop();
    const cancelled = (await ws.getRun(run.id))!;
    expect(cancelled.stages.embed.status).toBe('cancelled');
    expect(cancelled.counters.embedded).toBeGreaterThanOrEqual(2);
    expect(cancelled.counters.embedded).toBeLessThan(N);
    const first = await ws.resume(run.id);
    // every image computed at most once over both sessions; rows stored before the cancel reused
    expect(first.counters.embedded).toBeLessThanOrEqual(N);
    expect(first.counters.embedReused).toBeGreaterThanOrEqual(cancelled.counters.embedded);
    expect(first.status).toBe('done');
    expect(first.rows).toBe(N);
    expect(first.dim).toBe(BUNDLED_MODEL.dim);
    expect(first.providerUsed).toMatch(/wasm/);
    expect(first.selected).toBe(SETTINGS.target);
    finished = first.id;

    // Same dataset, other clustering settings: rows come from the stored embeddings.
    const second = await ws.start((await ws.createRun(dataset.id, { ...SETTINGS, seed: 2 })).id);
    expect(second.counters).toMatchObject({ embedded: 0, embedReused: N });

    // The same files added again as a new dataset: the embed worker's content-addressed cache
    // answers, nothing is computed.
    const again = await ws.ingest({ kind: 'files', files, paths });
    const third = await ws.start((await ws.createRun(again.dataset.id, SETTINGS)).id);
    expect(third.counters).toMatchObject({ embedded: 0, embedReused: N });

    const manifest = await (await ws.manifest(first.id, 'json')).text();
    const parsed = JSON.parse(manifest);
    expect(parsed.meta).toMatchObject({
      model: BUNDLED_MODEL.id,
      model_dim: BUNDLED_MODEL.dim,
      seed: 1,
    });
    expect(parsed.items).toHaveLength(SETTINGS.target);
    for (const it of parsed.items) {
      expect(paths).toContain(it.path);
      expect(it.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(it.clusters).toHaveLength(2);
      expect(['red', 'green', 'blue']).toContain(it.label);
    }
  });

  it('exports the selected files as a streamed zip and into a picked folder', async () => {
    expect(finished, 'needs the run of the first test').not.toBeNull();
    const runId = finished!;
    const selected = JSON.parse(await (await ws.manifest(runId, 'json')).text()).items as {
      path: string;
      sha256: string;
    }[];
    const progress: number[] = [];
    const stream = await ws.zip(runId, (p) => progress.push(p.done));
    const zip = new Uint8Array(await new Response(stream).arrayBuffer());
    const entries = readZip(zip);
    expect(entries.map((e) => e.name).sort()).toEqual(
      ['manifest.csv', 'manifest.json', ...selected.map((s) => s.path)].sort(),
    );
    for (const s of selected) {
      const e = entries.find((x) => x.name === s.path)!;
      expect(await sha256(e.data)).toBe(s.sha256);
    }
    const csv = new TextDecoder().decode(entries.find((e) => e.name === 'manifest.csv')!.data);
    // A plain table, header first; the run's metadata is in manifest.json next to it.
    expect(csv).toMatch(/^path,size,sha256,label,cluster_l1,/);
    const json = JSON.parse(
      new TextDecoder().decode(entries.find((e) => e.name === 'manifest.json')!.data),
    ) as { meta: { generator: string }; items: unknown[] };
    expect(json.meta.generator).toMatch(/^strata /);
    expect(json.items).toHaveLength(selected.length);
    expect(progress.at(-1)).toBe(selected.length);
    expect(await ws.exportName(runId, 'zip')).toMatch(
      /^strata-[\w.-]+-\d{4}-\d{2}-\d{2}-[0-9a-f]{8}\.zip$/,
    );

    const opfs = await navigator.storage.getDirectory();
    const out = await opfs.getDirectoryHandle(`export-${crypto.randomUUID().slice(0, 8)}`, {
      create: true,
    });
    try {
      await ws.writeToFolder(runId, out);
      for (const s of selected) {
        let dir = out;
        const parts = s.path.split('/');
        for (const p of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(p);
        const file = await (await dir.getFileHandle(parts[parts.length - 1])).getFile();
        expect(await sha256(new Uint8Array(await file.arrayBuffer()))).toBe(s.sha256);
      }
      const manifest = await (await out.getFileHandle('manifest.csv')).getFile();
      expect((await manifest.text()).split('\r\n').filter((l) => l)).toHaveLength(
        selected.length + 1,
      );
    } finally {
      await opfs.removeEntry(out.name, { recursive: true });
    }
  });
});

async function sha256(b: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', b as Uint8Array<ArrayBuffer>));
  return Array.from(d, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Entries of a zip with stored (uncompressed) members, read through its central directory. */
function readZip(zip: Uint8Array): { name: string; data: Uint8Array }[] {
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let eocd = zip.length - 22;
  while (eocd >= 0 && v.getUint32(eocd, true) !== 0x06054b50) eocd--;
  expect(eocd, 'end of central directory').toBeGreaterThanOrEqual(0);
  const count = v.getUint16(eocd + 10, true);
  let p = v.getUint32(eocd + 16, true);
  const out: { name: string; data: Uint8Array }[] = [];
  for (let i = 0; i < count; i++) {
    expect(v.getUint32(p, true)).toBe(0x02014b50);
    expect(v.getUint16(p + 10, true), 'stored, not deflated').toBe(0);
    const size = v.getUint32(p + 20, true);
    const nameLen = v.getUint16(p + 28, true);
    const extra = v.getUint16(p + 30, true);
    const comment = v.getUint16(p + 32, true);
    const local = v.getUint32(p + 42, true);
    const name = new TextDecoder().decode(zip.subarray(p + 46, p + 46 + nameLen));
    const start = local + 30 + v.getUint16(local + 26, true) + v.getUint16(local + 28, true);
    out.push({ name, data: zip.slice(start, start + size) });
    p += 46 + nameLen + extra + comment;
  }
  return out;
}
