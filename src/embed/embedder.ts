/**
 * Everything the embed worker does, as a plain class (the worker file only exposes it), so it
 * can run and be tested on a page too.
 *
 * One run: read each file, sniff it, hash it, look it up in the cache (hits go straight back),
 * then decode the misses in batches and run the model. The next batch is read and decoded while
 * the current one is in the model: createImageBitmap decodes on the browser's decoder threads,
 * so decoding overlaps inference even though this worker has one JS thread.
 */
import { EmbeddingCache } from './cache';
import { CHUNK_ROWS } from './cache';
import { bitmapToInput, decodeBitmap, decodeFailure } from './decode';
import { loadModelBytes, type ModelBytes } from './model-fetch';
import { preprocessingId, type ModelSpec } from './models';
import {
  createSession,
  configureOrt,
  ortMessage,
  wasmThreads,
  type EmbedSession,
  type Provider,
} from './session';
import { sha256Hex } from './sha256';
import { sniffImage } from './sniff';
import type {
  EmbedApi,
  EmbedConfig,
  EmbedItem,
  EmbedOptions,
  EmbedProgress,
  EmbedRows,
  EmbedSkip,
  EmbedSummary,
  ProbeResult,
} from '../workers/embed-api';

/**
 * Files read, hashed and looked up together: one cache lookup (one IndexedDB transaction) per
 * window, and at most this many files' bytes held ahead of the model. 64 matches CHUNK_ROWS, so a
 * re-added folder's window mostly hits one stored chunk (1024 lookups took 244-507 ms in
 * bench:embed, against ~8 s to compute 48 images on wasm: lookups are never the bottleneck).
 */
const WINDOW = 64;
/**
 * Default images per inference call. bench:embed (224 px, wasm, 1 thread, busy 2-core machine,
 * medians of 3): batch 1 4.5 img/s, 8 6.0, 16 6.8 (one 16 run at 4.6). 16 gains at most ~13%
 * for twice the memory and twice the wait before the first rows, so 8.
 */
const DEFAULT_BATCH = 8;

/** A run was cancelled; embedFiles turns it into `cancelled: true`. */
class Cancelled extends Error {}

/** App root in dev (server root + base) and in a Vite build (worker chunks sit in assets/). */
export function defaultBaseUrl(): string {
  if (import.meta.env.DEV) {
    return new URL(import.meta.env.BASE_URL, globalThis.location.origin).href;
  }
  return new URL('../', import.meta.url).href;
}

interface Pending {
  hash: string;
  keys: string[];
  blob: Blob;
  format: string;
}

interface Batch {
  input: Float32Array;
  n: number;
  entries: Pending[];
}

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb || 1);
}

async function webgpuAvailability(): Promise<{ ok: boolean; reason?: string; software?: boolean }> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) return { ok: false, reason: 'this browser has no WebGPU' };
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return { ok: false, reason: 'no WebGPU adapter was found' };
    const legacy = adapter as GPUAdapter & { isFallbackAdapter?: boolean };
    const software = adapter.info?.isFallbackAdapter ?? legacy.isFallbackAdapter ?? false;
    return { ok: true, software };
  } catch (err) {
    return { ok: false, reason: `WebGPU adapter request failed: ${ortMessage(err)}` };
  }
}

export class EmbedService implements EmbedApi {
  private baseUrl = defaultBaseUrl();
  private threads?: number;
  private abort?: AbortController;
  private cache?: Promise<EmbeddingCache | undefined>;
  private cacheError?: string;
  /** the last model's bytes (one at a time: remote models are ~100 MB) */
  private model?: { ref: Blob | string; bytes: ModelBytes };
  private sessions = new Map<string, Promise<EmbedSession>>();
  /** provider chosen by 'auto' per model key, with the reason */
  private autoChoice = new Map<string, Provider>();

  configure(config: EmbedConfig): void {
    if (config.baseUrl) this.baseUrl = new URL(config.baseUrl).href;
    if (config.wasmThreads !== undefined)
      this.threads = Math.max(1, Math.floor(config.wasmThreads));
  }

