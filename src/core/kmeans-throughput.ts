/**
 * Measured k-means throughput of a CPU kernel: the one probe routine the command line and the
 * cluster worker share, and the `KMeansThroughput` value the plan resolver (plan.ts) estimates with.
 * Pure: needs only the core's CpuKernel interface and a clock (`performance.now()`).
 */
import { DEFAULT_FLOPS_PER_SECOND } from './defaults.ts';
import { createMatrix } from './matrix.ts';
import type { CpuKernel, Matrix } from './types.ts';

/** Flops per second of the two kinds of work a hierarchy run does. */
export interface KMeansThroughput {
  /** assignment (Lloyd) passes */
  readonly assign: number;
  /**
   * greedy k-means++ candidate scoring, which kernels run at a different rate (it scores only
   * 2 + ln k candidates per call)
   */
  readonly init: number;
}

/** What a plan assumes when nothing was measured. */
export const DEFAULT_THROUGHPUT: KMeansThroughput = {
  assign: DEFAULT_FLOPS_PER_SECOND,
  init: DEFAULT_FLOPS_PER_SECOND,
};

/** One measured rate for both kinds (a probe that only timed assignment). */
export function uniformThroughput(flopsPerSecond: number): KMeansThroughput {
  return { assign: flopsPerSecond, init: flopsPerSecond };
}

export interface ProbeShape {
  /** rows and centroids of the timed assignment pass (each capped at the input's rows) */
  readonly assign: { readonly rows: number; readonly k: number };
  /** rows and candidates of the timed k-means++ scoring; null: not timed (init = assign) */
  readonly init: { readonly rows: number; readonly k: number } | null;
  /** each probe repeats its call until this many milliseconds have passed; 0: one timed call */
  readonly minMillis: number;
  /**
   * short probes per kind, the best one counts (default PROBES): on a shared machine a single
   * probe measures whatever else runs at that moment, and the slowest moments say nothing
   * about the kernel
   */
  readonly probes?: number;
}

/**
 * Probes per kind. A single 250 ms probe on this 2-core machine under load (two busy loops and
 * a test suite) planned from 10.4 GFLOP/s for a kernel that does 50-75 quiet. The best of 5
 * probes of 50 ms each (the same time in all) takes the quietest moment instead of the average:
 * load comes and goes faster than a quarter of a second.
 */
export const PROBES = 5;

/**
 * The full probe, on the input's own rows: assignment of up to 2048 rows to 256 centroids (the
 * Lloyd pass) and distances of up to 65536 rows to 8 candidates (the k-means++ call, which
 * kernels run at a different rate: JS 2.8 vs 4.6 GFLOP/s of CPU time, the wasm kernel 1.8 vs
 * 8.7 wall here). The k-means++ probe needs many rows: the wasm kernel scored 8192 x 384 rows at
 * 8.4 GFLOP/s but 32768 or 100000 rows at 2-3.5, the regime a real level 1 is in. PROBES short
 * probes per kind, each repeated until 50 ms have passed; about 0.6 s in all.
 */
export const FULL_PROBE: ProbeShape = {
  assign: { rows: 2048, k: 256 },
  init: { rows: 65536, k: 8 },
  minMillis: 50,
  probes: PROBES,
};

/** k rows of x spread evenly over it, as centroids. */
function spread(x: Matrix, k: number): Matrix {
  const d = x.cols;
  const cent = new Float32Array(k * d);
  for (let j = 0; j < k; j++) {
    const i = Math.floor((j * x.rows) / k);
    cent.set(x.data.subarray(i * d, i * d + d), j * d);
  }
  return createMatrix(k, d, cent);
}

/** Flops per second of `f`: the best of `probes` timed runs, after one untimed warm-up call. */
async function timed(
  f: () => void | Promise<void>,
  flops: number,
  minMillis: number,
  probes: number,
): Promise<number> {
  await f(); // warm-up: lets the JIT compile the hot loop (or a pool spin up) before timing
  let best = 0;
  for (let p = 0; p < Math.max(1, probes); p++) {
    let calls = 0;
    const t0 = performance.now();
    let elapsed = 0;
    while (elapsed < minMillis || calls === 0) {
      await f();
      calls++;
      elapsed = performance.now() - t0;
    }
    // A timer too coarse to see one call must not give an infinite rate.
    best = Math.max(best, (flops * calls) / (Math.max(1e-3, elapsed) / 1000));
  }
  return best;
}

/** Measures a CPU kernel's assignment and k-means++ throughput on rows of `x`. */
export async function probeThroughput(
  kernel: CpuKernel,
  x: Matrix,
  shape: ProbeShape = FULL_PROBE,
): Promise<KMeansThroughput> {
  const d = x.cols;
  const rowsOf = (rows: number): Matrix => createMatrix(rows, d, x.data.subarray(0, rows * d));
  const ra = Math.min(x.rows, shape.assign.rows);
  const ka = Math.min(shape.assign.k, x.rows);
  const xa = rowsOf(ra);
  const ca = spread(x, ka);
  const out = { labels: new Int32Array(ra), dist2: new Float32Array(ra) };
  const probes = shape.probes ?? 1;
  const assign = await timed(
    () => kernel.assign(xa, ca, out),
    2 * ra * ka * d,
    shape.minMillis,
    probes,
  );
  if (!shape.init) return uniformThroughput(assign);
  const ri = Math.min(x.rows, shape.init.rows);
  const ki = Math.min(shape.init.k, x.rows);
  const xi = rowsOf(ri);
  const ci = spread(x, ki);
  const dist = new Float32Array(ri * ki);
  const init = await timed(
    () => kernel.distancesTo(xi, ci, dist),
    2 * ri * ki * d,
    shape.minMillis,
    probes,
  );
  return { assign, init };
}
