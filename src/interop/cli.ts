/**
 * `strata export-job` and `strata import`: the command-line side of interop with the reference
 * distributed pipeline (facebookresearch/ssl-data-curation). Flags, help and errors follow the
 * rest of the `strata` command line (src/cli): a person's mistake is one line and exit status 2.
 */
import { readdir } from 'node:fs/promises';
import {
  UsageError,
  choiceFlag,
  intFlag,
  intListFlag,
  parseFlags,
  requiredFlag,
  type CliCommand,
} from '../cli/command.ts';
import { packageVersion, readEmbeddings } from '../cli/files.ts';
import { HIERARCHY_FLAGS, LEAVES, readHierarchyFlags } from '../cli/hierarchy-flags.ts';
import {
  DEFAULT_RESAMPLING_STEPS,
  DEFAULT_SEED,
  LEVEL_SHRINK,
  suggestHierarchy,
} from '../core/defaults.ts';
import { InputError } from '../core/errors.ts';
import type { HierarchyConfig, ResampleStrategy } from '../core/hierarchy.ts';
import { allocationTree, sampleHierarchy } from '../core/sampling.ts';
import type { ClusterSettings } from './config.ts';
import { overview } from './explore.ts';
import { bytesFile, textFile, type BundleFile } from './files.ts';
import { importReference } from './import.ts';
import { exportJobBundle, meanRow } from './job-bundle.ts';
import { npyFileSource, readIdsFile, sourceFromDir, writeFiles } from './node-files.ts';
import { encodeIndexNpy } from './sorted-clusters.ts';

/** Refuses to write into a non-empty directory unless --force. */
async function checkOut(dir: string, force: boolean): Promise<void> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  if (entries.length > 0 && !force) {
    throw new InputError(`${dir} exists and is not empty; pick another --out or pass --force`);
  }
}

export interface HierarchyFlags {
  readonly clusters?: number[];
  readonly levels?: number;
  readonly sampleSize?: number[];
  readonly resample?: number;
  readonly strategy?: ResampleStrategy;
  readonly iters?: number;
  readonly seed?: number;
  readonly target?: number;
}

/**
 * The hierarchy for n x d rows from curate's flags, resolved the way `strata curate` resolves
 * them, except for the automatic shape: a job for the reference runs on GPUs, not on this
 * machine, so it takes the ideal shape (about 10 rows per level-1 cluster, k shrinking 5x per
 * level, 50 Lloyd rounds) with no time budget, and no resampling at level 1 as the paper does
 * at scale.
 */
export function hierarchyFromFlags(n: number, d: number, f: HierarchyFlags): HierarchyConfig {
  if (f.clusters && f.levels !== undefined && f.clusters.length !== f.levels) {
    throw new UsageError(
      `--levels ${f.levels} disagrees with --clusters (${f.clusters.length} values)`,
    );
  }
  const auto = suggestHierarchy(n, d, {
    budgetSeconds: Number.POSITIVE_INFINITY,
    target: f.target,
  });
  let ks: number[];
  if (f.clusters) ks = f.clusters;
  else if (f.levels !== undefined) {
    const k1 = auto.config.levels[0].k;
    ks = Array.from({ length: f.levels }, (_, t) =>
      Math.max(1, Math.floor(k1 / LEVEL_SHRINK ** t)),
    );
  } else ks = auto.config.levels.map((l) => l.k);
  for (let t = 1; t < ks.length; t++) {
    if (ks[t] >= ks[t - 1]) {
      throw new UsageError(`--clusters must decrease from level to level, got ${ks.join(',')}`);
    }
  }
  if (ks[0] > n)
    throw new InputError(`level 1 asks for ${ks[0]} clusters but there are only ${n} rows`);
  const sample = f.sampleSize;
  if (sample && sample.length !== ks.length && sample.length !== 1) {
    throw new UsageError(
      `--sample-size needs one value per level (${ks.length}) or a single value; got ${sample.length}`,
    );
  }
  let rs: number[];
  if (sample) rs = ks.map((_, t) => (sample.length === 1 ? sample[0] : sample[t]));
  else {
    let rows = n;
    rs = ks.map((k, t) => {
      const r = t === 0 ? 1 : Math.max(1, Math.round(rows / Math.min(k, rows) / 2));
      rows = Math.min(k, rows);
      return r;
    });
  }
  return {
    levels: ks.map((k, t) => ({ k, sampleSize: rs[t] })),
    resamplingSteps: f.resample ?? DEFAULT_RESAMPLING_STEPS,
    strategy: f.strategy ?? 'closest',
    nIters: f.iters ?? auto.config.nIters,
    seed: f.seed ?? DEFAULT_SEED,
  };
}

