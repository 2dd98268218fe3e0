/**
 * `strata import`: the reference pipeline's output read back (src/interop/import.ts) and sampled
 * with Strata's balanced sampler; a summary and the selection written to disk.
 */
import { DEFAULT_SEED } from '../core/defaults.ts';
import { DEFAULT_LEAF_STRATEGY } from '../core/plan.ts';
import { allocationTree, sampleHierarchy } from '../core/sampling.ts';
import { bytesFile, textFile, type BundleFile } from '../interop/files.ts';
import { importReference } from '../interop/import.ts';
import { sourceFromDir, writeFiles } from '../interop/node-files.ts';
import { overview } from '../interop/overview.ts';
import { encodeIndexNpy } from '../interop/sorted-clusters.ts';
import { choiceFlag, intFlag, parseFlags, requiredFlag, type CliCommand } from './command.ts';
import { stageOutput } from './output.ts';
import { packageVersion, readEmbeddings } from './files.ts';
import { LEAVES } from './hierarchy-flags.ts';

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
    const leaf = choiceFlag('leaf', f.leaf, LEAVES) ?? DEFAULT_LEAF_STRATEGY;
    const multiplier = intFlag('multiplier', f.multiplier, 1) ?? 1;
    const seed = intFlag('seed', f.seed, 0) ?? DEFAULT_SEED;
    // Arguments checked; the output location next, before any work.
    const staged = stageOutput(outDir, {
      force: f.force === true,
      inputs: [refDir, ...(typeof f.embeddings === 'string' ? [f.embeddings] : [])],
    });
    try {
      const embeddings =
        typeof f.embeddings === 'string' ? readEmbeddings(f.embeddings).matrix : undefined;
      const imported = await importReference(await sourceFromDir(refDir), {
        embeddings,
        signal: io.signal,
      });
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
      await writeFiles(staged.staging, files);
      staged.commit();
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
    } finally {
      staged.abandon(); // nothing to do once committed
    }
  },
};
