/**
 * A run's stored data as the core sees it: its levels (for sampling and the explorer) and its
 * matrix of rows, normalised as its settings say (for clustering and the map).
 */
import type { Level, Matrix } from '../core';
import { readI32, type Db } from '../store/db';
import { gatherMatrix } from '../store/embeddings';
import { unpackClusters, type LevelData } from '../store/levels';
import type { RunRecord } from '../store/schema';
import { normaliseRows } from './normalise';
import { embeddingKey } from './settings';

/** A stored level as the core sees it (centroids optional: sampling needs only the clusters). */
export function toCoreLevel(l: LevelData): Level {
  return {
    k: l.k,
    centroids: { data: l.centroids, rows: l.centroids.length > 0 ? l.k : 0, cols: l.cols },
    labels: l.labels,
    dist2: l.dist2,
    clusters: unpackClusters(l.members, l.offsets),
  };
}

/**
 * The rows the run clusters (one per embedded item, in `rowItems` order), normalised as the
 * settings say, or as stored with `raw` (the dedup stage normalises its own way, whatever the
 * settings, so a folder and an .npy of the same embeddings give the same groups).
 */
export async function loadRunMatrix(
  db: Db,
  run: RunRecord,
  opts: { raw?: boolean } = {},
): Promise<Matrix> {
  if (!run.rowItems) throw new Error('the embed stage left no row list');
  const rowItems = await readI32(db, run.rowItems);
  const { data, dim } = await gatherMatrix(db, run.datasetId, embeddingKey(run.settings), rowItems);
  if (!opts.raw) await normaliseRows(data, rowItems.length, dim, run.settings.normalisation);
  return { data, rows: rowItems.length, cols: dim };
}
