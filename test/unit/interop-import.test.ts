import {
  cpSync,
  lstatSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.ts';
import type { Hierarchy } from '../../src/core/hierarchy.ts';
import { Rng } from '../../src/core/rng.ts';
import { allocate, allocationTree, rawCounts, sampleHierarchy } from '../../src/core/sampling.ts';
import { fromReferenceConfig, parseReferenceConfigYaml } from '../../src/interop/config.ts';
import { overview } from '../../src/interop/overview.ts';
import { importReference, sourceFromFiles } from '../../src/interop/import.ts';
import { sourceFromDir } from '../../src/interop/node-files.ts';
import { encodeSortedClustersNpy } from '../../src/interop/sorted-clusters.ts';
import {
  copyLayout,
  HAVE_NUMPY,
  LAYOUT,
  loadMatrix,
  python,
  readBytes,
  runFixtureScript,
  tempDir,
} from './interop-helpers.ts';

/** The fixture's parameters, as scripts/fixtures/reference_layout.py recorded them. */
const FIXTURE = JSON.parse(readFileSync(join(LAYOUT, 'fixture.json'), 'utf8')) as {
  n: number;
  d: number;
  n_clusters: number[];
  sample_size: number[];
  n_resampling_steps: number[];
  target: number;
};

const embeddings = () => loadMatrix(join(LAYOUT, 'embeddings.npy'));

/**
 * Whether `alloc` is a water-filling of `budget` over `caps` (algorithm.md section 3): for some
 * x every cluster gets min(x, cap), except that some clusters with cap > x get x + 1, and the
 * total is min(budget, sum of caps).
 */
function isWaterFilling(caps: number[], budget: number, alloc: number[]): boolean {
  const total = caps.reduce((a, b) => a + b, 0);
  if (alloc.reduce((a, b) => a + b, 0) !== Math.min(budget, total)) return false;
  if (total <= budget) return alloc.every((a, i) => a === caps[i]);
  const open = alloc.filter((a, i) => a < caps[i]);
  if (open.length === 0) return false;
  const x = Math.min(...open);
  return alloc.every((a, i) => a === Math.min(caps[i], x) || (caps[i] > x && a === x + 1));
}

/** Per-cluster counts of a selection, level by level (raw rows under each cluster). */
function countsOf(h: Hierarchy, selection: ArrayLike<number>): number[][] {
  return overview(h, selection).levels.map((level) => level.map((c) => c.selected));
}

/** Checks that a selection splits its budget by water-filling at every node of the tree. */
function expectBalancedAtEveryNode(h: Hierarchy, selection: ArrayLike<number>): void {
  const caps = rawCounts(h);
  const got = countsOf(h, selection);
  const T = h.levels.length;
  const top = got[T - 1];
  expect(isWaterFilling(Array.from(caps[T - 1]), selection.length, top)).toBe(true);
  for (let t = T - 1; t >= 1; t--) {
    h.levels[t].clusters.forEach((children, j) => {
      const c = Array.from(children);
      const ok = isWaterFilling(
        c.map((i) => caps[t - 1][i]),
        got[t][j],
        c.map((i) => got[t - 1][i]),
      );
      expect(ok, `level ${t + 1} cluster ${j}`).toBe(true);
    });
  }
}

describe('importing a reference output directory', () => {
  it("follows the reference's links inside the folder and refuses links that leave it", async () => {
    // The fixture is laid out as the reference leaves a run: level{t}/step0..step{n-1} for
    // n_resampling_steps = n (the first k-means run included), and the level's own files are
    // relative links into the last step.
    FIXTURE.n_resampling_steps.forEach((n, t) => {
      const level = join(LAYOUT, `level${t + 1}`);
      const steps = readdirSync(level).filter((f) => /^step\d+$/.test(f));
      const runs = FIXTURE.sample_size[t] > 1 ? n : 1;
      expect(steps.sort()).toEqual(Array.from({ length: runs }, (_, s) => `step${s}`));
      for (const name of ['centroids.npy', 'sorted_clusters.npy']) {
        expect(lstatSync(join(level, name)).isSymbolicLink()).toBe(true);
        expect(readlinkSync(join(level, name))).toBe(join(`step${runs - 1}`, name));
      }
    });
    const x = embeddings();
    const linked = await importReference(await sourceFromDir(LAYOUT), { embeddings: x });
    expect(linked.warnings).toEqual([]);
    const dir = tempDir();
    copyLayout(dir);
    const copy = await importReference(await sourceFromDir(dir), { embeddings: x });
    expect(copy.hierarchy.levels.map((l) => l.clusters)).toEqual(
      linked.hierarchy.levels.map((l) => l.clusters),
    );

    const elsewhere = tempDir();
    cpSync(join(LAYOUT, 'level1', 'centroids.npy'), join(elsewhere, 'c.npy'));
    rmSync(join(dir, 'level1', 'centroids.npy'));
    symlinkSync(join(elsewhere, 'c.npy'), join(dir, 'level1', 'centroids.npy'));
    await expect(sourceFromDir(dir)).rejects.toThrow(
      /level1\/centroids\.npy links outside the folder .*; refusing to follow it/,
    );
  });

  it('reads the last step where a page cannot see the links, and refuses a level file that differs', async () => {
    // A webkitdirectory file list: regular files only, under the picked folder's name.
    const files: { path: string; blob: Blob }[] = [];
    const walk = (d: string, rel: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name), `${rel}${e.name}/`);
        else if (e.isFile()) {
          files.push({ path: `${rel}${e.name}`, blob: new Blob([readBytes(join(d, e.name))]) });
        }
      }
    };
    walk(LAYOUT, 'run/');
    expect(files.some((f) => f.path === 'run/level1/centroids.npy')).toBe(false);
    const x = embeddings();
    const fromNode = await importReference(await sourceFromDir(LAYOUT), { embeddings: x });
    const fromPage = await importReference(sourceFromFiles(files), { embeddings: x });
    expect(fromPage.warnings).toEqual([]);
    expect(fromPage.hierarchy.levels.map((l) => l.clusters)).toEqual(
      fromNode.hierarchy.levels.map((l) => l.clusters),
    );
    // A directory handle lists the link as a file: the same bytes as the step it links to pass;
    // other bytes (a link leading elsewhere) are refused.
    const same = readBytes(join(LAYOUT, 'level2', 'step2', 'centroids.npy'));
    const shown = (bytes: Uint8Array<ArrayBuffer>) => [
      ...files,
      { path: 'run/level2/centroids.npy', blob: new Blob([bytes]) },
    ];
    await expect(importReference(sourceFromFiles(shown(same)))).resolves.toBeTruthy();
    const other = readBytes(join(LAYOUT, 'level2', 'step0', 'centroids.npy'));
    await expect(importReference(sourceFromFiles(shown(other)))).rejects.toThrow(
      /level2\/centroids\.npy is not the same file as level2\/step2\/centroids\.npy, .*refusing it/,
    );
  });

  it('reads the committed fixture into a hierarchy with labels and distances', async () => {
    const x = embeddings();
    const r = await importReference(await sourceFromDir(LAYOUT), { embeddings: x });
    const h = r.hierarchy;
    expect(h.levels.map((l) => l.k)).toEqual(FIXTURE.n_clusters);
    expect([r.rows, r.dim]).toEqual([FIXTURE.n, FIXTURE.d]);
    expect(r.dist2Known).toEqual([true, true, true]);
    expect(r.unassigned).toEqual([0, 0, 0]);
    expect(r.warnings).toEqual([]);
    // every level partitions its input, and labels agree with membership
    h.levels.forEach((level, t) => {
      const n = t === 0 ? FIXTURE.n : h.levels[t - 1].k;
      expect(level.labels).toHaveLength(n);
      const seen = new Set<number>();
      level.clusters.forEach((members, j) => {
        for (const m of members) {
          expect(level.labels[m]).toBe(j);
          seen.add(m);
        }
        // closest first: the order the reference wrote is the order of the distances
        for (let i = 1; i < members.length; i++) {
          expect(level.dist2[members[i]]).toBeGreaterThanOrEqual(
            level.dist2[members[i - 1]] * (1 - 1e-4),
          );
        }
      });
      expect(seen.size).toBe(n);
    });
    // a level-1 distance is the squared distance of the row to its centroid
    const c = h.levels[0].centroids;
    const row = 17;
    const j = h.levels[0].labels[row];
    let s = 0;
    for (let a = 0; a < x.cols; a++) s += (x.data[row * x.cols + a] - c.data[j * c.cols + a]) ** 2;
    expect(h.levels[0].dist2[row]).toBeCloseTo(s, 4);
    expect(r.curated.map((d) => d.name)).toEqual([`balanced_${FIXTURE.target}_r.npy`]);
    expect(r.curated[0].indices).toHaveLength(FIXTURE.target);
    expect(r.config?.n_clusters).toEqual(FIXTURE.n_clusters);
  });

  it('imports without embeddings: level-1 distances unknown, the rest derived', async () => {
    const r = await importReference(await sourceFromDir(LAYOUT));
    expect(r.rows).toBe(FIXTURE.n);
    expect(r.dist2Known).toEqual([false, true, true]);
    expect(Number.isNaN(r.hierarchy.levels[0].dist2[0])).toBe(true);
    expect(Number.isFinite(r.hierarchy.levels[1].dist2[0])).toBe(true);
    expect(r.warnings.join()).toMatch(/no embeddings given/);
  });

  it('finds the run inside a picked folder (the page prefixes the folder name)', async () => {
    const disk = await sourceFromDir(LAYOUT);
    const files = await Promise.all(
      disk.paths.map(async (p) => ({
        path: `myrun/${p}`,
        blob: new Blob([(await disk.read(p)) as Uint8Array<ArrayBuffer>]),
      })),
    );
    const r = await importReference(sourceFromFiles(files));
    expect(r.hierarchy.levels.map((l) => l.k)).toEqual(FIXTURE.n_clusters);
  });

  it('reads its config.yaml in the launcher vocabulary and maps it to Strata settings', () => {
    const cfg = parseReferenceConfigYaml(readFileSync(join(LAYOUT, 'config.yaml'), 'utf8'));
    const { config, warnings } = fromReferenceConfig(cfg, 5);
    expect(config).toEqual({
      levels: [
        { k: 20, sampleSize: 1 },
        { k: 5, sampleSize: 2 },
        { k: 2, sampleSize: 2 },
      ],
      // n_resampling_steps 3 = three k-means runs a level (step0..step2): Strata's m = 2
      resamplingSteps: 2,
      strategy: 'closest',
      nIters: 20,
      seed: 5,
    });
    expect(warnings).toEqual([]);
    // YAML 1.1 as the reference's Python loader reads it: 100_000 is a number
    const big = parseReferenceConfigYaml(
      readFileSync(join(LAYOUT, 'config.yaml'), 'utf8')
        .replace('n_clusters: [20, 5, 2]', 'n_clusters: [100_000, 5, 2]')
        .replace('n_splits: [1, 1, 1]', 'n_splits: [100, 1, 1]'),
    );
    const mapped = fromReferenceConfig(big);
    expect(mapped.config.levels[0].k).toBe(10_000_000);
    expect(mapped.warnings[0]).toMatch(/splits 100000 clusters into 100 each/);
  });

  it('rejects broken layouts with messages that name the file', async () => {
    const dir = tempDir();
    copyLayout(dir);
    const load = async () =>
      importReference(await sourceFromDir(dir), { embeddings: embeddings() });
    rmSync(join(dir, 'level2', 'centroids.npy'));
    await expect(load()).rejects.toThrow(
      /level2\/centroids\.npy is missing \(the run has files up to level3\)/,
    );
    copyLayout(dir, 'level2');
    writeFileSync(
      join(dir, 'level3', 'sorted_clusters.npy'),
      encodeSortedClustersNpy([
        [0, 1],
        [1, 2, 3, 4],
      ]),
    );
    await expect(load()).rejects.toThrow(
      /level3\/sorted_clusters\.npy: level2 centroid 1 is in cluster 0 and in cluster 1/,
    );
    writeFileSync(
      join(dir, 'level3', 'sorted_clusters.npy'),
      encodeSortedClustersNpy([
        [0, 1],
        [2, 3, 9],
      ]),
    );
    await expect(load()).rejects.toThrow(
      /level3\/sorted_clusters\.npy: cluster 1 member 2 is 9: ids must lie in \[0, 5\)/,
    );
    writeFileSync(
      join(dir, 'level3', 'sorted_clusters.npy'),
      encodeSortedClustersNpy([[0, 1, 2, 3, 4]]),
    );
    await expect(load()).rejects.toThrow(
      /level3: sorted_clusters\.npy holds 1 clusters but centroids\.npy has 2/,
    );
    writeFileSync(
      join(dir, 'level3', 'sorted_clusters.npy'),
      readFileSync(join(LAYOUT, '..', 'pickles', 'bad-os-system.npy')),
    );
    await expect(load()).rejects.toThrow(/refusing global posix\.system/);
    const e = await load().catch((err: unknown) => err);
    expect(e).toBeInstanceOf(InputError);
    await expect(
      importReference({ paths: ['a/b.npy'], read: async () => new Uint8Array() }),
    ).rejects.toThrow(/no level1\/sorted_clusters\.npy found/);
  });

  it('keeps a curated file it cannot read as a warning, not a failure', async () => {
    const dir = tempDir();
    copyLayout(dir);
    writeFileSync(join(dir, 'curated_datasets', 'broken.npy'), 'not a numpy file');
    const r = await importReference(await sourceFromDir(dir));
    expect(r.curated).toHaveLength(1);
    expect(r.warnings.join('\n')).toMatch(
      /curated_datasets\/broken\.npy was skipped: .*not a \.npy file/,
    );
  });
});

