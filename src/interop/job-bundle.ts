/**
 * "Export a distributed job": everything the reference pipeline needs to cluster a pool that has
 * outgrown the tab, in one folder.
 *
 *   embeddings.npy   n x d float32, streamed row chunk by row chunk (the header first, from the
 *                    known shape), never assembled in memory
 *   ids.txt          one id per line, row order (when the dataset has ids)
 *   config.yaml      the launcher's config in its own vocabulary, from Strata's settings
 *   strata.json      Strata's settings as they were, to bring the results back
 *   README.md        the commands that run the reference launcher and the sampler on it
 *
 * The hierarchy of a job, when not given whole, comes from the core's plan resolver (jobPlan):
 * the same defaults as the app and `strata curate`, for a run on the reference's GPUs.
 *
 * Pure: works in the page (feed the files to a zip writer or a folder) and in Node.
 */
import { InputError } from '../core/errors.ts';
import type { HierarchyConfig } from '../core/hierarchy.ts';
import { estimateFlops } from '../core/defaults.ts';
import { npyHeader } from '../core/npy.ts';
import { resolvePlan, type Plan, type PlanSettings } from '../core/plan.ts';
import type { Matrix } from '../core/types.ts';
import {
  referenceConfigYaml,
  toReferenceConfig,
  type ClusterSettings,
  type ReferenceConfig,
} from './config.ts';
import { textFile, type BundleFile } from './files.ts';

/** Rows of embeddings, delivered in order as row-major float32 chunks of whole rows. */
export interface EmbeddingSource {
  readonly rows: number;
  readonly cols: number;
  chunks(): AsyncIterable<Float32Array> | Iterable<Float32Array>;
}

/**
 * Bytes per chunk when streaming an in-memory matrix: about 1 MiB of rows, the chunk size that
 * streamed a 154 MB .npy fastest here (see STREAM_CHUNK_BYTES in node-files.ts).
 */
const MATRIX_CHUNK_BYTES = 1 << 20;

/** An in-memory matrix as a source (chunks are views, not copies). */
export function matrixSource(
  m: Matrix,
  chunkRows = Math.max(1, Math.floor(MATRIX_CHUNK_BYTES / (4 * Math.max(1, m.cols)))),
): EmbeddingSource {
  return {
    rows: m.rows,
    cols: m.cols,
    *chunks() {
      for (let r = 0; r < m.rows; r += chunkRows) {
        yield m.data.subarray(r * m.cols, Math.min(m.rows, r + chunkRows) * m.cols);
      }
    },
  };
}

export interface JobBundleOptions {
  readonly embeddings: EmbeddingSource;
  /** one id per row (file path, item id); written as ids.txt */
  readonly ids?: readonly string[];
  /**
   * Strata's hierarchy settings, translated into the launcher's config; default: jobPlan of the
   * embeddings' shape (and `target`)
   */
  readonly config?: HierarchyConfig;
  readonly cluster?: ClusterSettings;
  /** size of the curated subset, for the sampling command in the README */
  readonly target?: number;
  /** subtract this row (e.g. meanRow of the pool) on the way out, before normalising */
  readonly center?: Float32Array;
  /** L2-normalise every row on the way out (the reference never normalises) */
  readonly normalize?: boolean;
  /** dataset name shown in the README */
  readonly name?: string;
  /** Strata's version, recorded in strata.json */
  readonly strataVersion?: string;
}

/**
 * The plan of a job for the reference pipeline: the settings given are kept, the rest picked by
 * the core's resolver for a run elsewhere (the ideal shape with no time budget, about
 * LEVEL1_CLUSTER_SIZE rows per level-1 cluster, 50 Lloyd rounds, no resampling at level 1).
 */
export function jobPlan(rows: number, cols: number, settings: PlanSettings = {}): Plan {
  return resolvePlan({ n: rows, d: cols, settings, runsOn: 'reference' });
}

/**
 * Sustained k-means throughput assumed for one data-centre GPU, in flops per second. Not measured
 * by this project (its development machines have no GPU): an A100's FP32 peak is 19.5 TFLOP/s
 * and the assignment step is one GEMM, which sustains about half of peak at these shapes; the
 * reference's float64 accumulation and the all-reduce between GPUs cost the rest. An estimate
 * to plan a job with, stated as such in the README.
 */
export const ASSUMED_GPU_FLOPS = 10e12;

/** Sizes and cost of a job: what the page shows before writing it, and the README states. */
export interface JobEstimate {
  /** bytes of embeddings.npy */
  readonly embeddingBytes: number;
  /** k-means work of every level, resampling included (2 * n * k * d per assignment pass) */
  readonly flops: number;
  /** GPU-hours at ASSUMED_GPU_FLOPS (spread over the GPUs of config.yaml) */
  readonly gpuHours: number;
}

export function jobEstimate(rows: number, cols: number, config: HierarchyConfig): JobEstimate {
  const flops = estimateFlops(rows, cols, config);
  return {
    embeddingBytes: npyHeader('float32', [rows, cols]).length + rows * cols * 4,
    flops,
    gpuHours: flops / ASSUMED_GPU_FLOPS / 3600,
  };
}

