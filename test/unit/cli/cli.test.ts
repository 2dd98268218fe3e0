/**
 * The `strata` command line, run as people run it: a child process of bin/strata.mjs.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNpy, writeNpy } from '../../../src/core/npy.ts';
import { Rng } from '../../../src/core/rng.ts';

const BIN = join(import.meta.dirname, '../../../bin/strata.mjs');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function strata(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Splits a POSIX shell command made of plain and single-quoted words. */
function shellSplit(cmd: string): string[] {
  const words: string[] = [];
  for (const m of cmd.matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g)) {
    words.push(m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2]);
  }
  return words;
}

let dir: string;
const file = (name: string): string => join(dir, name);

/** 600 rows x 8 dims in 4 blobs of 400 / 120 / 60 / 20. */
function pool(): Float32Array {
  const rng = new Rng(1);
  const data = new Float32Array(600 * 8);
  let i = 0;
  [400, 120, 60, 20].forEach((size, b) => {
    for (let r = 0; r < size; r++, i++) {
      for (let j = 0; j < 8; j++) data[i * 8 + j] = (j === b ? 8 : 0) + rng.normal();
    }
  });
  return data;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'strata-cli-'));
  const data = pool();
  writeFileSync(file('pool.npy'), writeNpy(data, [600, 8]));
  writeFileSync(file('pool64.npy'), writeNpy(Float64Array.from(data), [600, 8]));
  writeFileSync(file('flat.npy'), writeNpy(data, [4800]));
  writeFileSync(file('ints.npy'), writeNpy(new Int32Array(12), [3, 4]));
  const nan = data.slice();
  nan[37 * 8 + 2] = NaN;
  writeFileSync(file('nan.npy'), writeNpy(nan, [600, 8]));
  writeFileSync(file('garbage.npy'), 'this is not a numpy file at all');
  writeFileSync(file('short.npy'), writeNpy(data, [600, 8]).subarray(0, 1000));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('strata CLI', () => {
  it('prints help and rejects unknown commands and flags', async () => {
    const [help, curateHelp, unknown, badFlag] = await Promise.all([
      strata(['--help']),
      strata(['curate', '--help']),
      strata(['frobnicate']),
      strata(['toy', '--sed', '3']),
    ]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/curate .*\n.*toy/s);
    expect(curateHelp.code).toBe(0);
    expect(curateHelp.stdout).toMatch(/--embeddings X.npy --target N --out DIR/);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/toy: Unknown option '--sed'/);
  });

  it('gives one-line errors, exit 2, for bad input', async () => {
    const out = file('never');
    const cases: [string[], RegExp][] = [
      [
        ['--embeddings', file('missing.npy'), '--target', '10'],
        /embeddings file '.*missing.npy' does not exist/,
      ],
      [['--embeddings', file('garbage.npy'), '--target', '10'], /not a .npy file \(bad magic/],
      [['--embeddings', file('short.npy'), '--target', '10'], /truncated .npy data/],
      [
        ['--embeddings', file('flat.npy'), '--target', '10'],
        /must be a 2-D array .* shape \(4800\)/,
      ],
      [['--embeddings', file('ints.npy'), '--target', '10'], /float32 or float64; .* holds int32/],
      [
        ['--embeddings', file('pool.npy'), '--target', '0'],
        /--target must be a positive integer, got '0'/,
      ],
      [
        ['--embeddings', file('pool.npy'), '--target=-5'],
        /--target must be a positive integer, got '-5'/,
      ],
      [
        ['--embeddings', file('pool.npy'), '--target', '-5'],
        /--target must be a positive integer, got '-5'/,
      ],
      [
        ['--embeddings', file('pool.npy'), '--target', '10.5'],
        /--target must be a positive integer, got '10.5'/,
      ],
      [
        ['--embeddings', file('pool.npy'), '--target', '1e3'],
        /--target must be a positive integer, got '1e3'/,
      ],
      [
        ['--embeddings', file('pool.npy'), '--target', '10', '--strategy', 'far'],
        /--strategy must be one of closest, random; got 'far'/,
      ],
      [
        ['--embeddings', file('pool.npy'), '--target', '10', '--clusters', '10,x'],
        /--clusters must be an integer >= 1, got 'x'/,
      ],
      [['--target', '10'], /--embeddings X.npy is required/],
    ];
    const results = await Promise.all(
      cases.map(([args]) => strata(['curate', ...args, '--out', out])),
    );
    results.forEach((r, i) => {
      expect(r.code, cases[i][0].join(' ')).toBe(2);
      expect(r.stderr).toMatch(cases[i][1]);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(
        r.stderr
          .trim()
          .split('\n')
          .filter((l) => l.includes('error')).length,
      ).toBe(1);
    });
  });

  it('leaves out rows with NaN or infinite values, says so, and keeps the input row numbers', async () => {
    const out = file('nan-run');
    const r = await strata([
      'curate',
      '--embeddings',
      file('nan.npy'),
      '--target',
      '100',
      '--clusters',
      '40,8',
      '--iters',
      '3',
      // what is checked is the NaN rows' handling; this small low-dimensional pool would
      // mostly count as near-duplicates at the default threshold
      '--no-dedup',
      '--out',
      out,
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /warning: Dropped 1 of 600 rows with NaN or infinite values: row 37\./,
    );
    const sel = Array.from(
      parseNpy(readFileSync(join(out, 'selection.npy'))).data as BigInt64Array,
      Number,
    );
    expect(sel).toHaveLength(100);
    expect(sel).not.toContain(37);
    expect(Math.max(...sel)).toBeLessThan(600);
    const a1 = parseNpy(readFileSync(join(out, 'level1', 'assignment.npy')));
    expect(a1.shape).toEqual([600]);
    expect(Number((a1.data as BigInt64Array)[37])).toBe(-1);
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(run.input.droppedRows).toEqual([37]);
    expect(run.warnings).toEqual(['Dropped 1 of 600 rows with NaN or infinite values: row 37.']);
  });

  it('checks the output folder before any work, never writes over its input, and records warnings', async () => {
    const out = file('safe');
    const args = ['--target', '50', '--clusters', '20,4', '--iters', '2', '--no-dedup'];
    const first = await strata(['curate', '--embeddings', file('pool.npy'), ...args, '--out', out]);
    expect(first.code).toBe(0);
    const before = readFileSync(join(out, 'selection.npy'));

    // The selection of a run as the input of a run into the same folder: refused, kept.
    const self = await strata([
      'curate',
      '--embeddings',
      join(out, 'selection.npy'),
      ...args,
      '--out',
      out,
      '--force',
    ]);
    expect(self.code).toBe(3);
    expect(self.stderr).toMatch(/holds the input .*selection\.npy; writing there could replace it/);
    expect(readFileSync(join(out, 'selection.npy')).equals(before)).toBe(true);

    // A non-empty folder without --force, and a file in the folder's place: refused at once.
    const busy = await strata(['curate', '--embeddings', file('pool.npy'), ...args, '--out', out]);
    expect(busy.code).toBe(3);
    expect(busy.stderr).toMatch(/exists and is not empty; pick another --out or pass --force/);
    const aFile = await strata([
      'curate',
      '--embeddings',
      file('pool.npy'),
      ...args,
      '--out',
      file('pool64.npy'),
    ]);
    expect(aFile.code).toBe(3);
    expect(aFile.stderr).toMatch(/--out .*pool64\.npy is a file, not a folder/);
    for (const r of [self, busy, aFile]) {
      expect(r.stderr).not.toMatch(/estimated|internal error|\n\s+at /); // no work, no stack
    }

    // --force replaces Strata's own files, a file named level1 included; nothing half-written
    // is left beside the folder.
    rmSync(join(out, 'level1'), { recursive: true });
    writeFileSync(join(out, 'level1'), 'in the way');
    const forced = await strata([
      'curate',
      '--no-dedup',
      '--embeddings',
      file('pool.npy'),
      '--target',
      '700',
      '--clusters',
      '20,4',
      '--iters',
      '2',
      '--out',
      out,
      '--force',
    ]);
    expect(forced.code).toBe(0);
    expect(parseNpy(readFileSync(join(out, 'level1', 'assignment.npy'))).shape).toEqual([600]);
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(run.warnings).toEqual(['--target 700 exceeds the 600 rows; selecting all of them']);
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(dir).filter((n) => n.includes('.partial-'))).toEqual([]);
  });

  it('sets near-duplicates aside by default, writes their groups, and refuses contradictory flags', async () => {
    // 300 distinct rows in 32-D (cosine about 0 between them) and 3 close copies of each of
    // rows 0..59: 480 rows, 60 groups of 4.
    const rng = new Rng(4);
    const d = 32;
    const base = Array.from({ length: 300 }, () => Array.from({ length: d }, () => rng.normal()));
    const rows: number[][] = [...base];
    for (let b = 0; b < 60; b++)
      for (let c = 0; c < 3; c++) rows.push(base[b].map((v) => v + 0.05 * rng.normal()));
    writeFileSync(file('dups.npy'), writeNpy(Float32Array.from(rows.flat()), [rows.length, d]));
    const out = file('dedup1');
    const common = ['--target', '100', '--clusters', '30,6', '--iters', '3', '--resample', '1'];
    const r = await strata(['curate', '--embeddings', file('dups.npy'), ...common, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/near-duplicates: 60 groups, 180 rows set aside \(threshold 0\.85\)/);
    expect(r.stdout).toMatch(/selected 100 of 300 rows/);
    const csv = readFileSync(join(out, 'dedup_groups.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('row,group,kept,duplicate_of');
    expect(csv.length).toBe(1 + 240);
    const byGroup = new Map<string, string[][]>();
    for (const line of csv.slice(1)) {
      const f = line.split(',');
      byGroup.set(f[1], [...(byGroup.get(f[1]) ?? []), f]);
    }
    for (const members of byGroup.values()) {
      // One kept row per group; every other row names it; all are copies of one base row.
      const kept = members.filter((f) => f[2] === '1');
      expect(kept.length).toBe(1);
      for (const f of members) expect(f[3]).toBe(f[2] === '1' ? '' : kept[0][0]);
      const bases = new Set(
        members.map((f) =>
          Number(f[0]) < 300 ? Number(f[0]) : Math.floor((Number(f[0]) - 300) / 3),
        ),
      );
      expect(bases.size).toBe(1);
    }
    const removed = new Set(
      csv
        .slice(1)
        .filter((l) => l.split(',')[2] === '0')
        .map((l) => Number(l.split(',')[0])),
    );
    const sel = Array.from(
      parseNpy(readFileSync(join(out, 'selection.npy'))).data as BigInt64Array,
      Number,
    );
    expect(sel.some((i) => removed.has(i))).toBe(false);
    // Level 1 still assigns every input row; a removed row sits in its kept row's cluster.
    const a = Array.from(
      parseNpy(readFileSync(join(out, 'level1', 'assignment.npy'))).data as BigInt64Array,
      Number,
    );
    expect(a.length).toBe(480);
    for (const line of csv.slice(1)) {
      const f = line.split(',');
      if (f[2] === '0') expect(a[Number(f[0])]).toBe(a[Number(f[3])]);
    }
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(run.dedup).toEqual({
      threshold: 0.85,
      groups: 60,
      removed: 180,
      clusteredRows: 300,
      file: 'dedup_groups.csv',
    });
    expect(run.command).toMatch(/--dedup 0\.85/);

    const off = await strata([
      'curate',
      '--embeddings',
      file('dups.npy'),
      ...common,
      '--no-dedup',
      '--out',
      file('dedup2'),
    ]);
    expect(off.code).toBe(0);
    expect(off.stdout).toMatch(/selected 100 of 480 rows/);
    expect(JSON.parse(readFileSync(join(file('dedup2'), 'run.json'), 'utf8')).dedup).toBeNull();
    const both = await strata([
      'curate',
      '--embeddings',
      file('dups.npy'),
      ...common,
      '--dedup',
      '0.8',
      '--no-dedup',
      '--out',
      file('dedup3'),
    ]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/give --dedup T or --no-dedup, not both/);
    const bad = await strata([
      'curate',
      '--embeddings',
      file('dups.npy'),
      ...common,
      '--dedup',
      '1.5',
      '--out',
      file('dedup3'),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--dedup must be a cosine similarity in \(0, 1\]/);
  });

  it('curates a small pool, writes every file, and run.json reproduces the run', async () => {
    const out = file('run1');
    const r = await strata([
      'curate',
      '--no-dedup',
      '--embeddings',
      file('pool.npy'),
      '--target',
      '100',
      '--clusters',
      '40,8',
      '--resample',
      '2',
      '--iters',
      '5',
      '--out',
      out,
    ]);
    // The default kernel is WebAssembly SIMD (built by `npm run assets`, which `npm test` runs first).
    expect(r.stderr).toMatch(/estimated .* with cpu-wasm/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/selected 100 of 600 rows/);
    const sel = parseNpy(readFileSync(join(out, 'selection.npy')));
    expect(sel.dtype).toBe('int64');
    expect(sel.shape).toEqual([100]);
    const ids = Array.from(sel.data as BigInt64Array, Number);
    expect(new Set(ids).size).toBe(100);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    // Balanced: the 400-row blob gets well under its 2/3 share of the pool.
    expect(ids.filter((i) => i < 400).length).toBeLessThan(55);
    for (const [t, k, rows] of [
      [1, 40, 600],
      [2, 8, 40],
    ]) {
      const c = parseNpy(readFileSync(join(out, `level${t}`, 'centroids.npy')));
      expect(c.dtype).toBe('float32');
      expect(c.shape).toEqual([k, 8]);
      const a = parseNpy(readFileSync(join(out, `level${t}`, 'assignment.npy')));
      expect(a.dtype).toBe('int64');
      expect(a.shape).toEqual([rows]);
      expect(Array.from(a.data as BigInt64Array).every((v) => v >= 0n && v < BigInt(k))).toBe(true);
    }
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(run.parameters).toMatchObject({
      target: 100,
      levels: [
        { k: 40, sampleSize: 1 },
        { k: 8, sampleSize: 3 },
      ],
      resamplingSteps: 2,
      nIters: 5,
      seed: 0,
      strategy: 'closest',
      leafStrategy: 'random',
    });
    expect(run.backend).toMatch(/^cpu-wasm/);
    expect(run.parameters.kernel).toBe('wasm');
    expect(run.input).toMatchObject({ rows: 600, cols: 8, dtype: 'float32' });
    expect(run.timings.levels.length).toBe(2);
    expect(run.levels[0].clusterSizes.count).toBe(40);
    expect(run.versions.node).toBe(process.version);

    // The recorded command, pointed at a new folder, gives the same selection byte for byte.
    const words = shellSplit(run.command);
    expect(words.slice(0, 3)).toEqual(['npx', 'strata', 'curate']);
    const args = words.slice(3);
    args[args.indexOf('--out') + 1] = file('run2');
    const again = await strata(['curate', ...args]);
    expect(again.code).toBe(0);
    expect(readFileSync(join(file('run2'), 'selection.npy'))).toEqual(
      readFileSync(join(out, 'selection.npy')),
    );
  });

  it('reads float64, caps k above the row count with a warning, and changes with the seed', async () => {
    const [capped, seeded] = await Promise.all([
      strata([
        'curate',
        '--no-dedup',
        '--embeddings',
        file('pool64.npy'),
        '--target',
        '50',
        '--clusters',
        '900,10',
        '--iters',
        '3',
        '--resample',
        '1',
        '--out',
        file('run3'),
      ]),
      strata([
        'curate',
        '--no-dedup',
        '--embeddings',
        file('pool.npy'),
        '--target',
        '100',
        '--clusters',
        '40,8',
        '--resample',
        '2',
        '--iters',
        '5',
        '--seed',
        '1',
        '--out',
        file('run4'),
      ]),
    ]);
    expect(capped.code).toBe(0);
    expect(capped.stderr).toMatch(
      /warning: level 1: k = 900 is more than its 600 input rows; using k = 600/,
    );
    expect(parseNpy(readFileSync(join(file('run3'), 'level1', 'centroids.npy'))).shape).toEqual([
      600, 8,
    ]);
    expect(seeded.code).toBe(0);
    expect(readFileSync(join(file('run4'), 'selection.npy'))).not.toEqual(
      readFileSync(join(file('run1'), 'selection.npy')),
    );
  });

  it("says what the budget buys against the paper's shape, and --fit shape keeps the shape", async () => {
    // 6000 rows: the shape needs k1 >= 6000 / 50 = 120; a budget of 1 ms buys only the floor, 100.
    const rng = new Rng(3);
    writeFileSync(
      file('pool6k.npy'),
      writeNpy(
        Float32Array.from({ length: 6000 * 4 }, () => rng.normal()),
        [6000, 4],
      ),
    );
    const run = (fit: string[], out: string): Promise<Result> =>
      strata([
        'curate',
        '--embeddings',
        file('pool6k.npy'),
        '--target',
        '600',
        '--budget',
        '0.001',
        ...fit,
        '--resample',
        '0',
        // 4-D noise: at the default threshold most rows are each other's "near-duplicates"
        '--no-dedup',
        '--out',
        file(out),
      ]);
    const [budget, shape, bad] = await Promise.all([
      run([], 'fit-budget'),
      run(['--fit', 'shape'], 'fit-shape'),
      run(['--fit', 'paper'], 'fit-bad'),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--fit/);
    expect(budget.code, budget.stderr).toBe(0);
    expect(budget.stderr).toMatch(/The paper's shape needs at least 120 finest clusters/);
    expect(budget.stderr).toMatch(/running the 'budget' plan; --fit shape runs the other/);
    expect(shape.code, shape.stderr).toBe(0);
    const k1 = (out: string): number => {
      const r = JSON.parse(readFileSync(join(file(out), 'run.json'), 'utf8')) as {
        parameters: { levels: { k: number }[]; seeding: string };
        plan: { shape: { choice: { picked: string } } };
      };
      expect(r.parameters.seeding).toBe('sampled');
      return r.parameters.levels[0].k;
    };
    expect([k1('fit-budget'), k1('fit-shape')]).toEqual([100, 120]);
  });
});
