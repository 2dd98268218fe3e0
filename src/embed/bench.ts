/**
 * The worker half of `npm run bench:embed` (not part of the app): times the embed service's
 * stages apart and together, with the same code the app runs. The worker
 * (src/workers/embed-bench.worker.ts) exposes one EmbedBench; the page (bench-page.ts) starts one
 * worker per configuration, because ORT fixes its wasm thread count when its first session is
 * created.
 */
import { CHUNK_ROWS, deleteEmbedCacheDb, EmbeddingCache } from '../store/embed-cache';
import { bitmapToInput, decodeBitmap } from './decode';
import { loadModelBytes } from './model-fetch';
import type { ModelSpec } from './models';
import { defaultBaseUrl } from './provider';
import { EmbedService } from './service';
import { configureOrt, createSession, type EmbedSession, type Provider } from './session';
import { sha256Hex } from './sha256';
import { sniffImage } from './sniff';

export interface Timing {
  images: number;
  seconds: number;
  imagesPerSecond: number;
}

const timing = (images: number, ms: number): Timing => ({
  images,
  seconds: Number((ms / 1000).toFixed(3)),
  imagesPerSecond: Number(((images * 1000) / ms).toFixed(2)),
});

/** One web configuration the bench compares (see bench/embed.ts). */
export interface BenchLayout {
  workers: number;
  threads: number;
  spinning?: boolean;
  /** decode at full size and scale on the canvas (the path before reduced decoding) */
  fullDecode?: boolean;
}

/** An end-to-end pass: its speed, where it ran, and the rows of the first `keep` files. */
export interface BenchPass extends Timing {
  device: string;
  threads: number;
  workers: number;
  /** keep x dim, in file order */
  rows: Float32Array;
  dim: number;
}

export class EmbedBench {
  private readonly service = new EmbedService();
  private readonly sessions: Partial<Record<Provider, Promise<EmbedSession>>> = {};

  configure(threads: number): number {
    this.service.configure({ wasmThreads: threads });
    return configureOrt(threads);
  }

  /** Fix this worker's layout before its first session (one configuration per worker). */
  setup(layout: BenchLayout): void {
    this.service.configure({
      workers: layout.workers,
      wasmThreads: layout.threads,
      spinning: layout.spinning,
      fullDecode: layout.fullDecode,
    });
  }

  /**
   * embedFiles without the cache, exactly as the app runs it (the first call also loads the
   * model: callers make a warm-up pass first). Keeps the rows of the first `keep` files.
   */
  async pass(
    files: Blob[],
    spec: ModelSpec,
    batch: number,
    provider: Provider,
    keep: number,
  ): Promise<BenchPass> {
    const items = files.map((file, i) => ({ key: String(i), file }));
    const opts = { model: spec, provider, batchSize: batch, useCache: false };
    const kept = new Map<number, Float32Array>();
    let dim = 0;
    const onRows = (r: { keys: string[]; data: Float32Array; dim: number }): void => {
      dim = r.dim;
      r.keys.forEach((k, i) => {
        if (Number(k) < keep) kept.set(Number(k), r.data.slice(i * r.dim, (i + 1) * r.dim));
      });
    };
    const none = (): void => undefined;
    const t = performance.now();
    const s = await this.service.embedFiles(items, opts, onRows, none, none);
    const ms = performance.now() - t;
    if (s.computed !== files.length) throw new Error(`computed ${s.computed} of ${files.length}`);
    const rows = new Float32Array(keep * dim);
    for (let i = 0; i < keep; i++) rows.set(kept.get(i)!, i * dim);
    return {
      ...timing(files.length, ms),
      device: s.device,
      threads: s.threads,
      workers: s.workers,
      rows,
      dim,
    };
  }

  /** The model's input tensors for `files`, decoded and packed as the app does. */
  async tensors(files: Blob[], spec: ModelSpec): Promise<Float32Array> {
    const out = new Float32Array(files.length * 3 * spec.inputSize ** 2);
    const bitmaps = await Promise.all(files.map((f) => decodeBitmap(f, spec)));
    bitmaps.forEach((bmp, j) => bitmapToInput(bmp, spec, out, j));
    return out;
  }