  cancel(): void {
    this.abort?.abort();
  }

  async clearCache(modelId?: string): Promise<void> {
    const cache = await this.openCache();
    if (!cache) return;
    await cache.clear(modelId);
  }

  private openCache(): Promise<EmbeddingCache | undefined> {
    this.cache ??= EmbeddingCache.open().catch((err: unknown) => {
      this.cacheError = `the embedding cache could not be opened (${ortMessage(err)}); nothing is saved between runs`;
      return undefined;
    });
    return this.cache;
  }

  private providerLabel(p: Provider): string {
    if (p === 'webgpu') return 'webgpu';
    const t = wasmThreads();
    return `wasm (${t} thread${t === 1 ? '' : 's'})`;
  }

  private async modelBytes(
    spec: ModelSpec,
    onDownload?: (loaded: number, total?: number) => void,
    signal?: AbortSignal,
  ): Promise<ModelBytes> {
    // Same file object or same resolved URL: the bytes (and sessions) loaded last time.
    const ref = spec.file ?? (spec.url ? new URL(spec.url, this.baseUrl).href : spec.id);
    if (this.model?.ref === ref) return this.model.bytes;
    // A different model: drop the old sessions and bytes before loading the new one.
    for (const s of this.sessions.values()) void s.then((x) => x.release()).catch(() => undefined);
    this.sessions.clear();
    this.model = undefined;
    const bytes = await loadModelBytes(spec, {
      baseUrl: this.baseUrl,
      signal,
      onProgress: onDownload && ((p) => onDownload(p.loaded, p.total)),
    });
    this.model = { ref, bytes };
    return bytes;
  }

  private session(
    spec: ModelSpec,
    modelKey: string,
    bytes: ModelBytes,
    provider: Provider,
  ): Promise<EmbedSession> {
    const key = `${modelKey}|${spec.inputName ?? ''}|${spec.outputName}|${provider}`;
    let s = this.sessions.get(key);
    if (!s) {
      configureOrt(this.threads);
      s = createSession(bytes.bytes, spec, provider);
      s.catch(() => this.sessions.delete(key));
      this.sessions.set(key, s);
    }
    return s;
  }

  private static modelKey(spec: ModelSpec, bytes?: ModelBytes): string {
    // A spec that pins its file's hash names its content already; otherwise the file's own hash
    // keeps two different "custom" models from sharing cached rows.
    return spec.sha256 ? spec.id : `${spec.id}#${bytes!.sha256.slice(0, 16)}`;
  }

