/**
 * Row-level questions of the explorer: the facts every map point is coloured and filtered by,
 * search by file name or item number, and one item up close (its clusters, why it was or was
 * not kept, its nearest neighbours in the embedding).
 */
import type { Db } from '../store/db';
import { getEdits } from '../store/edits';
import { getDedup, type DedupData } from '../store/dedup';
import { getItems } from '../store/records';
import type { ItemRecord, RunRecord } from '../store/schema';
import type { DuplicateOf, ItemDetail, Neighbour, RowFacts, SearchHit } from './contract';
import { toItemInfo } from './convert';
import { itemsOfRows, type ExploreIndex } from './inspect';
import { loadRunMatrix } from './run-data';

/** Item records of every row, in row order (one read of the items store). */
async function rowRecords(db: Db, run: RunRecord, index: ExploreIndex): Promise<ItemRecord[]> {
  const recs = await getItems(db, run.datasetId, index.rowItems);
  return recs.map((r, i) => {
    if (!r) throw new Error(`item of row ${i} is missing from the database`);
    return r;
  });
}

export async function rowFacts(db: Db, run: RunRecord, index: ExploreIndex): Promise<RowFacts> {
  const recs = await rowRecords(db, run, index);
  const labels = [
    ...new Set(recs.map((r) => r.label).filter((l): l is string => l !== null)),
  ].sort();
  const at = new Map(labels.map((l, i) => [l, i]));
  const labelOfRow = Int32Array.from(recs, (r) =>
    r.label === null ? -1 : (at.get(r.label) ?? -1),
  );
  // Level t's labels index clusters of level t - 1: follow them down to one id per row.
  const clusters: Int32Array[] = [];
  for (let t = 0; t < index.levels.length; t++) {
    const l = index.levels[t].labels;
    clusters.push(t === 0 ? l.slice() : Int32Array.from(clusters[t - 1], (c) => l[c]));
  }
  const n = index.rowItems.length;
  const dup = run.settings.dedup != null ? await getDedup(db, run.id) : undefined;
  const duplicateGroup = dup?.group.length === n ? dup.group.slice() : new Int32Array(n).fill(-1);
  const setAside = new Uint8Array(n);
  if (dup?.keep.length === n) for (let r = 0; r < n; r++) setAside[r] = dup.keep[r] ? 0 : 1;
  return {
    clusters,
    labels,
    labelOfRow,
    selected: index.selected.slice(),
    sampled: index.sampled.slice(),
    dist2: index.levels[0]?.dist2.slice() ?? new Float32Array(n),
    duplicateGroup,
    setAside,
  };
}

/** The near-duplicate group `row` belongs to, seen from that row; null when it is in none. */
async function duplicatesOf(
  db: Db,
  index: ExploreIndex,
  datasetId: string,
  dup: DedupData | undefined,
  row: number,
): Promise<DuplicateOf | null> {
  const g = dup?.group[row] ?? -1;
  if (!dup || g < 0) return null;
  let size = 0;
  for (let r = 0; r < dup.group.length; r++) if (dup.group[r] === g) size++;
  const representative = dup.representative[g];
  const [rep] = await itemsOfRows(db, index, datasetId, [representative]);
  return {
    group: g,
    size,
    representative,
    representativeName: rep?.name ?? `item ${representative}`,
  };
}

export async function searchRows(
  db: Db,
  run: RunRecord,
  index: ExploreIndex,
  query: string,
  limit: number,
): Promise<SearchHit[]> {
  const q = query.trim().toLowerCase();
  if (!q) return [];
  const recs = await rowRecords(db, run, index);
  const byNumber = /^#?\d+$/.test(q) ? Number(q.replace('#', '')) : -1;
  const exact: SearchHit[] = [];
  const partial: SearchHit[] = [];
  recs.forEach((r, row) => {
    if (exact.length + partial.length >= limit * 4) return;
    const path = r.path.toLowerCase();
    if (
      r.index === byNumber ||
      r.name.toLowerCase() === q ||
      (q.length >= 8 && r.hash.startsWith(q))
    ) {
      exact.push({ row, item: toItemInfo(r) });
    } else if (path.includes(q)) partial.push({ row, item: toItemInfo(r) });
  });
  return [...exact, ...partial].slice(0, limit);
}

