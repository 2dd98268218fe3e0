/**
 * State of the explore views for one finished run: the cluster tree path the person drilled
 * into, thumbnails (object URLs of stored blobs, released on dispose), and the chart data. Each
 * piece loads on its own so one failure (say, the projection) leaves the others usable.
 * Linked views: the map's lasso, the search box and the label / cluster / status / near-duplicate
 * filters make one set of rows that the map, the cluster cards and the results grid all show;
 * hands-on edits (include / exclude) go through the Workspace and every count is reloaded after
 * each.
 */
import { SvelteMap } from 'svelte/reactivity';
import type {
  BalanceReport,
  ClusterDetail,
  ClusterItem,
  ClusterSummary,
  CurationEdits,
  EditAction,
  ItemDetail,
  ItemInfo,
  Projection,
  RowFacts,
  RunInfo,
  SizeDistribution,
  WorkspaceApi,
} from '../../pipeline/contract';
import type { ColourBy } from './colours';
import { describeError, type UiError } from '../lib/errors';

/** Items fetched for the open cluster's grid; a grid of 60 covers a desktop screen twice. */
export const GRID_LIMIT = 60;
/** Thumbnails in a cluster card's mosaic. */
export const PREVIEW_LIMIT = 4;

/** Items fetched per page of the results grid as the person scrolls. */
export const RESULTS_PAGE = 120;

export type StatusFilter = 'any' | 'curated' | 'left-out' | 'edited';
/** near-duplicates: any row, rows set aside, rows in any group, or one group (its id) */
export type DuplicateFilter = 'any' | 'set-aside' | 'grouped' | number;

type Loadable<T> =
  { state: 'loading' } | { state: 'ready'; value: T } | { state: 'error'; error: UiError };

export class Explorer {
  /** the run as it is now: hands-on edits change its `selected` count */
  run = $state() as RunInfo;
  readonly #ws: WorkspaceApi;

  facts = $state.raw<RowFacts | null>(null);
  layout = $state<Loadable<Projection> | null>(null);
  mapKind = $state<'pca' | 'layout'>('pca');
  colourBy = $state<ColourBy>('curated');

  /** rows lassoed (or clicked) on the map; null = no map selection */
  mapSelection = $state.raw<Int32Array | null>(null);
  /** folder label index to keep (-1 = at the top of the folder), null = any */
  labelFilter = $state<number | null>(null);
  /** top-level cluster id to keep, null = any */
  clusterFilter = $state<number | null>(null);
  statusFilter = $state<StatusFilter>('any');
  duplicateFilter = $state<DuplicateFilter>('any');
  query = $state('');
  /** rows matching the search box; null when the box is empty */
  searchRows = $state.raw<Int32Array | null>(null);
  searching = $state(false);
  /** items of the filtered rows loaded so far, in row order */
  results = $state.raw<ClusterItem[]>([]);
  detail = $state<Loadable<ItemDetail> | null>(null);
  edits = $state<CurationEdits>({ applied: [], undone: [] });
  editError = $state<UiError | null>(null);
  editing = $state(false);

  k = $state<readonly number[]>([]);
  top = $state<ClusterSummary[]>([]);
  /** drilled clusters from the top level down; the last one is open */
  path = $state<ClusterDetail[]>([]);
  treeState = $state<'loading' | 'ready'>('loading');
  treeError = $state<UiError | null>(null);

  balance = $state<Loadable<BalanceReport | null>>({ state: 'loading' });
  sizes = $state<Loadable<SizeDistribution>>({ state: 'loading' });
  projection = $state<Loadable<Projection> | null>(null);

  /** item index -> object URL of its thumbnail ('' when it has none) */
  readonly thumbs = new SvelteMap<number, string>();
  /** `${level}:${id}` -> first items of that cluster, for card mosaics */
  readonly previews = new SvelteMap<string, readonly ItemInfo[]>();
  // Bookkeeping of requests in flight: nothing renders from these, so they stay plain Sets.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  #pendingThumbs = new Set<number>();
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  #pendingPreviews = new Set<string>();
  #disposed = false;

  constructor(ws: WorkspaceApi, run: RunInfo) {
    this.#ws = ws;
    this.run = run;
  }

  get current(): ClusterDetail | null {
    return this.path.at(-1) ?? null;
  }

