/**
 * Remote models: download with progress from a hub-like server on another origin (the
 * globalSetup test/browser/setup-hub.ts), kept in the Cache API, checked by size and sha-256,
 * and run in the worker as a "use my own .onnx" URL model.
 */
import * as Comlink from 'comlink';
import { beforeEach, describe, expect, inject, it } from 'vitest';
import {
  clearModelCache,
  loadModelBytes,
  MODEL_CACHE,
  type DownloadProgress,
} from '../../src/embed/model-fetch';
import { BUNDLED_MODEL, customModelSpec, type ModelSpec } from '../../src/embed/models';
import type { EmbedProgress, EmbedRows, EmbedService } from '../../src/embed/service';

const hub = inject('hubUrl');
const MODEL_PATH = '/strata-test/mobilenet-v2-1.4/resolve/main/onnx/model.onnx';
const remote = (path: string, extra: Partial<ModelSpec> = {}): ModelSpec => ({
  ...BUNDLED_MODEL,
  id: 'remote-test',
  name: 'Remote test model',
  url: `${hub}${path}`,
  ...extra,
});
const hits = async (): Promise<Record<string, number>> => (await fetch(`${hub}/__hits`)).json();
const opts = { baseUrl: location.href };

beforeEach(() => clearModelCache());

describe('remote model download', () => {
  it('reports progress, checks size and sha-256, and stores the file in the Cache API', async () => {
    const seen: DownloadProgress[] = [];
    const before = (await hits())[MODEL_PATH] ?? 0;
    const got = await loadModelBytes(remote(MODEL_PATH), {
      ...opts,
      onProgress: (p) => seen.push(p),
    });
    expect(got.source).toBe('network');
    expect(got.sha256).toBe(BUNDLED_MODEL.sha256);
    expect(got.bytes.length).toBe(BUNDLED_MODEL.bytes);
    expect(seen.length).toBeGreaterThan(3);
    expect(seen.every((p) => p.total === BUNDLED_MODEL.bytes)).toBe(true);
    expect(seen.map((p) => p.loaded)).toEqual([...seen.map((p) => p.loaded)].sort((a, b) => a - b));
    expect(seen.at(-1)!.loaded).toBe(BUNDLED_MODEL.bytes);
    const cache = await caches.open(MODEL_CACHE);
    expect(await cache.match(`${hub}${MODEL_PATH}`)).toBeDefined();

    // Second load: from the Cache API, no request reaches the server.
    const again = await loadModelBytes(remote(MODEL_PATH), opts);
    expect(again.source).toBe('cache');
    expect(again.sha256).toBe(BUNDLED_MODEL.sha256);
    expect((await hits())[MODEL_PATH]).toBe(before + 1);
  });

  it('rejects a file whose sha-256 or size is wrong, and does not keep it', async () => {
    const path = '/strata-test/damaged/resolve/main/onnx/model.onnx';
    await expect(loadModelBytes(remote(path), opts)).rejects.toThrow(
      /Remote test model: the downloaded file has sha-256 [0-9a-f]{64}, expected 4d460f70.*\(a different or damaged file\)/,
    );
    expect(await (await caches.open(MODEL_CACHE)).match(`${hub}${path}`)).toBeUndefined();
    await expect(
      loadModelBytes(remote(MODEL_PATH, { sha256: undefined, bytes: 1000 }), opts),
    ).rejects.toThrow(/the downloaded file is 4411764 bytes, expected 1000/);
  });

  it('names the server status when the file is missing', async () => {
    await expect(
      loadModelBytes(remote('/strata-test/nope/resolve/main/model.onnx'), opts),
    ).rejects.toThrow(
      /Remote test model: downloading http:\/\/127\.0\.0\.1:\d+\/strata-test\/nope\/resolve\/main\/model\.onnx failed with HTTP 404 Not Found\./,
    );
  });

  it('runs a "use my own .onnx" URL model in the worker, with download progress', async () => {
    const worker = new Worker(new URL('../../src/workers/embed.worker.ts', import.meta.url), {
      type: 'module',
    });
    try {
      const api = Comlink.wrap<EmbedService>(worker);
      const spec = customModelSpec({
        url: `${hub}${MODEL_PATH}`,
        inputSize: 64,
        resize: 'squash',
        mean: [0, 0, 0],
        std: [1, 1, 1],
        outputName: 'feature',
        dim: 1792,
      });
      const res = await fetch('/test/fixtures/images/dog.png');
      const file = new File([await res.blob()], 'dog.png');
      const rows: EmbedRows[] = [];
      const progress: EmbedProgress[] = [];
      const summary = await api.embedFiles(
        [{ key: 'dog', file }],
        { model: spec, provider: 'wasm', useCache: false },
        Comlink.proxy((r: EmbedRows) => void rows.push(r)),
        Comlink.proxy((p: EmbedProgress) => void progress.push(p)),
        Comlink.proxy(() => undefined),
      );
      await new Promise((r) => setTimeout(r, 50));
      expect(summary).toMatchObject({ computed: 1, skipped: 0 });
      expect(rows[0].dim).toBe(1792);
      expect(progress.some((p) => p.download && p.download.total === BUNDLED_MODEL.bytes)).toBe(
        true,
      );

      // A wrong output name is a precise error, not a crash.
      await expect(
        api.embedFiles(
          [{ key: 'dog', file }],
          { model: { ...spec, outputName: 'logits' }, provider: 'wasm', useCache: false },
          Comlink.proxy(() => undefined),
          Comlink.proxy(() => undefined),
          Comlink.proxy(() => undefined),
        ),
      ).rejects.toThrow(/has no output "logits"; its outputs are: feature\./);
    } finally {
      worker.terminate();
    }
  });
});
