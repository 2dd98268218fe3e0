/**
 * `npm run bench:embed`: images per second of the embed worker at the bundled model's size
 * (224 px), one JSON line per case, in headless Chromium on a PRODUCTION build (vite build +
 * vite preview with COOP/COEP), next to onnxruntime-node on the same model file as the native
 * anchor (installed as a dev dependency; ONNXRUNTIME_NODE_INSTALL=skip keeps its install script
 * from fetching GPU binaries, which it never needs here).
 *
 *   {case: 'variant', variant, runtime, workers, threads, batch, imagesPerSecond (median),
 *    runs (every pass), cosine, cosineCentred, vsBaseline, vsNative, load}
 *
 * Web variants run embedFiles end to end (read, sniff, sha-256, decode, crop/scale, pack, model;
 * cache off), exactly as the app does; "baseline" is the configuration the app used before
 * (one session, 1 thread), "default" the one it uses now (provider.ts, defaultLayout), the rest
 * the candidates tried. Native lines run the model alone on the very tensors the page packed
 * (8 photos, batch 8) with onnxruntime-node's CPU provider at 1 thread and at every core:
 * vsNative compares a web line with the native line of the same total thread count.
 * cosine: mean cosine of each line's features of the first 8 photos to the baseline's (the fp32
 * graph on wasm); cosineCentred: the same after subtracting the baseline's mean feature.
 *
 * Every figure is the median of --reps passes (default 3) over --images photo-sized JPEGs
 * (default 48). Passes interleave: rep 1 of every line, then rep 2 of every line, ..., so load
 * from other processes hits every line alike; `load` is os.loadavg() when the line was measured.
 * Compare lines from one run, not across runs.
 * --quick: 8 images, 1 pass: checks that the built workers run at all.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { chromium } from 'playwright-core';
import { build, preview } from 'vite';
import { buildModelDef } from '../scripts/convert-model/convert.ts';
import { encodeModel } from '../scripts/convert-model/onnx.ts';
import { loadNsfwjsGraph } from '../scripts/convert-model/tfjs-graph.ts';
import {
  committedRanges,
  foldConstants,
  quantiseQdq,
  variantDef,
} from '../scripts/convert-model/variants.ts';
import { BUNDLED_MODEL, DEFAULT_MODEL, type ModelSpec } from '../src/embed/models.ts';
import { parseNpy, writeNpy } from '../src/core/npy.ts';
import { resolvePlan } from '../src/core/plan.ts';
import { estimateEmbedSeconds } from '../src/ui/curate/estimate.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../test/chromium.ts';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = resolve(ROOT, '.cache/bench-embed');
const args = process.argv.slice(2);
const option = (name: string, fallback: number): number =>
  args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback;
// --quick: a smoke run (8 images, 1 pass) that checks the production build works end to end.
const quick = args.includes('--quick');
const images = option('--images', quick ? 8 : 48);
const reps = option('--reps', quick ? 1 : 3);
/** Features of the first KEEP photos are compared; native runs on exactly these tensors. */
const KEEP = 8;

/** Model files the bench compares: the one the app ships and the candidates it writes itself. */
type ModelKey = 'float' | 'int8' | 'float32-plain' | 'int8-per-channel';

/** Where each model file is served from (relative to the app root) and read from here. */
const MODEL_URL: Record<ModelKey, string> = {
  float: BUNDLED_MODEL.url!,
  int8: 'models/bench/model-int8.onnx',
  'float32-plain': 'models/bench/model-float32.onnx',
  'int8-per-channel': 'models/bench/model-int8-per-channel.onnx',
};

type Line = Record<string, unknown> & { imagesPerSecond?: number };

