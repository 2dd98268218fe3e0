/**
 * Throughput of a CpuKernel (default: the plain-JS one) on fixed workloads; one JSON line each.
 * GFLOP/s = 2*N*K*D / seconds (median of 3), from wall time and from this process's CPU time
 * (the latter is steadier when other work shares the machine; it means little for a kernel that
 * computes on worker threads). Run: npx tsx bench/cli/kernel.ts [js|wasm]
 */
import { loadKernel } from '../../src/cli/kernel-choice.ts';
import { createMatrix } from '../../src/core/matrix.ts';
import { Rng } from '../../src/core/rng.ts';

const kernel = await loadKernel(process.argv[2] ?? 'js');

function random(rows: number, cols: number, seed: number) {
  const rng = new Rng(seed);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return createMatrix(rows, cols, data);
}

async function time(f: () => void | Promise<void>): Promise<{ wall: number; cpu: number }> {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    const u = process.cpuUsage();
    await f();
    const used = process.cpuUsage(u);
    cpu.push((used.user + used.system) / 1e6);
    wall.push((performance.now() - t) / 1000);
  }
  const median = (a: number[]): number => a.sort((p, q) => p - q)[1];
  return { wall: median(wall), cpu: median(cpu) };
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
  let seconds: { wall: number; cpu: number };
  if (w.op === 'assign') {
    const out = { labels: new Int32Array(w.n), dist2: new Float32Array(w.n) };
    seconds = await time(() => kernel.assign(x, c, out));
  } else {
    const out = new Float32Array(w.n * w.k);
    seconds = await time(() => kernel.distancesTo(x, c, out));
  }
  const flops = 2 * w.n * w.k * w.d;
  console.log(
    JSON.stringify({
      kernel: kernel.name,
      ...w,
      seconds: +seconds.wall.toFixed(4),
      gflops: +(flops / seconds.wall / 1e9).toFixed(2),
      gflopsCpu: +(flops / seconds.cpu / 1e9).toFixed(2),
    }),
  );
}
