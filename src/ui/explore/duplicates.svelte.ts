/**
 * State of the explorer's "duplicates" view: pages of the run's near-duplicate groups with their
 * items, thumbnails through the Explorer (which owns and releases them), and "keep anyway",
 * which is an ordinary include edit (undoable like any other).
 */
import { SvelteMap } from 'svelte/reactivity';
import type { DuplicateGroups, ItemInfo, WorkspaceApi } from '../../pipeline/contract';
import { describeError, type UiError } from '../lib/errors';
import type { Explorer } from './explorer.svelte';

/** Groups per page: 20 groups of a few thumbnails each fill a screen or two. */
export const GROUPS_PAGE = 20;

export class Duplicates {
  page = $state.raw<DuplicateGroups | null>(null);
  state = $state<'loading' | 'ready'>('loading');
  error = $state<UiError | null>(null);
  /** row -> item, for the rows of the loaded groups */
  readonly items = new SvelteMap<number, ItemInfo>();
  readonly #ws: WorkspaceApi;
  readonly #explorer: Explorer;

  constructor(ws: WorkspaceApi, explorer: Explorer) {
    this.#ws = ws;
    this.#explorer = explorer;
  }

  /** The first page, or with `more` the next one appended. */
  async load(more = false): Promise<void> {
    const runId = this.#explorer.run.id;
    const offset = more ? (this.page?.groups.length ?? 0) : 0;
    try {
      const next = await this.#ws.duplicates(runId, offset, GROUPS_PAGE);
      if (next) {
        const rows = next.groups.flatMap((g) => g.rows);
        const items = await this.#ws.itemsForRows(runId, rows);
        rows.forEach((r, i) => this.items.set(r, items[i]));
        this.#explorer.requestThumbs(items);
      }
      this.page =
        more && this.page && next
          ? { ...next, groups: [...this.page.groups, ...next.groups] }
          : next;
      this.error = null;
    } catch (e) {
      this.error = describeError(e, 'list the near-duplicates');
    } finally {
      this.state = 'ready';
    }
  }

  /** Bring every set-aside member of a group back into the curated subset. */
  keepAnyway(rows: readonly number[], representative: number): Promise<void> {
    const name = this.items.get(representative)?.name ?? `item ${representative}`;
    const back = rows.filter((r) => r !== representative);
    return this.#explorer.edit('include', back, `near-duplicates of ${name}`);
  }
}
