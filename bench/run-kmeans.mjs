#!/usr/bin/env node
/**
 * npm run bench:kmeans [-- options]: the k-means benchmark in headless Chromium.
 *
 * Starts a Vite dev server (port 0), opens bench/kmeans.html in Chromium (playwright-core, the
 * flags of test/chromium.ts), and prints one JSON line per backend and workload:
 *   {backend, adapter, workload, N, D, K, iterations, seconds, init_seconds, round_seconds,
 *    gflops, assign_seconds, assign_gflops, objective, capped}
 * gflops = 2*N*K*D per Lloyd round / median round seconds (a round = means + one assignment
 * pass); assign_gflops = 2*N*K*D / seconds of one nearest-centroid pass; seconds = the whole
 * k-means (greedy k-means++ included). Then faiss.Kmeans on the identical data (when
 * /usr/bin/python3 has faiss) and a line of ratios.
 *
 * Workloads: W1 = N 100k, D 384, K 1000, 20 rounds, and the full hierarchy on the same 100k x 384
 * rows: the app's default plan at the WebAssembly kernel's measured throughput (a `plan` line),
 * run --hierarchy-repeats times on each backend; after every cpu-wasm run, faiss runs the same
 * levels, k, r, m and Lloyd rounds (bench/faiss_kmeans.py --hierarchy), so the two alternate
 * under the same load. A `hierarchy-ratios` line gives the medians, their ratio and the
 * objectives. --quick: W2 = N 20k, D 128, K 256 and its hierarchy. Every line has `load`
 * (os.loadavg()[0] when it was printed).
 * Data: a Gaussian mixture written once to bench/out/*.npy (deterministic, seeded), read by the
 * page and by faiss alike.
 *
 * Options:
 *   --quick               W2 instead of W1
 *   --skip=a,b            backends to leave out (cpu-js, cpu-wasm, webgpu, webgpu-naive, faiss)
 *   --only=a,b            only these backends
 *   --cap=SECONDS         wall-clock cap per measured run (default 180); capped runs report what
 *                         they finished (rounds, fraction of the hierarchy) and capped: true
 *   --repeats=N           timed assignment passes when a pass is cheap (median; default 3)
 *   --no-hierarchy        skip the hierarchy workload
 *   --hierarchy-repeats=N runs of the hierarchy per backend, and of faiss's (default 3)
 *   --no-kmeans           skip the single k-means workload (W1 / W2)
 *   --full-naive          also run the full k-means with the naive WGSL kernel (default: its
 *                         assignment pass only, as the baseline of the tiled kernel)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { tsImport } from 'tsx/esm/api';
import { createServer } from 'vite';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { CHROMIUM_ARGS, CHROMIUM_PATH } = await tsImport('../test/chromium.ts', import.meta.url);
const { Rng } = await tsImport('../src/core/rng.ts', import.meta.url);
const { writeNpy } = await tsImport('../src/core/npy.ts', import.meta.url);

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
    if (!m) {
      console.error(`unknown argument ${a} (see the header of bench/run-kmeans.mjs)`);
      process.exit(2);
    }
    return [m[1], m[2] ?? 'true'];
  }),
);
const list = (v) => (v ? String(v).split(',').filter(Boolean) : []);
const ALL = ['cpu-js', 'cpu-wasm', 'webgpu', 'webgpu-naive', 'faiss'];
for (const b of [...list(args.skip), ...list(args.only)]) {
  if (!ALL.includes(b)) {
    console.error(`unknown backend ${b}; known: ${ALL.join(', ')}`);
    process.exit(2);
  }
}
let backends = args.only ? list(args.only) : ALL;
backends = backends.filter((b) => !list(args.skip).includes(b));
const quick = args.quick === 'true';
const capSeconds = Number(args.cap ?? 180);
const repeats = Number(args.repeats ?? 3);
const seed = 1;
const shape = quick ? { N: 20_000, D: 128, K: 256 } : { N: 100_000, D: 384, K: 1000 };
const iters = 20;
const hierarchyRepeats = Number(args['hierarchy-repeats'] ?? 3);
const load = () => Number(loadavg()[0].toFixed(2));
const print = (o) => console.log(JSON.stringify({ ...o, load: load() }));

/**
 * A Gaussian mixture: CENTRES centres drawn N(0, 1) per dimension, each row a random centre plus
 * N(0, 0.5^2) noise. Clustered like real embeddings, so the objectives mean something.
 */