  /** Clusters shown as cards: the top level, or the children of the open cluster. */
  get cards(): readonly ClusterSummary[] {
    return this.current ? this.current.children : this.top;
  }

  get levelCount(): number {
    return this.k.length;
  }

  /** Rows passing every active filter (ascending), or null when no filter is on. */
  get filtered(): Int32Array | null {
    const f = this.facts;
    const sel = this.mapSelection;
    const hits = this.searchRows;
    const label = this.labelFilter;
    const cluster = this.clusterFilter;
    const status = this.statusFilter;
    const dup = this.duplicateFilter;
    if (
      !f ||
      (!sel && !hits && label === null && cluster === null && status === 'any' && dup === 'any')
    ) {
      return null;
    }
    const top = f.clusters[f.clusters.length - 1];
    const ok = (r: number): boolean =>
      (label === null || f.labelOfRow[r] === label) &&
      (cluster === null || top?.[r] === cluster) &&
      (status === 'any' ||
        (status === 'curated' && f.selected[r] === 1) ||
        (status === 'left-out' && f.selected[r] === 0) ||
        (status === 'edited' && f.selected[r] !== f.sampled[r])) &&
      (dup === 'any' ||
        (dup === 'set-aside' && f.setAside[r] === 1) ||
        (dup === 'grouped' && f.duplicateGroup[r] >= 0) ||
        f.duplicateGroup[r] === dup);
    let base: Int32Array | null = sel;
    if (hits) {
      if (base) {
        // A throwaway lookup inside a getter; nothing renders from it.
        // eslint-disable-next-line svelte/prefer-svelte-reactivity
        const inSel = new Set(base);
        base = hits.filter((r) => inSel.has(r));
      } else base = hits;
    }
    if (base) return base.filter(ok);
    const out: number[] = [];
    for (let r = 0; r < f.selected.length; r++) if (ok(r)) out.push(r);
    return Int32Array.from(out);
  }

  /** Rows under the open cluster, for the map to emphasise (the tree -> map link). */
  get openRows(): Uint8Array | null {
    const f = this.facts;
    const c = this.current;
    if (!f || !c) return null;
    const ids = f.clusters[c.level - 1];
    if (!ids) return null;
    const out = new Uint8Array(ids.length);
    for (let r = 0; r < ids.length; r++) if (ids[r] === c.id) out[r] = 1;
    return out;
  }

  async load(): Promise<void> {
    const ws = this.#ws;
    const id = this.run.id;
    void this.#loadFacts();
    void ws.edits(id).then(
      (e) => (this.edits = e),
      () => undefined,
    );
    try {
      const [levels, top] = await Promise.all([ws.levels(id), ws.topClusters(id)]);
      this.k = levels.k;
      this.top = top;
      this.treeState = 'ready';
    } catch (e) {
      this.treeError = describeError(e, 'load the cluster tree');
      this.treeState = 'ready';
    }
    void ws.balance(id).then(
      (value) => (this.balance = { state: 'ready', value }),
      (e) => (this.balance = { state: 'error', error: describeError(e, 'measure label balance') }),
    );
    void ws.sizeDistribution(id).then(
      (value) => (this.sizes = { state: 'ready', value }),
      (e) => (this.sizes = { state: 'error', error: describeError(e, 'count cluster sizes') }),
    );
  }

