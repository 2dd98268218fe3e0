/**
 * Manifests of a curated selection: CSV, JSON, JSONL and a plain list of paths. Pure functions
 * from rows to text (no DOM), so they are unit-tested in Node and reused by the CLI.
 *
 * JSON carries the run's metadata (model, parameters, seed, versions) as a `meta` object next to
 * `items`, JSONL as a first line `{"meta": {...}}`. CSV is a plain table, header first, so
 * `pandas.read_csv` and `csv.DictReader` open it with no options; its metadata goes in a sidecar
 * (`manifestMetaJson`, written as run.json next to it), or as `# key: value` comment lines before
 * the header when asked for (`{ comments: true }`, for tools that skip them).
 *
 * A manifest lists the curated subset only, unless the person asks for the near-duplicates set
 * aside too (ManifestOptions.listDuplicates): then they follow the curated items with
 * `duplicate_of`, the path of the item kept for their group (a `duplicate_of` column in CSV,
 * present only then), and the metadata's `duplicates_listed` says so; filter on an empty
 * `duplicate_of` to get the subset back.
 */

/** What a manifest (or the manifests of a file export) holds besides the curated subset. */
export interface ManifestOptions {
  /** also list the near-duplicates set aside, each with the item it copies (default false) */
  readonly listDuplicates?: boolean;
}

export interface ManifestRow {
  /** path relative to the dropped/picked folder */
  readonly path: string;
  readonly size: number;
  /** hex SHA-256 of the file ('' for precomputed rows) */
  readonly hash: string;
  /** folder label, or null */
  readonly label: string | null;
  /** cluster id at level 1, 2, ... */
  readonly clusters: readonly number[];
  /** Euclidean distance to its level-1 centroid (in the normalised embedding space) */
  readonly distance: number;
  /** set on a near-duplicate set aside (not in the subset): the path of the item kept for it */
  readonly duplicateOf?: string;
}

/** Run metadata written at the top of every manifest; flat values keep CSV comments readable. */
export type ManifestMeta = Readonly<
  Record<string, string | number | boolean | null | readonly number[]>
>;

const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

/** One CSV field (RFC 4180): quoted when it holds a comma, quote, line break or edge space. */
export function csvField(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function levelsOf(rows: readonly ManifestRow[], meta: ManifestMeta): number {
  const fromMeta = meta.levels;
  if (typeof fromMeta === 'number') return fromMeta;
  return rows.reduce((m, r) => Math.max(m, r.clusters.length), 0);
}

export function columns(levels: number, duplicates = false): string[] {
  const cols = ['path', 'size', 'sha256', 'label'];
  for (let t = 1; t <= levels; t++) cols.push(`cluster_l${t}`);
  cols.push('distance');
  if (duplicates) cols.push('duplicate_of');
  return cols;
}

function metaLine(key: string, value: ManifestMeta[string]): string {
  const v = Array.isArray(value) ? value.join(' / ') : String(value);
  // A value never breaks out of its comment line.
  return `# ${key}: ${v.replace(/[\r\n]+/g, ' ')}`;
}

/** Round distances to 6 significant digits: float32 inputs carry no more. */
function dist(d: number): number {
  return Number.isFinite(d) ? Number(d.toPrecision(6)) : 0;
}

/**
 * CSV: a header row and one row per item (RFC 4180, CRLF). `meta` gives the level count; with
 * `comments: true` it is also written first as `# key: value` lines.
 */
export function manifestCsv(
  meta: ManifestMeta,
  rows: readonly ManifestRow[],
  options: { readonly comments?: boolean } = {},
): string {
  const levels = levelsOf(rows, meta);
  const out: string[] = [];
  if (options.comments) for (const [k, v] of Object.entries(meta)) out.push(metaLine(k, v));
  const duplicates = rows.some((r) => r.duplicateOf !== undefined);
  out.push(columns(levels, duplicates).join(','));
  for (const r of rows) {
    const f: (string | number | null)[] = [r.path, r.size, r.hash, r.label];
    for (let t = 0; t < levels; t++) f.push(r.clusters[t] ?? null);
    f.push(dist(r.distance));
    if (duplicates) f.push(r.duplicateOf ?? null);
    out.push(f.map(csvField).join(','));
  }
  return out.join('\r\n') + '\r\n';
}

function rowObject(r: ManifestRow): Record<string, unknown> {
  return {
    path: r.path,
    size: r.size,
    sha256: r.hash,
    label: r.label,
    clusters: r.clusters,
    distance: dist(r.distance),
    ...(r.duplicateOf !== undefined ? { duplicate_of: r.duplicateOf } : {}),
  };
}

/** The run's metadata alone, the CSV manifest's sidecar. */
export function manifestMetaJson(meta: ManifestMeta): string {
  return JSON.stringify(meta, null, 1) + '\n';
}

export function manifestJson(meta: ManifestMeta, rows: readonly ManifestRow[]): string {
  return JSON.stringify({ meta, items: rows.map(rowObject) }, null, 1) + '\n';
}

export function manifestJsonl(meta: ManifestMeta, rows: readonly ManifestRow[]): string {
  const out = [JSON.stringify({ meta })];
  for (const r of rows) out.push(JSON.stringify(rowObject(r)));
  return out.join('\n') + '\n';
}

/** One relative path per line, nothing else (for rsync --files-from, tar -T, ...). */
export function manifestTxt(rows: readonly ManifestRow[]): string {
  // The subset only: a path list feeds copy tools, which must not copy what was set aside.
  return (
    rows
      .filter((r) => r.duplicateOf === undefined)
      .map((r) => r.path.replace(/[\r\n]/g, ' '))
      .join('\n') + (rows.length ? '\n' : '')
  );
}

/** Cluster id of a row at every level: follow the labels up the hierarchy. */
export function clusterPath(row: number, labels: readonly Int32Array[]): number[] {
  const out: number[] = [];
  let id = row;
  for (const l of labels) {
    id = l[id];
    out.push(id);
  }
  return out;
}

/** A safe file name: letters, digits, dot, dash and underscore only. */
export function safeFileName(s: string): string {
  const cleaned = s
    .normalize('NFKD')
    .replace(/[^\w.-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');
  return cleaned.slice(0, 60) || 'dataset';
}

/** Path segments safe to use inside an archive or a folder: no empty, "." or ".." parts. */
export function safeSegments(path: string): string[] {
  return path.split(/[\\/]+/).filter((p) => p !== '' && p !== '.' && p !== '..');
}
