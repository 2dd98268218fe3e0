/**
 * The cluster worker in real Chromium: a small hierarchy on WebGPU and on the CPU through
 * Comlink, progress streamed while it runs, cancellation, resume pass-through, and the CPU
 * finishing a run whose GPU device is lost mid-way (no finished level is lost).
 */
import * as Comlink from 'comlink';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HierarchyConfig, HierarchyProgress, Level } from '../../src/core/hierarchy.ts';
import { Rng } from '../../src/core/rng.ts';
import { ClusterRunner, type RunOutcome } from '../../src/cluster/service.ts';
import { GpuBackend } from '../../src/gpu/gpu-backend.ts';

/** The cluster worker, created the way the app's worker pool creates it. */
function createClusterWorker(): { api: Comlink.Remote<ClusterRunner>; dispose(): void } {
  const worker = new Worker(new URL('../../src/workers/cluster.worker.ts', import.meta.url), {
    type: 'module',
    name: 'strata-cluster',
  });
  const api = Comlink.wrap<ClusterRunner>(worker);
  return {
    api,
    dispose() {
      api[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}

function blobs(n: number, d: number, k: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const centres = new Float64Array(k * d);
  for (let i = 0; i < centres.length; i++) centres[i] = rng.normal() * 10;
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = rng.int(k);
    for (let j = 0; j < d; j++) data[i * d + j] = centres[c * d + j] + rng.normal();
  }
  return data;
}

const N = 1200;
const D = 8;
const config: HierarchyConfig = {
  levels: [
    { k: 40, sampleSize: 1 },
    { k: 8, sampleSize: 2 },
  ],
  resamplingSteps: 2,
  strategy: 'closest',
  nIters: 5,
  seed: 1,
};

interface Recorded {
  outcome: RunOutcome;
  progress: HierarchyProgress[];
  levels: Level[];
  steps: string[];
  notices: string[];
  progressBeforeEnd: boolean;
}

async function run(
  api: Comlink.Remote<ClusterRunner> | ClusterRunner,
  backend: 'auto' | 'webgpu' | 'cpu',
  extra: { resume?: { levels: Level[] }; onLevel?: (i: number) => void } = {},
): Promise<Recorded> {
  const rec: Omit<Recorded, 'outcome'> = {
    progress: [],
    levels: [],
    steps: [],
    notices: [],
    progressBeforeEnd: false,
  };
  let ended = false;
  const x = blobs(N, D, 30, 5);
  const callbacks = {
    onProgress: (p: HierarchyProgress) => {
      rec.progress.push(p);
      if (!ended) rec.progressBeforeEnd = true;
    },
    onStep: (level: number, step: number) => {
      rec.steps.push(`${level}.${step}`);
    },
    onLevel: (index: number, level: Level) => {
      rec.levels[index] = level;
      extra.onLevel?.(index);
    },
    onNotice: (m: string) => {
      rec.notices.push(m);
    },
  };
  const outcome = await api.runHierarchy(
    Comlink.transfer(x, [x.buffer]),
    N,
    D,
    config,
    { backend, resume: extra.resume },
    api instanceof ClusterRunner ? callbacks : Comlink.proxy(callbacks),
  );
  ended = true;
  return { outcome, ...rec };
}

function objective(level: Level): number {
  let s = 0;
  for (const v of level.dist2) s += v;
  return s;
}

let worker: ReturnType<typeof createClusterWorker>;

beforeAll(() => {
  worker = createClusterWorker();
});
afterAll(() => worker?.dispose());

describe('cluster worker', () => {
  it('probes the device and says which backend auto picks, and why', async () => {
    const p = await worker.api.probe();
    expect(['webgpu', 'cpu']).toContain(p.backend);
    expect(p.reason.length).toBeGreaterThan(10);
    expect(p.cpuKernel.length).toBeGreaterThan(0);
    // The test browser has an adapter; a software one must send auto to the CPU.
    expect(p.adapter, 'no WebGPU adapter in the test browser').toBeDefined();
    if (p.isFallbackAdapter) {
      expect(p.backend).toBe('cpu');
      expect(p.reason).toMatch(/fallback/);
    }
  });

  let cpuRun: Recorded;
  let gpuRun: Recorded;

  it('runs a small hierarchy on the CPU, streaming progress, steps and levels', async () => {
    cpuRun = await run(worker.api, 'cpu');
    expect(cpuRun.outcome.backend).toMatch(/^cpu-/);
    expect(cpuRun.outcome.fellBackToCpu).toBe(false);
    expect(cpuRun.outcome.levels).toBe(2);
    expect(cpuRun.levels.map((l) => l.k)).toEqual([40, 8]);
    expect(cpuRun.steps).toEqual(['0.0', '1.0', '1.1', '1.2']);
    expect(cpuRun.notices[0]).toMatch(/^Clustering on cpu-/);
    expect(cpuRun.progressBeforeEnd).toBe(true);
    const fractions = cpuRun.progress.map((p) => p.fraction);
    for (let i = 1; i < fractions.length; i++) {
      expect(fractions[i]).toBeGreaterThanOrEqual(fractions[i - 1] - 1e-12);
    }
    expect(fractions.at(-1)).toBeCloseTo(1, 9);
  });

  it('runs the same hierarchy on WebGPU with the same result (same seed)', async () => {
    gpuRun = await run(worker.api, 'webgpu');
    expect(gpuRun.outcome.backend).toMatch(/^webgpu \(/);
    expect(gpuRun.outcome.fellBackToCpu).toBe(false);
    expect(gpuRun.levels.map((l) => l.k)).toEqual([40, 8]);
    expect(gpuRun.steps).toEqual(cpuRun.steps);
    expect(gpuRun.progressBeforeEnd).toBe(true);
    for (let t = 0; t < 2; t++) {
      const a = objective(cpuRun.levels[t]);
      const b = objective(gpuRun.levels[t]);
      expect(Math.abs(a - b), `level ${t + 1} objective`).toBeLessThanOrEqual(1e-3 * a);
    }
    // The well-separated level-1 clusters are the same clusters.
    let same = 0;
    for (let i = 0; i < N; i++) {
      if (cpuRun.levels[0].labels[i] === gpuRun.levels[0].labels[i]) same++;
    }
    expect(same / N).toBeGreaterThan(0.99);
  });

  it('passes resume through: only the missing level is computed', async () => {
    const resumed = await run(worker.api, 'cpu', { resume: { levels: [cpuRun.levels[0]] } });
    expect(resumed.outcome.levels).toBe(2);
    expect(resumed.levels[0]).toBeUndefined();
    expect(resumed.steps).toEqual(['1.0', '1.1', '1.2']);
    expect(Array.from(resumed.levels[1].labels)).toEqual(Array.from(cpuRun.levels[1].labels));
  });

  it('cancels cleanly and stays usable', async () => {
    const n = 20000;
    const d = 32;
    const x = blobs(n, d, 50, 8);
    let sawProgress: () => void = () => undefined;
    const started = new Promise<void>((r) => (sawProgress = r));
    const big = worker.api.runHierarchy(
      Comlink.transfer(x, [x.buffer]),
      n,
      d,
      { ...config, levels: [{ k: 2000, sampleSize: 1 }], nIters: 50 },
      { backend: 'cpu' },
      Comlink.proxy({ onProgress: () => sawProgress() }),
    );
    await started;
    await worker.api.cancel();
    await expect(big).rejects.toMatchObject({ name: 'AbortError' });
    const after = await run(worker.api, 'cpu');
    expect(after.outcome.levels).toBe(2);
  });

  it('rejects a malformed matrix with a clear message', async () => {
    await expect(
      worker.api.runHierarchy(
        new Float32Array(5),
        2,
        3,
        config,
        { backend: 'cpu' },
        Comlink.proxy({ onNotice: () => undefined }),
      ),
    ).rejects.toThrow(/2 x 3 rows need 6 values, got 5/);
    const bad = new Float32Array([1, 2, Number.NaN, 4]);
    await expect(
      worker.api.runHierarchy(
        bad,
        2,
        2,
        config,
        { backend: 'cpu' },
        Comlink.proxy({ onNotice: () => undefined }),
      ),
    ).rejects.toThrow(/row 1 has a non-finite value/);
  });
});

describe('GPU loss mid-run', () => {
  it('finishes on the CPU from the levels already done, with a notice', async () => {
    const gpu = await GpuBackend.create();
    const runner = new ClusterRunner({ makeGpu: async () => gpu });
    const rec = await run(runner, 'webgpu', {
      // Level 1 is finished and handed over: now the device goes away.
      onLevel: (i) => {
        if (i === 0) gpu.gpu.device.destroy();
      },
    });
    expect(rec.outcome.fellBackToCpu).toBe(true);
    expect(rec.outcome.backend).toMatch(/^cpu-/);
    expect(rec.outcome.levels).toBe(2);
    expect(rec.levels.map((l) => l.k)).toEqual([40, 8]);
    expect(rec.notices.some((m) => /finishing on the CPU .* from 1 finished level/.test(m))).toBe(
      true,
    );
    // level 1 was computed once, on the GPU, and not recomputed
    expect(rec.steps.filter((s) => s === '0.0')).toHaveLength(1);
    await runner.dispose();
  });
});
