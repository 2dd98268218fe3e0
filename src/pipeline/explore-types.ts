/**
 * What the explorer hears back about a run (part of the UI <-> pipeline contract; contract.ts
 * re-exports every type here): clusters and their items, balance and sizes, the maps, per-row
 * facts, item detail and the person's curation edits. Types only.
 */
/** Position of an item inside its dataset (stable across rescans: new files get new numbers). */
type ItemIndex = number;

export interface ItemInfo {
  readonly datasetId: string;
  readonly index: ItemIndex;
  /** path relative to the dropped/picked root, '/' separated, e.g. "cats/tabby 01.jpg" */
  readonly path: string;
  /** last path segment */
  readonly name: string;
  readonly size: number;
  /** MIME type reported by the browser ('' when unknown) */
  readonly type: string;
  readonly lastModified: number;
  /** lowercase hex SHA-256 of the file's bytes ('' for precomputed rows) */
  readonly hash: string;
  /** first folder of `path` (the "folder label", used only to measure balance); null at the root */
  readonly label: string | null;
}

/** A cluster of some level, seen from above: how many raw items it covers and how many were kept. */
export interface ClusterSummary {
  /** 1-based level; level 1 clusters hold items */
  readonly level: number;
  readonly id: number;
  /** raw items under this cluster */
  readonly size: number;
  /** of which selected in the curated subset */
  readonly selected: number;
  /** clusters of level - 1 under this one (empty at level 1) */
  readonly childCount: number;
}

export interface ClusterItem {
  /** row of the run's matrix */
  readonly row: number;
  readonly item: ItemInfo;
  /** squared distance to its level-1 centroid */
  readonly dist2: number;
  readonly selected: boolean;
}

export interface ClusterDetail extends ClusterSummary {
  /** children (level - 1), largest first; empty at level 1 */
  readonly children: readonly ClusterSummary[];
  /** up to `limit` raw items under this cluster, closest to their centroid first */
  readonly items: readonly ClusterItem[];
}

export interface LabelCounts {
  readonly counts: readonly number[];
  readonly total: number;
  /** Shannon entropy / ln(number of labels): 1 = perfectly balanced */
  readonly normalisedEntropy: number;
  /** largest count / smallest non-zero count */
  readonly maxMinRatio: number;
}

export interface BalanceReport {
  readonly labels: readonly string[];
  readonly pool: LabelCounts;
  /** a seeded uniform random subset of the same size as the curated one */
  readonly random: LabelCounts;
  readonly curated: LabelCounts;
  /** normalised entropy of many random subsets of the curated size: mean and spread */
  readonly randomSpread: { readonly mean: number; readonly sd: number; readonly draws: number };
  /**
   * how well the level-1 clusters follow the folder labels, against shuffled labels: near
   * chance, the embeddings do not tell the labels apart and no curation can balance them
   */
  readonly separation: { readonly agreement: number; readonly chance: number };
}

export interface SizeDistribution {
  /** raw items per level-1 cluster before curation */
  readonly before: Int32Array;
  /** selected items per level-1 cluster */
  readonly after: Int32Array;
}

/**
 * A 2-D map of the run's embeddings, one point per row: the principal components (`projection`)
 * or the neighbourhood-keeping layout (`layout`).
 */
export interface Projection {
  readonly x: Float32Array;
  readonly y: Float32Array;
  readonly selected: Uint8Array;
}

/** Per-row facts the explorer colours, filters and counts with (one entry per row). */
export interface RowFacts {
  /** cluster id of every row at each level (index 0 = level 1) */
  readonly clusters: readonly Int32Array[];
  /** folder labels, sorted; `labelOfRow` indexes into it, -1 = at the top of the folder */
  readonly labels: readonly string[];
  readonly labelOfRow: Int32Array;
  /** 1 where the row is in the curated subset now (the sampling's choice with the person's edits) */
  readonly selected: Uint8Array;
  /** 1 where the balanced sampling chose the row, before any edit */
  readonly sampled: Uint8Array;
  /** squared distance of each row to its level-1 centroid */
  readonly dist2: Float32Array;
  /** near-duplicate group of each row, -1 = in none (or the run had no near-duplicate search) */
  readonly duplicateGroup: Int32Array;
  /** 1 where the row was set aside as a near-duplicate of its group's kept row */
  readonly setAside: Uint8Array;
}

export interface SearchHit {
  readonly row: number;
  readonly item: ItemInfo;
}

export interface Neighbour {
  readonly row: number;
  readonly item: ItemInfo;
  /** Euclidean distance in the normalised embedding space */
  readonly distance: number;
  readonly selected: boolean;
}

/** One item seen up close. */
export interface ItemDetail {
  readonly row: number;
  readonly item: ItemInfo;
  /** cluster id at level 1, 2, ... */
  readonly clusters: readonly number[];
  /** distance to its level-1 centroid */
  readonly distance: number;
  readonly selected: boolean;
  readonly sampled: boolean;
  /** why it is or is not in the curated subset, in plain words */
  readonly why: string;
  /** closest rows in the embedding, nearest first */
  readonly neighbours: readonly Neighbour[];
  /** its near-duplicate group, null when it is in none */
  readonly duplicates: DuplicateOf | null;
}

/** An item's near-duplicate group, seen from one member. */
export interface DuplicateOf {
  readonly group: number;
  /** members, the kept one included */
  readonly size: number;
  /** the row kept for the group */
  readonly representative: number;
  readonly representativeName: string;
}

export type EditAction = 'include' | 'exclude';

/** One hands-on change, as listed to the person. */
export interface CurationEdit {
  readonly at: number;
  readonly action: EditAction;
  /** rows it names */
  readonly rows: number;
  /** what was acted on, e.g. a file name or "level 2 cluster 4" */
  readonly what: string;
}

export interface CurationEdits {
  readonly applied: readonly CurationEdit[];
  /** undone edits, the most recent last (redo takes it back) */
  readonly undone: readonly CurationEdit[];
}

/** One group of near-duplicates: rows of the run's matrix, the one kept for it first. */
export interface DuplicateGroup {
  readonly id: number;
  /** the row kept for the group (closest to the group's centre) */
  readonly representative: number;
  readonly rows: readonly number[];
}

/** A page of a run's near-duplicate groups, largest first. */
export interface DuplicateGroups {
  /** cosine threshold the groups were found with */
  readonly threshold: number;
  /** groups in the run (the page holds some of them) */
  readonly total: number;
  /** rows set aside (every member but the kept one, over all groups) */
  readonly removed: number;
  readonly groups: readonly DuplicateGroup[];
}