export const exportJobCommand: CliCommand = {
  name: 'export-job',
  summary: 'write a job bundle for the reference distributed pipeline (embeddings, config, README)',
  usage: `strata export-job --embeddings X.npy --out DIR [options]

Writes a folder that the reference pipeline (facebookresearch/ssl-data-curation, CC-BY-NC) runs
on one machine or a SLURM cluster:
  DIR/embeddings.npy   the rows as float32, streamed (never held in memory whole)
  DIR/ids.txt          one id per row (with --ids)
  DIR/config.yaml      the launcher's config: n_levels, n_clusters, n_iters, n_resampling_steps,
                       sample_size, sampling_strategy, n_splits, dtype, cluster placeholders
  DIR/strata.json      these settings as Strata holds them
  DIR/README.md        the commands to run the launcher and the sampler, and to import back

Hierarchy options (as in 'strata curate'; default: about 10 rows per level-1 cluster, k
shrinking ${LEVEL_SHRINK}x per level, 50 Lloyd rounds, no resampling at level 1):
  --levels L  --clusters a,b,c  --sample-size r1,r2  --resample m  --strategy closest|random
  --iters n  --seed S  --target N (size of the curated subset, for the README's commands)
  --center               subtract the mean row first (one extra pass over the file)
  --normalize            L2-normalise rows on the way out (the reference never normalises)
Other options:
  --ids FILE             ids, one per line, as many as rows
  --name NAME            dataset name for the README
  --nnodes a,b,c         nodes per level (default 1)
  --gpus-per-node a,b,c  GPUs per node per level (default 1)
  --cpus-per-gpu n       (default 8)
  --partition NAME       SLURM partition (default none)
  --dtype float32|float64  the reference's compute precision (default float32)
  --force                write into a non-empty DIR`,

  async run(argv, io) {
    const f = parseFlags('export-job', argv, {
      embeddings: { type: 'string' },
      ids: { type: 'string' },
      out: { type: 'string' },
      ...HIERARCHY_FLAGS,
      target: { type: 'string' },
      name: { type: 'string' },
      nnodes: { type: 'string' },
      'gpus-per-node': { type: 'string' },
      'cpus-per-gpu': { type: 'string' },
      partition: { type: 'string' },
      dtype: { type: 'string' },
      force: { type: 'boolean' },
    });
    const embeddingsPath = requiredFlag('export-job', f, 'embeddings', 'X.npy');
    const outDir = requiredFlag('export-job', f, 'out', 'DIR');
    const source = await npyFileSource(embeddingsPath);
    const target = intFlag('target', f.target, 1);
    const config = hierarchyFromFlags(source.rows, source.cols, {
      ...readHierarchyFlags(f),
      target,
    });
    const cluster: ClusterSettings = {
      nnodes: intListFlag('nnodes', f.nnodes, 1),
      ngpusPerNode: intListFlag('gpus-per-node', f['gpus-per-node'], 1),
      ncpusPerGpu: intFlag('cpus-per-gpu', f['cpus-per-gpu'], 1),
      slurmPartition: typeof f.partition === 'string' ? f.partition : undefined,
      dtype: choiceFlag('dtype', f.dtype, ['float32', 'float64'] as const),
    };
    const ids = typeof f.ids === 'string' ? await readIdsFile(f.ids) : undefined;
    await checkOut(outDir, f.force === true);
    const center = f.center === true ? await meanRow(source) : undefined;
    const files = exportJobBundle({
      embeddings: source,
      ids,
      config,
      cluster,
      target,
      center,
      normalize: f.normalize === true,
      name: typeof f.name === 'string' ? f.name : undefined,
      strataVersion: packageVersion(),
    });
    await writeFiles(outDir, files);
    io.out(
      `wrote ${files.map((file) => file.path).join(', ')} to ${outDir}\n` +
        `${source.rows} x ${source.cols} rows; ${config.levels.length} level(s), k = ${config.levels.map((l) => l.k).join(' / ')}, ` +
        `r = ${config.levels.map((l) => l.sampleSize).join(' / ')}, m = ${config.resamplingSteps}, ${config.nIters} Lloyd rounds\n` +
        `next: see ${outDir}/README.md\n`,
    );
    return 0;
  },
};

function sizeStats(sizes: ArrayLike<number>): Record<'min' | 'median' | 'max' | 'empty', number> {
  const s = Array.from(sizes).sort((a, b) => a - b);
  return {
    min: s[0] ?? 0,
    median: s.length ? s[Math.floor(s.length / 2)] : 0,
    max: s[s.length - 1] ?? 0,
    empty: s.filter((x) => x === 0).length,
  };
}

