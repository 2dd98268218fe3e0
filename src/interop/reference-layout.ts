/**
 * Strata's results in the reference pipeline's output layout, so its tools (and numpy) read them:
 *
 *   level{t}/centroids.npy          k_t x d float32
 *   level{t}/sorted_clusters.npy    object array of int64 arrays, closest member first (pickled
 *                                   exactly as np.save(..., allow_pickle=True) writes it)
 *   curated_datasets/{name}.npy     int64 row indices of the selection, ascending
 *   selection.npy                   the same indices (Strata's own name for them)
 *   config.yaml                     the settings in the launcher's vocabulary (when given)
 *
 * Pure: the page zips these files or writes them into a picked folder; Node writes them to disk.
 */
import type { Hierarchy, HierarchyConfig } from '../core/hierarchy.ts';
import { npyHeader } from '../core/npy.ts';
import { referenceConfigYaml, toReferenceConfig, type ClusterSettings } from './config.ts';
import { bytesFile, textFile, type BundleFile } from './files.ts';
import { encodeIndexNpy, encodeSortedClustersNpy } from './sorted-clusters.ts';

export interface LayoutOptions {
  /** the curated subset (raw row indices) */
  readonly selection?: Int32Array;
  /** file name of the selection inside curated_datasets/ (default strata_{n}.npy) */
  readonly selectionName?: string;
  /** the settings of the run, written as config.yaml */
  readonly config?: HierarchyConfig;
  readonly cluster?: ClusterSettings;
}

/** The files of the reference layout for a Strata hierarchy (and selection). */
export function referenceLayoutFiles(h: Hierarchy, options: LayoutOptions = {}): BundleFile[] {
  const files: BundleFile[] = [];
  h.levels.forEach((level, t) => {
    const c = level.centroids;
    const header = npyHeader('float32', [c.rows, c.cols]);
    files.push({
      path: `level${t + 1}/centroids.npy`,
      size: header.length + c.data.byteLength,
      async *content() {
        yield header;
        yield new Uint8Array(c.data.buffer, c.data.byteOffset, c.data.byteLength);
      },
    });
    files.push(
      bytesFile(`level${t + 1}/sorted_clusters.npy`, encodeSortedClustersNpy(level.clusters)),
    );
  });
  if (options.selection) {
    const sorted = Int32Array.from(options.selection).sort();
    const bytes = encodeIndexNpy(sorted);
    const name = options.selectionName ?? `strata_${sorted.length}.npy`;
    files.push(bytesFile(`curated_datasets/${name}`, bytes), bytesFile('selection.npy', bytes));
  }
  if (options.config) {
    files.push(
      textFile(
        'config.yaml',
        referenceConfigYaml(toReferenceConfig(options.config, options.cluster)),
      ),
    );
  }
  return files;
}
