/**
 * The embed worker end to end in real Chromium: the bundled model on the wasm and WebGPU
 * execution providers against golden features from the original TF.js model, skipping bad
 * files with reasons, and the content-addressed cache (a second run computes nothing).
 */
import * as Comlink from 'comlink';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLED_MODEL, type ModelSpec } from '../../src/embed/models';
import type {
  EmbedItem,
  EmbedProgress,
  EmbedRows,
  EmbedService,
  EmbedSkip,
  EmbedSummary,
} from '../../src/embed/service';
import golden from '../fixtures/golden/mobilenet-v2-1.4.json';

async function fixture(path: string): Promise<File> {
  const res = await fetch(`/test/fixtures/${path}`);
  if (!res.ok) throw new Error(`fixture ${path}: HTTP ${res.status}`);
  return new File([await res.blob()], path.split('/').pop()!);
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

interface Run {
  summary: EmbedSummary;
  rows: Map<string, Float32Array>;
  skips: EmbedSkip[];
  progress: EmbedProgress[];
}

let worker: Worker;
let api: Comlink.Remote<EmbedService>;

async function embed(
  items: EmbedItem[],
  model: ModelSpec,
  provider: 'wasm' | 'webgpu' | 'auto',
  useCache = true,
): Promise<Run> {
  const rows = new Map<string, Float32Array>();
  const skips: EmbedSkip[] = [];
  const progress: EmbedProgress[] = [];
  const summary = await api.embedFiles(
    items,
    { model, provider, batchSize: 4, useCache },
    Comlink.proxy((r: EmbedRows) => {
      r.keys.forEach((k, i) => rows.set(k, r.data.slice(i * r.dim, (i + 1) * r.dim)));
    }),
    Comlink.proxy((p: EmbedProgress) => void progress.push(p)),
    Comlink.proxy((s: EmbedSkip) => void skips.push(s)),
  );
  // Callbacks are posted before embedFiles resolves; let the last ones land.
  await new Promise((r) => setTimeout(r, 50));
  return { summary, rows, skips, progress };
}

beforeAll(async () => {
  worker = new Worker(new URL('../../src/workers/embed.worker.ts', import.meta.url), {
    type: 'module',
  });
  api = Comlink.wrap<EmbedService>(worker);
  await api.clearCache();
});

afterAll(() => worker.terminate());

describe('embed worker, bundled MobileNetV2-1.4', () => {
  it('matches the TF.js golden feature on the wasm provider (224 px)', async () => {
    const entry = golden.entries.find((e) => e.size === 224)!;
    const file = await fixture(`golden/${entry.input}`);
    const run = await embed([{ key: 'golden', file }], BUNDLED_MODEL, 'wasm', false);
    expect(run.summary).toMatchObject({ computed: 1, cached: 0, skipped: 0 });
    expect(run.summary.provider).toMatch(/^wasm \(\d+ threads?\)$/);
    const row = run.rows.get('golden')!;
    expect(row.length).toBe(1792);
    expect(cosine(row, entry.feature)).toBeGreaterThan(0.999);
  });

  it('matches the TF.js golden feature on the WebGPU provider (SwiftShader, 96 px)', async () => {
    const entry = golden.entries.find((e) => e.size === 96)!;
    const file = await fixture(`golden/${entry.input}`);
    const spec: ModelSpec = { ...BUNDLED_MODEL, inputSize: 96 };
    const run = await embed([{ key: 'golden96', file }], spec, 'webgpu', false);
    expect(run.summary).toMatchObject({ computed: 1, skipped: 0, provider: 'webgpu' });
    expect(cosine(run.rows.get('golden96')!, entry.feature)).toBeGreaterThan(0.999);
  });

  it('embeds the good files of a folder, reports the bad ones, and never recomputes', async () => {
    const good = ['dog.png', 'apple.jpg', 'car.webp', 'house.bmp', 'tree.gif'];
    const bad = ['corrupt.jpg', 'empty.jpg', 'notes.txt'];
    const files = await Promise.all([...good, ...bad].map((n) => fixture(`images/${n}`)));
    const items = files.map((file) => ({ key: `folder/${file.name}`, file }));

    const first = await embed(items, BUNDLED_MODEL, 'wasm');
    expect(first.summary).toMatchObject({ computed: 5, cached: 0, skipped: 3 });
    expect([...first.rows.keys()].sort()).toEqual(good.map((n) => `folder/${n}`).sort());
    const reasons = Object.fromEntries(first.skips.map((s) => [s.key, s.reason]));
    expect(reasons['folder/corrupt.jpg']).toMatch(/could not decode this JPEG file/);
    expect(reasons['folder/empty.jpg']).toBe('empty file (0 bytes)');
    expect(reasons['folder/notes.txt']).toBe('not an image: the file is text');
    const last = first.progress.at(-1)!;
    expect(last).toMatchObject({ done: 8, total: 8, cached: 0 });
    expect(last.itemsPerSecond).toBeGreaterThan(0);

    // Same bytes under new names (a re-added folder): everything comes from the cache.
    const renamed = items.map((it) => ({ key: `again/${it.key}`, file: it.file }));
    const second = await embed(renamed, BUNDLED_MODEL, 'wasm');
    expect(second.summary).toMatchObject({ computed: 0, cached: 5, skipped: 3 });
    for (const n of good) {
      expect(Array.from(second.rows.get(`again/folder/${n}`)!)).toEqual(
        Array.from(first.rows.get(`folder/${n}`)!),
      );
    }
  });

  it('stops when cancelled and says so; "auto" never picks a software WebGPU adapter', async () => {
    // 24 distinct files: dog.png with different trailing bytes after IEND (new hash, same image).
    const dog = new Uint8Array(await (await fixture('images/dog.png')).arrayBuffer());
    const items = Array.from({ length: 24 }, (_, i) => ({
      key: `v${i}`,
      file: new Blob([dog, new Uint8Array([i])], { type: 'image/png' }),
    }));
    let rowsSeen = 0;
    const summary = await api.embedFiles(
      items,
      { model: BUNDLED_MODEL, provider: 'auto', batchSize: 2, useCache: false },
      Comlink.proxy((r: EmbedRows) => {
        rowsSeen += r.keys.length;
        void api.cancel();
      }),
      Comlink.proxy(() => undefined),
      Comlink.proxy(() => undefined),
    );
    expect(summary.cancelled).toBe(true);
    expect(summary.computed).toBeGreaterThan(0);
    expect(summary.computed).toBeLessThan(items.length);
    await new Promise((r) => setTimeout(r, 50));
    expect(rowsSeen).toBe(summary.computed);
    const adapter = await navigator.gpu.requestAdapter();
    expect(adapter, 'no WebGPU adapter found').not.toBeNull();
    if (adapter!.info.isFallbackAdapter) expect(summary.provider).toMatch(/^wasm/);
  });
});
