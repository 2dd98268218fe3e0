import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PYTHON } from './interop-helpers.ts';
import {
  clusterPath,
  columns,
  csvField,
  manifestCsv,
  manifestJson,
  manifestJsonl,
  manifestMetaJson,
  manifestTxt,
  safeFileName,
  safeSegments,
  type ManifestMeta,
  type ManifestRow,
} from '../../src/export/manifest.ts';

const meta: ManifestMeta = {
  generator: 'strata 0.1.0',
  model: 'mobilenet-v2-1.4',
  levels: 2,
  k: [10, 3],
  seed: 4,
  note: 'two\nlines',
};

const rows: ManifestRow[] = [
  {
    path: 'cats/a.png',
    size: 10,
    hash: 'aa',
    label: 'cats',
    clusters: [3, 1],
    distance: 0.123456789,
  },
  { path: 'dogs/b, "c".png', size: 20, hash: 'bb', label: 'dogs', clusters: [7, 0], distance: 1 },
  { path: 'top.png', size: 5, hash: 'cc', label: null, clusters: [0, 2], distance: 0 },
];

/** A small RFC 4180 reader, to check the CSV round-trips. */
function parseCsv(text: string): string[][] {
  const out: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') q = false;
      else cell += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      out.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  return out;
}

describe('manifests', () => {
  it('quotes CSV fields only when needed', () => {
    expect(csvField('plain.png')).toBe('plain.png');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('line\nbreak')).toBe('"line\nbreak"');
    expect(csvField(' lead')).toBe('" lead"');
    expect(csvField(null)).toBe('');
    expect(csvField(12)).toBe('12');
  });

  it('writes CSV: a header with one cluster column per level, then one row per item', () => {
    const csv = manifestCsv(meta, rows);
    const table = parseCsv(csv);
    expect(table[0]).toEqual(columns(2));
    expect(table[0]).toEqual([
      'path',
      'size',
      'sha256',
      'label',
      'cluster_l1',
      'cluster_l2',
      'distance',
    ]);
    expect(table.slice(1)).toEqual([
      ['cats/a.png', '10', 'aa', 'cats', '3', '1', '0.123457'],
      ['dogs/b, "c".png', '20', 'bb', 'dogs', '7', '0', '1'],
      ['top.png', '5', 'cc', '', '0', '2', '0'],
    ]);
    expect(JSON.parse(manifestMetaJson(meta))).toEqual(meta);
  });

  it('writes the metadata as comment lines before the header only when asked', () => {
    const lines = manifestCsv(meta, rows, { comments: true }).split('\r\n');
    expect(lines.slice(0, 6)).toEqual([
      '# generator: strata 0.1.0',
      '# model: mobilenet-v2-1.4',
      '# levels: 2',
      '# k: 10 / 3',
      '# seed: 4',
      '# note: two lines',
    ]);
    expect(parseCsv(lines.slice(6).join('\r\n'))).toEqual(parseCsv(manifestCsv(meta, rows)));
  });

  it("opens with Python's csv.DictReader, no options", () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-csv-'));
    const path = join(dir, 'manifest.csv');
    writeFileSync(path, manifestCsv(meta, rows));
    const script = [
      'import csv, json, sys',
      'with open(sys.argv[1], newline="", encoding="utf-8") as f:',
      '    print(json.dumps(list(csv.DictReader(f, strict=True))))',
    ].join('\n');
    const out = spawnSync(PYTHON, ['-c', script, path], { encoding: 'utf8' });
    rmSync(dir, { recursive: true, force: true });
    expect(out.stderr).toBe('');
    const records = JSON.parse(out.stdout) as Record<string, string>[];
    expect(records.map((r) => r.path)).toEqual(rows.map((r) => r.path));
    expect(records[1]).toEqual({
      path: 'dogs/b, "c".png',
      size: '20',
      sha256: 'bb',
      label: 'dogs',
      cluster_l1: '7',
      cluster_l2: '0',
      distance: '1',
    });
  });

  it('writes JSON and JSONL with the metadata first', () => {
    const json = JSON.parse(manifestJson(meta, rows));
    expect(json.meta).toEqual(meta);
    expect(json.items[1]).toEqual({
      path: 'dogs/b, "c".png',
      size: 20,
      sha256: 'bb',
      label: 'dogs',
      clusters: [7, 0],
      distance: 1,
    });
    const lines = manifestJsonl(meta, rows)
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toEqual({ meta });
    expect(lines.slice(1).map((l) => l.path)).toEqual(rows.map((r) => r.path));
  });

  it('writes a plain list of paths', () => {
    expect(manifestTxt(rows)).toBe('cats/a.png\ndogs/b, "c".png\ntop.png\n');
    expect(manifestTxt([])).toBe('');
  });

  it('follows a row up the hierarchy', () => {
    const l1 = Int32Array.from([2, 0, 1]); // row -> level-1 cluster
    const l2 = Int32Array.from([1, 1, 0]); // level-1 cluster -> level-2 cluster
    expect(clusterPath(0, [l1, l2])).toEqual([2, 0]);
    expect(clusterPath(1, [l1, l2])).toEqual([0, 1]);
  });

  it('makes safe names and paths', () => {
    expect(safeFileName('My photos: 2024/05 <b>')).toBe('My-photos-2024-05-b');
    expect(safeFileName('...')).toBe('dataset');
    expect(safeSegments('../../etc/passwd')).toEqual(['etc', 'passwd']);
    expect(safeSegments('a\\b/./c')).toEqual(['a', 'b', 'c']);
  });
});

describe('near-duplicates set aside in a manifest', () => {
  const aside: ManifestRow = {
    path: 'cats/a copy.png',
    size: 11,
    hash: 'ac',
    label: 'cats',
    clusters: [3, 1],
    distance: 0.2,
    duplicateOf: 'cats/a.png',
  };

  it('adds a duplicate_of column only when a row has one, empty on the subset', () => {
    expect(manifestCsv(meta, rows).split('\r\n')[0]).not.toMatch(/duplicate_of/);
    const lines = manifestCsv(meta, [...rows, aside])
      .trim()
      .split('\r\n');
    expect(lines[0]).toBe(columns(2, true).join(','));
    expect(lines[1].endsWith(',')).toBe(true);
    expect(lines[rows.length + 1]).toBe('cats/a copy.png,11,ac,cats,3,1,0.2,cats/a.png');
  });

  it('names the kept item in JSON and leaves set-aside rows out of the path list', () => {
    const items = JSON.parse(manifestJson(meta, [...rows, aside])).items;
    expect(items[0].duplicate_of).toBeUndefined();
    expect(items[rows.length].duplicate_of).toBe('cats/a.png');
    expect(manifestTxt([...rows, aside])).toBe(manifestTxt(rows));
  });
});
