import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/command.ts';
import { main } from '../../src/cli/main.ts';
import { parseNpy } from '../../src/core/npy.ts';
import { parseReferenceConfigYaml } from '../../src/interop/config.ts';
import { exportJobCommand } from '../../src/cli/export-job.ts';
import { importCommand } from '../../src/cli/import.ts';
import {
  copyLayout,
  HAVE_PYYAML,
  LAYOUT,
  PICKLES,
  python,
  runFixtureScript,
  tempDir,
} from './interop-helpers.ts';

/** Runs `strata <argv>` in-process with the interop commands; captures stdout and stderr. */
async function strata(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => void (out += t), err: (t) => void (err += t), errIsTty: false };
  const code = await main(argv, io, [exportJobCommand, importCommand]);
  return { code, out, err };
}

const EMB = join(LAYOUT, 'embeddings.npy');

describe('strata export-job', () => {
  it('writes a bundle with the hierarchy flags turned into the reference config', async () => {
    const dir = tempDir();
    const ids = join(dir, 'ids.txt');
    writeFileSync(ids, Array.from({ length: 150 }, (_, i) => `row-${i}`).join('\n') + '\n');
    const out = join(dir, 'job');
    const r = await strata(
      'export-job',
      '--embeddings',
      EMB,
      '--ids',
      ids,
      '--clusters',
      '20,5,2',
      '--sample-size',
      '1,2,2',
      '--resample',
      '3',
      '--strategy',
      'random',
      '--iters',
      '20',
      '--target',
      '40',
      '--gpus-per-node',
      '8,8,8',
      '--out',
      out,
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /3 level\(s\), k = 20 \/ 5 \/ 2, r = 1 \/ 2 \/ 2, m = 3, 20 Lloyd rounds/,
    );
    const cfg = parseReferenceConfigYaml(readFileSync(join(out, 'config.yaml'), 'utf8'));
    expect(cfg).toMatchObject({
      n_levels: 3,
      n_iters: 20,
      n_clusters: [20, 5, 2],
      n_resampling_steps: [1, 4, 4], // m = 3 after the first run: 4 runs a level
      sample_size: [1, 2, 2],
      sampling_strategy: 'r',
      ngpus_per_node: [8, 8, 8],
    });
    const npy = parseNpy(readFileSync(join(out, 'embeddings.npy')));
    const src = parseNpy(readFileSync(EMB));
    expect(npy.shape).toEqual([150, 6]);
    expect(npy.data).toEqual(src.data);
    expect(readFileSync(join(out, 'ids.txt'), 'utf8').split('\n')[149]).toBe('row-149');
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toContain('--target_size 40');
  });

  it('picks the hierarchy by itself when no shape is given', async () => {
    const out = join(tempDir(), 'job');
    const r = await strata('export-job', '--embeddings', EMB, '--out', out, '--levels', '2');
    expect(r.code).toBe(0);
    const cfg = parseReferenceConfigYaml(readFileSync(join(out, 'config.yaml'), 'utf8'));
    expect(cfg.n_levels).toBe(2);
    expect(cfg.n_clusters[0]).toBeGreaterThan(cfg.n_clusters[1]);
    expect(cfg.sample_size[0]).toBe(1);
    expect(cfg.n_iters).toBe(50);
  });

  it('turns mistakes into one-line messages and exit status 2', async () => {
    const busy = tempDir();
    writeFileSync(join(busy, 'x'), '');
    const cases: [string[], RegExp][] = [
      [['--out', busy], /--embeddings X\.npy is required/],
      [['--embeddings', join(busy, 'nope.npy'), '--out', busy], /nope\.npy: no such file/],
      [['--embeddings', EMB, '--out', join(busy, 'o'), '--clusters', '5,20'], /must decrease/],
      [['--embeddings', EMB, '--out', join(busy, 'o'), '--clusters', '500'], /only 150 rows/],
      [
        ['--embeddings', join(PICKLES, 'ok-np-save.npy'), '--out', join(busy, 'o')],
        /expected a 2-D float32 or float64 array, got \|O/,
      ],
      [
        ['--embeddings', EMB, '--out', join(busy, 'o'), '--strategy', 'best'],
        /--strategy must be one of closest, random/,
      ],
      [['--embeddings', EMB, '--out', join(busy, 'o'), '--bogus'], /Unknown option '--bogus'/],
    ];
    for (const [args, message] of cases) {
      const r = await strata('export-job', ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    }
    expect(existsSync(join(busy, 'o'))).toBe(false);
  });

  it('refuses a non-empty output folder with exit status 3, before any work', async () => {
    const busy = tempDir();
    writeFileSync(join(busy, 'x'), '');
    const r = await strata('export-job', '--embeddings', EMB, '--out', busy);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/exists and is not empty; pick another --out or pass --force/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });
});

describe('strata import', () => {
  it('imports the reference layout, samples it and writes selection.npy and a summary', async () => {
    const out = join(tempDir(), 'res');
    const r = await strata(
      'import',
      '--dir',
      LAYOUT,
      '--embeddings',
      EMB,
      '--target',
      '40',
      '--leaf',
      'closest',
      '--seed',
      '1',
      '--out',
      out,
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/imported 3 level\(s\), k = 20 \/ 5 \/ 2, over 150 rows of dimension 6/);
    expect(r.out).toMatch(/curated_datasets\/balanced_40_r\.npy: 40 rows/);
    const sel = parseNpy(readFileSync(join(out, 'selection.npy')));
    expect([sel.dtype, sel.shape]).toEqual(['int64', [40]]);
    const ids = Array.from(sel.data as BigInt64Array, Number);
    expect(ids).toEqual(ids.slice().sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(40);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
      rows: number;
      topClusterSizes: number[];
      curated: { size: number; distinct: number; perTopCluster: number[] }[];
      sample: { size: number; distinct: number; perTopCluster: number[]; topBudgets: number[] };
      levels: { distancesKnown: boolean; unassigned: number }[];
      warnings: string[];
    };
    expect(summary.rows).toBe(150);
    expect(summary.topClusterSizes.reduce((a, b) => a + b, 0)).toBe(150);
    expect(summary.curated[0]).toMatchObject({ size: 40, distinct: 40 });
    expect(summary.sample).toMatchObject({ size: 40, distinct: 40 });
    expect(summary.sample.perTopCluster).toEqual(summary.sample.topBudgets);
    expect(summary.levels.every((l) => l.distancesKnown && l.unassigned === 0)).toBe(true);
    expect(summary.warnings).toEqual([]);
  });

  it('rejects a hostile cluster file with one line, and writes nothing', async () => {
    const dir = tempDir();
    copyLayout(dir);
    cpSync(join(PICKLES, 'bad-eval-proto4.npy'), join(dir, 'level2', 'sorted_clusters.npy'));
    const out = join(tempDir(), 'res');
    const r = await strata('import', '--dir', dir, '--target', '10', '--out', out);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /^strata: error: level2\/sorted_clusters\.npy: refusing global builtins\.eval: only numpy array reconstruction is allowed/,
    );
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
  });

  it('imports without a target: the summary only', async () => {
    const out = join(tempDir(), 'res');
    const r = await strata('import', '--dir', LAYOUT, '--out', out);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/warning: no embeddings given/);
    expect(existsSync(join(out, 'selection.npy'))).toBe(false);
    expect(existsSync(join(out, 'summary.json'))).toBe(true);
  });

  it.skipIf(!HAVE_PYYAML)(
    'round trip: export-job, a stand-in for the reference launcher on the bundle, import',
    async () => {
      const job = join(tempDir(), 'job');
      const exported = await strata(
        'export-job',
        '--embeddings',
        EMB,
        '--clusters',
        '30,6,2',
        '--sample-size',
        '1,3,2',
        '--resample',
        '2',
        '--strategy',
        'random',
        '--iters',
        '15',
        '--target',
        '50',
        '--out',
        job,
      );
      expect(exported.code).toBe(0);
      // reads the bundle's config.yaml with PyYAML and clusters its embeddings.npy
      const run = runFixtureScript('reference_layout.py', '--bundle', job, '--target', '50');
      const out = join(tempDir(), 'back');
      const r = await strata(
        'import',
        '--dir',
        run,
        '--embeddings',
        join(job, 'embeddings.npy'),
        '--target',
        '50',
        '--out',
        out,
      );
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
        levels: { k: number }[];
        topClusterSizes: number[];
        curated: { size: number; distinct: number; perTopCluster: number[] }[];
        sample: { size: number; distinct: number; perTopCluster: number[] };
      };
      expect(summary.levels.map((l) => l.k)).toEqual([30, 6, 2]);
      const theirs = summary.curated[0];
      const ours = summary.sample;
      expect([theirs.size, theirs.distinct, ours.size, ours.distinct]).toEqual([50, 50, 50, 50]);
      // two top clusters: budgets by water-filling, the same on both sides up to the +1
      const caps = summary.topClusterSizes;
      ours.perTopCluster.forEach((v, i) => {
        expect(v).toBeLessThanOrEqual(caps[i]);
        expect(Math.abs(v - theirs.perTopCluster[i])).toBeLessThanOrEqual(1);
      });
    },
  );
});

