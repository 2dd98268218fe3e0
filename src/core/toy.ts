/**
 * The paper's 2-D toy data (Fig. 3) and the README's rings, plus the Fig. 3 experiment itself.
 */
import { throwIfAborted } from './errors.ts';
import { hierarchicalKMeans, type HierarchyConfig } from './hierarchy.ts';
import { createMatrix } from './matrix.ts';
import { klToUniform } from './metrics.ts';
import { Rng } from './rng.ts';
import type { KMeansBackend, Matrix } from './types.ts';

export interface ToyData {
  /** n x 2 points */
  readonly x: Matrix;
  /** the mixture component of every point (index into `groups`) */
  readonly labels: Int32Array;
  readonly groups: readonly string[];
}

/**
 * Fig. 3 of the paper: 9000 points, 7000 ~ N((-1,-1), 0.5^2 I), 1000 ~ N((1,-1), 0.5^2 I),
 * 500 ~ N((0,1), 0.5^2 I), 500 ~ Uniform([-3,3]^2), in that order.
 */
export function makeToyData(seed: number): ToyData {
  const rng = new Rng(Rng.derive(seed, 0x70f));
  const parts: [number, number, number][] = [
    [7000, -1, -1],
    [1000, 1, -1],
    [500, 0, 1],
  ];
  const n = 9000;
  const data = new Float32Array(n * 2);
  const labels = new Int32Array(n);
  let i = 0;
  parts.forEach(([count, mx, my], g) => {
    for (let c = 0; c < count; c++, i++) {
      data[2 * i] = mx + 0.5 * rng.normal();
      data[2 * i + 1] = my + 0.5 * rng.normal();
      labels[i] = g;
    }
  });
  for (; i < n; i++) {
    data[2 * i] = -3 + 6 * rng.next();
    data[2 * i + 1] = -3 + 6 * rng.next();
    labels[i] = 3;
  }
  return {
    x: createMatrix(n, 2, data),
    labels,
    groups: ['N((-1,-1))', 'N((1,-1))', 'N((0,1))', 'uniform'],
  };
}

/** Rings toy geometry: equal radii so that a uniform cover of the support is equal per ring. */
export const RING_SIZES = [20000, 200, 1000, 500, 8000] as const;
/** Centres on a regular pentagon of radius 3 (rings of radius 1 stay 1.5 apart at least). */
export const RING_CENTRE_RADIUS = 3;
export const RING_RADIUS = 1;
/** Radial Gaussian noise: thin rings, well separated. */
export const RING_NOISE = 0.05;

/**
 * The README's rings: five rings of 20000 / 200 / 1000 / 500 / 8000 points, each of radius 1
 * around a vertex of a regular pentagon of radius 3 (vertex i at angle 90 + 72 i degrees), with
 * radial N(0, 0.05^2) noise and uniform angles. Same support per ring, very different density.
 */
export function makeRingsData(seed: number): ToyData {
  const rng = new Rng(Rng.derive(seed, 0x41e6));
  const n = RING_SIZES.reduce((a, b) => a + b, 0);
  const data = new Float32Array(n * 2);
  const labels = new Int32Array(n);
  let i = 0;
  RING_SIZES.forEach((count, g) => {
    const phi = Math.PI / 2 + (2 * Math.PI * g) / RING_SIZES.length;
    const cx = RING_CENTRE_RADIUS * Math.cos(phi);
    const cy = RING_CENTRE_RADIUS * Math.sin(phi);
    for (let c = 0; c < count; c++, i++) {
      const theta = 2 * Math.PI * rng.next();
      const rad = RING_RADIUS + RING_NOISE * rng.normal();
      data[2 * i] = cx + rad * Math.cos(theta);
      data[2 * i + 1] = cy + rad * Math.sin(theta);
      labels[i] = g;
    }
  });
  return {
    x: createMatrix(n, 2, data),
    labels,
    groups: RING_SIZES.map((s, g) => `ring ${g + 1} (${s})`),
  };
}

