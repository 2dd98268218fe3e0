/**
 * `npm run bench:dedup`: near-duplicate removal at scale, in Node, one JSON line per run:
 *
 *   {n, d, kernel, run, seconds, cpu_seconds, coarse_seconds, group_seconds, coarse_calls,
 *    groups, removed, recall, peak_rss_mib, heap_peak_mib, input_mib, load}
 *
 * cpu_seconds is this process's CPU time (every thread): on a shared machine it says more than
 * wall time. The grouping runs on one thread, so its wall time can never be below its CPU time
 * share; the coarse pass may use 2 threads (the WebAssembly kernel's workers).
 *
 * The pool: `concepts` directions with rows spread around them (so the coarse pass has structure
 * to find) and 10% of rows near-copies of an earlier row (angle <= 0.2 rad, cosine >= 0.98), so
 * recall against the planted copies can be checked. Rows are centred + L2-normalised once,
 * outside the timing, and passed `prepared` (the app hands the stage its rows the same way).
 * The coarse pass is the core's k-means (fitted on 16384 sampled rows, 10 rounds, then one
 * assignment of every row) on the WebAssembly SIMD kernel where it loads, else plain JS; the
 * grouping is the core's plain-JS block loop on the calling thread.
 *
 * Memory: the input alone is n*d*4 bytes (1.43 GiB at 1M x 384); an N x N float32 matrix would
 * be 3.6 TiB, so peak RSS near the input size shows none was allocated.
 *
 * Options: --n 1000000 --d 384 --runs 1 --kernel auto|js|wasm. Several sizes: --n 100000,1000000
 * (runs interleave the sizes; seconds per size is the median when --runs 3).
 */
import { loadKernel, releaseKernel } from '../src/cli/kernel-choice.ts';
import {
  backendCoarseAssign,
  centreAndNormalise,
  DEFAULT_DEDUP_THRESHOLD,
  findDuplicates,
  type CoarseAssign,
} from '../src/core/dedup.ts';
import { CpuBackend } from '../src/core/kmeans.ts';
import { Rng } from '../src/core/rng.ts';
import { loadavg } from 'node:os';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const sizes = arg('n', '1000000').split(',').map(Number);
const d = Number(arg('d', '384'));
const runs = Number(arg('runs', '1'));
const kernelName = arg('kernel', 'auto');

interface Pool {
  readonly x: Float32Array;
  /** per row: the row it copies, or -1 */
  readonly copyOf: Int32Array;
}

/** Streams the pool straight into one Float32Array (no per-row objects: 1M rows must fit). */
function makePool(n: number, seed: number): Pool {
  const rng = new Rng(seed);
  const concepts = 2000;
  const dirs = new Float32Array(concepts * d);
  for (let i = 0; i < dirs.length; i++) dirs[i] = rng.normal() / Math.sqrt(d);
  const x = new Float32Array(n * d);
  const copyOf = new Int32Array(n).fill(-1);
  const v = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    const copy = i > 0 && rng.next() < 0.1;
    let s = 0;
    if (copy) {
      const src = rng.int(i);
      // Resolve to the original so every planted group is a star around one row.
      const root = copyOf[src] >= 0 ? copyOf[src] : src;
      copyOf[i] = root;
      // angle <= 0.2 rad: noise of norm tan(angle) orthogonal-ish to a unit row
      const scale = (Math.tan(0.2 * rng.next()) / Math.sqrt(d)) * 1;
      for (let t = 0; t < d; t++) {
        v[t] = x[root * d + t] + scale * rng.normal();
        s += v[t] * v[t];
      }
    } else {
      const c = rng.int(concepts) * d;
      for (let t = 0; t < d; t++) {
        v[t] = 0.7 * dirs[c + t] + (0.7 / Math.sqrt(d)) * rng.normal();
        s += v[t] * v[t];
      }
    }
    const inv = 1 / Math.sqrt(s);
    for (let t = 0; t < d; t++) x[o + t] = v[t] * inv;
  }
  return { x, copyOf };
}

/** The pool centred + L2-normalised, with the raw rows left to the collector. */
function preparedPool(n: number, seed: number): { y: Float32Array; copyOf: Int32Array } {
  const { x, copyOf } = makePool(n, seed);
  return { y: centreAndNormalise(x, n, d), copyOf };
}

/** Share of planted (copy, original) pairs that ended in one group. */
function recallOf(copyOf: Int32Array, group: Int32Array): number {
  let planted = 0;
  let found = 0;
  for (let i = 0; i < copyOf.length; i++) {
    if (copyOf[i] < 0) continue;
    planted++;
    if (group[i] >= 0 && group[i] === group[copyOf[i]]) found++;
  }
  return planted === 0 ? 1 : found / planted;
}

const kernel = await loadKernel(kernelName);
const backend = new CpuBackend(kernel);
const mib = (b: number): number => Math.round(b / 1048576);
let heapPeak = 0;
const sampler = setInterval(() => {
  heapPeak = Math.max(
    heapPeak,
    process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers,
  );
}, 200);

const seconds = new Map<number, number[]>();
for (let run = 0; run < runs; run++) {
  for (const n of sizes) {
    const pool = preparedPool(n, 1);
    const y = pool.y;
    let coarseSeconds = 0;
    let coarseCalls = 0;
    const inner = backendCoarseAssign(backend);
    const coarse: CoarseAssign = async (...a) => {
      const t = performance.now();
      const out = await inner(...a);
      coarseSeconds += (performance.now() - t) / 1000;
      coarseCalls++;
      return out;
    };
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const r = await findDuplicates(
      y,
      n,
      d,
      { threshold: DEFAULT_DEDUP_THRESHOLD, seed: 1, prepared: true },
      coarse,
    );
    const total = (performance.now() - t0) / 1000;
    const used = process.cpuUsage(cpu0);
    seconds.set(n, [...(seconds.get(n) ?? []), total]);
    console.log(
      JSON.stringify({
        n,
        d,
        kernel: kernel.name,
        run,
        seconds: Number(total.toFixed(2)),
        cpu_seconds: Number(((used.user + used.system) / 1e6).toFixed(2)),
        coarse_seconds: Number(coarseSeconds.toFixed(2)),
        group_seconds: Number((total - coarseSeconds).toFixed(2)),
        coarse_calls: coarseCalls,
        groups: r.groups,
        removed: r.removed,
        recall: Number(recallOf(pool.copyOf, r.group).toFixed(4)),
        peak_rss_mib: Math.round(process.resourceUsage().maxRSS / 1024),
        heap_peak_mib: mib(heapPeak),
        input_mib: mib(n * d * 4),
        load: loadavg().map((l) => Number(l.toFixed(2))),
      }),
    );
  }
}
if (runs >= 3) {
  for (const [n, s] of seconds) {
    const m = [...s].sort((a, b) => a - b)[Math.floor(s.length / 2)];
    console.log(JSON.stringify({ n, d, median_seconds: Number(m.toFixed(2)), runs: s.length }));
  }
}
clearInterval(sampler);
releaseKernel(kernel);
