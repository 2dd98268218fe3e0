/**
 * What a finished (or partly finished) run holds, for the explorer: the cluster tree with raw and selected counts at every level, items under a
 * cluster, label balance and cluster sizes. Built from stored levels (never their centroids) and
 * kept in memory per run, since a person clicks through many clusters of the same run.
 */
import { labelBalance, labelSeparation, randomSubsetEntropySliced, rawCounts, Rng } from '../core';
import { readI32, type Db } from '../store/db';
import { getLevels, levelKs, type LevelData } from '../store/levels';
import { getProjection, putLayout, putProjection } from '../store/projections';
import { getItems, getRunRecord, getSelection } from '../store/records';
import type { RunRecord } from '../store/schema';
import type {
  BalanceReport,
  ClusterDetail,
  ClusterItem,
  ClusterSummary,
  ItemInfo,
  LabelCounts,
  Projection,
  SizeDistribution,
} from './contract';
import { toItemInfo } from './convert';
import { curatedRows } from './edits';
import { UserInputError } from './errors';
import { loadRunMatrix, toCoreLevel } from './run-data';

/** Label shown for items that sat at the top of the dropped folder (no folder label). */
export const NO_LABEL = '(no folder)';

export class ExploreIndex {
  readonly levels: LevelData[];
  readonly rowItems: Int32Array;
  /** 1 where the row is in the curated subset */
  readonly selected: Uint8Array;
  readonly selectedRows: Int32Array;
  /** 1 where the balanced sampling chose the row (before the person's edits) */
  readonly sampled: Uint8Array;
  /** raw rows under each cluster, per level (index 0 = level 1) */
  readonly raw: Int32Array[];
  /** selected rows under each cluster, per level */
  readonly picked: Int32Array[];

  private constructor(
    levels: LevelData[],
    rowItems: Int32Array,
    selectedRows: Int32Array,
    sampledRows: Int32Array,
  ) {
    this.levels = levels;
    this.rowItems = rowItems;
    this.selectedRows = selectedRows;
    this.sampled = new Uint8Array(rowItems.length);
    for (const r of sampledRows) this.sampled[r] = 1;
    this.selected = new Uint8Array(rowItems.length);
    for (const r of selectedRows) this.selected[r] = 1;
    this.raw = levels.length ? rawCounts({ levels: levels.map(toCoreLevel) }) : [];
    this.picked = levels.map((l) => new Int32Array(l.k));
    if (levels.length) {
      for (const r of selectedRows) this.picked[0][levels[0].labels[r]]++;
      for (let t = 1; t < levels.length; t++) {
        const below = this.picked[t - 1];
        const labels = levels[t].labels;
        for (let j = 0; j < below.length; j++) this.picked[t][labels[j]] += below[j];
      }
    }
  }

  static async load(db: Db, run: RunRecord): Promise<ExploreIndex> {
    const levels = await getLevels(db, run.id, { centroids: false });
    const rowItems = run.rowItems ? await readI32(db, run.rowItems) : new Int32Array(0);
    const sel = await getSelection(db, run.id);
    const curated = (await curatedRows(db, run)) ?? new Int32Array(0);
    return new ExploreIndex(levels, rowItems, curated, sel?.rows ?? new Int32Array(0));
  }

  #check(level: number, id: number): LevelData {
    const l = this.levels[level - 1];
    if (!l) throw new RangeError(`level ${level} is not stored for this run`);
    if (!Number.isInteger(id) || id < 0 || id >= l.k) {
      throw new RangeError(`level ${level} has no cluster ${id}`);
    }
    return l;
  }

  members(level: number, id: number): Int32Array {
    const l = this.#check(level, id);
    return l.members.subarray(l.offsets[id], l.offsets[id + 1]);
  }

  summary(level: number, id: number): ClusterSummary {
    return {
      level,
      id,
      size: this.raw[level - 1][id],
      selected: this.picked[level - 1][id],
      childCount: level > 1 ? this.members(level, id).length : 0,
    };
  }

  /** Every cluster of the top stored level, largest first. */
  top(): ClusterSummary[] {
    const T = this.levels.length;
    if (T === 0) return [];
    const out: ClusterSummary[] = [];
    for (let j = 0; j < this.levels[T - 1].k; j++) out.push(this.summary(T, j));
    return out.sort((a, b) => b.size - a.size || a.id - b.id);
  }

  /**
   * Up to `limit` raw rows under a cluster: at level 1 closest to the centroid first; above,
   * taken in turn from each child (closest child first) so a preview shows the variety inside.
   */
  rowsUnder(level: number, id: number, limit: number): number[] {
    const m = this.members(level, id);
    if (level === 1) return Array.from(m.subarray(0, limit));
    const lists = Array.from(m, (child) => this.rowsUnder(level - 1, child, limit));
    const out: number[] = [];
    for (let i = 0; out.length < limit; i++) {
      let any = false;
      for (const list of lists) {
        if (i < list.length) {
          any = true;
          out.push(list[i]);
          if (out.length >= limit) break;
        }
      }
      if (!any) break;
    }
    return out;
  }
}

