/**
 * `strata curate`: embeddings (.npy) in, balanced selection and per-level clustering out.
 * All the method lives in src/core; this file parses flags, reads and writes files, and reports.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { encodeIndexNpy, encodeSortedClustersNpy } from '../interop/sorted-clusters.ts';
import { join } from 'node:path';
import {
  DEFAULT_BUDGET_SECONDS,
  DEFAULT_ITERS,
  DEFAULT_RESAMPLING_STEPS,
  DEFAULT_SEED,
  DEFAULT_STRATEGY,
  LEVEL1_MAX_CLUSTER_SIZE,
  type PlanFit,
} from '../core/defaults.ts';
import { hierarchicalKMeans } from '../core/hierarchy.ts';
import { CpuBackend } from '../core/kmeans.ts';
import { probeThroughput } from '../core/kmeans-throughput.ts';
import {
  centerRowsInPlace,
  droppedRowsMessage,
  gatherRows,
  dropNonFiniteRows,
  l2NormalizeRowsInPlace,
} from '../core/matrix.ts';
import { DEFAULT_SEEDING } from '../core/seeding.ts';
import { stageOutput } from './output.ts';
import {
  DEDUP_FLAGS,
  DEDUP_USAGE,
  readDedupFlag,
  runDedup,
  writeDedupGroups,
} from './dedup-step.ts';
import { clusterSizeStats } from '../core/metrics.ts';
import { DEFAULT_LEAF_STRATEGY, resolvePlan } from '../core/plan.ts';
import { allocationTree, sampleHierarchy } from '../core/sampling.ts';
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
import {
  HIERARCHY_FLAGS,
  LEAVES,
  flagLevels,
  planSettingsOf,
  readHierarchyFlags,
} from './hierarchy-flags.ts';
import {
  DEFAULT_KERNEL,
  kernelFlag,
  kernelNames,
  loadKernel,
  releaseKernel,
} from './kernel-choice.ts';
import { Progress, formatSeconds } from './progress.ts';

/** Quotes a word for a POSIX shell when it needs it. */
const FITS: readonly PlanFit[] = ['budget', 'shape'];

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
  DIR/dedup_groups.csv          rows with a near-duplicate: row,group,kept,duplicate_of (the
                                row kept for the group); absent with --no-dedup
  DIR/run.json                  every parameter (defaults resolved), timings, cluster sizes,
                                near-duplicate counts, and a 'command' that reproduces the run

Options (defaults are picked from the data size and a time budget; see run.json 'plan'):
  --target N             size of the curated subset (required)
  --levels L             number of levels
  --clusters a,b,c       clusters per level, level 1 first
  --sample-size r1,r2    points kept per cluster when resampling, per level (1 = none; one
                         value applies to every level); default: 1 at level 1, about half
                         the average cluster size above
  --resample m           resampling steps per level (default ${DEFAULT_RESAMPLING_STEPS})
  --strategy S           resampling: closest | random (default ${DEFAULT_STRATEGY})
  --leaf S               pick inside level-1 clusters: random | closest | furthest (default ${DEFAULT_LEAF_STRATEGY})
  --iters n              Lloyd rounds per k-means run (default ${DEFAULT_ITERS}, fewer if the budget needs)
  --multiplier M         allow up to M copies of a row when clusters are small (default 1)
  --seed S               seed of every random draw (default ${DEFAULT_SEED})
  --normalize            L2-normalise rows first (cosine geometry)
  --center               subtract the mean row first (before --normalize)