  async #loadFacts(): Promise<void> {
    try {
      this.facts = await this.#ws.rowFacts(this.run.id);
    } catch (e) {
      this.treeError = describeError(e, 'read the items of this run');
    }
  }

  /** The neighbourhood map: computed once in the background, then read from storage. */
  async loadLayout(): Promise<void> {
    if (this.layout && this.layout.state !== 'error') return;
    this.layout = { state: 'loading' };
    try {
      this.layout = { state: 'ready', value: await this.#ws.layout(this.run.id) };
    } catch (e) {
      this.layout = { state: 'error', error: describeError(e, 'compute the neighbourhood map') };
    }
  }

  /** The file name of a row, for the map's hover label. */
  async describe(row: number): Promise<string> {
    const [item] = await this.#ws.itemsForRows(this.run.id, [row]);
    return item ? item.path : `row ${row}`;
  }

  clearFilters(): void {
    this.mapSelection = null;
    this.labelFilter = null;
    this.clusterFilter = null;
    this.statusFilter = 'any';
    this.duplicateFilter = 'any';
    this.query = '';
    this.searchRows = null;
  }

  #searchToken = 0;
  /** Search by file name, path, item number or hash; an empty query clears it. */
  async search(query: string): Promise<void> {
    this.query = query;
    const mine = ++this.#searchToken;
    if (!query.trim()) {
      this.searchRows = null;
      return;
    }
    this.searching = true;
    try {
      const hits = await this.#ws.search(this.run.id, query, 500);
      if (mine === this.#searchToken) this.searchRows = Int32Array.from(hits, (h) => h.row);
    } catch (e) {
      this.treeError = describeError(e, 'search');
    } finally {
      if (mine === this.#searchToken) this.searching = false;
    }
  }

  #resultsToken = 0;
  /** Load the first page (or, with `more`, the next page) of the filtered rows' items. */
  async loadResults(more = false): Promise<void> {
    const rows = this.filtered;
    const mine = more ? this.#resultsToken : ++this.#resultsToken;
    if (!rows) {
      this.results = [];
      return;
    }
    const start = more ? this.results.length : 0;
    if (more && start >= rows.length) return;
    const page = rows.subarray(start, start + RESULTS_PAGE);
    try {
      const items = await this.#ws.itemsForRows(this.run.id, page);
      if (mine !== this.#resultsToken) return;
      const f = this.facts;
      const next = Array.from(page, (row, i) => ({
        row,
        item: items[i],
        dist2: f?.dist2[row] ?? 0,
        selected: f?.selected[row] === 1,
      }));
      this.results = more ? [...this.results, ...next] : next;
      this.requestThumbs(items);
    } catch (e) {
      this.treeError = describeError(e, 'list the matching items');
    }
  }

  async openDetail(row: number): Promise<void> {
    this.detail = { state: 'loading' };
    try {
      const d = await this.#ws.itemDetail(this.run.id, row);
      this.detail = { state: 'ready', value: d };
      this.requestThumbs([d.item, ...d.neighbours.map((n) => n.item)]);
    } catch (e) {
      this.detail = { state: 'error', error: describeError(e, 'open that item') };
    }
  }

  closeDetail(): void {
    this.detail = null;
  }

  /** An item's file for the large view: its stored copy, or read from its folder. */
  file(item: ItemInfo): Promise<Blob | undefined> {
    return this.#ws.file(item.datasetId, item.index);
  }

  /** Whether the item's folder can be read once the person allows it (after a reload). */
  async folderAsks(item: ItemInfo): Promise<boolean> {
    return (await this.#ws.folderAccess(item.datasetId)) === 'ask';
  }

  /** Ask the browser to read the item's folder again (from a click); true if allowed. */
  allowFolder(item: ItemInfo): Promise<boolean> {
    return this.#ws.allowFolder(item.datasetId);
  }

  /** Include or exclude rows by hand, then reload every count that depends on the subset. */
  async edit(action: EditAction, rows: ArrayLike<number>, what: string): Promise<void> {
    await this.#change(() => this.#ws.edit(this.run.id, action, rows, what), 'change the subset');
  }

  async undo(): Promise<void> {
    await this.#change(() => this.#ws.undoEdit(this.run.id), 'undo');
  }

  async redo(): Promise<void> {
    await this.#change(() => this.#ws.redoEdit(this.run.id), 'redo');
  }

  async #change(fn: () => Promise<RunInfo>, what: string): Promise<void> {
    this.editing = true;
    this.editError = null;
    try {
      this.run = await fn();
      await this.#refresh();
    } catch (e) {
      this.editError = describeError(e, what);
    } finally {
      this.editing = false;
    }
  }

  /** After an edit: counts, charts, facts, the open clusters and the results grid again. */
  async #refresh(): Promise<void> {
    const ws = this.#ws;
    const id = this.run.id;
    const [edits, facts, top, balance, sizes] = await Promise.all([
      ws.edits(id),
      ws.rowFacts(id),
      ws.topClusters(id),
      ws.balance(id),
      ws.sizeDistribution(id),
    ]);
    this.edits = edits;
    this.facts = facts;
    this.top = top;
    this.balance = { state: 'ready', value: balance };
    this.sizes = { state: 'ready', value: sizes };
    this.path = await Promise.all(this.path.map((d) => ws.cluster(id, d.level, d.id, GRID_LIMIT)));
    if (this.detail?.state === 'ready') await this.openDetail(this.detail.value.row);
    const withSel = (p: Loadable<Projection> | null): Loadable<Projection> | null =>
      p?.state === 'ready'
        ? { state: 'ready', value: { ...p.value, selected: facts.selected } }
        : p;
    this.projection = withSel(this.projection);
    this.layout = withSel(this.layout);
    const shown = this.results.length;
    if (shown > 0) {
      await this.loadResults();
      while (this.results.length < shown && this.results.length < (this.filtered?.length ?? 0)) {
        const before = this.results.length;
        await this.loadResults(true);
        if (this.results.length === before) break;
      }
    }
  }

  /** The map needs a pass over every embedding: computed only when the person opens it. */
  async loadProjection(): Promise<void> {
    if (this.projection && this.projection.state !== 'error') return;
    this.projection = { state: 'loading' };
    try {
      this.projection = { state: 'ready', value: await this.#ws.projection(this.run.id) };
    } catch (e) {
      this.projection = { state: 'error', error: describeError(e, 'draw the map') };
    }
  }

  async open(cluster: ClusterSummary): Promise<void> {
    this.treeError = null;
    try {
      // Every item of a level-1 cluster (the grid is virtualised); a preview mix above.
      const limit = cluster.level === 1 ? Math.max(GRID_LIMIT, cluster.size) : GRID_LIMIT;
      const detail = await this.#ws.cluster(this.run.id, cluster.level, cluster.id, limit);
      this.path = [...this.path, detail];
    } catch (e) {
      this.treeError = describeError(e, 'open that cluster');
    }
  }

  /** Back to depth `depth` (0 = the top level). */
  up(depth: number): void {
    this.path = this.path.slice(0, depth);
  }

  requestPreview(cluster: ClusterSummary): void {
    const key = `${cluster.level}:${cluster.id}`;
    if (this.previews.has(key) || this.#pendingPreviews.has(key)) return;
    this.#pendingPreviews.add(key);
    this.#ws.cluster(this.run.id, cluster.level, cluster.id, PREVIEW_LIMIT).then(
      (d) => {
        if (this.#disposed) return;
        const items = d.items.map((i) => i.item);
        this.previews.set(key, items);
        this.requestThumbs(items);
      },
      () => this.previews.set(key, []),
    );
  }

  /** map row -> item index, for rows whose thumbnail the map asked for */
  readonly #rowItem = new SvelteMap<number, number>();
  #rowToken = 0;

  /** Thumbnail URL of a map row ('' none, undefined not loaded yet). */
  rowThumb(row: number): string | undefined {
    const index = this.#rowItem.get(row);
    return index === undefined ? undefined : this.thumbs.get(index);
  }

  /**
   * The rows the zoomed-in map shows: their items, then their thumbnails. A newer call (the
   * person panned on) supersedes one whose item lookup is still in flight.
   */
  async requestRowThumbs(rows: readonly number[]): Promise<void> {
    const missing = rows.filter((r) => !this.#rowItem.has(r));
    if (missing.length === 0) return;
    const mine = ++this.#rowToken;
    const items = await this.#ws.itemsForRows(this.run.id, missing).catch(() => []);
    if (this.#disposed || mine !== this.#rowToken) return;
    items.forEach((item, i) => this.#rowItem.set(missing[i], item.index));
    this.requestThumbs(items);
  }

  requestThumbs(items: readonly ItemInfo[]): void {
    for (const item of items) {
      const index = item.index;
      if (this.thumbs.has(index) || this.#pendingThumbs.has(index)) continue;
      this.#pendingThumbs.add(index);
      this.#ws.thumbnail(item.datasetId, index).then(
        (blob) => {
          this.#pendingThumbs.delete(index);
          if (this.#disposed) return;
          this.thumbs.set(index, blob ? URL.createObjectURL(blob) : '');
        },
        () => {
          this.#pendingThumbs.delete(index);
          this.thumbs.set(index, '');
        },
      );
    }
  }

  dispose(): void {
    this.#disposed = true;
    for (const url of this.thumbs.values()) if (url) URL.revokeObjectURL(url);
    this.thumbs.clear();
  }
}