  async embedFiles(
    items: EmbedItem[],
    opts: EmbedOptions,
    onRows: (rows: EmbedRows) => void,
    onProgress: (p: EmbedProgress) => void,
    onSkip: (s: EmbedSkip) => void,
  ): Promise<EmbedSummary> {
    if (this.abort && !this.abort.signal.aborted) {
      throw new Error('An embedding run is already going in this worker; cancel it first.');
    }
    const ctrl = new AbortController();
    this.abort = ctrl;
    const signal = ctrl.signal;
    const spec = opts.model;
    const batchSize = Math.max(1, Math.min(256, Math.floor(opts.batchSize ?? DEFAULT_BATCH)));
    const useCache = opts.useCache !== false;
    const prep = preprocessingId(spec);
    const total = items.length;
    const warnings: string[] = [];
    const stats = { computed: 0, cached: 0, skipped: 0 };
    let label = '';
    let dim = spec.dim;
    let download: EmbedProgress['download'];
    let computeStart = 0;

    const progress = (): void => {
      const done = stats.computed + stats.cached + stats.skipped;
      const elapsed = computeStart ? (performance.now() - computeStart) / 1000 : 0;
      const rate = elapsed > 0 ? stats.computed / elapsed : 0;
      onProgress({
        done,
        total,
        itemsPerSecond: rate,
        etaSeconds: rate > 0 ? (total - done) / rate : Number.POSITIVE_INFINITY,
        provider: label,
        cached: stats.cached,
        download,
      });
    };
    const skip = (key: string, reason: string): void => {
      stats.skipped++;
      onSkip({ key, reason });
    };
    const check = (): void => {
      if (signal.aborted) throw new Cancelled();
    };

    const needsBytes = !spec.sha256;
    let bytes: ModelBytes | undefined;
    const loadBytes = async (): Promise<ModelBytes> => {
      bytes ??= await this.modelBytes(
        spec,
        (loaded, t) => {
          download = { loaded, total: t };
          progress();
        },
        signal,
      );
      download = undefined;
      return bytes;
    };

    const cache = useCache ? await this.openCache() : undefined;
    if (useCache && !cache && this.cacheError) warnings.push(this.cacheError);
    let cacheWritable = !!cache;
    const toStore: { hashes: string[]; rows: Float32Array[] } = { hashes: [], rows: [] };
    let modelKey = '';

    const flush = async (force: boolean): Promise<void> => {
      if (!cache || !cacheWritable || toStore.hashes.length === 0) return;
      if (!force && toStore.hashes.length < CHUNK_ROWS) return;
      const data = new Float32Array(toStore.hashes.length * dim);
      toStore.rows.forEach((r, i) => data.set(r, i * dim));
      const hashes = toStore.hashes;
      toStore.hashes = [];
      toStore.rows = [];
      try {
        await cache.store(modelKey, prep, dim, hashes, data);
      } catch (err) {
        cacheWritable = false;
        warnings.push(
          `Embeddings could not be saved in the browser (${ortMessage(err)}); they will be computed again next time.`,
        );
      }
    };

    /** keys waiting for a hash that is already queued in this run (duplicate files) */
    const queued = new Map<string, Pending>();

    const emit = (keys: string[], rows: Float32Array, d: number): void => {
      if (keys.length === 0) return;
      onRows({ keys, data: rows, dim: d });
    };

    /** Read, sniff, hash and look up a window of items; yields what must be computed. */
    async function* misses(this: void): AsyncGenerator<Pending> {
      for (let w = 0; w < items.length; w += WINDOW) {
        check();
        const win = items.slice(w, w + WINDOW);
        const read = await Promise.all(
          win.map(async (it) => {
            try {
              const b = new Uint8Array(await it.file.arrayBuffer());
              const sniffed = sniffImage(b);
              if (!sniffed.ok) return { it, reason: sniffed.reason };
              return {
                it,
                bytes: b,
                format: sniffed.format,
                mime: sniffed.mime,
                hash: await sha256Hex(b),
              };
            } catch (err) {
              return {
                it,
                reason: `could not read the file (moved or deleted?): ${ortMessage(err)}`,
              };
            }
          }),
        );
        check();
        const fresh: typeof read = [];
        for (const r of read) {
          if (r.reason !== undefined) skip(r.it.key, r.reason);
          else fresh.push(r);
        }
        const hits =
          cache && modelKey
            ? await cache.lookup(modelKey, prep, [...new Set(fresh.map((r) => r.hash!))])
            : new Map<string, { row: Float32Array; dim: number }>();
        const hitKeys: string[] = [];
        const hitRows: Float32Array[] = [];
        let hitDim = dim;
        for (const r of fresh) {
          const h = hits.get(r.hash!);
          if (h) {
            hitKeys.push(r.it.key);
            hitRows.push(h.row);
            hitDim = h.dim;
          }
        }
        if (hitKeys.length) {
          const data = new Float32Array(hitKeys.length * hitDim);
          hitRows.forEach((row, i) => data.set(row, i * hitDim));
          stats.cached += hitKeys.length;
          emit(hitKeys, data, hitDim);
        }
        for (const r of fresh) {
          if (hits.has(r.hash!)) continue;
          const same = queued.get(r.hash!);
          if (same) {
            same.keys.push(r.it.key);
            continue;
          }
          const p: Pending = {
            hash: r.hash!,
            keys: [r.it.key],
            blob: new Blob([r.bytes as Uint8Array<ArrayBuffer>], { type: r.mime }),
            format: r.format!,
          };
          queued.set(p.hash, p);
          yield p;
        }
        progress();
      }
    }

    const gen = misses();
    const plane = 3 * spec.inputSize * spec.inputSize;
    const nextBatch = async (): Promise<Batch | null> => {
      const entries: Pending[] = [];
      while (entries.length < batchSize) {
        const r = await gen.next();
        if (r.done) break;
        entries.push(r.value);
      }
      if (entries.length === 0) return null;
      const decoded = await Promise.allSettled(entries.map((e) => decodeBitmap(e.blob)));
      const input = new Float32Array(entries.length * plane);
      const good: Pending[] = [];
      decoded.forEach((d, i) => {
        const e = entries[i];
        let reason: string | undefined;
        if (d.status === 'fulfilled') {
          try {
            bitmapToInput(d.value, spec, input, good.length);
            good.push(e);
          } catch (err) {
            reason = decodeFailure(err, e.format);
          }
        } else {
          reason = decodeFailure(d.reason, e.format);
        }
        if (reason !== undefined) {
          queued.delete(e.hash);
          for (const k of e.keys) skip(k, reason);
        }
      });
      return { input, n: good.length, entries: good };
    };

    let provider: Provider | undefined;
    let pending: Promise<Batch | null> | null = null;
    let session: EmbedSession | undefined;
    let cancelled = false;
    try {
      if (needsBytes) await loadBytes();
      modelKey = EmbedService.modelKey(spec, bytes);
      progress();
      pending = nextBatch();
      while (pending) {
        const batch: Batch | null = await pending;
        check();
        if (!batch) break;
        // Start reading and decoding the next batch now, while this one is in the model.
        pending = nextBatch();
        pending.catch(() => undefined);
        if (batch.n === 0) {
          progress();
          continue;
        }
        let result: { rows: Float32Array; dim: number };
        if (!session) {
          const b = await loadBytes();
          const chosen = await this.choose(spec, modelKey, b, opts.provider, batch);
          session = chosen.session;
          provider = session.provider;
          label = this.providerLabel(provider);
          if (chosen.note) warnings.push(chosen.note);
          computeStart = performance.now();
          result = chosen.first ?? (await session.run(batch.input, batch.n));
        } else {
          result = await session.run(batch.input, batch.n);
        }
        if (dim === 0) dim = result.dim;
        if (result.dim !== dim) {
          throw new Error(`${spec.name} returned ${result.dim}-d rows after ${dim}-d ones.`);
        }
        const keys: string[] = [];
        const out = new Float32Array(batch.entries.reduce((s, e) => s + e.keys.length, 0) * dim);
        batch.entries.forEach((e, i) => {
          const row = result.rows.subarray(i * dim, (i + 1) * dim);
          for (const k of e.keys) {
            out.set(row, keys.length * dim);
            keys.push(k);
          }
          queued.delete(e.hash);
          if (cacheWritable) {
            toStore.hashes.push(e.hash);
            toStore.rows.push(row);
          }
        });
        stats.computed += keys.length;
        emit(keys, out, dim);
        progress();
        await flush(false);
      }
    } catch (err) {
      if (!(err instanceof Cancelled) && !signal.aborted) throw err;
      cancelled = true;
    } finally {
      // Let a batch that is still being read/decoded settle, so no skip or cached row is
      // reported after this call has returned.
      if (pending) await pending.catch(() => undefined);
      await gen.return(undefined).catch(() => undefined);
      await flush(true);
      if (this.abort === ctrl) this.abort = undefined;
    }
    progress();
    return {
      computed: stats.computed,
      cached: stats.cached,
      skipped: stats.skipped,
      provider: label || (provider ? this.providerLabel(provider) : ''),
      warnings,
      cancelled,
    };
  }

