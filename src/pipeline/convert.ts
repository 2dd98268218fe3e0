/** Store records -> the public shapes of api.ts (copies, so callers cannot change stored data). */
import type { DatasetInfo, ItemInfo, RunInfo } from './contract';
import type { DatasetRecord, ItemRecord, RunRecord } from '../store/schema';

export function toDatasetInfo(d: DatasetRecord): DatasetInfo {
  return {
    id: d.id,
    name: d.name,
    source: d.source,
    storage: d.storage,
    halfEmbeddings: d.halfEmbeddings === true,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    itemCount: d.itemCount,
    bytes: d.bytes,
    labels: [...d.labels],
    ...(d.dim !== undefined ? { dim: d.dim } : {}),
    include: [...d.include],
    exclude: [...d.exclude],
    complete: d.complete !== false,
  };
}

export function toItemInfo(i: ItemRecord): ItemInfo {
  return {
    datasetId: i.datasetId,
    index: i.index,
    path: i.path,
    name: i.name,
    size: i.size,
    type: i.type,
    lastModified: i.lastModified,
    hash: i.hash,
    label: i.label,
  };
}

export function toRunInfo(r: RunRecord): RunInfo {
  const { rowItems: _rowItems, ...rest } = r;
  return structuredClone(rest);
}