/** Every command, as bin/strata.mjs runs them. */
async function strataAll(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => void (out += t), err: (t) => void (err += t), errIsTty: false };
  const code = await main(argv, io);
  return { code, out, err };
}

describe('strata curate in the reference layout', () => {
  it('writes sorted_clusters.npy that numpy loads: members partition the rows, closest first', async () => {
    const out = join(tempDir(), 'run');
    // Every row clustered (no near-duplicates set aside), so level 1's members partition the rows.
    const r = await strataAll(
      'curate',
      '--no-dedup',
      '--embeddings',
      EMB,
      '--target',
      '30',
      '--clusters',
      '20,5',
      '--iters',
      '5',
      '--out',
      out,
    );
    expect(r.code).toBe(0);
    const report = python(
      `
import json, sys, numpy as np
out, emb = sys.argv[1], sys.argv[2]
x = np.load(emb).astype(np.float64)
rows, levels = x, []
for t in (1, 2):
    sc = np.load(f"{out}/level{t}/sorted_clusters.npy", allow_pickle=True)
    c = np.load(f"{out}/level{t}/centroids.npy").astype(np.float64)
    members = np.concatenate(list(sc))
    sorted_ok = all(
        np.all(np.diff(((rows[m] - c[j]) ** 2).sum(1)) >= -1e-3) for j, m in enumerate(sc) if len(m) > 1
    )
    levels.append({
        "dtype": str(sc.dtype), "k": len(sc), "memberDtypes": sorted({str(m.dtype) for m in sc}),
        "partition": bool(np.array_equal(np.sort(members), np.arange(len(rows)))),
        "sorted": bool(sorted_ok),
    })
    rows = c
sel = np.load(f"{out}/curated_datasets/strata_30.npy")
print(json.dumps({"levels": levels, "curated": [str(sel.dtype), len(sel)]}))
`,
      out,
      EMB,
    );
    const got = JSON.parse(report) as {
      levels: {
        dtype: string;
        k: number;
        memberDtypes: string[];
        partition: boolean;
        sorted: boolean;
      }[];
      curated: [string, number];
    };
    expect(got.levels).toEqual([
      { dtype: 'object', k: 20, memberDtypes: ['int64'], partition: true, sorted: true },
      { dtype: 'object', k: 5, memberDtypes: ['int64'], partition: true, sorted: true },
    ]);
    expect(got.curated).toEqual(['int64', 30]);
  });
});

