#!/usr/bin/env node
/**
 * npm run bench:job-bundle [-- --rows=N --cols=D --repeats=R]: the page's job bundle at scale.
 *
 * Starts a Vite dev server (port 0), opens bench/job-bundle.html in headless Chromium
 * (playwright-core, the flags of test/chromium.ts plus --enable-precise-memory-info), which
 * stores an N x D precomputed dataset (default 1,000,000 x 384 = 1.54 GB of float32) chunk by
 * chunk, then streams its job bundle into a zip read to the end, for 'none' and 'l2'
 * normalisation interleaved, R times each (default 3). Prints one JSON line per run:
 *   {bench, normalisation, rows, cols, matrix_mb, zip_mb, prepare_seconds, seconds,
 *    mb_per_second, heap_base_mb, heap_peak_mb, heap_peak_over_base_mb, repeat, load}
 * then a summary line with the medians. load = os.loadavg() when the line was printed.
 *
 * The limit of what this measures: every byte is read back from IndexedDB (disk and a
 * structured clone) and copied into the zip stream, so a figure far above the machine's memory
 * bandwidth (about 10 GB/s here) would be a measuring error; a heap peak near matrix_mb would
 * mean the matrix was held whole.
 */
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { tsImport } from 'tsx/esm/api';
import { createServer } from 'vite';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { CHROMIUM_ARGS, CHROMIUM_PATH } = await tsImport('../test/chromium.ts', import.meta.url);
const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const m = /^--([^=]+)=(.*)$/.exec(a);
    if (!m) {
      console.error(`unknown argument ${a} (see the header of bench/job-bundle-scale.mjs)`);
      process.exit(2);
    }
    return [m[1], Number(m[2])];
  }),
);
const spec = {
  rows: args.rows ?? 1_000_000,
  cols: args.cols ?? 384,
  repeats: args.repeats ?? 3,
  variants: ['none', 'l2'],
};
const load = () => loadavg().map((v) => +v.toFixed(2));

const server = await createServer({
  root,
  logLevel: 'error',
  server: { port: 0, host: '127.0.0.1', strictPort: false, hmr: false, watch: null },
});
await server.listen();
const browser = await chromium.launch({
  executablePath: CHROMIUM_PATH,
  args: [...CHROMIUM_ARGS, '--enable-precise-memory-info'],
});
const results = [];
try {
  const page = await browser.newPage();
  let finish;
  const done = new Promise((r) => (finish = r));
  await page.exposeFunction('benchSpec', () => spec);
  await page.exposeFunction('benchReport', (line) => {
    const o = JSON.parse(line);
    if (o.log) console.error(`  ${o.log}`);
    else if (o.done) {
      if (o.error) console.error(`bench page failed: ${o.error}`);
      finish();
    } else {
      const out = { ...o, load: load() };
      if (o.bench === 'job-bundle') results.push(out);
      console.log(JSON.stringify(out));
    }
  });
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await page.goto(new URL('bench/job-bundle.html', server.resolvedUrls.local[0]).href);
  await done;
} finally {
  await browser.close();
  await server.close();
}
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const how of spec.variants) {
  const rs = results.filter((r) => r.normalisation === how);
  if (!rs.length) continue;
  console.log(
    JSON.stringify({
      bench: 'job-bundle-summary',
      normalisation: how,
      runs: rs.length,
      rows: spec.rows,
      cols: spec.cols,
      matrix_mb: rs[0].matrix_mb,
      median_seconds: median(rs.map((r) => r.seconds)),
      median_mb_per_second: median(rs.map((r) => r.mb_per_second)),
      median_heap_peak_over_base_mb: median(rs.map((r) => r.heap_peak_over_base_mb)),
      max_heap_peak_mb: Math.max(...rs.map((r) => r.heap_peak_mb)),
      load: load(),
    }),
  );
}