// The app's build settings that matter here (relative base, ES workers, COOP/COEP), without the
// app's own plugins: the bench page is not the app.
const config = {
  root: ROOT,
  configFile: false as const,
  logLevel: 'error' as const,
  base: './',
  worker: { format: 'es' as const },
  build: {
    outDir: OUT,
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: { input: resolve(ROOT, 'bench/embed.html') },
  },
};
await build(config);
const server = await preview({
  ...config,
  preview: {
    host: '127.0.0.1',
    port: 0,
    strictPort: false,
    open: false,
    headers: {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    },
  },
});
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  const base = server.resolvedUrls?.local[0];
  if (!base) throw new Error('vite preview has no local URL');
  await page.goto(new URL('bench/embed.html', base).href);
  await page.waitForFunction('typeof strataEmbedBench === "function"', undefined, {
    timeout: 120_000,
  });
  const cores = Number(await page.evaluate('navigator.hardwareConcurrency'));
  const isolated = Boolean(await page.evaluate('crossOriginIsolated'));
  console.log(JSON.stringify({ case: 'machine', cores, isolated, load: load() }));
  const run = async (suite: Record<string, unknown>): Promise<Line[]> => {
    const lines = (await page.evaluate(
      `strataEmbedBench(${JSON.stringify({ images, reps, ...suite })})`,
    )) as Line[];
    for (const line of lines) console.log(JSON.stringify(line));
    return lines;
  };

  await run({ kind: 'decode' });
  const gpu = (await page.evaluate('strataWebgpu()')) as { available: boolean; fallback?: boolean };
  if (!gpu.available || gpu.fallback) {
    console.log(
      JSON.stringify({
        case: 'variant',
        runtime: 'webgpu',
        skipped: gpu.available
          ? 'software adapter (SwiftShader): 30-90x slower than wasm, not a useful configuration'
          : 'no WebGPU adapter',
      }),
    );
  }
  await variants(page, cores, isolated);
  await run({ kind: 'cache' });
  // The pre-run estimate against a real embedding stage: the demo data and a 1,000-image folder.
  const demoRows = new Map<string, Float32Array>();
  const folder = quick ? 16 : option('--folder', 1000);
  for (const source of folder > 0 ? ['demo', folder] : ['demo']) {
    const line = (await page.evaluate(`strataBenchEstimate(${JSON.stringify(source)})`)) as {
      computed: number;
      actualSeconds: number;
      rows?: string;
    };
    const { rows, ...rest } = line;
    if (rows) demoRows.set(DEFAULT_MODEL.id, fromBase64(rows));
    const estimate = estimateEmbedSeconds(line.computed, cores);
    console.log(
      JSON.stringify({
        ...rest,
        estimateSeconds: Number(estimate.toFixed(1)),
        ratio: Number((line.actualSeconds / estimate).toFixed(2)),
        load: load(),
      }),
    );
  }
  const int8 = specOf({ model: 'int8', size: 224 });
  const other = (await page.evaluate(`strataBenchEstimate('demo', ${JSON.stringify(int8)})`)) as {
    rows: string;
  };
  demoRows.set(int8.id, fromBase64(other.rows));
  demoCuration(demoRows, DEFAULT_MODEL.id);
} finally {
  await browser.close();
  await new Promise<void>((ok) => server.httpServer.close(() => ok()));
}

interface Variant {
  id: string;
  model: ModelKey;
  size: number;
  workers: number;
  threads: number;
  batch: number;
  spinning?: boolean;
  fullDecode?: boolean;
}

function fromBase64(b64: string): Float32Array {
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
}

/**
 * The demo's curation with each bundled model: `strata curate` (the app's planner and core, with
 * the app's centring and L2 normalisation) over seeds 0-2, and the Shannon entropy (natural log)
 * of the folder labels of each selection, and each model's mean against the `reference` one's
 * (a variant is acceptable within 0.02).
 */
