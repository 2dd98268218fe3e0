/**
 * Page code of the k-means benchmark (bench/kmeans.html), driven by bench/run-kmeans.mjs in
 * headless Chromium. The runner exposes two functions to the page: `benchSpec()` (what to run)
 * and `benchReport(json)` (one result or log line). Nothing here asserts anything: it measures.
 *
 * Per backend and workload:
 *  - kmeans workloads: one nearest-centroid pass onto K rows of the data (median of `repeats`
 *    passes when a pass is cheap) -> assign_gflops; then a full k-means (greedy k-means++ and
 *    `iters` Lloyd rounds) under the time cap -> seconds, init_seconds, iterations, gflops
 *    (2*N*K*D per Lloyd round / median round seconds) and the final objective;
 *  - the hierarchy workload: the app's default plan for N x D (resolvePlan at the throughput the
 *    WebAssembly kernel measures here, as the app and the command line plan), reported once as a
 *    `plan` line; then hierarchicalKMeans with it under the time cap, `hierarchyRepeats` times
 *    -> seconds, seconds per level, the fraction done, effective GFLOP/s over estimateFlops, and
 *    the level-1 objective. After each run of the cpu-wasm backend the page calls
 *    `benchBetween(plan)`, where the runner runs faiss on the same levels and rounds, so the two
 *    alternate and share the machine's load.
 */
import { createWasmKernel, disposeCpuKernel } from '../src/cpu/browser.ts';
import { jsKernel } from '../src/core/cpu-kernel-js.ts';
import { estimateFlops } from '../src/core/defaults.ts';
import { hierarchicalKMeans, type HierarchyConfig } from '../src/core/hierarchy.ts';
import { CpuBackend } from '../src/core/kmeans.ts';
import { probeThroughput } from '../src/core/kmeans-throughput.ts';
import { resolvePlan } from '../src/core/plan.ts';
import { parseNpy } from '../src/core/npy.ts';
import type { KMeansBackend, Matrix } from '../src/core/types.ts';
import { GpuBackend } from '../src/gpu/gpu-backend.ts';

export type BackendName = 'cpu-js' | 'cpu-wasm' | 'webgpu' | 'webgpu-naive';

export interface BenchWorkload {
  readonly name: string;
  readonly kind: 'kmeans' | 'hierarchy';
  /** URL of the row matrix (.npy, float32, N x D) */
  readonly npy: string;
  readonly K: number;
  readonly iters: number;
}

export interface BenchSpec {
  readonly workloads: readonly BenchWorkload[];
  readonly backends: readonly BackendName[];
  /** wall-clock cap per measured run, seconds */
  readonly capSeconds: number;
  /** timed passes (median) when one pass is cheap */
  readonly repeats: number;
  readonly seed: number;
  /** backends whose full k-means / hierarchy is skipped (only the assignment pass runs) */
  readonly assignOnly: readonly BackendName[];
  /** runs of the hierarchy per backend (median in the runner's ratios) */
  readonly hierarchyRepeats: number;
}

declare global {
  interface Window {
    benchSpec(): Promise<BenchSpec>;
    benchReport(line: string): Promise<void>;
    /** the runner's turn between two hierarchy runs (faiss on the same plan) */
    benchBetween(plan: string): Promise<void>;
  }
}

const report = (o: Record<string, unknown>): Promise<void> => window.benchReport(JSON.stringify(o));
const log = (message: string): Promise<void> => report({ log: message });
const round = (v: number, digits: number): number => Number(v.toFixed(digits));
const median = (v: number[]): number => {
  const s = v.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

async function makeBackend(
  name: BackendName,
): Promise<{ backend: KMeansBackend; adapter: string }> {
  switch (name) {
    case 'cpu-js':
      return { backend: new CpuBackend(jsKernel), adapter: 'JavaScript, 1 thread' };
    case 'cpu-wasm': {
      const kernel = await createWasmKernel();
      return {
        backend: new CpuBackend(kernel),
        adapter: `${kernel.name}, ${crossOriginIsolated ? 'cross-origin isolated' : 'not isolated'}`,
      };
    }
    case 'webgpu':
    case 'webgpu-naive': {
      const b = await GpuBackend.create({ assignKernel: name === 'webgpu' ? 'tiled' : 'naive' });
      const t = b.kernels.tuning;
      const how =
        name === 'webgpu'
          ? `tiled ${t.workgroup} threads x ${t.td4 * 4} dims`
          : 'one thread per point';
      return { backend: b, adapter: `${b.adapter}; ${how}` };
    }
  }
}

function dispose(b: KMeansBackend): void {
  if (b instanceof CpuBackend) disposeCpuKernel(b.kernel);
  else b.dispose?.();
}

async function loadMatrix(url: string): Promise<Matrix> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`could not fetch ${url}: ${res.status}`);
  const a = parseNpy(new Uint8Array(await res.arrayBuffer()));
  if (!(a.data instanceof Float32Array) || a.shape.length !== 2) {
    throw new Error(`${url} must hold a 2-D float32 array`);
  }
  return { data: a.data, rows: a.shape[0], cols: a.shape[1] };
}

