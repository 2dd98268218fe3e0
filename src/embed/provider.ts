/**
 * The model side of the embed service: the model's bytes and its onnxruntime sessions, kept
 * between runs, and which execution provider (wasm or WebGPU) runs it, picked per model or timed
 * by the probe. The service (service.ts) owns the run itself: files, cache and batches.
 */
import { openLanes } from './lanes';
import { loadModelBytes, type ModelBytes } from './model-fetch';
import type { ModelSpec } from './models';
import {
  createSession,
  configureOrt,
  ortMessage,
  wasmThreads,
  type EmbedSession,
  type Provider,
  type SessionTuning,
} from './session';
import type { ProviderChoice } from '../core/settings';

export interface EmbedConfig {
  /**
   * Absolute URL of the app's root, against which relative model URLs (the bundled model) are
   * resolved. The worker works it out itself in dev and in a standard build; set it when the
   * app is served from an unusual layout.
   */
  baseUrl?: string;
  /** wasm threads per session (only before the first model loads); see defaultLayout() */
  wasmThreads?: number;
  /** wasm sessions side by side, each in a worker of its own; see defaultLayout() */
  workers?: number;
  /** ORT intra-op threads spin between operators (its default; the bench compares it off) */
  spinning?: boolean;
  /**
   * Decode every image at full size and scale it on a canvas, as before reduced decoding
   * (decode.ts); only the bench's baseline sets it.
   */
  fullDecode?: boolean;
}

/** How the wasm provider spreads over the cores: `workers` sessions of `threads` threads each. */
export interface WasmLayout {
  workers: number;
  threads: number;
}

/**
 * One single-threaded session per core, in as many lane workers, up to MAX_WORKERS; 1 worker
 * (today's single session, in the embed worker itself) on a one-core device.
 *
 * Measured with `npm run bench:embed` (bundled MobileNetV2, 224 px, end to end, 48 JPEGs, 2-core
 * machine shared with other jobs, load average 7.3-7.9 during the passes, medians of 3,
 * interleaved), images/s: 1 session x 1 thread (the old default) 3.50; 1 x 2 threads 2.67;
 * 1 x 2 threads without spinning 4.12; 2 lanes x 1 thread 3.72 (batch 8), 5.35 (batch 4),
 * 5.48 (batch 16). Lanes were the fastest layout at two of three batch sizes and never slower
 * than one thread; ORT's own 2 threads were slower than 1 whenever the machine was busier than
 * its cores, because every operator waits for both threads (and they spin while waiting).
 * Separate sessions also need no cross-origin isolation (no SharedArrayBuffer) and leave the
 * embed worker's thread free to decode the next batches while they run.
 */
export function defaultLayout(): WasmLayout {
  const cores = globalThis.navigator?.hardwareConcurrency ?? 1;
  return { workers: Math.max(1, Math.min(MAX_WORKERS, cores)), threads: 1 };
}

/**
 * More lanes than this cost memory (each holds its own copy of the model, ~20 MB for the bundled
 * one, ~350 MB for DINOv2) for a gain nobody has measured here (2 cores only).
 */
const MAX_WORKERS = 4;

/** What a run's summary says about where the model ran. */
export interface Placement {
  /** short technical label, e.g. "wasm (2 threads)" or "webgpu" */
  label: string;
  /** plain words for the person, e.g. "this device's processor, 2 threads" */
  device: string;
  /** cores' worth of threads in use in all (lanes x threads each) */
  threads: number;
  /** sessions side by side */
  workers: number;
}

export interface ProviderProbe {
  available: boolean;
  /** why it is unavailable or was not chosen */
  reason?: string;
  /** median milliseconds per image on the probe batch */
  msPerItem?: number;
}

/** How fast the model runs on each execution provider here, and which one is faster. */
export interface EmbedProbe {
  webgpu: ProviderProbe;
  wasm: ProviderProbe & { threads: number };
  chosen: 'webgpu' | 'wasm';
  /** the feature dimension the model produced */
  dim: number;
}

/** The session a run uses; `first` is the first batch's output when picking it computed it. */
export interface ProviderPick {
  session: EmbedSession;
  first?: { rows: Float32Array; dim: number };
  note?: string;
}

