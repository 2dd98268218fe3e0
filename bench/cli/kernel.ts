/**
 * Throughput of a CpuKernel (default: the plain-JS one) on fixed workloads; one JSON line each.
 * GFLOP/s = 2*N*K*D / seconds (median of 3). Run: npx tsx bench/cli/kernel.ts [js]
 */
import { loadKernel } from '../../src/cli/kernels.ts';
import { createMatrix } from '../../src/core/matrix.ts';
import { Rng } from '../../src/core/rng.ts';

const kernel = await loadKernel(process.argv[2] ?? 'js');

function random(rows: number, cols: number, seed: number) {
  const rng = new Rng(seed);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return createMatrix(rows, cols, data);
}

async function time(f: () => void | Promise<void>): Promise<number> {
  const runs: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    await f();
    runs.push((performance.now() - t) / 1000);
  }
  return runs.sort((a, b) => a - b)[1];
}

const workloads = [
  { op: 'assign', n: 20000, d: 128, k: 256 },
  { op: 'assign', n: 20000, d: 384, k: 1000 },
  { op: 'assign', n: 9000, d: 2, k: 3000 },
  { op: 'distancesTo', n: 100000, d: 384, k: 8 },
  { op: 'distancesTo', n: 9000, d: 2, k: 10 },
];
for (const w of workloads) {
  const x = random(w.n, w.d, 1);
  const c = random(w.k, w.d, 2);
  let seconds: number;
  if (w.op === 'assign') {
    const out = { labels: new Int32Array(w.n), dist2: new Float32Array(w.n) };
    seconds = await time(() => kernel.assign(x, c, out));
  } else {
    const out = new Float32Array(w.n * w.k);
    seconds = await time(() => kernel.distancesTo(x, c, out));
  }
  const gflops = (2 * w.n * w.k * w.d) / seconds / 1e9;
  console.log(JSON.stringify({ kernel: kernel.name, ...w, seconds, gflops: +gflops.toFixed(2) }));
}
