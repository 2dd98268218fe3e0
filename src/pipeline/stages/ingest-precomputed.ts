/**
 * Ingesting a precomputed matrix (.npy plus an optional ids file): read in the ingest worker a
 * slice of rows at a time, each slice stored as it arrives with its items and the dataset's
 * totals in one transaction, so an interrupted ingest leaves a consistent (incomplete) dataset
 * and a 1.5 GB matrix is never held whole on either side. A file that turns out unusable part
 * way (every row non-finite) leaves nothing behind.
 */
import { putPrecomputedChunk } from '../../store/embeddings';
import { deleteDatasetData, putDataset } from '../../store/records';
import type { DatasetRecord, ItemRecord } from '../../store/schema';
import { labelOf, nameOf } from '../../ingest/paths';
import type { PrecomputedChunk, PrecomputedSummary } from '../../ingest/service';
import type { IngestOptions, IngestReport } from '../contract';
import { toDatasetInfo } from '../convert';
import { PRECOMPUTED_MODEL } from '../settings';
import { Throughput } from '../throughput';
import type { IngestContext } from './ingest-store';

/** The ingest worker's reader: hands over slices of rows, resolves with the totals. */
export type ReadPrecomputed = (
  npy: File,
  ids: File | undefined,
  onChunk: (chunk: PrecomputedChunk) => Promise<void>,
) => Promise<PrecomputedSummary>;

export async function storePrecomputed(
  ctx: IngestContext,
  npy: File,
  ids: File | undefined,
  read: ReadPrecomputed,
  options: IngestOptions,
): Promise<IngestReport> {
  const now = Date.now();
  const base = npy.name.replace(/\.npy$/i, '');
  const dataset: DatasetRecord = {
    id: crypto.randomUUID(),
    name: options.name?.trim() || base || 'embeddings',
    source: 'precomputed',
    storage: 'none',
    ...(options.halfEmbeddings ? { halfEmbeddings: true } : {}),
    createdAt: now,
    updatedAt: now,
    itemCount: 0,
    bytes: 0,
    labels: [],
    include: [],
    exclude: [],
    nextIndex: 0,
    complete: false,
  };
  const labels = new Set<string>();
  const rate = new Throughput();
  let chunk = 0;
  const onChunk = async (c: PrecomputedChunk): Promise<void> => {
    options.signal?.throwIfAborted();
    const r0 = dataset.nextIndex;
    const items: ItemRecord[] = c.ids.map((path, i) => {
      const label = labelOf(path);
      if (label !== null) labels.add(label);
      return {
        datasetId: dataset.id,
        index: r0 + i,
        path,
        name: nameOf(path),
        size: 0,
        type: '',
        lastModified: 0,
        hash: '',
        label,
        hasThumb: false,
      };
    });
    const r1 = r0 + c.rows;
    dataset.dim = c.cols;
    dataset.nextIndex = r1;
    dataset.itemCount = r1;
    dataset.labels = [...labels].sort();
    dataset.updatedAt = Date.now();
    await putPrecomputedChunk(
      ctx.db,
      dataset,
      items,
      {
        datasetId: dataset.id,
        model: PRECOMPUTED_MODEL,
        chunk: chunk++,
        dim: c.cols,
        indices: Int32Array.from({ length: c.rows }, (_, i) => r0 + i),
        data: c.data,
      },
      dataset.halfEmbeddings === true,
    );
    rate.add(c.rows);
    ctx.emit({
      type: 'progress',
      datasetId: dataset.id,
      stage: 'ingest',
      done: c.read,
      total: c.total,
      itemsPerSecond: rate.perSecond(),
      etaSeconds: rate.eta(c.total - c.read),
      message: `storing embeddings: ${c.read} of ${c.total}`,
    });
  };
  let summary: PrecomputedSummary;
  try {
    summary = await read(npy, ids, onChunk);
  } catch (e) {
    // Slices stored before a late failure (all rows non-finite, a cancel) are not kept.
    if (chunk > 0) await deleteDatasetData(ctx.db, dataset.id);
    throw e;
  }
  dataset.dim = summary.cols;
  dataset.complete = true;
  await putDataset(ctx.db, dataset);
  ctx.emit({ type: 'datasets' });
  return {
    dataset: toDatasetInfo(dataset),
    added: summary.rows,
    removed: 0,
    unchanged: 0,
    skipped: summary.warnings.map((w) => ({ path: npy.name, reason: w })),
    emptyFolders: [],
  };
}