export async function clusterDetail(
  db: Db,
  index: ExploreIndex,
  datasetId: string,
  level: number,
  id: number,
  limit: number,
): Promise<ClusterDetail> {
  const summary = index.summary(level, id);
  const children =
    level > 1
      ? Array.from(index.members(level, id), (c) => index.summary(level - 1, c)).sort(
          (a, b) => b.size - a.size || a.id - b.id,
        )
      : [];
  const rows = index.rowsUnder(level, id, Math.max(0, limit));
  const items = await itemsOfRows(db, index, datasetId, rows);
  const dist2 = index.levels[0].dist2;
  const out: ClusterItem[] = rows.map((row, i) => ({
    row,
    item: items[i],
    dist2: dist2[row],
    selected: index.selected[row] === 1,
  }));
  return { ...summary, children, items: out };
}

export async function itemsOfRows(
  db: Db,
  index: ExploreIndex,
  datasetId: string,
  rows: ArrayLike<number>,
): Promise<ItemInfo[]> {
  const indices = Array.from(rows, (r) => {
    if (!Number.isInteger(r) || r < 0 || r >= index.rowItems.length) {
      throw new RangeError(`row ${r} is not part of this run`);
    }
    return index.rowItems[r];
  });
  const recs = await getItems(db, datasetId, indices);
  return recs.map((rec, i) => {
    if (!rec) throw new Error(`item ${indices[i]} of the run is missing from the database`);
    return toItemInfo(rec);
  });
}

function counts(
  labelOfRow: readonly string[],
  rows: ArrayLike<number>,
  labels: readonly string[],
): LabelCounts {
  const picked = Array.from(rows, (r) => labelOfRow[r]);
  const b = labelBalance(picked);
  const total = picked.length;
  // Normalised by the number of labels in the whole pool, so a subset that loses a label
  // scores lower instead of being judged only on the labels it kept.
  const norm = labels.length > 1 ? b.entropy / Math.log(labels.length) : 1;
  return {
    counts: labels.map((l) => b.counts[l] ?? 0),
    total,
    normalisedEntropy: total > 0 ? norm : 0,
    maxMinRatio: b.maxMinRatio,
  };
}

/** Pool, random subset of the same size (seeded by the run's seed) and curated subset. */
export async function balanceReport(
  db: Db,
  index: ExploreIndex,
  datasetId: string,
  seed: number,
): Promise<BalanceReport | null> {
  const n = index.rowItems.length;
  const recs = await getItems(db, datasetId, index.rowItems);
  if (!recs.some((r) => r?.label)) return null;
  const labelOfRow = recs.map((r) => r?.label ?? NO_LABEL);
  const labels = [...new Set(labelOfRow)].sort();
  if (labels.length < 2) return null;
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const m = index.selectedRows.length;
  const random = new Rng(Rng.derive(seed, 0x5eed)).sample(n, Math.min(m, n));
  const labelIndex = new Map(labels.map((l, i) => [l, i]));
  const ids = Int32Array.from(labelOfRow, (l) => labelIndex.get(l) ?? 0);
  const level1 = index.levels[0];
  // In slices: the spread's draws are the one long computation here (see SPREAD_SLICE).
  const randomSpread = await randomSubsetEntropySliced(
    ids,
    labels.length,
    m,
    new Rng(Rng.derive(seed, 0x5eee)),
  );
  return {
    labels,
    pool: counts(labelOfRow, all, labels),
    random: counts(labelOfRow, random, labels),
    curated: counts(labelOfRow, index.selectedRows, labels),
    randomSpread,
    separation: level1
      ? labelSeparation(
          ids,
          labels.length,
          level1.labels,
          level1.k,
          new Rng(Rng.derive(seed, 0x5eef)),
        )
      : { agreement: 0, chance: 0 },
  };
}

export function sizeDistribution(index: ExploreIndex): SizeDistribution {
  if (index.levels.length === 0) return { before: new Int32Array(0), after: new Int32Array(0) };
  return { before: index.raw[0].slice(), after: index.picked[0].slice() };
}

/** Computes a 2-D map of n x dim rows (the projection worker). */
export type Projector = (
  data: Float32Array,
  n: number,
  dim: number,
) => Promise<{ x: Float32Array; y: Float32Array }>;

/** Computes the neighbourhood-keeping layout of n x dim rows from a start map (the projection worker). */
export type LayoutMaker = (
  data: Float32Array,
  n: number,
  dim: number,
  seed: number,
  init: { x: Float32Array; y: Float32Array },
) => Promise<{ x: Float32Array; y: Float32Array }>;

