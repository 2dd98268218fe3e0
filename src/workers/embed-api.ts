/**
 * The embed worker's contract (Comlink). The app creates the worker with `createEmbedWorker()`
 * (or its own `new Worker(new URL('./embed.worker.ts', import.meta.url), { type: 'module' })`),
 * wraps it with `Comlink.wrap<EmbedApi>(worker)` and passes callbacks through `Comlink.proxy`.
 *
 * Rows arrive in `onRows` as transferred Float32Arrays (row-major, `dim` floats per key), in no
 * particular order: cached items first within each window, then computed batches. Raw model
 * outputs: centring and L2 normalisation are the pipeline's job.
 */
import type { ProviderChoice } from '../core/settings';
import type { ModelSpec } from '../embed/models';

export type { ProviderChoice };

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
  /** things that went wrong without stopping the run (e.g. the cache could not be written) */
  warnings: string[];
  /** true when cancel() stopped the run early */
  cancelled: boolean;
}

export interface ProviderProbe {
  available: boolean;
  /** why it is unavailable or was not chosen */
  reason?: string;
  /** median milliseconds per image on the probe batch */
  msPerItem?: number;
}

export interface ProbeResult {
  webgpu: ProviderProbe;
  wasm: ProviderProbe & { threads: number };
  chosen: 'webgpu' | 'wasm';
  /** the feature dimension the model produced */
  dim: number;
}

export interface EmbedConfig {
  /**
   * Absolute URL of the app's root, against which relative model URLs (the bundled model) are
   * resolved. The worker works it out itself in dev and in a standard build; set it when the
   * app is served from an unusual layout.
   */
  baseUrl?: string;
  /** wasm threads (only before the first model loads); default: every core when isolated */
  wasmThreads?: number;
}

export interface EmbedApi {
  embedFiles(
    items: EmbedItem[],
    opts: EmbedOptions,
    onRows: (rows: EmbedRows) => void,
    onProgress: (p: EmbedProgress) => void,
    onSkip: (s: EmbedSkip) => void,
  ): Promise<EmbedSummary>;
  /** Stop the running embedFiles (it resolves with cancelled: true and what it did so far). */
  cancel(): void;
  /** Time the model on a synthetic batch with each provider; nothing is cached. */
  probe(model: ModelSpec): Promise<ProbeResult>;
  configure(config: EmbedConfig): void;
  /** Forget cached embeddings (all, or one model id's). */
  clearCache(modelId?: string): Promise<void>;
}

/** The worker, created the way Vite bundles it (module worker, own chunk). */
export function createEmbedWorker(): Worker {
  return new Worker(new URL('./embed.worker.ts', import.meta.url), {
    type: 'module',
    name: 'strata-embed',
  });
}