  /**
   * Provider for a run. 'wasm'/'webgpu' are taken as asked (an unavailable WebGPU is an error:
   * the person chose it). 'auto' skips software WebGPU adapters (SwiftShader measured 30-90x
   * slower than wasm), otherwise runs the first real batch on both and keeps the faster one,
   * and the wasm result is used as that batch's output.
   */
  private async choose(
    spec: ModelSpec,
    modelKey: string,
    bytes: ModelBytes,
    choice: EmbedOptions['provider'],
    batch: Batch,
  ): Promise<{
    session: EmbedSession;
    first?: { rows: Float32Array; dim: number };
    note?: string;
  }> {
    if (choice === 'wasm') return { session: await this.session(spec, modelKey, bytes, 'wasm') };
    if (choice === 'webgpu') {
      const gpu = await webgpuAvailability();
      if (!gpu.ok) throw new Error(`WebGPU was requested but ${gpu.reason}.`);
      return { session: await this.session(spec, modelKey, bytes, 'webgpu') };
    }
    const known = this.autoChoice.get(modelKey);
    if (known) return { session: await this.session(spec, modelKey, bytes, known) };
    const gpu = await webgpuAvailability();
    const wasm = await this.session(spec, modelKey, bytes, 'wasm');
    if (!gpu.ok || gpu.software) {
      this.autoChoice.set(modelKey, 'wasm');
      return { session: wasm };
    }
    let t = performance.now();
    const first = await wasm.run(batch.input, batch.n);
    const wasmMs = performance.now() - t;
    try {
      const webgpu = await this.session(spec, modelKey, bytes, 'webgpu');
      await webgpu.run(batch.input, batch.n); // warm-up: shader compilation
      t = performance.now();
      const g = await webgpu.run(batch.input, batch.n);
      const gpuMs = performance.now() - t;
      const agree = cosine(g.rows, first.rows) > 0.999;
      const pick: Provider = agree && gpuMs < wasmMs ? 'webgpu' : 'wasm';
      this.autoChoice.set(modelKey, pick);
      const note = agree
        ? undefined
        : 'WebGPU gave different results from WebAssembly on this device, so WebAssembly is used.';
      return { session: pick === 'webgpu' ? webgpu : wasm, first, note };
    } catch (err) {
      this.autoChoice.set(modelKey, 'wasm');
      return {
        session: wasm,
        first,
        note: `WebGPU could not run the model (${ortMessage(err)}); using WebAssembly.`,
      };
    }
  }