function demoCuration(rows: Map<string, Float32Array>, reference: string): void {
  const manifest = JSON.parse(readFileSync(resolve(ROOT, 'public/demo/manifest.json'), 'utf8')) as {
    files: { label: string }[];
  };
  const labels = manifest.files.map((f) => f.label);
  const dir = resolve(ROOT, '.cache/bench-embed-curation');
  const mean: Record<string, number> = {};
  for (const [model, data] of rows) {
    const npy = resolve(dir, `${model}.npy`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(npy, writeNpy(data, [labels.length, data.length / labels.length]));
    const target = resolvePlan({ n: labels.length, d: data.length / labels.length }).target;
    const entropies: number[] = [];
    for (const seed of [0, 1, 2]) {
      const out = resolve(dir, `${model}-seed${seed}`);
      const cli = spawnSync(
        process.execPath,
        [
          resolve(ROOT, 'bin/strata.mjs'),
          'curate',
          '--embeddings',
          npy,
          '--target',
          String(target),
          '--center',
          '--normalize',
          '--seed',
          String(seed),
          '--out',
          out,
          '--force',
        ],
        { encoding: 'utf8' },
      );
      if (cli.status !== 0) throw new Error(`strata curate failed: ${cli.stderr}`);
      const picked = parseNpy(new Uint8Array(readFileSync(resolve(out, 'selection.npy'))));
      const counts = new Map<string, number>();
      for (const i of picked.data as BigInt64Array) {
        const l = labels[Number(i)];
        counts.set(l, (counts.get(l) ?? 0) + 1);
      }
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      entropies.push(
        -[...counts.values()].reduce((h, c) => h + (c / total) * Math.log(c / total), 0),
      );
    }
    mean[model] = entropies.reduce((a, b) => a + b, 0) / entropies.length;
    console.log(
      JSON.stringify({
        case: 'curation',
        data: 'demo',
        model,
        target,
        labelEntropy: entropies.map((e) => Number(e.toFixed(4))),
        mean: Number(mean[model].toFixed(4)),
      }),
    );
  }
  for (const model of rows.keys()) {
    if (model === reference) continue;
    const diff = Math.abs(mean[model] - mean[reference]);
    console.log(
      JSON.stringify({
        case: 'curation',
        model,
        reference,
        entropyDifference: Number(diff.toFixed(4)),
      }),
    );
  }
}

function load(): number[] {
  return loadavg().map((l) => Number(l.toFixed(2)));
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Mean cosine of row i of `a` to row i of `ref`, optionally after subtracting `centre`. */
function meanCosine(a: ArrayLike<number>, ref: ArrayLike<number>, dim: number, centre?: number[]) {
  let sum = 0;
  const n = ref.length / dim;
  for (let i = 0; i < n; i++) {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let d = 0; d < dim; d++) {
      const c = centre ? centre[d] : 0;
      const x = a[i * dim + d] - c;
      const y = ref[i * dim + d] - c;
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    sum += ab / Math.sqrt(aa * bb || 1);
  }
  return Number((sum / n).toFixed(5));
}

interface Page {
  evaluate(js: string): Promise<unknown>;
}

/**
 * Candidates made by the converter for the bench only (not shipped): the 8-bit QDQ variant
 * (scripts/convert-model/variants.ts), the same with per-channel re-quantised int8 weights, and
 * the float graph with its weights dequantised at build time.
 */
function writeCandidates(): void {
  const base = buildModelDef(loadNsfwjsGraph());
  const folded = foldConstants(base);
  mkdirSync(resolve(OUT, 'models/bench'), { recursive: true });
  writeFileSync(resolve(OUT, MODEL_URL.int8), encodeModel(variantDef('int8', base)));
  writeFileSync(resolve(OUT, MODEL_URL['float32-plain']), encodeModel(folded));
  writeFileSync(
    resolve(OUT, MODEL_URL['int8-per-channel']),
    encodeModel(quantiseQdq(folded, committedRanges())),
  );
}

function specOf(v: { model: ModelKey; size: number }): ModelSpec {
  const own = v.model === 'float';
  return {
    ...BUNDLED_MODEL,
    id: `${own ? BUNDLED_MODEL.id : `bench-${v.model}`}@${v.size}`,
    url: MODEL_URL[v.model],
    // Candidates are not pinned: the service hashes their bytes for the cache key.
    ...(!own && { sha256: undefined, bytes: undefined }),
    inputSize: v.size,
  };
}

async function variants(page: Page, cores: number, isolated: boolean): Promise<void> {
  writeCandidates();
  const opened = (await page.evaluate(`strataBenchOpen([], ${images})`)) as {
    defaultLayout: { workers: number; threads: number };
  };
  const d = opened.defaultLayout;
  const lanes = { workers: cores, threads: 1 };
  const at224 = { size: 224, batch: 8 };
  const list: Variant[] = [
    // The configuration before lanes: float model, one session, full-size decode.
    { id: 'baseline', model: 'float', ...at224, workers: 1, threads: 1, fullDecode: true },
    // What the app runs now (DEFAULT_MODEL is the float model: see variants.ts for why).
    { id: 'default', model: 'float', ...at224, ...d },
    { id: 'float-1x1', model: 'float', ...at224, workers: 1, threads: 1 },
    { id: 'int8-1x1', model: 'int8', ...at224, workers: 1, threads: 1 },
  ];
  if (cores > 1) {
    const l = `lanes-${cores}`;
    list.push(
      { id: `float-${l}-full-decode`, model: 'float', ...at224, ...lanes, fullDecode: true },
      { id: `float-${l}-batch-4`, model: 'float', ...at224, ...lanes, batch: 4 },
      { id: `float-${l}-batch-16`, model: 'float', ...at224, ...lanes, batch: 16 },
      { id: `float32-plain-${l}`, model: 'float32-plain', ...at224, ...lanes },
      { id: `int8-${l}`, model: 'int8', ...at224, ...lanes },
      { id: `int8-per-channel-${l}`, model: 'int8-per-channel', ...at224, ...lanes },
      { id: `float-192px-${l}`, model: 'float', ...at224, size: 192, ...lanes },
      { id: `float-160px-${l}`, model: 'float', ...at224, size: 160, ...lanes },
    );
    if (isolated) {
      list.push({
        id: `float-threads-${cores}`,
        model: 'float',
        ...at224,
        workers: 1,
        threads: cores,
      });
    }
  }
  // --only a,b: just these lines (the baseline always), for a shorter run on a busy machine.
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : undefined;
  if (only)
    list.splice(0, list.length, ...list.filter((v) => v.id === 'baseline' || only.includes(v.id)));
  const withSpecs = list.map((v) => ({ ...v, spec: specOf(v) }));
  await page.evaluate(`strataBenchOpen(${JSON.stringify(withSpecs)}, ${images})`);
  const keep = Math.min(KEEP, images);
  // A first pass per variant starts its workers, compiles ORT's wasm, loads the model and runs
  // one batch: the fixed cost a run pays before images flow (firstBatchSeconds).
  const first = new Map<string, number>();
  for (const v of list) {
    const t = performance.now();
    await page.evaluate(`strataBenchPass('${v.id}', ${v.batch}, ${keep}, true)`);
    first.set(v.id, Number(((performance.now() - t) / 1000).toFixed(2)));
    // Progress on stderr: stdout carries only the JSON lines.
    console.error(`warm: ${v.id} ${first.get(v.id)} s`);
  }

  // Native anchor: the page's own tensors (batch = keep), for every model file and input size a
  // web line uses, at 1 thread and at every core.
  const tensors = new Map<number, ortNode.Tensor>();
  for (const size of new Set(list.map((v) => v.size))) {
    const b64 = (await page.evaluate(`strataBenchTensors(${keep}, ${size})`)) as string;
    const buf = Buffer.from(b64, 'base64');
    const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    tensors.set(size, new ortNode.Tensor('float32', data, [keep, 3, size, size]));
  }
  const nativeThreads = [...new Set([1, cores])];
  const nativeKeys = [...new Set(list.map((v) => `${v.model}@${v.size}`))];
  const native = new Map<string, ortNode.InferenceSession>();
  for (const key of nativeKeys) {
    const model = key.split('@')[0] as ModelKey;
    const bytes = readFileSync(resolve(OUT, MODEL_URL[model]));
    for (const t of nativeThreads) {
      native.set(
        `${key}/${t}`,
        await ortNode.InferenceSession.create(bytes, {
          intraOpNumThreads: t,
          interOpNumThreads: 1,
          graphOptimizationLevel: 'all',
        }),
      );
    }
  }
  const nativePass = async (
    key: string,
    t: number,
  ): Promise<{ ips: number; rows: Float32Array }> => {
    const s = native.get(`${key}/${t}`)!;
    const input = tensors.get(Number(key.split('@')[1]))!;
    let rows: Float32Array = new Float32Array();
    const start = performance.now();
    for (let done = 0; done < images; done += keep) {
      const out = await s.run({ input });
      rows = out.feature.data as Float32Array;
    }
    return { ips: (images * 1000) / (performance.now() - start), rows };
  };
  for (const key of nativeKeys) for (const t of nativeThreads) await nativePass(key, t); // warm-up

  type Result = { runs: number[]; rows?: number[]; dim: number; device?: string; load?: number[] };
  const results = new Map<string, Result>();
  const entry = (id: string): Result => {
    if (!results.has(id)) results.set(id, { runs: [], dim: 0 });
    return results.get(id)!;
  };
  for (let r = 0; r < reps; r++) {
    for (const v of list) {
      const p = (await page.evaluate(`strataBenchPass('${v.id}', ${v.batch}, ${keep}, false)`)) as {
        imagesPerSecond: number;
        rows: number[];
        dim: number;
        device: string;
      };
      console.error(`rep ${r + 1}: ${v.id} ${p.imagesPerSecond} images/s`);
      const e = entry(v.id);
      e.runs.push(p.imagesPerSecond);
      e.rows = p.rows;
      e.dim = p.dim;
      e.device = p.device;
      e.load = load();
    }
    for (const key of nativeKeys) {
      for (const t of nativeThreads) {
        const p = await nativePass(key, t);
        const e = entry(`native-${key}-${t}`);
        e.runs.push(Number(p.ips.toFixed(2)));
        e.rows = Array.from(p.rows);
        e.dim = 1792;
        e.load = load();
      }
    }
  }

  const ref = results.get('baseline')!;
  const dim = ref.dim;
  const centre = Array.from({ length: dim }, (_, d) => {
    let s = 0;
    for (let i = 0; i < keep; i++) s += ref.rows![i * dim + d];
    return s / keep;
  });
  const ips = (id: string): number => median(results.get(id)!.runs);
  const lines = [
    ...list.map((v) => ({
      ...v,
      runtime: 'onnxruntime-web wasm, end to end',
      decode: v.fullDecode ? 'full size, canvas scaling' : 'decoded at input size',
    })),
    ...nativeKeys.flatMap((key) =>
      nativeThreads.map((t) => ({
        id: `native-${key}-${t}`,
        model: key.split('@')[0] as ModelKey,
        size: Number(key.split('@')[1]),
        workers: 1,
        threads: t,
        batch: keep,
        spinning: undefined,
        runtime: 'onnxruntime-node cpu, model only',
        decode: undefined,
      })),
    ),
  ];
  for (const l of lines) {
    const e = results.get(l.id)!;
    const nativeId = `native-${l.model}@${l.size}-${l.workers * l.threads}`;
    const nat = results.has(nativeId) ? ips(nativeId) : undefined;
    console.log(
      JSON.stringify({
        case: 'variant',
        variant: l.id,
        model: MODEL_URL[l.model].split('/').pop(),
        inputSize: l.size,
        runtime: l.runtime,
        workers: l.workers,
        threads: l.threads,
        ...(l.spinning === false && { spinning: false }),
        batch: l.batch,
        ...(l.decode && { decode: l.decode }),
        imagesPerSecond: Number(ips(l.id).toFixed(2)),
        runs: e.runs,
        ...(e.device && { device: e.device }),
        ...(first.has(l.id) && { firstBatchSeconds: first.get(l.id) }),
        cosine: meanCosine(e.rows!, ref.rows!, dim),
        cosineCentred: meanCosine(e.rows!, ref.rows!, dim, centre),
        vsBaseline: Number((ips(l.id) / ips('baseline')).toFixed(2)),
        ...(nat && { vsNative: Number((ips(l.id) / nat).toFixed(2)) }),
        load: e.load,
      }),
    );
  }
  for (const s of native.values()) await s.release();
}
