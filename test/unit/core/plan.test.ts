/**
 * The one settings-to-plan resolver (src/core/plan.ts): what it keeps and picks, and that the
 * app's suggestion, `strata curate` and `strata export-job` all get their plan from it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { CliIo } from '../../../src/cli/command.ts';
import { main } from '../../../src/cli/main.ts';
import { jsKernel } from '../../../src/core/cpu-kernel-js.ts';
import {
  DEFAULT_FLOPS_PER_SECOND,
  DEFAULT_ITERS,
  LEVEL_SHRINK,
  estimateFlops,
  suggestHierarchy,
} from '../../../src/core/defaults.ts';
import type { HierarchyConfig } from '../../../src/core/hierarchy.ts';
import { probeThroughput } from '../../../src/core/kmeans-throughput.ts';
import { createMatrix } from '../../../src/core/matrix.ts';
import { writeNpy } from '../../../src/core/npy.ts';
import {
  LEVEL_SHRINK_RULE,
  defaultTarget,
  describeLevelRule,
  hierarchyConfig,
  planSeconds,
  resizeLevels,
  resolvePlan,
} from '../../../src/core/plan.ts';
import { Rng } from '../../../src/core/rng.ts';
import type { BundleFile } from '../../../src/interop/files.ts';
import { exportJobBundle, jobPlan, matrixSource } from '../../../src/interop/job-bundle.ts';
import { planForRows, suggest } from '../../../src/pipeline/settings.ts';
import type { DatasetRecord } from '../../../src/store/schema.ts';

const dir = mkdtempSync(join(tmpdir(), 'strata-plan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 600 rows x 8 dims in 4 blobs (the CLI tests' pool). */
function pool(n = 600, d = 8): Float32Array {
  const rng = new Rng(1);
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) data[i * d + j] = (j === i % 4 ? 8 : 0) + rng.normal();
  return data;
}

async function text(file: BundleFile): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const chunk of file.content()) parts.push(chunk);
  return new TextDecoder().decode(Buffer.concat(parts));
}

async function strata(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => void (out += t), err: (t) => void (err += t), errIsTty: false };
  const code = await main(argv, io);
  return { code, out, err };
}

function precomputed(itemCount: number, dim: number): DatasetRecord {
  return {
    id: 'd',
    name: 'pool',
    source: 'precomputed',
    storage: 'none',
    createdAt: 0,
    updatedAt: 0,
    itemCount,
    bytes: 0,
    labels: [],
    dim,
    include: [],
    exclude: [],
    nextIndex: itemCount,
  };
}