/** K rows of x spread evenly: the centroids of the assignment pass. */
function someRows(x: Matrix, k: number): Matrix {
  const data = new Float32Array(k * x.cols);
  const step = Math.floor(x.rows / k);
  for (let j = 0; j < k; j++) {
    data.set(x.data.subarray(j * step * x.cols, (j * step + 1) * x.cols), j * x.cols);
  }
  return { data, rows: k, cols: x.cols };
}

/**
 * Runs `run(signal, tick)` and aborts it after capSeconds; resolves to whether it finished.
 * The plain-JS kernel computes synchronously, so no timer fires while it runs: `tick` (called
 * from progress callbacks) checks the clock too. Its k-means++ has no callback and is not capped.
 */
async function capped(
  capSeconds: number,
  run: (signal: AbortSignal, tick: () => void) => Promise<void>,
): Promise<boolean> {
  const ctl = new AbortController();
  const deadline = performance.now() + capSeconds * 1000;
  const tick = (): void => {
    if (performance.now() > deadline) ctl.abort();
  };
  const timer = setTimeout(() => ctl.abort(), capSeconds * 1000);
  try {
    await run(ctl.signal, tick);
    return true;
  } catch (err) {
    if (ctl.signal.aborted) return false;
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

async function benchKMeans(
  spec: BenchSpec,
  w: BenchWorkload,
  x: Matrix,
  name: BackendName,
  backend: KMeansBackend,
  adapter: string,
): Promise<void> {
  const N = x.rows;
  const D = x.cols;
  const K = w.K;
  const flops = 2 * N * K * D;
  const base = { backend: name, adapter, workload: w.name, N, D, K };

  // 1. One assignment pass (the first also uploads x to the GPU; later ones reuse it).
  const c = someRows(x, K);
  let t = performance.now();
  await backend.assign(x, c);
  const first = (performance.now() - t) / 1000;
  const passes = [first];
  if (first * (spec.repeats + 1) < spec.capSeconds / 4) {
    passes.length = 0;
    for (let r = 0; r < spec.repeats; r++) {
      t = performance.now();
      await backend.assign(x, c);
      passes.push((performance.now() - t) / 1000);
    }
  }
  const pass = median(passes);
  const assign = { assign_seconds: round(pass, 3), assign_gflops: round(flops / pass / 1e9, 3) };
  if (spec.assignOnly.includes(name)) {
    await report({ ...base, ...assign, iterations: 0, note: 'assignment pass only' });
    return;
  }

  // 2. The full k-means under the cap.
  const rounds: number[] = [];
  let result: { objective: number; iterations: number } | undefined;
  t = performance.now();
  const finished = await capped(spec.capSeconds, async (signal, tick) => {
    const r = await backend.kmeans(x, K, {
      nIters: w.iters,
      seed: spec.seed,
      signal,
      onIteration: () => {
        rounds.push(performance.now());
        tick();
      },
    });
    result = { objective: r.objective, iterations: r.iterations };
  });
  const seconds = (performance.now() - t) / 1000;
  const gaps = rounds.slice(1).map((v, i) => (v - rounds[i]) / 1000);
  const roundSeconds = gaps.length > 0 ? median(gaps) : undefined;
  // Before round 1 ends: k-means++, the initial assignment pass and round 1 itself.
  const init =
    rounds.length > 0 && roundSeconds !== undefined
      ? (rounds[0] - t) / 1000 - 2 * roundSeconds
      : undefined;
  await report({
    ...base,
    iterations: result?.iterations ?? rounds.length,
    seconds: round(seconds, 3),
    init_seconds: init !== undefined ? round(Math.max(0, init), 3) : null,
    round_seconds: roundSeconds !== undefined ? round(roundSeconds, 3) : null,
    gflops: roundSeconds !== undefined ? round(flops / roundSeconds / 1e9, 3) : null,
    ...assign,
    objective: result?.objective ?? null,
    capped: !finished,
  });
}

/** The app's default plan for x: resolvePlan at the WebAssembly kernel's measured throughput. */
async function defaultPlan(x: Matrix): Promise<HierarchyConfig> {
  const kernel = await createWasmKernel();
  try {
    const throughput = await probeThroughput(kernel, x);
    const plan = resolvePlan({ n: x.rows, d: x.cols, throughput });
    const c = plan.config;
    await report({
      plan: true,
      kernel: kernel.name,
      N: x.rows,
      D: x.cols,
      K: c.levels.map((l) => l.k).join('/'),
      sample_sizes: c.levels.map((l) => l.sampleSize).join('/'),
      resampling_steps: c.resamplingSteps,
      iterations: c.nIters,
      rows_per_level1_cluster: round(x.rows / c.levels[0].k, 1),
      estimated_seconds: round(plan.estimatedSeconds, 1),
      probe_gflops: round(throughput.assign / 1e9, 2),
      probe_init_gflops: round(throughput.init / 1e9, 2),
      shape: plan.shape.summary,
    });
    return c;
  } finally {
    disposeCpuKernel(kernel);
  }
}

async function benchHierarchy(
  spec: BenchSpec,
  w: BenchWorkload,
  x: Matrix,
  name: BackendName,
  backend: KMeansBackend,
  adapter: string,
  config: HierarchyConfig,
): Promise<void> {
  const run = { ...config, seed: spec.seed };
  const total = estimateFlops(x.rows, x.cols, run);
  for (let repeat = 0; repeat < spec.hierarchyRepeats; repeat++) {
    let fraction = 0;
    let objective: number | null = null;
    const levelSeconds: number[] = [];
    const t = performance.now();
    let mark = t;
    const finished = await capped(spec.capSeconds, async (signal, tick) => {
      const h = await hierarchicalKMeans(x, run, backend, {
        signal,
        onProgress: (p) => {
          fraction = p.fraction;
          tick();
        },
        onLevel: () => {
          const now = performance.now();
          levelSeconds.push(round((now - mark) / 1000, 3));
          mark = now;
        },
      });
      let s = 0;
      for (const v of h.levels[0].dist2) s += v;
      objective = s;
    });
    const seconds = (performance.now() - t) / 1000;
    await report({
      backend: name,
      adapter,
      workload: w.name,
      repeat,
      N: x.rows,
      D: x.cols,
      K: run.levels.map((l) => l.k).join('/'),
      sample_sizes: run.levels.map((l) => l.sampleSize).join('/'),
      resampling_steps: run.resamplingSteps,
      iterations: run.nIters,
      seconds: round(seconds, 3),
      level_seconds: levelSeconds,
      fraction_done: round(finished ? 1 : fraction, 4),
      gflops: round((total * (finished ? 1 : fraction)) / seconds / 1e9, 3),
      objective,
      capped: !finished,
    });
    if (name === 'cpu-wasm') await window.benchBetween(JSON.stringify(run));
  }
}

async function main(): Promise<void> {
  const spec = await window.benchSpec();
  for (const w of spec.workloads) {
    await log(`loading ${w.npy}`);
    const x = await loadMatrix(w.npy);
    const plan = w.kind === 'hierarchy' ? await defaultPlan(x) : undefined;
    for (const name of spec.backends) {
      if (w.kind === 'hierarchy' && spec.assignOnly.includes(name)) continue;
      await log(`${w.name}: ${name}`);
      let made: { backend: KMeansBackend; adapter: string };
      try {
        made = await makeBackend(name);
      } catch (err) {
        await report({ backend: name, workload: w.name, error: String(err) });
        continue;
      }
      try {
        if (w.kind === 'kmeans') await benchKMeans(spec, w, x, name, made.backend, made.adapter);
        else await benchHierarchy(spec, w, x, name, made.backend, made.adapter, plan!);
      } catch (err) {
        await report({ backend: name, workload: w.name, error: String(err) });
      } finally {
        dispose(made.backend);
      }
    }
  }
  await report({ done: true });
}

main().catch((err) => report({ error: String(err), done: true }));