export interface ToyResult {
  /** flat k-means, 300 clusters */
  readonly kmeans300: number;
  /** 2 levels [1500, 300], no resampling */
  readonly twoLevel: number;
  /** 3 levels [3000, 1000, 300], no resampling */
  readonly threeLevel: number;
  /** 3 levels [3000, 1000, 300], r = [2, 2, 2], m = 10 */
  readonly threeLevelResampled: number;
  /** 300 i.i.d. uniform points on [-3, 3]^2, mean and sample std over 10 draws */
  readonly uniformBound: { readonly mean: number; readonly std: number };
  /** the 9000 raw points themselves */
  readonly raw: number;
}

export interface ToyHooks {
  /** row being computed and overall progress 0..1 */
  onProgress?(row: keyof ToyResult, fraction: number): void;
  signal?: AbortSignal;
}

/** Lloyd rounds for every toy run: the reference's 50. */
const TOY_ITERS = 50;

/**
 * The Fig. 3 table rows, in the order they run, with their share of the work for progress
 * (measured, CPU seconds with the JS kernel: 0.5 / 2.0 / 4.0 / 25.5, then 1.2 for the KL of the
 * raw points and the uniform draws; 33 s in all).
 */
const TOY_RUNS: {
  row: keyof ToyResult;
  levels: [number, number][];
  steps: number;
  share: number;
}[] = [
  { row: 'kmeans300', levels: [[300, 1]], steps: 0, share: 0.015 },
  {
    row: 'twoLevel',
    levels: [
      [1500, 1],
      [300, 1],
    ],
    steps: 0,
    share: 0.06,
  },
  {
    row: 'threeLevel',
    levels: [
      [3000, 1],
      [1000, 1],
      [300, 1],
    ],
    steps: 0,
    share: 0.12,
  },
  {
    row: 'threeLevelResampled',
    levels: [
      [3000, 2],
      [1000, 2],
      [300, 2],
    ],
    steps: 10,
    share: 0.77,
  },
];

/**
 * Runs the paper's Fig. 3 experiment on makeToyData(seed) and returns KL-to-uniform per row.
 * Each run gets its own derived seed; the result is a pure function of (seed, backend).
 */
export async function runToyExperiment(
  seed: number,
  backend: KMeansBackend,
  hooks: ToyHooks = {},
): Promise<ToyResult> {
  const { x } = makeToyData(seed);
  const out: Partial<Record<keyof ToyResult, number>> = {};
  let done = 0;
  for (let r = 0; r < TOY_RUNS.length; r++) {
    throwIfAborted(hooks.signal);
    const run = TOY_RUNS[r];
    const config: HierarchyConfig = {
      levels: run.levels.map(([k, sampleSize]) => ({ k, sampleSize })),
      resamplingSteps: run.steps,
      strategy: 'closest',
      nIters: TOY_ITERS,
      seed: Rng.derive(seed, 100 + r),
    };
    const h = await hierarchicalKMeans(x, config, backend, {
      signal: hooks.signal,
      onProgress: (p) => hooks.onProgress?.(run.row, done + run.share * p.fraction),
    });
    done += run.share;
    out[run.row] = klToUniform(h.levels[h.levels.length - 1].centroids);
  }
  hooks.onProgress?.('uniformBound', done);
  const rng = new Rng(Rng.derive(seed, 200));
  const draws: number[] = [];
  for (let t = 0; t < 10; t++) {
    const u = new Float32Array(600);
    for (let i = 0; i < 600; i++) u[i] = -3 + 6 * rng.next();
    draws.push(klToUniform(createMatrix(300, 2, u)));
  }
  const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
  const std = Math.sqrt(draws.reduce((a, b) => a + (b - mean) ** 2, 0) / (draws.length - 1));
  const raw = klToUniform(x);
  hooks.onProgress?.('raw', 1);
  return {
    kmeans300: out.kmeans300 ?? NaN,
    twoLevel: out.twoLevel ?? NaN,
    threeLevel: out.threeLevel ?? NaN,
    threeLevelResampled: out.threeLevelResampled ?? NaN,
    uniformBound: { mean, std },
    raw,
  };
}