describe('resolvePlan', () => {
  it('with nothing given is the automatic plan, every value picked with a reason', () => {
    const p = resolvePlan({ n: 100_000, d: 384, throughput: { assign: 1e15, init: 1e15 } });
    const auto = suggestHierarchy(100_000, 384, { flopsPerSecond: 1e15, target: 20_000 });
    expect(p.config).toEqual(auto.config);
    expect(p.estimatedSeconds).toBe(auto.estimatedSeconds);
    expect(p.target).toBe(defaultTarget(100_000));
    expect(p.leafStrategy).toBe('random');
    expect(p.autoShape).toBe(true);
    expect(p.measured).toBe(true);
    expect(p.picked).toEqual([
      'k',
      'r',
      'resamplingSteps',
      'resampleStrategy',
      'iterations',
      'target',
      'leafStrategy',
      'seed',
    ]);
    expect(p.why.k).toMatch(/^4 levels for 100000 items, about 10 items per finest cluster/);
    expect(p.why.iterations).toBe(`The paper runs ${DEFAULT_ITERS} rounds.`);
  });

  it('keeps every given value and gives no reason for it', () => {
    const p = resolvePlan({
      n: 600,
      d: 8,
      settings: {
        k: [40, 8],
        r: [1, 3],
        resamplingSteps: 2,
        resampleStrategy: 'random',
        iterations: 5,
        target: 100,
        leafStrategy: 'closest',
        seed: 4,
      },
    });
    expect(p.config).toEqual({
      levels: [
        { k: 40, sampleSize: 1 },
        { k: 8, sampleSize: 3 },
      ],
      resamplingSteps: 2,
      strategy: 'random',
      nIters: 5,
      seed: 4,
    });
    expect([p.target, p.leafStrategy, p.autoShape, p.measured]).toEqual([
      100,
      'closest',
      false,
      false,
    ]);
    expect(p.picked).toEqual([]);
    expect(p.why).toEqual({});
    // Not measured: the estimate is at the core's default throughput.
    expect(p.estimatedSeconds).toBeCloseTo(
      estimateFlops(600, 8, p.config) / DEFAULT_FLOPS_PER_SECOND,
      12,
    );
  });

  it('fills a level count from the automatic level 1, k shrinking LEVEL_SHRINK x per level', () => {
    const p = resolvePlan({ n: 100_000, d: 64, settings: { levels: 3 } });
    const k1 = p.automatic.config.levels[0].k;
    expect(p.config.levels.map((l) => l.k)).toEqual([
      k1,
      Math.floor(k1 / LEVEL_SHRINK),
      Math.floor(k1 / LEVEL_SHRINK ** 2),
    ]);
    // r by rule 2 with none at level 1, one r for every level when a single value is given
    expect(p.config.levels[0].sampleSize).toBe(1);
    const one = resolvePlan({ n: 100_000, d: 64, settings: { levels: 3, r: [4] } });
    expect(one.config.levels.map((l) => l.sampleSize)).toEqual([4, 4, 4]);
  });

  it("carries the plan against the paper's shape, and runs the shape when asked", () => {
    const throughput = { assign: 50e9, init: 20e9 };
    const p = resolvePlan({ n: 1_000_000, d: 384, throughput });
    expect(p.shape).toEqual(p.automatic.shape);
    expect(p.shape.choice?.picked).toBe('budget');
    expect(p.estimatedSeconds).toBeLessThanOrEqual(p.budgetSeconds);
    const shape = resolvePlan({ n: 1_000_000, d: 384, throughput, settings: { fit: 'shape' } });
    expect(shape.config.levels[0].k).toBe(20_000);
    expect(shape.estimatedSeconds).toBeGreaterThan(shape.budgetSeconds);
    expect(shape.picked).toContain('k');
    const concepts = resolvePlan({
      n: 100_000,
      d: 64,
      throughput: { assign: 1e15, init: 1e15 },
      settings: { concepts: 20 },
    });
    expect(concepts.config.levels.map((l) => l.k)).toEqual([10000, 2000, 400, 60]);
  });

  it('plans a reference job with the ideal shape, no budget and no level-1 resampling', async () => {
    const here = resolvePlan({ n: 1_000_000, d: 384 });
    const job = jobPlan(1_000_000, 384);
    expect(job.budgetSeconds).toBe(Number.POSITIVE_INFINITY);
    expect(job.config.levels[0]).toEqual({ k: 100_000, sampleSize: 1 });
    expect(job.config.nIters).toBe(DEFAULT_ITERS);
    // on a CPU here the same pool gets a smaller, cheaper plan
    expect(here.config.levels[0].k).toBeLessThan(100_000);
    // a bundle made without a hierarchy (the page's path) gets the same plan as export-job
    const m = createMatrix(600, 8, pool());
    const files = exportJobBundle({ embeddings: matrixSource(m), target: 50 });
    const manifest = JSON.parse(await text(files.find((f) => f.path === 'strata.json')!)) as {
      hierarchy: HierarchyConfig;
    };
    expect(manifest.hierarchy).toEqual(jobPlan(600, 8, { target: 50 }).config);
  });
});