  async probe(model: ModelSpec): Promise<ProbeResult> {
    const bytes = await this.modelBytes(model);
    const modelKey = EmbedService.modelKey(model, bytes);
    // A smooth synthetic image (no decoding involved): only the model's speed is measured.
    const n = 2;
    const s = model.inputSize;
    const input = new Float32Array(n * 3 * s * s);
    for (let i = 0; i < input.length; i++) input[i] = 0.5 + 0.4 * Math.sin(i * 0.001);
    const time = async (session: EmbedSession): Promise<{ ms: number; dim: number }> => {
      const first = await session.run(input, n); // warm-up
      const t = performance.now();
      await session.run(input, n);
      return { ms: (performance.now() - t) / n, dim: first.dim };
    };
    const wasm = await time(await this.session(model, modelKey, bytes, 'wasm'));
    const result: ProbeResult = {
      wasm: { available: true, threads: wasmThreads(), msPerItem: wasm.ms },
      webgpu: { available: false },
      chosen: 'wasm',
      dim: wasm.dim,
    };
    const gpu = await webgpuAvailability();
    if (!gpu.ok) {
      result.webgpu = { available: false, reason: gpu.reason };
      return result;
    }
    try {
      const g = await time(await this.session(model, modelKey, bytes, 'webgpu'));
      result.webgpu = { available: true, msPerItem: g.ms };
      if (g.ms < wasm.ms) result.chosen = 'webgpu';
      else
        result.webgpu.reason = gpu.software
          ? 'software adapter: slower than wasm'
          : 'slower than wasm here';
    } catch (err) {
      result.webgpu = { available: false, reason: ortMessage(err) };
    }
    return result;
  }
}
