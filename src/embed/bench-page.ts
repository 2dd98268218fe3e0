/**
 * The Chromium half of `npm run bench:embed` (bench/embed.ts opens bench/embed.html, which loads
 * this): makes photo-sized JPEGs and exposes `strataEmbedBench(case)` for the driver. Each case
 * runs in a fresh bench worker. Not part of the app.
 */
import * as Comlink from 'comlink';
import { BUNDLED_MODEL } from './models';
import type { BenchApi } from './bench.worker';
import type { Provider } from './session';

export interface BenchCase {
  kind: 'decode' | 'inference' | 'e2e' | 'cache';
  provider?: Provider;
  threads?: number;
  batch?: number;
  images?: number;
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

let photos: Blob[] | undefined;

async function strataEmbedBench(bc: BenchCase): Promise<Record<string, unknown>> {
  photos ??= await makePhotos(bc.images ?? 48, 800, 600);
  const files = photos.slice(0, bc.images ?? photos.length);
  const worker = new Worker(new URL('./bench.worker.ts', import.meta.url), { type: 'module' });
  const api = Comlink.wrap<BenchApi>(worker);
  try {
    const threads = await api.configure(bc.threads ?? 1);
    const spec = BUNDLED_MODEL;
    const base = {
      case: bc.kind,
      isolated: crossOriginIsolated,
      size: spec.inputSize,
      ...(bc.kind === 'decode' || bc.kind === 'cache' ? {} : { provider: bc.provider, threads }),
      ...(bc.batch ? { batch: bc.batch } : {}),
    };
    if (bc.kind === 'decode') {
      const bytes = files.reduce((s, f) => s + f.size, 0);
      return {
        ...base,
        source: '800x600 JPEG',
        mean_kb: Math.round(bytes / files.length / 1024),
        ...(await api.decodeOnly(files, spec, bc.batch ?? 8)),
      };
    }
    if (bc.kind === 'inference') {
      return {
        ...base,
        ...(await api.inferenceOnly(spec, files.length, bc.batch ?? 8, bc.provider ?? 'wasm')),
      };
    }
    if (bc.kind === 'e2e') {
      return {
        ...base,
        ...(await api.endToEnd(files, spec, bc.batch ?? 8, bc.provider ?? 'wasm')),
      };
    }
    return { ...base, ...(await api.cache(1024, spec.dim)) };
  } finally {
    worker.terminate();
  }
}

async function strataWebgpu(): Promise<{
  available: boolean;
  fallback?: boolean;
  description?: string;
}> {
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) return { available: false };
  return {
    available: true,
    fallback: adapter.info.isFallbackAdapter,
    description:
      `${adapter.info.vendor} ${adapter.info.architecture} ${adapter.info.description}`.trim(),
  };
}

Object.assign(globalThis, { strataEmbedBench, strataWebgpu });