describe('strata export-job on a column-major .npy', () => {
  it('accepts a Fortran-order file as curate does, and writes the rows in order', async () => {
    const rows = 40;
    const cols = 6;
    const x = Float32Array.from({ length: rows * cols }, (_, i) => i * 0.5 - 3);
    // The same matrix stored column by column, as np.save(np.asfortranarray(x)) writes it.
    const colMajor = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) colMajor[c * rows + r] = x[r * cols + c];
    let dict = `{'descr': '<f4', 'fortran_order': True, 'shape': (${rows}, ${cols}), }`;
    while ((10 + dict.length + 1) % 64 !== 0) dict += ' ';
    dict += '\n';
    const header = new Uint8Array(10 + dict.length);
    header.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, dict.length & 0xff, dict.length >> 8]);
    header.set(new TextEncoder().encode(dict), 10);
    const dir = tempDir();
    const path = join(dir, 'fortran.npy');
    writeFileSync(path, Buffer.concat([header, new Uint8Array(colMajor.buffer)]));
    const out = join(dir, 'job');
    const r = await strata('export-job', '--embeddings', path, '--out', out, '--clusters', '8,2');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const written = parseNpy(readFileSync(join(out, 'embeddings.npy')));
    expect(written.shape).toEqual([rows, cols]);
    expect(Array.from(written.data as Float32Array)).toEqual(Array.from(x));
  });
});
