#!/usr/bin/env node
/**
 * npm run bench:explore [-- --sizes=20000,100000 --dim=128 --no-layout]: the explorer map
 * benchmark in headless Chromium (bench/explore-map.html). Prints JSON lines: first_map_pca_ms,
 * pan_fps (fps while panning, capped by the refresh rate, and max_fps from the time of one
 * frame) and neighbourhood_layout_ms per size, then one line with the machine's load
 * (os.loadavg) before and after.
 */
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { tsImport } from 'tsx/esm/api';
import { createServer } from 'vite';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { CHROMIUM_ARGS, CHROMIUM_PATH } = await tsImport('../test/chromium.ts', import.meta.url);
const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
    return m ? [m[1], m[2] ?? 'true'] : [a, 'true'];
  }),
);
const sizes = String(args.sizes ?? '100000')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const spec = { sizes, dim: Number(args.dim ?? 128), layout: args['no-layout'] !== 'true' };
const loadBefore = os.loadavg();

const server = await createServer({
  root,
  logLevel: 'error',
  server: { port: 0, host: '127.0.0.1', strictPort: false, hmr: false, watch: null },
});
await server.listen();
const base = server.resolvedUrls.local[0];
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  let finish;
  const done = new Promise((r) => (finish = r));
  await page.exposeFunction('benchSpec', () => spec);
  await page.exposeFunction('benchReport', (line) => {
    const o = JSON.parse(line);
    if (o.done) {
      if (o.error) console.error(`bench page failed: ${o.error}`);
      finish();
    } else console.log(JSON.stringify(o));
  });
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await page.goto(new URL('bench/explore-map.html', base).href);
  await done;
} finally {
  await browser.close();
  await server.close();
}
console.log(
  JSON.stringify({
    metric: 'load',
    loadavg_before: loadBefore,
    loadavg_after: os.loadavg(),
    cpus: os.cpus().length,
  }),
);
