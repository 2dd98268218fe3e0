/**
 * The two toys of the "How it works" page, as plain functions over the core (no DOM, no
 * worker): src/workers/demo.worker.ts runs them off the main thread, tests call them directly.
 *
 * Fig. 3 (the paper's 2-D toy, core/toy.ts data): four ways to place 300 centroids on 9000
 * long-tailed points, scored by KL to the uniform density (lower = more uniform cover):
 *   k-means            [300]
 *   2-level            [1500, 300]
 *   3-level            [3000, 1000, 300]
 *   3-level + resampling [3000, 1000, 300], r = 2 per level, m = 10 steps
 * Seeds and settings are those of core/toy.ts runToyExperiment, so with `iterations = 50` the
 * page shows exactly the numbers of `npx strata toy --seed S`. The sliders change the levels and
 * steps of the last variant only.
 *
 * Rings (the reference README's toy): five rings of 20000/200/1000/500/8000 points, 2 levels
 * [1000, 300], r = [15, 2], m = 10, 1000 points drawn by balanced sampling against 1000 drawn
 * uniformly at random; per-ring counts tell the story.
 *
 * Measured (Node 20, the shared 2-core dev machine under load from other jobs, so times are
 * rough; the KL values are exact):
 *  - 50 rounds, seed 0: KL 0.334 / 0.124 / 0.085 / 0.037 in 0.6 / 2.8 / 7.7 / 54 s (jsKernel).
 *  - 10 rounds, seeds 0-9: the order k-means > 2-level > 3-level > resampled held on all ten;
 *    k-means 0.327-0.361, 2-level 0.124-0.153, 3-level 0.079-0.099, resampled 0.037-0.057.
 *    Seed 0 gives the same 0.334 / 0.085 / 0.037 as with 50 rounds (2-level 0.131).
 *  - rings, 10 rounds, seeds 0-2: balanced [216 142 199 216 227], [215 154 208 199 224],
 *    [235 131 208 181 245] (max/min 1.4-1.9) against random [673 5 33 11 278] and alike;
 *    with 2 resampling steps max/min 1.9-2.0, with none 2.7-3.4. 30-37 s at 10 steps.
 */
import { CpuBackend } from '../core/kmeans';
import {
  hierarchicalKMeans,
  type HierarchyConfig,
  type HierarchyProgress,
} from '../core/hierarchy';
import { createMatrix } from '../core/matrix';
import { klToUniform } from '../core/metrics';
import { Rng } from '../core/rng';
import { sampleHierarchy } from '../core/sampling';
import { makeRingsData, makeToyData, RING_SIZES } from '../core/toy';
import type { KMeansBackend, Matrix } from '../core/types';

export type Fig3VariantId = 'kmeans' | 'twoLevel' | 'threeLevel' | 'resampled';

export interface Fig3Variant {
  readonly id: Fig3VariantId;
  readonly label: string;
  /** k per level, level 1 first */
  readonly k: readonly number[];
  /** r per level (1 = no resampling) */
  readonly r: readonly number[];
  readonly steps: number;
  /** index of this run in runToyExperiment (its seed is Rng.derive(seed, 100 + index)) */
  readonly index: number;
}

/** Lloyd rounds of the paper (and of `npx strata toy`). */
export const PAPER_ITERATIONS = 50;
/**
 * Lloyd rounds of the page's quick mode: with 10 the four KL values keep the paper's order on
 * seeds 0-9 (header), and the resampled variant ran in 31 s instead of 54 s (seed 0, jsKernel;
 * greedy k-means++ is most of what is left).
 */
export const QUICK_ITERATIONS = 10;

/** Cluster counts per level for the slider's "levels" (the paper's chains end at 300). */
export const LEVEL_CHAINS: Readonly<Record<number, readonly number[]>> = {
  1: [300],
  2: [1500, 300],
  3: [3000, 1000, 300],
  4: [6000, 3000, 1000, 300],
};

export function fig3Variants(levels = 3, steps = 10): Fig3Variant[] {
  const chain = LEVEL_CHAINS[levels];
  if (!chain) throw new RangeError(`levels must be 1 to 4, got ${levels}`);
  const withSteps = steps > 0 ? ` + resampling (${steps} step${steps === 1 ? '' : 's'})` : '';
  return [
    { id: 'kmeans', label: 'k-means', k: [300], r: [1], steps: 0, index: 0 },
    { id: 'twoLevel', label: '2-level', k: [1500, 300], r: [1, 1], steps: 0, index: 1 },
    {
      id: 'threeLevel',
      label: '3-level',
      k: [3000, 1000, 300],
      r: [1, 1, 1],
      steps: 0,
      index: 2,
    },
    {
      id: 'resampled',
      label: `${levels}-level${withSteps}`,
      k: chain,
      r: chain.map(() => 2),
      steps,
      index: 3,
    },
  ];
}

