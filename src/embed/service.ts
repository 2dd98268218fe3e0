/**
 * The embed service: what the embed worker (src/workers/embed.worker.ts) exposes over Comlink, as
 * a plain class, so it can run and be tested on a page too. Callers type the worker as
 * `Comlink.Remote<EmbedService>`; the types of its arguments and results are declared here.
 *
 * One run: read each file, sniff it, hash it, look it up in the cache (hits go straight back),
 * then decode the misses in batches and run the model (provider.ts loads it and picks the
 * execution provider). Batches overlap: on wasm the model runs in lane workers (lanes.ts), up to
 * two batches per lane in flight, while this worker's thread reads, decodes and packs the next
 * one; with a single in-worker session, the next batch is decoded by the browser's decoder
 * threads (createImageBitmap) while the current one is in the model.
 *
 * Rows go to `onRows` as Float32Arrays (row-major, `dim` floats per key), in no particular order:
 * cached items first within each window, then computed batches. Raw model outputs: centring and
 * L2 normalisation are the pipeline's job.
 */
import * as Comlink from 'comlink';
import { CHUNK_ROWS, EMBED_DB_NAME, EmbeddingCache } from '../store/embed-cache';
import { bitmapToInput, decodeBitmap, decodeFailure } from './decode';
import type { ModelBytes } from './model-fetch';
import { preprocessingId, type ModelSpec } from './models';
import { ModelSessions, type EmbedConfig, type EmbedProbe, type Placement } from './provider';
import { ortMessage, type EmbedSession } from './session';
import { sha256Hex } from './sha256';
import { sniffImage } from './sniff';
import type { ProviderChoice } from '../core/settings';

export type { EmbedConfig, EmbedProbe, ProviderProbe } from './provider';

export interface EmbedItem {
  /** caller's id for the item, echoed back in rows and skips */
  key: string;
  file: File | Blob;
}

export interface EmbedOptions {
  model: ModelSpec;
  provider: ProviderChoice;
  /** images per inference call (default 8) */
  batchSize?: number;
  /** read and write the embedding cache (default true; benchmarks turn it off) */
  useCache?: boolean;
  /**
   * the cache's database (default EMBED_DB_NAME): a workspace on a database of its own keeps a
   * cache of its own, so two of them never see each other's rows (cacheNameFor)
   */
  cacheName?: string;
}

export interface EmbedRows {
  keys: string[];
  /** keys.length x dim, row-major; transferred, so the worker keeps no copy */
  data: Float32Array;
  dim: number;
}

export interface EmbedProgress {
  /** items finished: computed + cached + skipped */
  done: number;
  total: number;
  /** recent throughput of computed items (cache hits are not counted) */
  itemsPerSecond: number;
  /** seconds left at that rate, assuming the rest must be computed */
  etaSeconds: number;
  /** e.g. "wasm (2 threads)" or "webgpu"; "" until the model is loaded */
  provider: string;
  /** the same in plain words, e.g. "this device's processor, 2 threads"; "" until loaded */
  device?: string;
  cached: number;
  /** model download in progress (remote models on first use) */
  download?: { loaded: number; total?: number };
}

export interface EmbedSkip {
  key: string;
  reason: string;
}

export interface EmbedSummary {
  computed: number;
  cached: number;
  skipped: number;
  provider: string;
  /** where the model ran, in plain words: "this device's processor, 2 threads" */
  device: string;
  /** threads that ran the model in all (0 on WebGPU) and sessions side by side */
  threads: number;
  workers: number;
  /** things that went wrong without stopping the run (e.g. the cache could not be written) */
  warnings: string[];
  /** true when cancel() stopped the run early */
  cancelled: boolean;
}

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

export class EmbedService {
  /** the model's bytes and sessions, kept between runs */
  private readonly models = new ModelSessions();
  private abort?: AbortController;
  private cache?: Promise<EmbeddingCache | undefined>;
  private cacheName = EMBED_DB_NAME;
  private cacheError?: string;
  private fullDecode = false;

