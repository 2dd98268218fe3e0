/**
 * Reading the app's exported manifests in tests, and the label statistics the acceptance checks
 * compare: normalised entropy of a subset's folder labels, and its expected value for uniform
 * random subsets of the same size.
 */

/** Splits CSV text into rows of fields (RFC 4180 quoting; '#' lines before the header skipped). */
export function parseCsv(text: string): { header: string[]; rows: string[][]; comments: string[] } {
  const comments: string[] = [];
  const records: string[][] = [];
  let field = '';
  let row: string[] = [];
  let quoted = false;
  let atLineStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (atLineStart && records.length === 0 && c === '#') {
      const end = text.indexOf('\n', i);
      comments.push(text.slice(i, end < 0 ? text.length : end).replace(/\r$/, ''));
      i = end < 0 ? text.length : end;
      continue;
    }
    atLineStart = false;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      records.push(row);
      row = [];
      field = '';
      atLineStart = true;
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    records.push(row);
  }
  const [header = [], ...rows] = records;
  return { header, rows, comments };
}

/** Shannon entropy of the label counts / ln(number of labels): 1 = perfectly even. */
export function normalisedEntropy(labels: readonly string[], labelCount: number): number {
  const counts = new Map<string, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) {
    const p = c / labels.length;
    h -= p * Math.log(p);
  }
  return h / Math.log(labelCount);
}

/**
 * Mean normalised entropy of `draws` uniform random subsets of `size` items from `pool`
 * (seeded, so the figure is the same on every run).
 */
export function randomSubsetEntropy(
  pool: readonly string[],
  size: number,
  labelCount: number,
  draws = 500,
  seed = 1,
): number {
  let s = seed >>> 0;
  const next = () => {
    // mulberry32: a small, well-mixed 32-bit generator; plenty for test sampling.
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  let total = 0;
  const idx = pool.map((_, i) => i);
  for (let d = 0; d < draws; d++) {
    for (let i = 0; i < size; i++) {
      const j = i + Math.floor(next() * (idx.length - i));
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    total += normalisedEntropy(
      idx.slice(0, size).map((i) => pool[i]),
      labelCount,
    );
  }
  return total / draws;
}