${DEDUP_USAGE}
  --budget SECONDS       time budget for automatic defaults (default ${DEFAULT_BUDGET_SECONDS})
  --concepts C           concepts you expect: the top level gets a few clusters per concept
  --fit F                when the paper's shape (at most ${LEVEL1_MAX_CLUSTER_SIZE} rows per level-1 cluster) does
                         not fit the budget: budget (default: fewer level-1 clusters) | shape
                         (keep the shape, take longer); the plan prints both
  --kernel K             CPU kernel: ${kernelNames().join(' | ')} (default ${DEFAULT_KERNEL})
  --force                write into a non-empty --out folder (replacing Strata's own files)
  --json                 print run.json on stdout as well

Rows with NaN or infinite values are left out with a warning (their assignment is -1).
Near-duplicates set aside are not clustered or selected; their level-1 assignment is the
cluster of the row kept for their group.
Results are written beside --out and moved into it when the run finishes: an interrupted
run leaves nothing half-written. Exit status: 0 done, 2 bad arguments or input, 3 output
folder refused, 130 interrupted.`,

  async run(argv, io) {
    const t0 = performance.now();
    const f = parseFlags('curate', argv, {
      embeddings: { type: 'string' },
      target: { type: 'string' },
      out: { type: 'string' },
      ...HIERARCHY_FLAGS,
      ...DEDUP_FLAGS,
      leaf: { type: 'string' },
      multiplier: { type: 'string' },
      budget: { type: 'string' },
      fit: { type: 'string' },
      kernel: { type: 'string' },
      json: { type: 'boolean' },
      force: { type: 'boolean' },
    });
    const embeddingsPath = requiredFlag('curate', f, 'embeddings', 'X.npy');
    requiredFlag('curate', f, 'target', 'N');
    const out = requiredFlag('curate', f, 'out', 'DIR');
    const target = intFlag('target', f.target, 1, Number.MAX_SAFE_INTEGER, 'a positive integer');
    if (target === undefined) throw new UsageError('--target N is required');
    const hf = readHierarchyFlags(f);
    const sampleFlag = hf.sampleSize;
    const leaf = choiceFlag('leaf', f.leaf, LEAVES) ?? DEFAULT_LEAF_STRATEGY;
    const multiplier = intFlag('multiplier', f.multiplier, 1) ?? 1;
    const budget = numberFlag('budget', f.budget) ?? DEFAULT_BUDGET_SECONDS;
    const fit = choiceFlag<PlanFit>('fit', f.fit, FITS);
    const kernelName = choiceFlag('kernel', f.kernel, kernelNames()) ?? DEFAULT_KERNEL;
    const dedupThreshold = readDedupFlag(f);
    const nLevels = flagLevels(hf);
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

    const curateInto = async (dir: string): Promise<number> => {
      const timings: Record<string, number> = {};
      let mark = performance.now();
      const lap = (name: string): void => {
        const now = performance.now();
        timings[name] = (now - mark) / 1000;
        mark = now;
      };

      const warnings: string[] = [];
      const warn = (msg: string): void => {
        warnings.push(msg);
        io.err(`strata: warning: ${msg}\n`);
      };
      const loaded = readEmbeddings(embeddingsPath);
      // The app's policy too: rows with NaN or infinite values are left out, and said so.
      const finite = dropNonFiniteRows(loaded.matrix);
      if (finite.dropped.length > 0) warn(droppedRowsMessage(finite.dropped, loaded.matrix.rows));
      const inputRows = loaded.matrix.rows;
      lap('load');
      const kernel = await loadKernel(kernelName);
      // Near-duplicates, on the rows as read (the search normalises them itself, as the app does).
      const dd =
        dedupThreshold === null
          ? undefined
          : await runDedup(
              finite.matrix,
              dedupThreshold,
              hf.seed ?? DEFAULT_SEED,
              kernel,
              io.signal,
            ).catch((e: unknown) => {
              releaseKernel(kernel);
              throw e;
            });
      if (dd) {
        io.err(
          `strata: near-duplicates: ${dd.result.groups} groups, ${dd.result.removed} rows set aside (threshold ${dd.threshold})\n`,
        );
        lap('dedup');
      }
      let x = dd && dd.result.removed > 0 ? gatherRows(finite.matrix, dd.kept) : finite.matrix;
      // In place: the rows were read (or gathered) for this run alone, and a copy of a
      // 1M x 384 pool is 1.5 GB.
      if (f.center) x = centerRowsInPlace(x);
      if (f.normalize) x = l2NormalizeRowsInPlace(x);
      const n = x.rows;
      const d = x.cols;
      // Input row of every clustered row (rows left out for NaN/Inf or as copies shift nothing).
      const rowOf = dd ? Int32Array.from(dd.kept, (i) => finite.kept[i]) : finite.kept;
      const mapped = n !== inputRows;
      if (target > n * multiplier) {
        warn(
          `--target ${target} exceeds the ${n} rows${multiplier > 1 ? ` x ${multiplier}` : ''}; selecting all of them`,
        );
      }

      const backend = new CpuBackend(kernel);
      const flops = await probeThroughput(kernel, x).catch((e: unknown) => {
        releaseKernel(kernel);
        throw e;
      });
      lap('probe');

      // The plan: every explicit flag kept, the rest picked to fit the budget at the probed rates.
      const plan = resolvePlan({
        n,
        d,
        settings: planSettingsOf(hf, { target, leafStrategy: leaf, fit }),
        budgetSeconds: budget,
        throughput: flops,
      });
      const { config, automatic: auto, estimatedSeconds: estimate } = plan;
      const ks = config.levels.map((l) => l.k);
      const rs = config.levels.map((l) => l.sampleSize);
      const resample = config.resamplingSteps;
      const strategy = config.strategy;
      const seed = config.seed;
      // Why the automatic plan looks as it does (its first line restates the inputs).
      if (plan.autoShape)
        for (const line of auto.rationale.slice(1, -1)) io.err(`strata: plan: ${line}\n`);
      const choice = plan.autoShape ? plan.shape.choice : undefined;
      if (choice) {
        const other = choice.picked === 'budget' ? 'shape' : 'budget';
        io.err(
          `strata: plan: running the '${choice.picked}' plan; --fit ${other} runs the other\n`,
        );
      }
      io.err(
        `strata: ${n} x ${d} embeddings; ${config.levels.length} level(s), k = ${ks.join(' / ')}, r = ${rs.join(' / ')}, m = ${resample}, ${config.nIters} Lloyd rounds\n` +
          `strata: estimated ${formatSeconds(estimate)} with ${backend.name} at ${(flops.assign / 1e9).toFixed(2)} GFLOP/s (k-means++ ${(flops.init / 1e9).toFixed(2)}) (budget ${formatSeconds(budget)})\n`,
      );

      const progress = new Progress(io);
      const levelSeconds: number[] = [];
      let levelStart = performance.now();
      const h = await hierarchicalKMeans(x, config, backend, {
        signal: io.signal,
        onWarning: (msg) => {
          progress.done();
          warn(msg);
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

      // Selected rows as the input's row numbers (rows left out above shift nothing).
      const sampled = sampleHierarchy(h, target, {
        leafStrategy: plan.leafStrategy,
        multiplier,
        seed,
      });
      // Mapped rows stay ascending: rowOf is increasing.
      const selection = mapped ? Int32Array.from(sampled, (r) => rowOf[r]) : sampled;
      const tree = allocationTree(h, target, { multiplier, seed });
      lap('sample');

      writeArray(join(dir, 'selection.npy'), toInt64(selection), [selection.length]);
      h.levels.forEach((level, t) => {
        const levelDir = join(dir, `level${t + 1}`);
        writeArray(join(levelDir, 'centroids.npy'), level.centroids.data, [level.k, d]);
        // Level 1 assigns the input's rows: a row left out for NaN/Inf gets -1, a near-duplicate
        // set aside the cluster of the row kept for its group.
        let labels = level.labels;
        if (t === 0 && mapped) {
          labels = new Int32Array(inputRows).fill(-1);
          rowOf.forEach((r, i) => (labels[r] = level.labels[i]));
          if (dd) {
            const { keep, group, representative } = dd.result;
            for (let i = 0; i < keep.length; i++) {
              if (!keep[i]) labels[finite.kept[i]] = labels[finite.kept[representative[group[i]]]];
            }
          }
        }
        writeArray(join(levelDir, 'assignment.npy'), toInt64(labels), [labels.length]);
        // The reference pipeline's own layout too, so its loading and sampling code reads the
        // run: members of every cluster, closest to the centroid first, as the input's rows.
        const clusters =
          t === 0 && mapped
            ? level.clusters.map((m) => Int32Array.from(m, (i) => rowOf[i]))
            : level.clusters;
        writeFileSync(join(levelDir, 'sorted_clusters.npy'), encodeSortedClustersNpy(clusters));
      });
      mkdirSync(join(dir, 'curated_datasets'), { recursive: true });
      writeFileSync(
        join(dir, 'curated_datasets', `strata_${selection.length}.npy`),
        encodeIndexNpy(selection),
      );
      if (dd) writeDedupGroups(join(dir, 'dedup_groups.csv'), dd, finite.kept);
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
        ...(dd ? ['--dedup', String(dd.threshold)] : ['--no-dedup']),
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
        input: {
          path: embeddingsPath,
          rows: inputRows,
          cols: d,
          dtype: loaded.dtype,
          droppedRows: finite.dropped,
        },
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
          dedup: dd ? dd.threshold : null,
          seeding: config.seeding ?? DEFAULT_SEEDING,
        },
        dedup: dd
          ? {
              threshold: dd.threshold,
              groups: dd.result.groups,
              removed: dd.result.removed,
              clusteredRows: n,
              file: 'dedup_groups.csv',
            }
          : null,
        plan: {
          budgetSeconds: budget,
          measuredGflops: flops.assign / 1e9,
          measuredInitGflops: flops.init / 1e9,
          estimatedSeconds: estimate,
          automatic: auto.config,
          rationale: auto.rationale,
          shape: plan.shape,
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
      writeFileSync(join(dir, 'run.json'), JSON.stringify(run, null, 2) + '\n');
      staged.commit();
      if (f.json) io.out(JSON.stringify(run) + '\n');
      else {
        io.out(
          `selected ${selection.length} of ${n} rows (${unique} distinct) in ${formatSeconds(run.timings.total)}\n` +
            `wrote ${join(out, 'selection.npy')}, level1..level${h.levels.length}/{centroids,assignment,sorted_clusters}.npy, curated_datasets/, ${dd ? 'dedup_groups.csv, ' : ''}run.json\n`,
        );
      }
      return 0;
    };

    // Every argument is checked; now the output location, before any input is read.
    const staged = stageOutput(out, { force: f.force === true, inputs: [embeddingsPath] });
    try {
      return await curateInto(staged.staging);
    } finally {
      staged.abandon(); // nothing to do once committed
    }
  },
};