  /**
   * What the worker does before the model: read, sniff, hash, decode, crop/scale, tensor.
   * `full`: decode at full size and scale on the canvas (the path before reduced decoding).
   */
  async decodeOnly(files: Blob[], spec: ModelSpec, batch: number, full = false): Promise<Timing> {
    const input = new Float32Array(batch * 3 * spec.inputSize ** 2);
    const t = performance.now();
    for (let i = 0; i < files.length; i += batch) {
      const group = files.slice(i, i + batch);
      const blobs = await Promise.all(
        group.map(async (f) => {
          const b = new Uint8Array(await f.arrayBuffer());
          const s = sniffImage(b);
          if (!s.ok) throw new Error(s.reason);
          await sha256Hex(b);
          return new Blob([b], { type: s.mime });
        }),
      );
      const bitmaps = await Promise.all(blobs.map((b) => decodeBitmap(b, full ? undefined : spec)));
      bitmaps.forEach((bmp, j) => bitmapToInput(bmp, spec, input, j));
    }
    return timing(files.length, performance.now() - t);
  }

  /** The model alone on ready-made input tensors, after one warm-up batch. */
  async inferenceOnly(
    spec: ModelSpec,
    images: number,
    batch: number,
    provider: Provider,
  ): Promise<Timing> {
    this.sessions[provider] ??= loadModelBytes(spec, { baseUrl: defaultBaseUrl() }).then((b) =>
      createSession(b.bytes, spec, provider),
    );
    const session = await this.sessions[provider];
    const input = new Float32Array(batch * 3 * spec.inputSize ** 2);
    for (let i = 0; i < input.length; i++) input[i] = 0.5 + 0.5 * Math.sin(i * 0.37);
    await session.run(input, batch);
    const t = performance.now();
    for (let done = 0; done < images; done += batch) {
      await session.run(input, Math.min(batch, images - done));
    }
    return timing(images, performance.now() - t);
  }

  /** embedFiles without the cache, after a warm-up run that loads the model. */
  async endToEnd(
    files: Blob[],
    spec: ModelSpec,
    batch: number,
    provider: Provider,
  ): Promise<Timing> {
    const items = files.map((file, i) => ({ key: String(i), file }));
    const opts = { model: spec, provider, batchSize: batch, useCache: false };
    const none = (): void => undefined;
    await this.service.embedFiles(items.slice(0, batch), opts, none, none, none);
    const t = performance.now();
    const s = await this.service.embedFiles(items, opts, none, none, none);
    const ms = performance.now() - t;
    if (s.computed !== files.length) throw new Error(`computed ${s.computed} of ${files.length}`);
    return timing(files.length, ms);
  }

  /** Cache writes: CHUNK_ROWS rows per record against one row per record, and a lookup. */
  async cache(rows: number, dim: number): Promise<Record<string, number>> {
    const name = `strata-embeddings-bench-${Date.now()}`;
    const cache = await EmbeddingCache.open(name);
    const data = new Float32Array(rows * dim).map((_, i) => i % 97);
    const hashes = (p: string): string[] => Array.from({ length: rows }, (_, i) => `${p}${i}`);
    let t = performance.now();
    await cache.store('m', 'chunked', dim, hashes('a'), data);
    const chunked = performance.now() - t;
    t = performance.now();
    const single = hashes('b');
    for (let i = 0; i < rows; i++) {
      await cache.store('m', 'single', dim, [single[i]], data.subarray(i * dim, (i + 1) * dim));
    }
    const oneByOne = performance.now() - t;
    t = performance.now();
    const found = await cache.lookup('m', 'chunked', hashes('a'));
    const lookup = performance.now() - t;
    cache.close();
    deleteEmbedCacheDb(name);
    if (found.size !== rows) throw new Error(`lookup found ${found.size} of ${rows}`);
    return {
      rows,
      dim,
      chunk_rows: CHUNK_ROWS,
      store_chunked_ms: Math.round(chunked),
      store_one_per_record_ms: Math.round(oneByOne),
      lookup_ms: Math.round(lookup),
    };
  }
}
