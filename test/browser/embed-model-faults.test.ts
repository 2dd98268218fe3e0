/**
 * A broken model in real Chromium, through the embed worker: a corrupt file and a model whose
 * output has the wrong shape each stop the run with a message that names the model and what is
 * wrong, rows already embedded stay delivered, and the same worker then runs a good model (the
 * run resumes with only the images still missing).
 */
import * as Comlink from 'comlink';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLED_MODEL, customModelSpec, type ModelSpec } from '../../src/embed/models';
import type { EmbedItem, EmbedRows, EmbedService } from '../../src/embed/service';

let worker: Worker;
let api: Comlink.Remote<EmbedService>;

async function fixture(path: string): Promise<File> {
  const res = await fetch(`/test/fixtures/${path}`);
  if (!res.ok) throw new Error(`fixture ${path}: HTTP ${res.status}`);
  return new File([await res.blob()], path.split('/').pop()!);
}

async function run(items: EmbedItem[], model: ModelSpec, keys: Set<string>): Promise<unknown> {
  const none = Comlink.proxy(() => undefined);
  const rows = Comlink.proxy((r: EmbedRows) => r.keys.forEach((k) => keys.add(k)));
  return api.embedFiles(items, { model, provider: 'wasm', batchSize: 2 }, rows, none, none);
}

beforeAll(async () => {
  worker = new Worker(new URL('../../src/workers/embed.worker.ts', import.meta.url), {
    type: 'module',
  });
  api = Comlink.wrap<EmbedService>(worker);
  // Small inputs keep the runs short; one session (no lanes) keeps the test to one worker.
  await api.configure({ workers: 1, wasmThreads: 1 });
  await api.clearCache();
});

afterAll(() => worker.terminate());

describe('embedding with a broken model', () => {
  it('a corrupt file, then a wrong output shape: clear messages, rows kept, the run resumes', async () => {
    const good = { ...BUNDLED_MODEL, inputSize: 96 };
    const items = await Promise.all(
      ['dog.png', 'apple.jpg', 'car.webp', 'house.bmp'].map(async (f) => ({
        key: f,
        file: await fixture(`images/${f}`),
      })),
    );
    const model = await (await fetch(`/${BUNDLED_MODEL.url}`)).arrayBuffer();
    const done = new Set<string>();

    // Two images embedded first (cached), as if an earlier run had stopped half-way.
    await run(items.slice(0, 2), good, done);
    expect([...done].sort()).toEqual(['apple.jpg', 'dog.png']);

    const corrupt = customModelSpec({
      file: new File([model.slice(0, model.byteLength / 2)], 'half.onnx'),
      inputSize: 96,
      resize: 'squash',
      mean: [0, 0, 0],
      std: [1, 1, 1],
      outputName: 'feature',
    });
    await expect(run(items, corrupt, new Set())).rejects.toThrow(
      /half\.onnx could not be loaded on wasm: /,
    );

    const wrongShape = { ...good, id: 'mobilenet-512', dim: 512 };
    await expect(run(items, wrongShape, new Set())).rejects.toThrow(
      /Model output "feature" has shape \[2, 1792\]: 1792-d rows, but the model settings say 512/,
    );

    // The good model again, in the same worker: the two stored rows come from the cache and
    // only the two missing images are computed.
    const again = new Set<string>();
    const summary = (await run(items, good, again)) as { computed: number; cached: number };
    expect(summary).toMatchObject({ computed: 2, cached: 2 });
    expect(again.size).toBe(4);
  });
});
