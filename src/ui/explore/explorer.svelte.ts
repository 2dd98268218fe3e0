/**
 * State of the explore views for one finished run: the cluster tree path the person drilled
 * into, thumbnails (object URLs of stored blobs, released on dispose), and the chart data. Each
 * piece loads on its own so one failure (say, the projection) leaves the others usable.
 */
import { SvelteMap } from 'svelte/reactivity';
import type {
  BalanceReport,
  ClusterDetail,
  ClusterSummary,
  ItemInfo,
  Projection,
  RunInfo,
  SizeDistribution,
  WorkspaceApi,
} from '../../pipeline/contract';
import { describeError, type UiError } from '../lib/errors';

/** Items fetched for the open cluster's grid; a grid of 60 covers a desktop screen twice. */
export const GRID_LIMIT = 60;
/** Thumbnails in a cluster card's mosaic. */
export const PREVIEW_LIMIT = 4;

type Loadable<T> =
  { state: 'loading' } | { state: 'ready'; value: T } | { state: 'error'; error: UiError };

export class Explorer {
  readonly run: RunInfo;
  readonly #ws: WorkspaceApi;

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

  async load(): Promise<void> {
    const ws = this.#ws;
    const id = this.run.id;
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
      const detail = await this.#ws.cluster(this.run.id, cluster.level, cluster.id, GRID_LIMIT);
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