const CENTRES = 500;
function makeData(N, D, dataSeed) {
  const rng = new Rng(dataSeed);
  const centres = new Float32Array(CENTRES * D);
  for (let i = 0; i < centres.length; i++) centres[i] = rng.normal();
  const data = new Float32Array(N * D);
  for (let i = 0; i < N; i++) {
    const c = rng.int(CENTRES) * D;
    for (let j = 0; j < D; j++) data[i * D + j] = centres[c + j] + 0.5 * rng.normal();
  }
  return data;
}

const outDir = join(root, 'bench', 'out');
mkdirSync(outDir, { recursive: true });
const file = join(outDir, `kmeans-${shape.N}x${shape.D}-mix${CENTRES}-seed${seed}.npy`);
if (!existsSync(file)) {
  console.error(`writing ${relative(root, file)}`);
  writeFileSync(file, writeNpy(makeData(shape.N, shape.D, seed), [shape.N, shape.D]));
}
const npyUrl = '/' + relative(root, file).split('\\').join('/');
const wname = quick ? 'W2' : 'W1';
const workloads = [];
if (args['no-kmeans'] !== 'true') {
  workloads.push({ name: wname, kind: 'kmeans', npy: npyUrl, K: shape.K, iters });
}
if (args['no-hierarchy'] !== 'true') {
  workloads.push({ name: `${wname}-hierarchy`, kind: 'hierarchy', npy: npyUrl, K: 0, iters: 0 });
}

const results = [];
const faissHierarchy = [];
const py = '/usr/bin/python3';
/** faiss on one hierarchy plan (a HierarchyConfig as JSON); its JSON line, or undefined. */
function runFaissHierarchy(plan) {
  const r = spawnSync(
    py,
    [join(root, 'bench', 'faiss_kmeans.py'), '--npy', file, '--hierarchy', plan],
    { encoding: 'utf8' },
  );
  const line = (r.stdout ?? '').trim().split('\n').pop();
  if (r.status !== 0 || !line) {
    console.error(`faiss hierarchy did not run (${py}): ${r.error?.message ?? r.stderr}`);
    return undefined;
  }
  const o = { ...JSON.parse(line), workload: `${wname}-hierarchy` };
  if (o.error) console.error(`faiss skipped: ${o.error}`);
  return o.error ? undefined : o;
}
const browserBackends = backends.filter((b) => b !== 'faiss');
if (browserBackends.length > 0) {
  const server = await createServer({
    root,
    logLevel: 'error',
    // No watcher, no HMR: an edit anywhere in the checkout must not reload the page mid-run.
    server: { port: 0, host: '127.0.0.1', strictPort: false, hmr: false, watch: null },
  });
  await server.listen();
  const base = server.resolvedUrls.local[0];
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    let finish;
    const done = new Promise((r) => (finish = r));
    await page.exposeFunction('benchSpec', () => ({
      workloads,
      backends: browserBackends,
      capSeconds,
      repeats,
      seed,
      assignOnly: args['full-naive'] === 'true' ? [] : ['webgpu-naive'],
      hierarchyRepeats,
    }));
    await page.exposeFunction('benchBetween', (plan) => {
      if (!backends.includes('faiss')) return;
      const o = runFaissHierarchy(plan);
      if (o) {
        faissHierarchy.push(o);
        print(o);
      }
    });
    await page.exposeFunction('benchReport', (line) => {
      const o = JSON.parse(line);
      if (o.log) console.error(`  ${o.log}`);
      else if (o.done) {
        if (o.error) console.error(`bench page failed: ${o.error}`);
        finish();
      } else {
        results.push(o);
        print(o);
      }
    });
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    await page.goto(new URL('bench/kmeans.html', base).href);
    await done;
  } finally {
    await browser.close();
    await server.close();
  }
}

