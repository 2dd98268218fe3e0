/**
 * The Chromium half of `npm run bench:embed` (bench/embed.ts opens bench/embed.html, which loads
 * this): makes photo-sized JPEGs and exposes `strataEmbedBench(suite)` for the driver. A suite
 * runs in one fresh bench worker (ORT fixes its thread count per worker) and alternates its
 * measurements `reps` times, so load from other processes hits them alike; medians are reported.
 * Not part of the app.
 */
import * as Comlink from 'comlink';
import type { BenchLayout, EmbedBench, Timing } from './bench';
import { BUNDLED_MODEL, DEFAULT_MODEL, type ModelSpec } from './models';
import type { EmbedService } from './service';
import { defaultLayout } from './provider';
import type { Provider } from './session';

export interface BenchSuite {
  kind: 'decode' | 'pipeline' | 'batch' | 'cache';
  provider?: Provider;
  threads?: number;
  images?: number;
  reps?: number;
  /** batch sizes for kind 'batch' */
  batches?: number[];
}

/** Photo-like content (gradients, shapes, grain) so JPEG sizes and decode costs are realistic. */
async function makePhotos(n: number, width: number, height: number): Promise<Blob[]> {
  const out: Blob[] = [];
  let seed = 7;
  const rnd = (): number => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  const grain = new ImageData(width, height);
  for (let i = 0; i < grain.data.length; i += 4) {
    const v = Math.floor(rnd() * 48);
    grain.data.set([v, v, v, 40], i);
  }
  const grainBitmap = await createImageBitmap(grain);
  for (let k = 0; k < n; k++) {
    const canvas = new OffscreenCanvas(width, height);
    const c = canvas.getContext('2d')!;
    const g = c.createLinearGradient(0, 0, width, height);
    g.addColorStop(0, `hsl(${rnd() * 360} 60% 60%)`);
    g.addColorStop(1, `hsl(${rnd() * 360} 50% 30%)`);
    c.fillStyle = g;
    c.fillRect(0, 0, width, height);
    for (let s = 0; s < 12; s++) {
      c.fillStyle = `hsl(${rnd() * 360} ${40 + rnd() * 50}% ${20 + rnd() * 60}%)`;
      c.beginPath();
      c.ellipse(rnd() * width, rnd() * height, 20 + rnd() * 150, 20 + rnd() * 120, rnd() * 3, 0, 7);
      c.fill();
    }
    c.drawImage(grainBitmap, 0, 0);
    out.push(await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.85 }));
  }
  return out;
}

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const rate = (runs: Timing[]): { imagesPerSecond: number; runs: number[] } => ({
  imagesPerSecond: Number(median(runs.map((r) => r.imagesPerSecond)).toFixed(2)),
  runs: runs.map((r) => r.imagesPerSecond),
});

let photos: Blob[] | undefined;

async function strataEmbedBench(suite: BenchSuite): Promise<Record<string, unknown>[]> {
  const images = suite.images ?? 48;
  photos ??= await makePhotos(images, 800, 600);
  const files = photos.slice(0, images);
  const reps = suite.reps ?? 3;
  const spec = BUNDLED_MODEL;
  const provider = suite.provider ?? 'wasm';
  const worker = new Worker(new URL('../workers/embed-bench.worker.ts', import.meta.url), {
    type: 'module',
  });
  const api = Comlink.wrap<EmbedBench>(worker);
  try {
    const threads = await api.configure(suite.threads ?? 1);
    const base = { isolated: crossOriginIsolated, size: spec.inputSize, images, reps };
    if (suite.kind === 'decode') {
      // Interleaved: the canvas-scaled full decode (the old path) and the reduced decode.
      const full: Timing[] = [];
      const reduced: Timing[] = [];
      for (let r = 0; r < reps; r++) {
        full.push(await api.decodeOnly(files, spec, 8, true));
        reduced.push(await api.decodeOnly(files, spec, 8, false));
      }
      const kb = Math.round(files.reduce((s, f) => s + f.size, 0) / files.length / 1024);
      const source = `800x600 JPEG, ${kb} KB`;
      return [
        {
          case: 'decode',
          path: 'full size, canvas scaling',
          ...base,
          batch: 8,
          source,
          ...rate(full),
        },
        {
          case: 'decode',
          path: 'decoded at input size',
          ...base,
          batch: 8,
          source,
          ...rate(reduced),
        },
      ];
    }
    if (suite.kind === 'cache') return [{ case: 'cache', ...(await api.cache(1024, spec.dim)) }];
    const cfg = { ...base, provider, threads };
    if (suite.kind === 'batch') {
      const sizes = suite.batches ?? [1, 8, 16];
      const runs = new Map<number, Timing[]>(sizes.map((b) => [b, []]));
      for (let r = 0; r < reps; r++) {
        for (const b of sizes)
          runs.get(b)!.push(await api.inferenceOnly(spec, images, b, provider));
      }
      return sizes.map((b) => ({ case: 'inference', ...cfg, batch: b, ...rate(runs.get(b)!) }));
    }
    const inf: Timing[] = [];
    const e2e: Timing[] = [];
    for (let r = 0; r < reps; r++) {
      inf.push(await api.inferenceOnly(spec, images, 8, provider));
      e2e.push(await api.endToEnd(files, spec, 8, provider));
    }
    return [
      { case: 'inference', ...cfg, batch: 8, ...rate(inf) },
      { case: 'e2e', ...cfg, batch: 8, ...rate(e2e) },
    ];
  } finally {
    worker.terminate();
  }
}