/** App root in dev (server root + base) and in a Vite build (worker chunks sit in assets/). */
export function defaultBaseUrl(): string {
  if (import.meta.env.DEV) {
    return new URL(import.meta.env.BASE_URL, globalThis.location.origin).href;
  }
  return new URL('../', import.meta.url).href;
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

export class ModelSessions {
  private baseUrl = defaultBaseUrl();
  private threads?: number;
  private workers?: number;
  private tuning: SessionTuning = {};
  /** the last model's bytes (one at a time: remote models are ~100 MB) */
  private model?: { ref: Blob | string; bytes: ModelBytes };
  private sessions = new Map<string, Promise<EmbedSession>>();
  /** provider chosen by 'auto' per model key, with the reason */
  private autoChoice = new Map<string, Provider>();

  configure(config: EmbedConfig): void {
    if (config.baseUrl) this.baseUrl = new URL(config.baseUrl).href;
    if (config.wasmThreads !== undefined)
      this.threads = Math.max(1, Math.floor(config.wasmThreads));
    if (config.workers !== undefined) this.workers = Math.max(1, Math.floor(config.workers));
    if (config.spinning !== undefined) this.tuning = { spinning: config.spinning };
  }

  /** The wasm layout runs use: what configure() asked for, the device's default otherwise. */
  layout(): WasmLayout {
    const d = defaultLayout();
    // Threads asked for without a worker count: one session with that many threads (as before).
    const workers = this.workers ?? (this.threads !== undefined ? 1 : d.workers);
    return { workers, threads: this.threads ?? (workers > 1 ? d.threads : wasmThreads()) };
  }

  /** Where a session runs, in a label and in plain words. */
  placement(session: EmbedSession): Placement {
    if (session.provider === 'webgpu') {
      return {
        label: 'webgpu',
        device: "this device's graphics processor (WebGPU)",
        threads: 0,
        workers: 1,
      };
    }
    const workers = session.lanes ?? 1;
    const threads = workers * (session.threads ?? wasmThreads());
    const t = `${threads} thread${threads === 1 ? '' : 's'}`;
    return {
      label: `wasm (${t})`,
      device: `this device's processor, ${t}${workers > 1 ? ` (${workers} workers)` : ''}`,
      threads,
      workers,
    };
  }

  async bytes(
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

  session(
    spec: ModelSpec,
    modelKey: string,
    bytes: ModelBytes,
    provider: Provider,
  ): Promise<EmbedSession> {
    const key = `${modelKey}|${spec.inputName ?? ''}|${spec.outputName}|${provider}`;
    let s = this.sessions.get(key);
    if (!s) {
      const layout = this.layout();
      if (provider === 'wasm' && layout.workers > 1) {
        s = openLanes(bytes.bytes, spec, {
          lanes: layout.workers,
          threads: layout.threads,
          tuning: this.tuning,
          onDead: () => this.sessions.delete(key),
        });
      } else {
        configureOrt(layout.threads);
        s = createSession(bytes.bytes, spec, provider, provider === 'wasm' ? this.tuning : {});
      }
      s.catch(() => this.sessions.delete(key));
      this.sessions.set(key, s);
    }
    return s;
  }

  /** The model's part of every cache key. */
  static key(spec: ModelSpec, bytes?: ModelBytes): string {
    // A spec that pins its file's hash names its content already; otherwise the file's own hash
    // keeps two different "custom" models from sharing cached rows.
    return spec.sha256 ? spec.id : `${spec.id}#${bytes!.sha256.slice(0, 16)}`;
  }

  /**
   * Provider for a run. 'wasm'/'webgpu' are taken as asked (an unavailable WebGPU is an error:
   * the person chose it). 'auto' skips software WebGPU adapters (SwiftShader measured 30-90x
   * slower than wasm), otherwise runs the first real batch (`n` images in `input`) on both and
   * keeps the faster one, and the wasm result is used as that batch's output.
   */
  async choose(
    spec: ModelSpec,
    modelKey: string,
    bytes: ModelBytes,
    choice: ProviderChoice,
    input: Float32Array,
    n: number,
  ): Promise<ProviderPick> {
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
    const first = await wasm.run(input, n);
    const wasmMs = performance.now() - t;
    try {
      const webgpu = await this.session(spec, modelKey, bytes, 'webgpu');
      await webgpu.run(input, n); // warm-up: shader compilation
      t = performance.now();
      const g = await webgpu.run(input, n);
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

  /** Time the model on a synthetic batch with each provider; nothing is cached. */
  async probe(model: ModelSpec): Promise<EmbedProbe> {
    const bytes = await this.bytes(model);
    const modelKey = ModelSessions.key(model, bytes);
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
    const wasmSession = await this.session(model, modelKey, bytes, 'wasm');
    const wasm = await time(wasmSession);
    const result: EmbedProbe = {
      wasm: { available: true, threads: this.placement(wasmSession).threads, msPerItem: wasm.ms },
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
