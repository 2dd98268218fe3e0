/**
 * `npm run bench:embed`: images per second of the embed worker at the bundled model's size
 * (224 px), one JSON line per case, in headless Chromium on a PRODUCTION build (vite build +
 * vite preview with COOP/COEP): the build is where multi-threaded onnxruntime-web used to hang.
 *
 *   {case: decode|inference|e2e|cache, provider, threads, batch, images, seconds, imagesPerSecond}
 *
 * decode    = read + sniff + sha-256 + createImageBitmap + crop/scale + tensor, no model
 * inference = the model on ready-made tensors (after a warm-up batch)
 * e2e       = embedFiles on the same JPEGs, cache off (after a warm-up run)
 * The last line compares end to end with inference only for wasm on 1 thread and for the best
 * configuration (target: e2e >= 80% of inference-only). WebGPU is benchmarked only on a hardware
 * adapter: on a software one (SwiftShader) it is 30-90x slower than wasm.
 *
 * Options: --images N (default 48). The machine may be shared: compare lines from one run.
 */
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { build, preview } from 'vite';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../test/chromium.ts';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = resolve(ROOT, '.cache/bench-embed');
const args = process.argv.slice(2);
const images = args.includes('--images') ? Number(args[args.indexOf('--images') + 1]) : 48;

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
  const run = async (bc: Record<string, unknown>): Promise<Line> => {
    const line = (await page.evaluate(
      `strataEmbedBench(${JSON.stringify({ images, ...bc })})`,
    )) as Line;
    console.log(JSON.stringify(line));
    return line;
  };

  await run({ kind: 'decode', batch: 8 });
  const configs: { provider: 'wasm' | 'webgpu'; threads: number }[] = [
    { provider: 'wasm', threads: 1 },
  ];
  if (isolated && cores > 1) configs.push({ provider: 'wasm', threads: cores });
  const gpu = (await page.evaluate('strataWebgpu()')) as { available: boolean; fallback?: boolean };
  if (gpu.available && !gpu.fallback) configs.push({ provider: 'webgpu', threads: 1 });
  else {
    console.log(
      JSON.stringify({
        case: 'inference',
        provider: 'webgpu',
        skipped: gpu.available
          ? 'software adapter (SwiftShader): not a useful configuration'
          : 'no adapter',
      }),
    );
  }

  const results: { provider: string; threads: number; inference: number; e2e: number }[] = [];
  for (const c of configs) {
    const inf = await run({ kind: 'inference', batch: 8, ...c });
    const e2e = await run({ kind: 'e2e', batch: 8, ...c });
    results.push({ ...c, inference: inf.imagesPerSecond ?? 0, e2e: e2e.imagesPerSecond ?? 0 });
  }
  // Batch size, on the best configuration.
  const best = results.reduce((a, b) => (b.e2e > a.e2e ? b : a));
  for (const batch of [1, 16])
    await run({ kind: 'inference', batch, ...best, provider: best.provider });
  await run({ kind: 'cache' });

  const one = results[0];
  console.log(
    JSON.stringify({
      summary: true,
      cores,
      isolated,
      wasm_1_thread: {
        inference: one.inference,
        e2e: one.e2e,
        ratio: Number((one.e2e / one.inference).toFixed(3)),
      },
      best: {
        provider: best.provider,
        threads: best.threads,
        inference: best.inference,
        e2e: best.e2e,
        ratio: Number((best.e2e / best.inference).toFixed(3)),
      },
      speedup_best_vs_1_thread: Number((best.e2e / one.e2e).toFixed(2)),
      target_ratio: 0.8,
      target_met: best.e2e / best.inference >= 0.8 && one.e2e / one.inference >= 0.8,
    }),
  );
} finally {
  await browser.close();
  await new Promise<void>((ok) => server.httpServer.close(() => ok()));
}