/** One worker per web configuration, alive for the whole run so passes can interleave. */
const variants = new Map<string, Comlink.Remote<EmbedBench>>();

/** The model each variant runs. */
const variantSpecs = new Map<string, ModelSpec>();

async function strataBenchOpen(
  list: (BenchLayout & { id: string; spec: ModelSpec })[],
  images: number,
): Promise<{ cores: number; isolated: boolean; defaultLayout: BenchLayout }> {
  photos ??= await makePhotos(images, 800, 600);
  for (const v of list) {
    const worker = new Worker(new URL('../workers/embed-bench.worker.ts', import.meta.url), {
      type: 'module',
    });
    const api = Comlink.wrap<EmbedBench>(worker);
    await api.setup({
      workers: v.workers,
      threads: v.threads,
      spinning: v.spinning,
      fullDecode: v.fullDecode,
    });
    variants.set(v.id, api);
    variantSpecs.set(v.id, v.spec);
  }
  return {
    cores: navigator.hardwareConcurrency,
    isolated: crossOriginIsolated,
    defaultLayout: defaultLayout(),
  };
}

/** One end-to-end pass of a variant; `warm` runs only one batch (loads the model). */
async function strataBenchPass(
  id: string,
  batch: number,
  keep: number,
  warm: boolean,
): Promise<Record<string, unknown>> {
  const api = variants.get(id)!;
  const files = warm ? photos!.slice(0, Math.max(batch, keep)) : photos!;
  const r = await api.pass(files, variantSpecs.get(id)!, batch, 'wasm', keep);
  return { ...r, rows: Array.from(r.rows) };
}

function base64(v: Float32Array): string {
  const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

/** The packed input tensors of the first `keep` photos at `size` px, base64 (onnxruntime-node). */
async function strataBenchTensors(keep: number, size: number): Promise<string> {
  const api = variants.values().next().value!;
  return base64(await api.tensors(photos!.slice(0, keep), { ...BUNDLED_MODEL, inputSize: size }));
}

/**
 * The embedding stage as a run pays it (the driver sets it against the estimate shown before a
 * run): a fresh embed worker (so worker start, wasm compile and model load count), the default
 * model and layout, cache off. `source`: 'demo' (the bundled demo images) or a number of
 * generated photos.
 */
async function strataBenchEstimate(
  source: 'demo' | number,
  model: ModelSpec = DEFAULT_MODEL,
): Promise<Record<string, unknown>> {
  let files: Blob[];
  let what: string;
  if (source === 'demo') {
    const manifest = (await (await fetch('../demo/manifest.json')).json()) as {
      files: { path: string }[];
    };
    files = await Promise.all(
      manifest.files.map(async (f) => (await fetch(`../demo/${f.path}`)).blob()),
    );
    what = `demo (${files.length} emoji PNGs)`;
  } else {
    photos = photos && photos.length >= source ? photos : await makePhotos(source, 800, 600);
    files = photos.slice(0, source);
    what = `${source} generated 800x600 JPEGs`;
  }
  const t = performance.now();
  const worker = new Worker(new URL('../workers/embed.worker.ts', import.meta.url), {
    type: 'module',
  });
  try {
    const api = Comlink.wrap<EmbedService>(worker);
    const items = files.map((file, i) => ({ key: String(i), file }));
    const none = Comlink.proxy(() => undefined);
    let firstRows = 0;
    // The demo's rows go back (item order, base64 float32) for the curation check.
    const kept = source === 'demo' ? new Float32Array(files.length * model.dim) : undefined;
    const rows = Comlink.proxy((r: { keys: string[]; data: Float32Array; dim: number }) => {
      firstRows ||= performance.now() - t;
      r.keys.forEach((k, i) =>
        kept?.set(r.data.subarray(i * r.dim, (i + 1) * r.dim), Number(k) * r.dim),
      );
    });
    const summary = await api.embedFiles(
      items,
      { model, provider: 'auto', useCache: false },
      rows,
      none,
      none,
    );
    const actual = (performance.now() - t) / 1000;
    return {
      case: 'estimate',
      source: what,
      model: model.id,
      device: summary.device,
      computed: summary.computed,
      actualSeconds: Number(actual.toFixed(1)),
      firstRowsSeconds: Number((firstRows / 1000).toFixed(1)),
      ...(kept && { rows: base64(kept) }),
    };
  } finally {
    worker.terminate();
  }
}

async function strataWebgpu(): Promise<{ available: boolean; fallback?: boolean }> {
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) return { available: false };
  return { available: true, fallback: adapter.info.isFallbackAdapter };
}

Object.assign(globalThis, {
  strataEmbedBench,
  strataWebgpu,
  strataBenchOpen,
  strataBenchPass,
  strataBenchTensors,
  strataBenchEstimate,
});
