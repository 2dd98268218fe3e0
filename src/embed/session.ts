/**
 * onnxruntime-web sessions for the embed worker: the wasm execution provider (multi-threaded
 * when the page is cross-origin isolated) and the WebGPU provider.
 *
 * ORT's glue (.mjs) and binary (.wasm) are imported as URLs so they are served as separate
 * static files: a Vite production build that lets ORT locate its threads' script through the
 * bundled chunk hangs ("document is not defined"). The JSEP build serves both providers from
 * one binary.
 */
import * as ort from 'onnxruntime-web';
import ortMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.mjs?url';
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';
import type { ModelSpec } from './models';
import { inputShape, outputRows } from './preprocess';

export type Provider = 'webgpu' | 'wasm';

let configuredThreads: number | undefined;

/**
 * Threads for one wasm session when a run uses a single session (provider.ts defaultLayout
 * spreads the work over one single-threaded session per core instead): ORT's own rule,
 * min(4, ceil(cores / 2)), and 1 when the page is not cross-origin isolated (no
 * SharedArrayBuffer). This is why the app used to say "wasm (1 thread)" on every 2-core machine.
 * Measured (bench:embed, 224 px, 2-core machine shared with other jobs, load 7-9): 2 threads
 * gave 2.67 img/s against 3.50 on 1 thread (4.12 with spinning off); see defaultLayout.
 */
export function defaultThreads(): number {
  if (!globalThis.crossOriginIsolated) return 1;
  const cores = globalThis.navigator?.hardwareConcurrency ?? 1;
  return Math.max(1, Math.min(4, Math.ceil(cores / 2)));
}

/** Must run before the first session is created; later calls with another count are ignored. */
export function configureOrt(threads = defaultThreads()): number {
  if (configuredThreads !== undefined) return configuredThreads;
  const here = globalThis.location?.href ?? import.meta.url;
  ort.env.wasm.wasmPaths = {
    mjs: new URL(ortMjsUrl, here).href,
    wasm: new URL(ortWasmUrl, here).href,
  };
  ort.env.wasm.numThreads = threads;
  ort.env.logLevel = 'error';
  configuredThreads = threads;
  return threads;
}

export function wasmThreads(): number {
  return configuredThreads ?? defaultThreads();
}

/** Session options the bench compares (the app uses the defaults). */
export interface SessionTuning {
  /**
   * Let ORT's intra-op threads spin between operators (ORT's default). Off, a waiting thread
   * sleeps at once: better when the machine is busier than its core count, never faster alone.
   */
  spinning?: boolean;
}

export interface EmbedSession {
  readonly provider: Provider;
  readonly inputName: string;
  /** sessions side by side behind this one (lanes.ts); absent: one session */
  readonly lanes?: number;
  /** wasm threads per session; absent: this worker's ORT setting */
  readonly threads?: number;
  run(input: Float32Array, n: number): Promise<{ rows: Float32Array; dim: number }>;
  release(): Promise<void>;
}

/** Short, readable reason from whatever ORT threw. */
export function ortMessage(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.length > 400 ? `${m.slice(0, 400)}…` : m;
}

export async function createSession(
  bytes: Uint8Array,
  spec: ModelSpec,
  provider: Provider,
  tuning: SessionTuning = {},
): Promise<EmbedSession> {
  configureOrt();
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: [provider],
      graphOptimizationLevel: 'all',
      ...(tuning.spinning === false && {
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      }),
    });
  } catch (err) {
    throw new Error(`${spec.name} could not be loaded on ${provider}: ${ortMessage(err)}`, {
      cause: err,
    });
  }
  const inputName = spec.inputName ?? session.inputNames[0];
  if (!session.inputNames.includes(inputName)) {
    await session.release();
    throw new Error(
      `${spec.name} has no input "${inputName}"; its inputs are: ${session.inputNames.join(', ')}.`,
    );
  }
  if (!session.outputNames.includes(spec.outputName)) {
    await session.release();
    throw new Error(
      `${spec.name} has no output "${spec.outputName}"; its outputs are: ${session.outputNames.join(', ')}.`,
    );
  }
  return {
    provider,
    inputName,
    async run(input, n) {
      const tensor = new ort.Tensor(
        'float32',
        input.subarray(0, n * 3 * spec.inputSize ** 2),
        inputShape(spec, n),
      );
      const out = await session.run({ [inputName]: tensor }, [spec.outputName]);
      const t = out[spec.outputName];
      try {
        if (t.type !== 'float32') {
          throw new Error(`Model output "${spec.outputName}" is ${t.type}; expected float32.`);
        }
        const data = (t.location === 'cpu' ? t.data : await t.getData()) as Float32Array;
        return outputRows(data, t.dims, n, spec);
      } finally {
        tensor.dispose();
        t.dispose();
      }
    },
    release: () => session.release(),
  };
}
