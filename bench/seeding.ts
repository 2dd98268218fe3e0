/**
 * k-means++ on a sample against greedy k-means++ on every row (src/core/seeding.ts): the
 * objective after the same Lloyd rounds on all rows, and the seconds of each, on the bench's
 * Gaussian mixture. One JSON line per (rows per cluster, seed), then one summary line per rows
 * per cluster with the mean relative objective (+0.001 = 0.1% worse than full seeding).
 *
 *   npx tsx bench/seeding.ts [--n=100000] [--d=384] [--k=2000] [--rounds=10] [--seeds=3]
 *                            [--per-cluster=4,8,16] [--kernel=wasm|js]
 *
 * Variants run interleaved per seed (full, then each sample size), so load on the shared
 * machine hits them alike; the load average is printed with every line.
 */
import { loadavg } from 'node:os';
import { loadKernel, releaseKernel } from '../src/cli/kernel-choice.ts';
import { greedyKMeansPlusPlus, lloyd } from '../src/core/kmeans.ts';
import { gatherRows } from '../src/core/matrix.ts';
import { Rng } from '../src/core/rng.ts';
import type { Matrix } from '../src/core/types.ts';

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const m = /^--([^=]+)=(.*)$/.exec(a);
    if (!m) throw new Error(`unknown argument ${a} (see the header of bench/seeding.ts)`);
    return [m[1], m[2]];
  }),
);
const n = Number(args.n ?? 100_000);
const d = Number(args.d ?? 384);
const k = Number(args.k ?? 2000);
const rounds = Number(args.rounds ?? 10);
const seeds = Number(args.seeds ?? 3);
const perCluster = String(args['per-cluster'] ?? '4,8,16')
  .split(',')
  .map(Number);

/** The bench's mixture (bench/run-kmeans.mjs): 500 N(0,1) centres, rows = centre + N(0, 0.5^2). */
function mixture(rows: number, cols: number, seed: number): Matrix {
  const rng = new Rng(seed);
  const centres = new Float32Array(500 * cols);
  for (let i = 0; i < centres.length; i++) centres[i] = rng.normal();
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const c = rng.int(500) * cols;
    for (let j = 0; j < cols; j++) data[i * cols + j] = centres[c + j] + 0.5 * rng.normal();
  }
  return { data, rows, cols };
}

const load = (): number => Number(loadavg()[0].toFixed(2));
const kernel = await loadKernel(args.kernel ?? 'wasm');
const x = mixture(n, d, 1);
const rel: Record<number, number[]> = {};
try {
  for (let seed = 1; seed <= seeds; seed++) {
    let fullObjective = 0;
    for (const c of [0, ...perCluster]) {
      const s = c === 0 ? n : Math.min(n, c * k);
      // The same draws as seedingInput: a sorted uniform sample, then k-means++ on it.
      const rows =
        s === n ? x : gatherRows(x, new Rng(Rng.derive(seed, 0x5eed)).sample(n, s).sort());
      const t0 = performance.now();
      const init = await greedyKMeansPlusPlus(rows, k, new Rng(seed), kernel);
      const t1 = performance.now();
      const res = await lloyd(x, init, { nIters: rounds }, kernel);
      const t2 = performance.now();
      if (c === 0) fullObjective = res.objective;
      const relative = res.objective / fullObjective - 1;
      if (c > 0) (rel[c] ??= []).push(relative);
      console.log(
        JSON.stringify({
          bench: 'seeding',
          kernel: kernel.name,
          n,
          d,
          k,
          rounds,
          seed,
          seedRows: s,
          rowsPerCluster: c === 0 ? 'all' : c,
          seedSeconds: Number(((t1 - t0) / 1000).toFixed(2)),
          lloydSeconds: Number(((t2 - t1) / 1000).toFixed(2)),
          objective: res.objective,
          relativeToFull: Number(relative.toExponential(3)),
          load: load(),
        }),
      );
    }
  }
} finally {
  releaseKernel(kernel);
}
for (const c of perCluster) {
  const v = rel[c] ?? [];
  const mean = v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
  console.log(
    JSON.stringify({
      bench: 'seeding-summary',
      n,
      d,
      k,
      rounds,
      rowsPerCluster: c,
      seeds: v.length,
      meanRelativeToFull: Number(mean.toExponential(3)),
      worstRelativeToFull: Number(Math.max(...v).toExponential(3)),
      load: load(),
    }),
  );
}