/**
 * What a run holds, asked for by the explorer. Indexes of finished runs are kept in memory
 * (a person clicks through many clusters of the same run); a run still computing changes under
 * us, so its index is rebuilt on every question.
 */
export class RunInspector {
  readonly #db: Db;
  readonly #project: Projector;
  readonly #layout: LayoutMaker;
  readonly #cache = new Map<string, Promise<ExploreIndex>>();
  /** layouts being computed, so two views asking at once share one worker call */
  readonly #layouts = new Map<string, Promise<{ x: Float32Array; y: Float32Array }>>();

  constructor(db: Db, project: Projector, layout: LayoutMaker) {
    this.#db = db;
    this.#project = project;
    this.#layout = layout;
  }

  /** The run's cached explore index (for the row queries in inspect-rows.ts). */
  async index(runId: string): Promise<{ run: RunRecord; index: ExploreIndex }> {
    const run = await this.#run(runId);
    return { run, index: await this.#index(run) };
  }

  /** Drop a run's cached index (it is about to change, or is gone). */
  forget(runId: string): void {
    this.#cache.delete(runId);
  }

  async #run(runId: string): Promise<RunRecord> {
    const r = await getRunRecord(this.#db, runId);
    if (!r) throw new UserInputError('That run no longer exists.');
    return r;
  }

  #index(run: RunRecord): Promise<ExploreIndex> {
    if (run.status !== 'done') return ExploreIndex.load(this.#db, run);
    let p = this.#cache.get(run.id);
    if (!p) {
      p = ExploreIndex.load(this.#db, run);
      this.#cache.set(run.id, p);
      p.catch(() => this.#cache.delete(run.id));
    }
    return p;
  }

  async levels(runId: string): Promise<{ readonly k: readonly number[] }> {
    return { k: await levelKs(this.#db, runId) };
  }

  async topClusters(runId: string): Promise<ClusterSummary[]> {
    return (await this.#index(await this.#run(runId))).top();
  }

  async cluster(runId: string, level: number, id: number, limit: number): Promise<ClusterDetail> {
    const run = await this.#run(runId);
    return clusterDetail(this.#db, await this.#index(run), run.datasetId, level, id, limit);
  }

  async selection(runId: string): Promise<Int32Array> {
    return (await curatedRows(this.#db, await this.#run(runId)))?.slice() ?? new Int32Array(0);
  }

  async itemsForRows(runId: string, rows: ArrayLike<number>): Promise<ItemInfo[]> {
    const run = await this.#run(runId);
    return itemsOfRows(this.#db, await this.#index(run), run.datasetId, rows);
  }

  async balance(runId: string): Promise<BalanceReport | null> {
    const run = await this.#run(runId);
    return balanceReport(this.#db, await this.#index(run), run.datasetId, run.settings.seed);
  }

  async sizeDistribution(runId: string): Promise<SizeDistribution> {
    return sizeDistribution(await this.#index(await this.#run(runId)));
  }

  /** The stored 2-D map, computed in the projection worker on first use. */
  async projection(runId: string): Promise<Projection> {
    const run = await this.#run(runId);
    const index = await this.#index(run);
    let stored = await getProjection(this.#db, runId);
    if (!stored) {
      if (!run.rowItems) throw new UserInputError('This run has no embeddings yet.');
      const x = await loadRunMatrix(this.#db, run);
      const p = await this.#project(x.data, x.rows, x.cols);
      stored = { runId, x: p.x, y: p.y };
      await putProjection(this.#db, stored);
    }
    return { x: stored.x, y: stored.y, selected: index.selected.slice() };
  }

  /** The stored neighbourhood-keeping layout, computed in the projection worker on first use. */
  async layout(runId: string): Promise<Projection> {
    const pca = await this.projection(runId);
    const stored = await getProjection(this.#db, runId);
    if (stored?.layoutX && stored.layoutY) {
      return { x: stored.layoutX, y: stored.layoutY, selected: pca.selected };
    }
    let p = this.#layouts.get(runId);
    if (!p) {
      p = (async () => {
        const run = await this.#run(runId);
        const x = await loadRunMatrix(this.#db, run);
        const out = await this.#layout(x.data, x.rows, x.cols, run.settings.seed, {
          x: pca.x,
          y: pca.y,
        });
        await putLayout(this.#db, runId, out.x, out.y);
        return out;
      })();
      this.#layouts.set(runId, p);
      p.then(
        () => this.#layouts.delete(runId),
        () => this.#layouts.delete(runId),
      );
    }
    const out = await p;
    return { x: out.x, y: out.y, selected: pca.selected };
  }
}