describe("Strata's sampler on the reference's level structure", () => {
  it('samples and explores the imported hierarchy', async () => {
    const r = await importReference(await sourceFromDir(LAYOUT), { embeddings: embeddings() });
    const h = r.hierarchy;
    for (const leafStrategy of ['random', 'closest', 'furthest'] as const) {
      const sel = sampleHierarchy(h, FIXTURE.target, { leafStrategy, seed: 3 });
      expect(sel).toHaveLength(FIXTURE.target);
      expect(new Set(sel).size).toBe(FIXTURE.target);
      expectBalancedAtEveryNode(h, sel);
    }
    const sel = sampleHierarchy(h, FIXTURE.target, { leafStrategy: 'closest', seed: 3 });
    const view = overview(h, sel);
    expect(view.top.reduce((a, c) => a + c.size, 0)).toBe(FIXTURE.n);
    expect(view.top.reduce((a, c) => a + c.selected, 0)).toBe(FIXTURE.target);
    expect(view.top[0].size).toBeGreaterThanOrEqual(view.top[1].size);
    // drill down: top -> level 2 -> level 1 -> rows, closest first, the closest ones selected
    const level2 = view.children(3, view.top[0].id) as ReturnType<typeof overview>['top'];
    expect(level2.reduce((a, c) => a + c.size, 0)).toBe(view.top[0].size);
    const leaf = (view.children(2, level2[0].id) as ReturnType<typeof overview>['top'])[0];
    const rows = view.children(1, leaf.id) as Int32Array;
    expect(rows).toHaveLength(leaf.size);
    const chosen = new Set(sel);
    const picked = Array.from(rows, (row) => chosen.has(row));
    expect(picked).toEqual(picked.map((_, i) => i < leaf.selected));
  });

  it("agrees with the reference sampling semantics on the fixture's own sample", async () => {
    const r = await importReference(await sourceFromDir(LAYOUT));
    const h = r.hierarchy;
    const theirs = r.curated[0].indices;
    // the fixture's sample (written by the script's own implementation of the rule) is a valid
    // water-filling at every node, has the target size and no duplicates
    expect(theirs).toHaveLength(FIXTURE.target);
    expect(new Set(theirs).size).toBe(FIXTURE.target);
    expectBalancedAtEveryNode(h, theirs);
    // Strata on the same structure: same size, no duplicates, and the same top-level budgets
    // up to which clusters receive the +1 remainders
    const T = h.levels.length;
    const caps = Array.from(rawCounts(h)[T - 1]);
    for (const seed of [0, 1, 2, 3]) {
      const ours = sampleHierarchy(h, FIXTURE.target, { leafStrategy: 'random', seed });
      expect(ours).toHaveLength(theirs.length);
      expect(new Set(ours).size).toBe(ours.length);
      const a = countsOf(h, ours)[T - 1];
      const b = countsOf(h, theirs)[T - 1];
      const x = Math.min(...a.filter((v, i) => v < caps[i]));
      a.forEach((v, i) => {
        if (caps[i] <= x) expect(v).toBe(b[i]);
        else expect(Math.abs(v - b[i])).toBeLessThanOrEqual(1);
      });
      expect(a.filter((v, i) => caps[i] > x && v === x + 1).length).toBe(
        b.filter((v, i) => caps[i] > x && v === x + 1).length,
      );
      expect(Array.from(allocationTree(h, FIXTURE.target, { seed }).budgets[T - 1])).toEqual(a);
    }
  });

  it('matches the checks of algorithm.md section 3 on a hand-made level structure', () => {
    // level 1: four clusters of 50, 30, 5 and 2 raw rows; one top cluster above them
    let next = 0;
    const sizes = [50, 30, 5, 2];
    const leaves = sizes.map((s) => Int32Array.from({ length: s }, () => next++));
    const mk = (clusters: Int32Array[], n: number) => {
      const labels = new Int32Array(n);
      clusters.forEach((members, j) => members.forEach((m) => (labels[m] = j)));
      return {
        k: clusters.length,
        centroids: { data: new Float32Array(clusters.length), rows: clusters.length, cols: 1 },
        labels,
        dist2: new Float32Array(n),
        clusters,
      };
    };
    const h: Hierarchy = { levels: [mk(leaves, next), mk([Int32Array.of(0, 1, 2, 3)], 4)] };
    for (const [budget, want] of [
      [100, [50, 30, 5, 2]],
      [40, null],
    ] as const) {
      const got = countsOf(h, sampleHierarchy(h, budget, { leafStrategy: 'random', seed: 9 }))[0];
      if (want) expect(got).toEqual(want);
      else {
        expect(got.slice(2)).toEqual([5, 2]);
        expect(got.slice(0, 2).sort()).toEqual([16, 17]);
      }
    }
  });

  it.skipIf(!HAVE_NUMPY)('allocates like an independent numpy implementation of the rule', () => {
    // 300 random cases: caps, budget -> the numpy implementation's allocation
    const out = python(
      `
import json, numpy as np
import importlib.util, sys
spec = importlib.util.spec_from_file_location('ref', sys.argv[1])
ref = importlib.util.module_from_spec(spec); spec.loader.exec_module(ref)
rng = np.random.default_rng(1)
cases = []
for _ in range(300):
    caps = rng.integers(0, 60, size=int(rng.integers(1, 12))).tolist()
    budget = int(rng.integers(0, 200))
    cases.append([caps, budget, ref.allocate(caps, budget, rng).tolist()])
print(json.dumps(cases))
`,
      join(import.meta.dirname, '..', '..', 'scripts', 'fixtures', 'reference_layout.py'),
    );
    const cases = JSON.parse(out) as [number[], number, number[]][];
    const rng = new Rng(4);
    for (const [caps, budget, theirs] of cases) {
      const ours = allocate(caps, budget, rng);
      expect(isWaterFilling(caps, budget, theirs)).toBe(true);
      expect(isWaterFilling(caps, budget, ours)).toBe(true);
      // the same floor, so the same budgets up to where the +1 remainders go
      expect(
        ours
          .slice()
          .sort((p, q) => p - q)
          .join(),
      ).toBe(
        theirs
          .slice()
          .sort((p, q) => p - q)
          .join(),
      );
    }
  });

  it.skipIf(!HAVE_NUMPY)('imports a layout the fixture script writes afresh', async () => {
    const dir = runFixtureScript('reference_layout.py');
    const r = await importReference(await sourceFromDir(dir), {
      embeddings: loadMatrix(join(dir, 'embeddings.npy')),
    });
    expect(r.warnings).toEqual([]);
    expect(r.hierarchy.levels.map((l) => l.k)).toEqual(FIXTURE.n_clusters);
    expectBalancedAtEveryNode(r.hierarchy, r.curated[0].indices);
  });
});
