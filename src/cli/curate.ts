/**
 * `strata curate`: embeddings (.npy) in, balanced selection and per-level clustering out.
 * All the method lives in src/core; this file parses flags, reads and writes files, and reports.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEFAULT_BUDGET_SECONDS,
  DEFAULT_RESAMPLING_STEPS,
  DEFAULT_SEED,
  LEVEL_SHRINK,
  estimateSeconds,
  suggestHierarchy,
} from '../core/defaults.ts';
import { hierarchicalKMeans, type HierarchyConfig } from '../core/hierarchy.ts';
import { CpuBackend } from '../core/kmeans.ts';
import { assertFinite, centerRows, createMatrix, l2NormalizeRows } from '../core/matrix.ts';
import { clusterSizeStats } from '../core/metrics.ts';
import { allocationTree, sampleHierarchy } from '../core/sampling.ts';
import type { CpuKernel, Matrix } from '../core/types.ts';
import {
  UsageError,
  choiceFlag,
  intFlag,
  numberFlag,
  parseFlags,
  requiredFlag,
  type CliCommand,
} from './command.ts';
import { packageVersion, readEmbeddings, toInt64, writeArray } from './files.ts';
import { HIERARCHY_FLAGS, LEAVES, readHierarchyFlags } from './hierarchy-flags.ts';
import { DEFAULT_KERNEL, kernelFlag, kernelNames, loadKernel, releaseKernel } from './kernels.ts';
import { Progress, formatSeconds } from './progress.ts';

/**
 * Throughput probes on the input's own rows: assignment of up to 2048 rows to 256 centroids (the
 * Lloyd pass) and distances of up to 65536 rows to 8 candidates (the k-means++ call, which kernels
 * run at a different rate: JS 2.8 vs 4.6 GFLOP/s of CPU time, the wasm kernel 1.8 vs 8.7 wall
 * here). The k-means++ probe needs many rows: the wasm kernel scored 8192 x 384 rows at 8.4
 * GFLOP/s but 32768 or 100000 rows at 2-3.5, the regime a real level 1 is in. Each probe is
 * repeated until 250 ms have passed so timer noise stays small; about 1 s in all.
 */
async function probeFlops(kernel: CpuKernel, x: Matrix): Promise<{ assign: number; init: number }> {
  const d = x.cols;
  const rowsOf = (rows: number): Matrix => createMatrix(rows, d, x.data.subarray(0, rows * d));
  const spread = (k: number): Matrix => {
    const cent = new Float32Array(k * d);
    for (let j = 0; j < k; j++) {
      const i = Math.floor((j * x.rows) / k);
      cent.set(x.data.subarray(i * d, i * d + d), j * d);
    }
    return createMatrix(k, d, cent);
  };
  const timed = async (f: () => void | Promise<void>, flops: number): Promise<number> => {
    await f(); // warm-up: lets the JIT compile the hot loop before timing
    let calls = 0;
    const t0 = performance.now();
    let elapsed = 0;
    while (elapsed < 250 || calls === 0) {
      await f();
      calls++;
      elapsed = performance.now() - t0;
    }
    return (flops * calls) / (elapsed / 1000);
  };
  const ra = Math.min(x.rows, 2048);
  const ka = Math.min(256, x.rows);
  const xa = rowsOf(ra);
  const ca = spread(ka);
  const out = { labels: new Int32Array(ra), dist2: new Float32Array(ra) };
  const assign = await timed(() => kernel.assign(xa, ca, out), 2 * ra * ka * d);
  const ri = Math.min(x.rows, 65536);
  const ki = Math.min(8, x.rows);
  const xi = rowsOf(ri);
  const ci = spread(ki);
  const dist = new Float32Array(ri * ki);
  const init = await timed(() => kernel.distancesTo(xi, ci, dist), 2 * ri * ki * d);
  return { assign, init };
}