function gpuHoursText(h: number): string {
  if (h < 0.01) return 'under a minute of GPU time';
  if (h < 1) return `about ${Math.max(1, Math.round(h * 60))} GPU-minutes`;
  return `about ${h < 10 ? h.toFixed(1) : Math.round(h)} GPU-hours`;
}

/** What strata.json records: the settings the bundle was made from. */
export interface BundleManifest {
  readonly format: 'strata-job-bundle';
  readonly version: 1;
  readonly name: string | null;
  readonly rows: number;
  readonly cols: number;
  readonly centered: boolean;
  readonly normalized: boolean;
  readonly ids: boolean;
  readonly target: number | null;
  readonly hierarchy: HierarchyConfig;
  readonly reference: ReferenceConfig;
  readonly strataVersion: string | null;
}

/** The mean row of a source (float64 accumulation), for centring; one pass over the chunks. */
export async function meanRow(source: EmbeddingSource): Promise<Float32Array> {
  const sum = new Float64Array(source.cols);
  let rows = 0;
  for await (const chunk of source.chunks()) {
    for (let i = 0; i < chunk.length; i++) sum[i % source.cols] += chunk[i];
    rows += chunk.length / source.cols;
  }
  return Float32Array.from(sum, (v) => (rows > 0 ? v / rows : 0));
}

export interface RowTransform {
  /** subtract this row (the pool's mean) first */
  readonly center?: Float32Array;
  /** then L2-normalise every row */
  readonly normalize?: boolean;
}

/** The embeddings as a streamed float32 .npy file, optionally centred and L2-normalised. */
export function embeddingsNpyFile(
  source: EmbeddingSource,
  options: RowTransform & { path?: string } = {},
): BundleFile {
  const { rows, cols } = source;
  if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(cols) || cols < 1) {
    throw new InputError(`embeddings must have at least one row and column, got ${rows} x ${cols}`);
  }
  const center = options.center;
  if (center && center.length !== cols) {
    throw new InputError(`the centre row has ${center.length} values for ${cols} columns`);
  }
  const header = npyHeader('float32', [rows, cols]);
  const path = options.path ?? 'embeddings.npy';
  const transform = !!center || !!options.normalize;
  return {
    path,
    size: header.length + rows * cols * 4,
    async *content() {
      yield header;
      let seen = 0;
      for await (const chunk of source.chunks()) {
        if (chunk.length % cols !== 0) {
          throw new InputError(
            `${path}: a chunk of ${chunk.length} values is not whole rows of ${cols}`,
          );
        }
        const n = chunk.length / cols;
        if (seen + n > rows) {
          throw new InputError(`${path}: the source gave more than the ${rows} rows announced`);
        }
        // never modify the caller's chunk
        const out = transform ? new Float32Array(chunk.length) : chunk;
        for (let r = 0; r < n; r++) {
          let s = 0;
          for (let c = r * cols; c < (r + 1) * cols; c++) {
            const x = chunk[c];
            if (!Number.isFinite(x)) {
              throw new InputError(
                `${path}: row ${seen + r} holds ${x}; embeddings must be finite`,
              );
            }
            const y = center ? x - center[c - r * cols] : x;
            if (transform) out[c] = y;
            s += y * y;
          }
          if (options.normalize) {
            // a zero row stays zero: it has no direction to keep
            const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
            for (let c = r * cols; c < (r + 1) * cols; c++) out[c] *= inv;
          }
        }
        seen += n;
        yield new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
      }
      if (seen !== rows) {
        throw new InputError(`${path}: the source gave ${seen} rows, ${rows} were announced`);
      }
    },
  };
}

/** ids.txt: one id per line; an id may not contain a line break. */
export function idsFile(ids: readonly string[], rows: number, path = 'ids.txt'): BundleFile {
  if (ids.length !== rows) {
    throw new InputError(
      `${ids.length} ids for ${rows} embedding rows: they must match one to one`,
    );
  }
  ids.forEach((id, i) => {
    if (/[\r\n]/.test(id)) throw new InputError(`id ${i} contains a line break`);
  });
  return textFile(path, ids.length ? ids.join('\n') + '\n' : '');
}

/**
 * A dataset name as one line of Markdown text: line breaks and control characters become spaces,
 * and characters Markdown reads as markup are escaped, so a name cannot add headings, links or
 * HTML to the README.
 */
export function markdownText(s: string): string {
  return (
    s
      // eslint-disable-next-line no-control-regex -- the point: control characters go
      .replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ')
      .replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, (c) => `\\${c}`)
      .trim()
  );
}