let faiss;
if (backends.includes('faiss') && args['no-kmeans'] !== 'true') {
  const r = spawnSync(
    py,
    [join(root, 'bench', 'faiss_kmeans.py'), '--npy', file, '--k', String(shape.K)].concat([
      '--iters',
      String(iters),
      '--seed',
      String(seed),
      '--workload',
      wname,
    ]),
    { encoding: 'utf8' },
  );
  const line = (r.stdout ?? '').trim().split('\n').pop();
  if (r.status === 0 && line) {
    faiss = JSON.parse(line);
    if (!faiss.error) {
      results.push(faiss);
      print(faiss);
    } else {
      console.error(`faiss skipped: ${faiss.error}`);
      faiss = undefined;
    }
  } else {
    console.error(`faiss did not run (${py}): ${r.error?.message ?? r.stderr}`);
  }
}

// Ratios: every backend against faiss (Lloyd and assignment throughput), tiled against naive,
// and every objective against the plain-JS CPU backend's.
const w1 = results.filter((r) => r.workload === wname && !r.error);
const get = (b) => w1.find((r) => r.backend === b);
const ratio = (a, b) => (a && b ? Number((a / b).toFixed(3)) : null);
const ratios = { workload: wname };
for (const r of w1) {
  if (r.backend === 'faiss') continue;
  if (faiss) {
    ratios[`${r.backend}/faiss gflops`] = ratio(r.gflops, faiss.gflops);
    ratios[`${r.backend}/faiss assign_gflops`] = ratio(r.assign_gflops, faiss.assign_gflops);
  }
  const ref = get('cpu-js');
  if (ref?.objective && r.objective && r.backend !== 'cpu-js') {
    ratios[`${r.backend} objective vs cpu-js (relative)`] = Number(
      ((r.objective - ref.objective) / ref.objective).toExponential(3),
    );
  }
}
if (get('webgpu') && get('webgpu-naive')) {
  ratios['webgpu tiled/naive assign_gflops'] = ratio(
    get('webgpu').assign_gflops,
    get('webgpu-naive').assign_gflops,
  );
}
if (faiss) {
  for (const r of w1) {
    if (r.backend !== 'faiss' && r.objective) {
      ratios[`${r.backend} objective vs faiss (relative)`] = Number(
        ((r.objective - faiss.objective) / faiss.objective).toExponential(3),
      );
    }
  }
}
print({ ratios });

// The whole hierarchy: medians of the repeats, Strata's WebAssembly backend against faiss on the
// same plan (acceptance: within 2x, objective no worse).
const median = (v) => {
  const s = v.slice().sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : null;
};
const wasmH = results.filter(
  (r) => r.workload === `${wname}-hierarchy` && r.backend === 'cpu-wasm' && !r.capped,
);
if (wasmH.length > 0 && faissHierarchy.length > 0) {
  const sw = median(wasmH.map((r) => r.seconds));
  const sf = median(faissHierarchy.map((r) => r.seconds));
  const ow = median(wasmH.map((r) => r.objective));
  const of = median(faissHierarchy.map((r) => r.objective));
  print({
    'hierarchy-ratios': {
      workload: `${wname}-hierarchy`,
      K: wasmH[0].K,
      iterations: wasmH[0].iterations,
      runs: [wasmH.length, faissHierarchy.length],
      'cpu-wasm seconds (median)': sw,
      'faiss seconds (median)': sf,
      'cpu-wasm/faiss seconds': ratio(sw, sf),
      'cpu-wasm objective vs faiss (relative)': Number(((ow - of) / of).toExponential(3)),
    },
  });
}