export const importCommand: CliCommand = {
  name: 'import',
  summary: "read the reference pipeline's output and sample it with Strata's balanced sampler",
  usage: `strata import --dir REFDIR --out DIR [options]

Reads the reference pipeline's output folder (the --exp_dir of its launcher):
level{t}/centroids.npy, level{t}/sorted_clusters.npy (pickled object arrays, read by a
restricted reader that executes nothing) and curated_datasets/*.npy. Writes:
  DIR/summary.json     levels, cluster sizes, the curated datasets found (size, per top-level
                       cluster counts), Strata's sample (with --target) and any warnings
  DIR/selection.npy    int64 row indices of Strata's balanced sample, sorted (with --target)

Options:
  --embeddings X.npy     the rows the reference clustered: checks ids and gives level-1 distances
  --target N             sample N rows with Strata's balanced sampler
  --leaf S               inside level-1 clusters: random | closest | furthest (default random)
  --multiplier M         allow up to M copies of a row when clusters are small (default 1)
  --seed S               seed of the sampler (default ${DEFAULT_SEED})
  --force                write into a non-empty DIR`,

  async run(argv, io) {
    const f = parseFlags('import', argv, {
      dir: { type: 'string' },
      embeddings: { type: 'string' },
      out: { type: 'string' },
      target: { type: 'string' },
      leaf: { type: 'string' },
      multiplier: { type: 'string' },
      seed: { type: 'string' },
      force: { type: 'boolean' },
    });
    const refDir = requiredFlag('import', f, 'dir', 'REFDIR');
    const outDir = requiredFlag('import', f, 'out', 'DIR');
    const target = intFlag('target', f.target, 1);
    const leaf = choiceFlag('leaf', f.leaf, LEAVES) ?? 'random';
    const multiplier = intFlag('multiplier', f.multiplier, 1) ?? 1;
    const seed = intFlag('seed', f.seed, 0) ?? DEFAULT_SEED;
    const embeddings =
      typeof f.embeddings === 'string' ? readEmbeddings(f.embeddings).matrix : undefined;
    const imported = await importReference(await sourceFromDir(refDir), {
      embeddings,
      signal: io.signal,
    });
    await checkOut(outDir, f.force === true);
    const h = imported.hierarchy;
    const T = h.levels.length;
    const perTop = (sel: ArrayLike<number>): number[] =>
      overview(h, sel).levels[T - 1].map((c) => c.selected);
    const view = overview(h);
    const summary: Record<string, unknown> = {
      source: refDir,
      strataVersion: packageVersion(),
      rows: imported.rows,
      dim: imported.dim,
      levels: h.levels.map((l, t) => ({
        level: t + 1,
        k: l.k,
        rowsPerCluster: sizeStats(view.levels[t].map((c) => c.size)),
        membersPerCluster: sizeStats(l.clusters.map((c) => c.length)),
        distancesKnown: imported.dist2Known[t],
        unassigned: imported.unassigned[t],
      })),
      topClusterSizes: view.levels[T - 1].map((c) => c.size),
      curated: imported.curated.map((c) => ({
        name: c.name,
        size: c.indices.length,
        distinct: new Set(c.indices).size,
        perTopCluster: perTop(c.indices),
      })),
      config: imported.config,
      warnings: imported.warnings,
    };
    const files: BundleFile[] = [];
    if (target !== undefined) {
      const selection = sampleHierarchy(h, target, { leafStrategy: leaf, multiplier, seed });
      const tree = allocationTree(h, target, { multiplier, seed });
      summary.sample = {
        target,
        leaf,
        multiplier,
        seed,
        size: selection.length,
        distinct: new Set(selection).size,
        perTopCluster: perTop(selection),
        topBudgets: Array.from(tree.budgets[T - 1]),
      };
      files.push(bytesFile('selection.npy', encodeIndexNpy(selection)));
    }
    files.push(textFile('summary.json', JSON.stringify(summary, null, 2) + '\n'));
    await writeFiles(outDir, files);
    for (const w of imported.warnings) io.err(`strata: warning: ${w}\n`);
    const lines = [
      `imported ${T} level(s), k = ${h.levels.map((l) => l.k).join(' / ')}, over ${imported.rows} rows of dimension ${imported.dim}`,
      ...imported.curated.map((c) => `curated_datasets/${c.name}: ${c.indices.length} rows`),
    ];
    if (target !== undefined) {
      const s = summary.sample as { size: number };
      lines.push(
        `Strata's balanced sample: ${s.size} rows (target ${target}, leaf ${leaf}, seed ${seed})`,
      );
    }
    lines.push(`wrote ${files.map((file) => file.path).join(', ')} to ${outDir}`);
    io.out(lines.join('\n') + '\n');
    return 0;
  },
};