function readme(o: JobBundleOptions, ref: ReferenceConfig, config: HierarchyConfig): string {
  const target = o.target ?? 'N';
  const cost = jobEstimate(o.embeddings.rows, o.embeddings.cols, config);
  const ks = ref.n_clusters.join(' / ');
  const rs = ref.sample_size.join(' / ');
  return `# Strata distributed job${o.name ? `: ${markdownText(o.name)}` : ''}

This folder holds ${o.embeddings.rows} embeddings of dimension ${o.embeddings.cols}${
    o.center
      ? o.normalize
        ? ' (centred, L2-normalised)'
        : ' (centred)'
      : o.normalize
        ? ' (L2-normalised)'
        : ''
  } and the settings chosen in Strata,
ready for the reference implementation of Vo et al. (2024), facebookresearch/ssl-data-curation
(PyTorch; one machine with torchrun, or a SLURM cluster). That code is licensed CC-BY-NC 4.0
(non-commercial use); Strata includes none of it.

| file | what |
|------|------|
| embeddings.npy | ${o.embeddings.rows} x ${o.embeddings.cols} float32 |
${o.ids ? '| ids.txt | one id per line, in row order |\n' : ''}| config.yaml | launcher config: ${ref.n_levels} levels, k = ${ks}, r = ${rs} |
| strata.json | the Strata settings this folder was made from |

## Sizes and cost

- embeddings.npy: ${cost.embeddingBytes} bytes (${(cost.embeddingBytes / 2 ** 30).toFixed(2)} GiB); the launcher reads it whole.
- k-means work: ${cost.flops.toExponential(2)} floating-point operations over ${ref.n_levels} levels,
  ${ref.n_resampling_steps.join(' / ')} k-means runs per level of ${ref.n_iters} Lloyd rounds each.
- ${gpuHoursText(cost.gpuHours)}, assuming ${ASSUMED_GPU_FLOPS / 1e12} TFLOP/s sustained per GPU (an estimate,
  not a measurement: about half of an A100's FP32 peak); divide by the number of GPUs.

Edit the cluster settings at the end of config.yaml (nnodes, ngpus_per_node, ncpus_per_gpu,
slurm_partition) for your machines; the placeholders run on one node with one GPU.

## Run it

\`\`\`sh
export JOB="$(pwd)"          # this folder
git clone https://github.com/facebookresearch/ssl-data-curation.git
cd ssl-data-curation && pip install -r requirements.txt && cd scripts

# 1. write the launch scripts for every level into $JOB/run (it must not exist yet: the
#    launcher refuses to reuse a folder; remove it or pick another name to start over)
python hierarchical_kmeans_launcher.py \\
  --exp_dir "$JOB/run" \\
  --embeddings_path "$JOB/embeddings.npy" \\
  --config_file "$JOB/config.yaml"

# 2. run the levels. A run that stopped (a node failed, a job hit its time limit)
#    resumes from its checkpoints: run the same command again.
#    On a SLURM cluster (submits one sbatch job per level, each waiting for the one before):
(cd "$JOB/run" && bash launcher.sh)
#    Or on this machine, one level after the other with torchrun on its GPUs:
(cd "$JOB/run" && bash local_launcher.sh)

# 3. balanced sampling of ${target} points; indices go to $JOB/run/curated_datasets/
PYTHONPATH=.. python run_hierarchical_sampling.py \\
  --clustering_path "$JOB/run" --target_size ${target} --save
\`\`\`

## Bring the result back to Strata

In the page: "Import a cluster run" and pick this folder (or a zip of it): the \`run\` folder
inside, with embeddings.npy, ids.txt and strata.json next to it. Or on the command line:

\`\`\`sh
npx strata import --dir "$JOB/run" --embeddings "$JOB/embeddings.npy" \\
  --target ${target} --leaf random --out "$JOB/strata"
\`\`\`

Strata reads \`level{t}/centroids.npy\` and \`level{t}/sorted_clusters.npy\` (the pickled object
arrays are read by a restricted reader that executes nothing) and every
\`curated_datasets/*.npy\`, then runs its own balanced sampler on the imported hierarchy.
`;
}

/**
 * The files of a job bundle. Nothing is read from the embedding source until the embeddings
 * file's content is consumed.
 */
export function exportJobBundle(o: JobBundleOptions): BundleFile[] {
  const config =
    o.config ?? jobPlan(o.embeddings.rows, o.embeddings.cols, { target: o.target }).config;
  const ref = toReferenceConfig(config, o.cluster);
  if (o.target !== undefined && (!Number.isInteger(o.target) || o.target < 1)) {
    throw new InputError(`target must be a positive integer, got ${o.target}`);
  }
  const manifest: BundleManifest = {
    format: 'strata-job-bundle',
    version: 1,
    name: o.name ?? null,
    rows: o.embeddings.rows,
    cols: o.embeddings.cols,
    centered: !!o.center,
    normalized: !!o.normalize,
    ids: !!o.ids,
    target: o.target ?? null,
    hierarchy: config,
    reference: ref,
    strataVersion: o.strataVersion ?? null,
  };
  const files: BundleFile[] = [
    embeddingsNpyFile(o.embeddings, { center: o.center, normalize: o.normalize }),
  ];
  if (o.ids) files.push(idsFile(o.ids, o.embeddings.rows));
  files.push(
    textFile('config.yaml', referenceConfigYaml(ref)),
    textFile('strata.json', JSON.stringify(manifest, null, 2) + '\n'),
    textFile('README.md', readme(o, ref, config)),
  );
  return files;
}