export interface RunOptions {
  readonly seed: number;
  readonly iterations: number;
  readonly backend?: KMeansBackend;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: HierarchyProgress) => void;
}

export interface Fig3Result {
  readonly id: Fig3VariantId;
  readonly kl: number;
  /** top-level centroids, interleaved x, y */
  readonly centroids: Float32Array;
  readonly seconds: number;
  readonly backend: string;
}

/** The core's CPU backend (its JS kernel has a 2-D path for exactly these toys). */
export function cpuBackend(): KMeansBackend {
  return new CpuBackend();
}

export async function runFig3Variant(
  x: Matrix,
  variant: Fig3Variant,
  options: RunOptions,
): Promise<Fig3Result> {
  const backend = options.backend ?? cpuBackend();
  const config: HierarchyConfig = {
    levels: variant.k.map((k, t) => ({ k, sampleSize: variant.r[t] })),
    resamplingSteps: variant.steps,
    strategy: 'closest',
    nIters: options.iterations,
    seed: Rng.derive(options.seed, 100 + variant.index),
  };
  const t0 = performance.now();
  const h = await hierarchicalKMeans(x, config, backend, {
    signal: options.signal,
    onProgress: options.onProgress,
  });
  const top = h.levels[h.levels.length - 1].centroids;
  return {
    id: variant.id,
    kl: klToUniform(top),
    centroids: top.data,
    seconds: (performance.now() - t0) / 1000,
    backend: backend.name,
  };
}

/** The toy's points (interleaved x, y), as drawn under every panel. */
export function fig3Points(seed: number): Matrix {
  return makeToyData(seed).x;
}

/**
 * KL of 300 i.i.d. uniform points: the floor no set of 300 centroids can beat by much (the
 * paper's 0.040 +- 0.007). Same draws as runToyExperiment: 10 draws from Rng.derive(seed, 200).
 */
export function uniformBound(seed: number, draws = 10): { mean: number; std: number } {
  const rng = new Rng(Rng.derive(seed, 200));
  const values: number[] = [];
  for (let t = 0; t < draws; t++) {
    const u = new Float32Array(600);
    for (let i = 0; i < 600; i++) u[i] = -3 + 6 * rng.next();
    values.push(klToUniform(createMatrix(300, 2, u)));
  }
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1));
  return { mean, std };
}

/* ---------------------------------------------------------------------------------------- */

export const RINGS_K = [1000, 300] as const;
export const RINGS_R = [15, 2] as const;
export const RINGS_SAMPLE = 1000;

export interface RingsResult {
  /** all points, interleaved x, y */
  readonly points: Float32Array;
  /** ring of every point (0..4) */
  readonly ring: Int32Array;
  readonly sizes: readonly number[];
  /** rows picked by balanced hierarchical sampling, and by uniform random sampling */
  readonly balanced: Int32Array;
  readonly random: Int32Array;
  /** picks per ring */
  readonly balancedCounts: number[];
  readonly randomCounts: number[];
  readonly seconds: number;
  readonly backend: string;
}

function countPerRing(rows: Int32Array, ring: Int32Array, rings: number): number[] {
  const counts = new Array<number>(rings).fill(0);
  for (const i of rows) counts[ring[i]]++;
  return counts;
}

export async function runRings(
  options: RunOptions & { readonly steps?: number },
): Promise<RingsResult> {
  const backend = options.backend ?? cpuBackend();
  const { x, labels } = makeRingsData(options.seed);
  const t0 = performance.now();
  const h = await hierarchicalKMeans(
    x,
    {
      levels: RINGS_K.map((k, t) => ({ k, sampleSize: RINGS_R[t] })),
      resamplingSteps: options.steps ?? 10,
      strategy: 'closest',
      nIters: options.iterations,
      seed: Rng.derive(options.seed, 300),
    },
    backend,
    { signal: options.signal, onProgress: options.onProgress },
  );
  const balanced = sampleHierarchy(h, RINGS_SAMPLE, {
    leafStrategy: 'random',
    seed: Rng.derive(options.seed, 301),
  });
  const random = new Rng(Rng.derive(options.seed, 302)).sample(x.rows, RINGS_SAMPLE);
  const randomRows = Int32Array.from(random).sort();
  return {
    points: x.data,
    ring: labels,
    sizes: [...RING_SIZES],
    balanced,
    random: randomRows,
    balancedCounts: countPerRing(balanced, labels, RING_SIZES.length),
    randomCounts: countPerRing(randomRows, labels, RING_SIZES.length),
    seconds: (performance.now() - t0) / 1000,
    backend: backend.name,
  };
}
