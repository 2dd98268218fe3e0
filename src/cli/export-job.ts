/**
 * `strata export-job`: a job bundle for the reference distributed pipeline
 * (facebookresearch/ssl-data-curation). The hierarchy comes from the core's plan resolver, like
 * the app's and `strata curate`'s, for a run on the reference's GPUs (jobPlan); flags, help and
 * errors follow the rest of the command line: a person's mistake is one line and exit status 2.
 */
import { DEFAULT_ITERS, LEVEL1_CLUSTER_SIZE, LEVEL_SHRINK } from '../core/defaults.ts';
import { InputError } from '../core/errors.ts';
import type { HierarchyConfig } from '../core/hierarchy.ts';
import type { ClusterSettings } from '../interop/config.ts';
import { exportJobBundle, jobPlan, meanRow } from '../interop/job-bundle.ts';
import { npyFileSource, readIdsFile, writeFiles } from '../interop/node-files.ts';
import {
  UsageError,
  choiceFlag,
  intFlag,
  intListFlag,
  parseFlags,
  requiredFlag,
  type CliCommand,
} from './command.ts';
import { stageOutput } from './output.ts';
import { packageVersion } from './files.ts';
import {
  HIERARCHY_FLAGS,
  flagLevels,
  planSettingsOf,
  readHierarchyFlags,
  type HierarchyFlags,
} from './hierarchy-flags.ts';

/**
 * The job's hierarchy for n x d rows from the hierarchy flags: jobPlan, then the checks that
 * only make sense once the shape is known (k must decrease, level 1 fits the rows, one
 * --sample-size per level).
 */
function jobHierarchy(
  n: number,
  d: number,
  hf: HierarchyFlags,
  target: number | undefined,
): HierarchyConfig {
  flagLevels(hf);
  const config = jobPlan(n, d, planSettingsOf(hf, { target })).config;
  const ks = config.levels.map((l) => l.k);
  for (let t = 1; t < ks.length; t++) {
    if (ks[t] >= ks[t - 1]) {
      throw new UsageError(`--clusters must decrease from level to level, got ${ks.join(',')}`);
    }
  }
  if (ks[0] > n)
    throw new InputError(`level 1 asks for ${ks[0]} clusters but there are only ${n} rows`);
  const sample = hf.sampleSize;
  if (sample && sample.length !== ks.length && sample.length !== 1) {
    throw new UsageError(
      `--sample-size needs one value per level (${ks.length}) or a single value; got ${sample.length}`,
    );
  }
  return config;
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

Hierarchy options (as in 'strata curate'; default: about ${LEVEL1_CLUSTER_SIZE} rows per level-1 cluster, k
shrinking ${LEVEL_SHRINK}x per level, ${DEFAULT_ITERS} Lloyd rounds, no resampling at level 1):
  --levels L  --clusters a,b,c  --sample-size r1,r2  --resample m  --strategy closest|random
  --iters n  --seed S  --target N (size of the curated subset, for the README's commands)
  --concepts C (concepts you expect: the top level gets a few clusters per concept)
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
    const config = jobHierarchy(source.rows, source.cols, readHierarchyFlags(f), target);
    const cluster: ClusterSettings = {
      nnodes: intListFlag('nnodes', f.nnodes, 1),
      ngpusPerNode: intListFlag('gpus-per-node', f['gpus-per-node'], 1),
      ncpusPerGpu: intFlag('cpus-per-gpu', f['cpus-per-gpu'], 1),
      slurmPartition: typeof f.partition === 'string' ? f.partition : undefined,
      dtype: choiceFlag('dtype', f.dtype, ['float32', 'float64'] as const),
    };
    const ids = typeof f.ids === 'string' ? await readIdsFile(f.ids) : undefined;
    // Arguments checked; the output location next, before any work.
    const staged = stageOutput(outDir, {
      force: f.force === true,
      inputs: [embeddingsPath, ...(typeof f.ids === 'string' ? [f.ids] : [])],
    });
    try {
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
      await writeFiles(staged.staging, files);
      staged.commit();
      io.out(
        `wrote ${files.map((file) => file.path).join(', ')} to ${outDir}\n` +
          `${source.rows} x ${source.cols} rows; ${config.levels.length} level(s), k = ${config.levels.map((l) => l.k).join(' / ')}, ` +
          `r = ${config.levels.map((l) => l.sampleSize).join(' / ')}, m = ${config.resamplingSteps}, ${config.nIters} Lloyd rounds\n` +
          `next: see ${outDir}/README.md\n`,
      );
      return 0;
    } finally {
      staged.abandon(); // nothing to do once committed
    }
  },
};