/** The `k` rows nearest to `row` in the normalised embedding (one pass over the matrix). */
async function neighbours(
  db: Db,
  run: RunRecord,
  index: ExploreIndex,
  row: number,
  k: number,
): Promise<Neighbour[]> {
  if (k <= 0) return [];
  const m = await loadRunMatrix(db, run);
  const { data, rows, cols } = m;
  const best: { row: number; d: number }[] = [];
  const o = row * cols;
  for (let i = 0; i < rows; i++) {
    if (i === row) continue;
    let s = 0;
    const p = i * cols;
    for (let j = 0; j < cols; j++) {
      const d = data[p + j] - data[o + j];
      s += d * d;
    }
    if (best.length < k || s < best[best.length - 1].d) {
      best.push({ row: i, d: s });
      best.sort((a, b) => a.d - b.d);
      if (best.length > k) best.pop();
    }
  }
  const items = await itemsOfRows(
    db,
    index,
    run.datasetId,
    best.map((b) => b.row),
  );
  return best.map((b, i) => ({
    row: b.row,
    item: items[i],
    distance: Math.sqrt(b.d),
    selected: index.selected[b.row] === 1,
  }));
}

export async function itemDetail(
  db: Db,
  run: RunRecord,
  index: ExploreIndex,
  row: number,
  k: number,
): Promise<ItemDetail> {
  const [item] = await itemsOfRows(db, index, run.datasetId, [row]);
  const clusters: number[] = [];
  for (let t = 0; t < index.levels.length; t++) {
    clusters.push(index.levels[t].labels[t === 0 ? row : clusters[t - 1]]);
  }
  const selected = index.selected[row] === 1;
  const sampled = index.sampled[row] === 1;
  const c1 = clusters[0];
  const size = c1 === undefined ? 0 : index.raw[0][c1];
  const kept = c1 === undefined ? 0 : index.picked[0][c1];
  const edits = (await getEdits(db, run.id))?.applied ?? [];
  const last = [...edits].reverse().find((e) => e.rows.includes(row));
  const dup = run.settings.dedup != null ? await getDedup(db, run.id) : undefined;
  const duplicates = await duplicatesOf(db, index, run.datasetId, dup, row);
  let why: string;
  if (last) {
    why = `You ${last.action === 'include' ? 'included' : 'excluded'} it by hand (${last.what}).`;
    why += sampled
      ? ' The balanced sampling had kept it.'
      : ' The balanced sampling had left it out.';
  } else if (dup && !dup.keep[row] && duplicates) {
    why = `Set aside as a near-duplicate of ${duplicates.representativeName} (similarity ${dup.threshold} or more), which stayed in the pool; it was not clustered.`;
  } else if (sampled) {
    why = `Kept by the balanced sampling: its level-1 cluster #${c1} holds ${size} items and ${kept} of them were kept (picked ${run.settings.leafStrategy === 'random' ? 'at random' : run.settings.leafStrategy === 'closest' ? 'closest to the centre first' : 'furthest from the centre first'}).`;
  } else if (c1 !== undefined) {
    why = `Left out by the balanced sampling: its level-1 cluster #${c1} holds ${size} items and only ${kept} were kept, so clusters stay even.`;
  } else why = 'Not clustered yet.';
  return {
    row,
    item,
    clusters,
    distance: Math.sqrt(Math.max(0, index.levels[0]?.dist2[row] ?? 0)),
    selected,
    sampled,
    why,
    neighbours: await neighbours(db, run, index, row, k),
    duplicates,
  };
}
