/**
 * The docs/quality.md table from the JSON lines of `npm run bench:quality` (one run, or several
 * runs' files, e.g. one per pool): a row per method, a column group per pool, in the order the
 * methods first appear. Also replaces the table between its markers in the doc.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { format, resolveConfig } from 'prettier';

export type Line = Record<string, unknown> & { case: string };

interface Stat {
  readonly mean: number;
  readonly sd: number;
}

interface SummaryLine {
  readonly pool: string;
  readonly method: string;
  readonly role: string;
  readonly seeds: number;
  readonly entropy: Stat;
  readonly maxMinRatio: Stat | null;
  readonly conceptShare: Stat;
  readonly vsRandom: number;
}

/** JSON lines of one or more files (lines that are not JSON objects are skipped). */
export function readLines(files: readonly string[]): Line[] {
  const out: Line[] = [];
  for (const f of files) {
    for (const text of readFileSync(f, 'utf8').split('\n')) {
      if (!text.startsWith('{')) continue;
      out.push(JSON.parse(text) as Line);
    }
  }
  return out;
}

const signed = (v: number): string => `${v >= 0 ? '+' : ''}${v.toFixed(3)}`;

export function markdown(lines: readonly Line[]): string {
  const summaries = lines.filter((l) => l.case === 'summary') as unknown as SummaryLine[];
  const pools = [...new Set(summaries.map((s) => s.pool))];
  const methods = [...new Set(summaries.map((s) => s.method))];
  const poolLines = lines.filter((l) => l.case === 'pool');
  const loads = lines.filter((l) => l.case === 'done').map((l) => (l.load as number[]).join(' / '));
  const seeds = [...new Set(summaries.map((s) => s.seeds))].join(', ');
  const header = pools.map((p) => {
    const pl = poolLines.find((l) => l.pool === p);
    return pl ? `${p} (${String(pl.n)} items, ${String(pl.labels)} labels)` : p;
  });
  const head =
    `| method | ${header.map((p) => `${p}: entropy (sd) | max/min | distinct | vs random`).join(' | ')} |\n` +
    `|---|${pools.map(() => '---:|---:|---:|---:').join('|')}|\n`;
  const rows = methods.map((m) => {
    const cells = pools.map((p) => {
      const s = summaries.find((x) => x.pool === p && x.method === m);
      if (!s) return '- | - | - | -';
      const ratio = s.maxMinRatio ? s.maxMinRatio.mean.toFixed(1) : 'label missing';
      return (
        `${s.entropy.mean.toFixed(3)} (${s.entropy.sd.toFixed(3)}) | ${ratio} | ` +
        `${s.conceptShare.mean.toFixed(2)} | ${signed(s.vsRandom)}`
      );
    });
    const role = summaries.find((x) => x.method === m)?.role;
    const label = role === 'default' ? `**${m}** (default)` : m;
    return `| ${label} | ${cells.join(' | ')} |`;
  });
  const dedups = lines.filter((l) => l.case === 'dedup');
  const dedupTable =
    dedups.length === 0
      ? ''
      : '\nThe pool after dedup alone (seed 0): rows kept, their label balance, originals left, ' +
        'and rows removed as a copy of a different original.\n\n' +
        '| pool | threshold | kept | entropy | max/min | originals kept | removed across originals |\n' +
        '|---|---:|---:|---:|---:|---:|---:|\n' +
        dedups
          .map(
            (l) =>
              `| ${String(l.pool)} | ${String(l.threshold)} | ${String(l.kept)} | ` +
              `${Number(l.entropy).toFixed(3)} | ${Number(l.maxMinRatio).toFixed(1)} | ` +
              `${String(l.originalsKept)} | ${String(l.removedAcrossOriginals)} |`,
          )
          .join('\n') +
        '\n';
  return (
    `Means over ${seeds} seeds (seeds 0 upwards); load average at the end of each run: ` +
    `${loads.join('; ')}.\n\n` +
    head +
    rows.join('\n') +
    '\n' +
    dedupTable
  );
}

export const TABLE_START = '<!-- quality-table:start -->';
export const TABLE_END = '<!-- quality-table:end -->';

/**
 * Replaces the text between the table markers of `doc` (a path) with `table`, formatted as the
 * project's prettier formats the file (so `npm run lint` stays clean after a regeneration).
 */
export async function writeTable(doc: string, table: string): Promise<void> {
  const text = readFileSync(doc, 'utf8');
  const a = text.indexOf(TABLE_START);
  const b = text.indexOf(TABLE_END);
  if (a < 0 || b < a) throw new Error(`${doc} has no ${TABLE_START} ... ${TABLE_END} markers`);
  const next = text.slice(0, a + TABLE_START.length) + '\n' + table + text.slice(b);
  const options = (await resolveConfig(doc)) ?? {};
  writeFileSync(doc, await format(next, { ...options, filepath: doc }));
}