describe('the app, strata curate and strata export-job', () => {
  const n = 600;
  const d = 8;
  const npy = join(dir, 'pool.npy');
  writeFileSync(npy, writeNpy(pool(n, d), [n, d]));
  const target = defaultTarget(n);

  it('produce the same plan for the same inputs', async () => {
    const cur = await strata(
      'curate',
      '--embeddings',
      npy,
      '--target',
      String(target),
      '--kernel',
      'js',
      // The plan is resolved for the rows clustered: with near-duplicates set aside that is
      // fewer rows than the app's suggestion for the dataset sees (and this pool of Gaussian
      // blobs in a few dimensions is mostly "near-duplicates" at the default threshold).
      '--no-dedup',
      '--out',
      join(dir, 'curated'),
    );
    expect(cur.code, cur.err).toBe(0);
    const run = JSON.parse(readFileSync(join(dir, 'curated', 'run.json'), 'utf8')) as {
      parameters: {
        levels: HierarchyConfig['levels'];
        resamplingSteps: number;
        strategy: string;
        leafStrategy: string;
        nIters: number;
        seed: number;
        target: number;
      };
      plan: { measuredGflops: number; measuredInitGflops: number; estimatedSeconds: number };
    };
    // The app's suggestion at the throughput curate measured, for the same pool.
    const throughput = {
      assign: run.plan.measuredGflops * 1e9,
      init: run.plan.measuredInitGflops * 1e9,
    };
    const app = suggest(precomputed(n, d), throughput).settings;
    const p = run.parameters;
    expect(p.levels).toEqual(app.k.map((k, t) => ({ k, sampleSize: app.r[t] })));
    expect([p.resamplingSteps, p.strategy, p.leafStrategy, p.nIters, p.seed, p.target]).toEqual([
      app.resamplingSteps,
      app.resampleStrategy,
      app.leafStrategy,
      app.iterations,
      app.seed,
      app.target,
    ]);
    expect(run.plan.estimatedSeconds).toBeCloseTo(
      planSeconds(n, d, hierarchyConfig(app), throughput),
      9,
    );

    // export-job: the same resolver for a job run elsewhere; same k, m, rounds and seed, and
    // (as the paper does at scale) no resampling at level 1.
    const job = await strata(
      'export-job',
      '--embeddings',
      npy,
      '--target',
      String(target),
      '--out',
      join(dir, 'job'),
    );
    expect(job.code, job.err).toBe(0);
    const bundle = JSON.parse(readFileSync(join(dir, 'job', 'strata.json'), 'utf8')) as {
      hierarchy: HierarchyConfig;
      target: number;
    };
    expect(bundle.hierarchy).toEqual(jobPlan(n, d, { target }).config);
    expect(bundle.hierarchy.levels.map((l) => l.k)).toEqual(app.k);
    expect(bundle.hierarchy.levels.map((l) => l.sampleSize)).toEqual([1, ...app.r.slice(1)]);
    expect([bundle.hierarchy.resamplingSteps, bundle.hierarchy.nIters, bundle.target]).toEqual([
      app.resamplingSteps,
      app.iterations,
      target,
    ]);
  });

  it('plan for the rows kept after near-duplicate removal, the app as strata curate does', async () => {
    // 300 distinct rows in 32 dims and a near-copy of each of the first 100.
    const rng = new Rng(9);
    const dd = 32;
    const distinct = Float32Array.from({ length: 300 * dd }, () => rng.normal());
    const copies = Float32Array.from(
      { length: 100 * dd },
      (_, i) => distinct[i] + 0.05 * rng.normal(),
    );
    const rows = new Float32Array([...distinct, ...copies]);
    const n2 = 400;
    const file = join(dir, 'copies.npy');
    writeFileSync(file, writeNpy(rows, [n2, dd]));
    const t = defaultTarget(n2);
    const cur = await strata(
      'curate',
      '--embeddings',
      file,
      '--target',
      String(t),
      '--kernel',
      'js',
      '--out',
      join(dir, 'kept'),
    );
    expect(cur.code, cur.err).toBe(0);
    const run = JSON.parse(readFileSync(join(dir, 'kept', 'run.json'), 'utf8')) as {
      parameters: { levels: HierarchyConfig['levels']; nIters: number };
      dedup: { removed: number; clusteredRows: number };
      plan: { measuredGflops: number; measuredInitGflops: number };
    };
    expect(run.dedup.removed).toBeGreaterThanOrEqual(95);
    expect(run.dedup.clusteredRows).toBe(n2 - run.dedup.removed);
    const throughput = {
      assign: run.plan.measuredGflops * 1e9,
      init: run.plan.measuredInitGflops * 1e9,
    };
    // The app's suggestion is for the whole dataset; its cluster stage plans it again for the
    // rows kept (planForRows), which is the plan curate ran.
    const suggested = suggest(precomputed(n2, dd), throughput).settings;
    expect(suggested.autoPlan).toEqual(['k', 'r', 'iterations']);
    const app = planForRows(suggested, run.dedup.clusteredRows, dd, throughput);
    expect(run.parameters.levels).toEqual(app.k.map((k, i) => ({ k, sampleSize: app.r[i] })));
    expect(run.parameters.nIters).toBe(app.iterations);
    expect(app.k[0]).toBeLessThan(suggested.k[0]);
  });

  it('resolve the same explicit settings to the same plan', async () => {
    const flags = [
      '--clusters',
      '40,8',
      '--sample-size',
      '1,3',
      '--resample',
      '2',
      '--strategy',
      'random',
      '--iters',
      '5',
      '--seed',
      '4',
    ];
    const settings = {
      k: [40, 8],
      r: [1, 3],
      resamplingSteps: 2,
      resampleStrategy: 'random' as const,
      iterations: 5,
      seed: 4,
      target: 100,
    };
    const [cur, job] = await Promise.all([
      strata(
        'curate',
        '--embeddings',
        npy,
        '--target',
        '100',
        '--kernel',
        'js',
        ...flags,
        '--out',
        join(dir, 'c2'),
      ),
      strata(
        'export-job',
        '--embeddings',
        npy,
        '--target',
        '100',
        ...flags,
        '--out',
        join(dir, 'j2'),
      ),
    ]);
    expect([cur.code, job.code]).toEqual([0, 0]);
    const expected = resolvePlan({ n, d, settings }).config;
    const run = JSON.parse(readFileSync(join(dir, 'c2', 'run.json'), 'utf8')) as {
      parameters: {
        levels: unknown;
        resamplingSteps: number;
        strategy: string;
        nIters: number;
        seed: number;
      };
    };
    expect({
      levels: run.parameters.levels,
      resamplingSteps: run.parameters.resamplingSteps,
      strategy: run.parameters.strategy,
      nIters: run.parameters.nIters,
      seed: run.parameters.seed,
    }).toEqual(expected);
    const bundle = JSON.parse(readFileSync(join(dir, 'j2', 'strata.json'), 'utf8')) as {
      hierarchy: HierarchyConfig;
    };
    expect(bundle.hierarchy).toEqual(expected);
    expect(jobPlan(n, d, settings).config).toEqual(expected);
  });
});