  configure(config: EmbedConfig): void {
    this.models.configure(config);
    if (config.fullDecode !== undefined) this.fullDecode = config.fullDecode;
  }

  /** Stop the running embedFiles (it resolves with cancelled: true and what it did so far). */
  cancel(): void {
    this.abort?.abort();
  }

  /** Forget cached embeddings (all, or one model id's). */
  async clearCache(modelId?: string): Promise<void> {
    const cache = await this.openCache();
    if (!cache) return;
    await cache.clear(modelId);
  }

  private openCache(name = this.cacheName): Promise<EmbeddingCache | undefined> {
    if (name !== this.cacheName) {
      void this.cache?.then((c) => c?.close());
      this.cache = undefined;
      this.cacheName = name;
    }
    this.cache ??= EmbeddingCache.open(name).catch((err: unknown) => {
      this.cacheError = `the embedding cache could not be opened (${ortMessage(err)}); nothing is saved between runs`;
      return undefined;
    });
    return this.cache;
  }

  /** Time the model on a synthetic batch with each provider; nothing is cached. */
  probe(model: ModelSpec): Promise<EmbedProbe> {
    return this.models.probe(model);
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
    let placed: Placement | undefined;
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
        provider: placed?.label ?? '',
        device: placed?.device ?? '',
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
      bytes ??= await this.models.bytes(
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

    const cache = useCache ? await this.openCache(opts.cacheName) : undefined;
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
      // Marked for transfer: across the worker boundary the rows move instead of being copied
      // (the service keeps no reference); a direct call on a page ignores the mark.
      const out: EmbedRows = { keys, data: rows, dim: d };
      onRows(Comlink.transfer(out, [out.data.buffer]));
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
      const decoded = await Promise.allSettled(
        entries.map((e) => decodeBitmap(e.blob, this.fullDecode ? undefined : spec)),
      );
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

    let pending: Promise<Batch | null> | null = null;
    let session: EmbedSession | undefined;
    let cancelled = false;
    /** batches in the model now; at most `depth` (two per lane), so memory stays bounded */
    const inflight = new Set<Promise<void>>();
    const finish = async (batch: Batch, result: { rows: Float32Array; dim: number }) => {
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
    };
    try {
      if (needsBytes) await loadBytes();
      modelKey = ModelSessions.key(spec, bytes);
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
        if (!session) {
          const b = await loadBytes();
          const chosen = await this.models.choose(
            spec,
            modelKey,
            b,
            opts.provider,
            batch.input,
            batch.n,
          );
          session = chosen.session;
          placed = this.models.placement(session);
          if (chosen.note) warnings.push(chosen.note);
          computeStart = performance.now();
          await finish(batch, chosen.first ?? (await session.run(batch.input, batch.n)));
          continue;
        }
        const job = session.run(batch.input, batch.n).then((r) => finish(batch, r));
        inflight.add(job);
        void job.then(
          () => inflight.delete(job),
          () => inflight.delete(job),
        );
        const depth = 2 * (session.lanes ?? 0) || 1;
        while (inflight.size >= depth) await Promise.race(inflight);
        check();
      }
      await Promise.all(inflight);
    } catch (err) {
      if (!(err instanceof Cancelled) && !signal.aborted) throw err;
      cancelled = true;
    } finally {
      // Let a batch that is still being read/decoded settle, so no skip or cached row is
      // reported after this call has returned.
      if (pending) await pending.catch(() => undefined);
      await Promise.allSettled(inflight);
      await gen.return(undefined).catch(() => undefined);
      await flush(true);
      if (this.abort === ctrl) this.abort = undefined;
    }
    progress();
    return {
      computed: stats.computed,
      cached: stats.cached,
      skipped: stats.skipped,
      provider: placed?.label ?? '',
      device: placed?.device ?? '',
      threads: placed?.threads ?? 0,
      workers: placed?.workers ?? 0,
      warnings,
      cancelled,
    };
  }
}