/** Quotes a word for a POSIX shell when it needs it. */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export const curateCommand: CliCommand = {
  name: 'curate',
  summary: 'cluster embeddings hierarchically and write a balanced selection',
  usage: `strata curate --embeddings X.npy --target N --out DIR [options]

Reads a 2-D float32/float64 .npy (one row per item), runs hierarchical k-means with resampling
and balanced hierarchical sampling, and writes:
  DIR/selection.npy             int64 row indices of the selection, sorted
  DIR/level{t}/centroids.npy    float32 k_t x d centroids of level t (t = 1 is the finest)
  DIR/level{t}/assignment.npy   int64 cluster of every input row of level t (level 1: the
                                embeddings; level t > 1: the centroids of level t-1)
  DIR/run.json                  every parameter (defaults resolved), timings, cluster sizes,
                                and a 'command' that reproduces the run

Options (defaults are picked from the data size and a time budget; see run.json 'plan'):
  --target N             size of the curated subset (required)
  --levels L             number of levels
  --clusters a,b,c       clusters per level, level 1 first
  --sample-size r1,r2    points kept per cluster when resampling, per level (1 = none; one
                         value applies to every level); default: 1 at level 1, about half
                         the average cluster size above
  --resample m           resampling steps per level (default ${DEFAULT_RESAMPLING_STEPS})
  --strategy S           resampling: closest | random (default closest)
  --leaf S               pick inside level-1 clusters: random | closest | furthest (default random)
  --iters n              Lloyd rounds per k-means run (default 50, fewer if the budget needs)
  --multiplier M         allow up to M copies of a row when clusters are small (default 1)
  --seed S               seed of every random draw (default ${DEFAULT_SEED})
  --normalize            L2-normalise rows first (cosine geometry)
  --center               subtract the mean row first (before --normalize)
  --budget SECONDS       time budget for automatic defaults (default ${DEFAULT_BUDGET_SECONDS})
  --kernel K             CPU kernel: ${kernelNames().join(' | ')} (default ${DEFAULT_KERNEL})
  --json                 print run.json on stdout as well`,

  async run(argv, io) {
    const t0 = performance.now();
    const f = parseFlags('curate', argv, {
      embeddings: { type: 'string' },
      target: { type: 'string' },
      out: { type: 'string' },
      ...HIERARCHY_FLAGS,
      leaf: { type: 'string' },
      multiplier: { type: 'string' },
      budget: { type: 'string' },
      kernel: { type: 'string' },
      json: { type: 'boolean' },
    });
    const embeddingsPath = requiredFlag('curate', f, 'embeddings', 'X.npy');
    requiredFlag('curate', f, 'target', 'N');
    const out = requiredFlag('curate', f, 'out', 'DIR');
    const target = intFlag('target', f.target, Number.MIN_SAFE_INTEGER);
    if (target === undefined || target <= 0) {
      throw new UsageError(`--target must be a positive integer, got '${String(f.target)}'`);
    }
    const hf = readHierarchyFlags(f);
    const levelsFlag = hf.levels;
    const clustersFlag = hf.clusters;
    const sampleFlag = hf.sampleSize;
    const resample = hf.resample ?? DEFAULT_RESAMPLING_STEPS;
    const strategy = hf.strategy ?? 'closest';
    const leaf = choiceFlag('leaf', f.leaf, LEAVES) ?? 'random';
    const itersFlag = hf.iters;
    const multiplier = intFlag('multiplier', f.multiplier, 1) ?? 1;
    const seed = hf.seed ?? DEFAULT_SEED;
    const budget = numberFlag('budget', f.budget) ?? DEFAULT_BUDGET_SECONDS;
    const kernelName = choiceFlag('kernel', f.kernel, kernelNames()) ?? DEFAULT_KERNEL;
    if (clustersFlag && levelsFlag !== undefined && clustersFlag.length !== levelsFlag) {
      throw new UsageError(
        `--levels ${levelsFlag} disagrees with --clusters (${clustersFlag.length} values)`,
      );
    }
    const nLevels = clustersFlag?.length ?? levelsFlag;
    if (
      sampleFlag &&
      nLevels !== undefined &&
      sampleFlag.length !== nLevels &&
      sampleFlag.length !== 1
    ) {
      throw new UsageError(
        `--sample-size needs one value per level (${nLevels}) or a single value; got ${sampleFlag.length}`,
      );
    }

    const timings: Record<string, number> = {};
    let mark = performance.now();
    const lap = (name: string): void => {
      const now = performance.now();
      timings[name] = (now - mark) / 1000;
      mark = now;
    };

    const loaded = readEmbeddings(embeddingsPath);
    let x = loaded.matrix;
    assertFinite(x, 'embeddings');
    if (f.center) x = centerRows(x);
    if (f.normalize) x = l2NormalizeRows(x);
    const n = x.rows;
    const d = x.cols;
    lap('load');
    if (target > n * multiplier) {
      io.err(
        `strata: warning: --target ${target} exceeds the ${n} rows${multiplier > 1 ? ` x ${multiplier}` : ''}; selecting all of them\n`,
      );
    }

    const kernel = await loadKernel(kernelName);
    const backend = new CpuBackend(kernel);
    const flops = await probeFlops(kernel, x).catch((e: unknown) => {
      releaseKernel(kernel);
      throw e;
    });
    lap('probe');

    // Resolve the plan: automatic defaults first, then every explicit flag on top.
    const auto = suggestHierarchy(n, d, {
      flopsPerSecond: flops.assign,
      initFlopsPerSecond: flops.init,
      budgetSeconds: budget,
      target,
    });
    let ks: number[];
    if (clustersFlag) ks = clustersFlag;
    else if (levelsFlag !== undefined) {
      const k1 = auto.config.levels[0].k;
      ks = Array.from({ length: levelsFlag }, (_, t) =>
        Math.max(1, Math.floor(k1 / LEVEL_SHRINK ** t)),
      );
    } else ks = auto.config.levels.map((l) => l.k);
    const autoShape = !clustersFlag && levelsFlag === undefined;
    let rs: number[];
    if (sampleFlag)
      rs = ks.map((_, t) => (sampleFlag.length === 1 ? sampleFlag[0] : sampleFlag[t]));
    else if (autoShape) rs = auto.config.levels.map((l) => l.sampleSize);
    else {
      let rows = n;
      rs = ks.map((k, t) => {
        const r = t === 0 ? 1 : Math.max(1, Math.round(rows / Math.min(k, rows) / 2));
        rows = Math.min(k, rows);
        return r;
      });
    }
    const config: HierarchyConfig = {
      levels: ks.map((k, t) => ({ k, sampleSize: rs[t] })),
      resamplingSteps: resample,
      strategy,
      nIters: itersFlag ?? auto.config.nIters,
      seed,
    };
    const estimate = estimateSeconds(n, d, config, flops.assign, flops.init);
    // Why the automatic plan looks as it does (its first line restates the inputs).
    if (autoShape)
      for (const line of auto.rationale.slice(1, -1)) io.err(`strata: plan: ${line}\n`);
    io.err(
      `strata: ${n} x ${d} embeddings; ${config.levels.length} level(s), k = ${ks.join(' / ')}, r = ${rs.join(' / ')}, m = ${resample}, ${config.nIters} Lloyd rounds\n` +
        `strata: estimated ${formatSeconds(estimate)} with ${backend.name} at ${(flops.assign / 1e9).toFixed(2)} GFLOP/s (k-means++ ${(flops.init / 1e9).toFixed(2)}) (budget ${formatSeconds(budget)})\n`,
    );

    const warnings: string[] = [];
    const progress = new Progress(io);
    const levelSeconds: number[] = [];
    let levelStart = performance.now();
    const h = await hierarchicalKMeans(x, config, backend, {
      signal: io.signal,
      onWarning: (msg) => {
        warnings.push(msg);
        progress.done();
        io.err(`strata: warning: ${msg}\n`);
      },
      onProgress: (p) =>
        progress.update(
          `level ${p.level + 1}/${p.levels}, step ${p.step}/${p.steps}, round ${p.iteration}/${p.iterations}`,
          p.fraction,
        ),
      onLevel: () => {
        const now = performance.now();
        levelSeconds.push((now - levelStart) / 1000);
        levelStart = now;
      },
    }).finally(() => releaseKernel(kernel));
    progress.done();
    lap('cluster');

    const selection = sampleHierarchy(h, target, { leafStrategy: leaf, multiplier, seed });
    const tree = allocationTree(h, target, { multiplier, seed });
    lap('sample');

    mkdirSync(out, { recursive: true });
    writeArray(join(out, 'selection.npy'), toInt64(selection), [selection.length]);
    h.levels.forEach((level, t) => {
      const dir = join(out, `level${t + 1}`);
      writeArray(join(dir, 'centroids.npy'), level.centroids.data, [level.k, d]);
      writeArray(join(dir, 'assignment.npy'), toInt64(level.labels), [level.labels.length]);
    });
    lap('write');

    const resolvedFlags: string[] = [
      '--embeddings',
      embeddingsPath,
      '--target',
      String(target),
      '--clusters',
      ks.join(','),
      '--sample-size',
      rs.join(','),
      '--resample',
      String(resample),
      '--strategy',
      strategy,
      '--leaf',
      leaf,
      '--iters',
      String(config.nIters),
      '--multiplier',
      String(multiplier),
      '--seed',
      String(seed),
      ...(f.center ? ['--center'] : []),
      ...(f.normalize ? ['--normalize'] : []),
      '--kernel',
      kernelFlag(kernel),
      '--out',
      out,
    ];
    let unique = 0;
    for (let i = 0; i < selection.length; i++)
      if (i === 0 || selection[i] !== selection[i - 1]) unique++;
    const run = {
      tool: 'strata curate',
      command: ['npx', 'strata', 'curate', ...resolvedFlags].map(shellWord).join(' '),
      input: { path: embeddingsPath, rows: n, cols: d, dtype: loaded.dtype },
      parameters: {
        target,
        levels: config.levels,
        resamplingSteps: config.resamplingSteps,
        strategy,
        leafStrategy: leaf,
        nIters: config.nIters,
        multiplier,
        seed,
        center: f.center === true,
        normalize: f.normalize === true,
        kernel: kernelFlag(kernel),
      },
      plan: {
        budgetSeconds: budget,
        measuredGflops: flops.assign / 1e9,
        measuredInitGflops: flops.init / 1e9,
        estimatedSeconds: estimate,
        automatic: auto.config,
        rationale: auto.rationale,
        explicitFlags: argv.filter((a) => a.startsWith('--')).map((a) => a.split('=')[0]),
      },
      backend: backend.name,
      timings: { ...timings, levels: levelSeconds, total: (performance.now() - t0) / 1000 },
      levels: h.levels.map((level, t) => ({
        level: t + 1,
        k: level.k,
        inputRows: level.labels.length,
        clusterSizes: clusterSizeStats(level.clusters.map((c) => c.length)),
        rawSizes: clusterSizeStats(tree.rawCounts[t]),
        budgets: clusterSizeStats(tree.budgets[t]),
      })),
      selection: { count: selection.length, unique },
      warnings,
      versions: { strata: packageVersion(), node: process.version },
    };
    writeFileSync(join(out, 'run.json'), JSON.stringify(run, null, 2) + '\n');
    if (f.json) io.out(JSON.stringify(run) + '\n');
    else {
      io.out(
        `selected ${selection.length} of ${n} rows (${unique} distinct) in ${formatSeconds(run.timings.total)}\n` +
          `wrote ${join(out, 'selection.npy')}, level1..level${h.levels.length}/{centroids,assignment}.npy, run.json\n`,
      );
    }
    return 0;
  },
};