describe('the level rule', () => {
  it('reads LEVEL_SHRINK in words, and adds levels with it', () => {
    expect(LEVEL_SHRINK_RULE).toContain(`${LEVEL_SHRINK}x fewer clusters`);
    expect(describeLevelRule()).toContain(LEVEL_SHRINK_RULE);
    expect(resolvePlan({ n: 1000, d: 4 }).levelRule).toBe(describeLevelRule());
    expect(resizeLevels([1000], [1], 3, 10_000)).toEqual({
      k: [1000, 1000 / LEVEL_SHRINK, 1000 / LEVEL_SHRINK ** 2],
      r: [1, Math.round(LEVEL_SHRINK / 2), Math.round(LEVEL_SHRINK / 2)],
    });
    expect(resizeLevels([1000, 200, 40], [1, 3, 3], 1, 10_000)).toEqual({ k: [1000], r: [1] });
  });

  it('follows the constant, not a copy of its value', async () => {
    vi.resetModules();
    vi.doMock('../../../src/core/defaults.ts', async (original) => ({
      ...(await original<typeof import('../../../src/core/defaults.ts')>()),
      LEVEL_SHRINK: 7,
    }));
    try {
      const plan = await import('../../../src/core/plan.ts');
      expect(plan.LEVEL_SHRINK_RULE).toContain('7x fewer clusters');
      expect(plan.describeLevelRule()).toContain('7x fewer clusters');
      expect(plan.resizeLevels([700], [1], 2, 7000).k).toEqual([700, 100]);
    } finally {
      vi.doUnmock('../../../src/core/defaults.ts');
      vi.resetModules();
    }
  });
});

describe('probeThroughput', () => {
  it('measures assignment and k-means++ scoring, or assignment alone', async () => {
    const x = createMatrix(600, 8, pool());
    const full = await probeThroughput(jsKernel, x, {
      assign: { rows: 512, k: 16 },
      init: { rows: 600, k: 8 },
      minMillis: 5,
    });
    expect(full.assign).toBeGreaterThan(0);
    expect(full.init).toBeGreaterThan(0);
    const quick = await probeThroughput(jsKernel, x, {
      assign: { rows: 512, k: 16 },
      init: null,
      minMillis: 0,
    });
    expect(Number.isFinite(quick.assign) && quick.assign > 0).toBe(true);
    expect(quick.init).toBe(quick.assign);
  });
});
