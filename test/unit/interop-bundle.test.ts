import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { hierarchicalKMeans, type HierarchyConfig } from '../../src/core/hierarchy.ts';
import { CpuBackend } from '../../src/core/kmeans.ts';
import { parseNpy } from '../../src/core/npy.ts';
import { Rng } from '../../src/core/rng.ts';
import { sampleHierarchy } from '../../src/core/sampling.ts';
import type { Matrix } from '../../src/core/types.ts';
import {
  checkReferenceConfig,
  fromReferenceConfig,
  parseReferenceConfigYaml,
  REFERENCE_KEYS,
  referenceConfigYaml,
  toReferenceConfig,
  toReferenceSteps,
  toStrataSteps,
} from '../../src/interop/config.ts';
import { collectBytes, toReadableStream, type BundleFile } from '../../src/interop/files.ts';
import { importReference } from '../../src/interop/import.ts';
import {
  exportJobBundle,
  matrixSource,
  meanRow,
  type EmbeddingSource,
} from '../../src/interop/job-bundle.ts';
import { npyFileSource, sourceFromDir, writeFiles } from '../../src/interop/node-files.ts';
import { referenceLayoutFiles } from '../../src/interop/reference-layout.ts';
import { HAVE_NUMPY, LAYOUT, loadMatrix, python, tempDir } from './interop-helpers.ts';

const CONFIG: HierarchyConfig = {
  levels: [
    { k: 12, sampleSize: 1 },
    { k: 4, sampleSize: 2 },
  ],
  resamplingSteps: 3,
  strategy: 'random',
  nIters: 25,
  seed: 7,
};

function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  const rng = new Rng(seed);
  return { data: Float32Array.from({ length: rows * cols }, () => rng.normal()), rows, cols };
}

async function files(list: BundleFile[]): Promise<Record<string, Uint8Array>> {
  const out: Record<string, Uint8Array> = {};
  for (const f of list) out[f.path] = await collectBytes(f);
  return out;
}

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('job bundle export', () => {
  const x = randomMatrix(37, 5, 1);
  const ids = Array.from({ length: 37 }, (_, i) => `img/${i}.jpg`);

  it('writes embeddings, ids, a reference config, strata.json and a README', async () => {
    const bundle = exportJobBundle({
      embeddings: matrixSource(x, 8),
      ids,
      config: CONFIG,
      target: 10,
      name: 'photos',
    });
    const got = await files(bundle);
    expect(Object.keys(got)).toEqual([
      'embeddings.npy',
      'ids.txt',
      'config.yaml',
      'strata.json',
      'README.md',
    ]);
    const npy = parseNpy(got['embeddings.npy']);
    expect([npy.dtype, ...npy.shape]).toEqual(['float32', 37, 5]);
    expect(npy.data).toEqual(x.data);
    expect(text(got['ids.txt']).split('\n')).toEqual([...ids, '']);

    const yaml = YAML.parse(text(got['config.yaml'])) as Record<string, unknown>;
    expect(Object.keys(yaml)).toEqual([...REFERENCE_KEYS]);
    expect(checkReferenceConfig(yaml)).toMatchObject({
      n_levels: 2,
      n_iters: 25,
      n_clusters: [12, 4],
      n_splits: [1, 1],
      n_resampling_steps: [1, 4], // m = 3 resampling steps after the first k-means: 4 runs
      sample_size: [1, 2],
      sampling_strategy: 'r',
      dtype: 'float32',
      nnodes: [1, 1],
      ngpus_per_node: [1, 1],
    });
    const manifest = JSON.parse(text(got['strata.json'])) as { hierarchy: unknown; rows: number };
    expect(manifest.hierarchy).toEqual(CONFIG);
    expect(manifest.rows).toBe(37);
    const readme = text(got['README.md']);
    for (const needle of [
      'hierarchical_kmeans_launcher.py',
      '--embeddings_path "$JOB/embeddings.npy"',
      '--config_file "$JOB/config.yaml"',
      'bash local_launcher.sh',
      'run_hierarchical_sampling.py',
      '--target_size 10',
      'npx strata import --dir "$JOB/run"',
      'CC-BY-NC',
    ]) {
      expect(readme).toContain(needle);
    }
  });

  it("keeps a dataset name to one line of plain text in the README's heading", async () => {
    const bundle = exportJobBundle({
      embeddings: matrixSource(x, 8),
      config: CONFIG,
      name: 'cats\n# Run this: [link](http://x) <img src=x>',
    });
    const readme = text((await files(bundle))['README.md']);
    const [heading, second] = readme.split('\n');
    expect(heading).toBe(
      '# Strata distributed job: cats \\# Run this: \\[link\\]\\(http://x\\) \\<img src=x\\>',
    );
    expect(second).toBe('');
    expect(readme).toMatch(/must not exist yet/);
    expect(readme).toMatch(/resumes from its checkpoints: run the same command again/);
    // the exact commands for both launchers, and the sizes and the GPU time they will take
    expect(readme).toContain('(cd "$JOB/run" && bash launcher.sh)');
    expect(readme).toContain('(cd "$JOB/run" && bash local_launcher.sh)');
    expect(readme).toMatch(/embeddings\.npy: \d+ bytes/);
    expect(readme).toMatch(/GPU-(minutes|hours)|under a minute of GPU time/);
  });

  it('streams the embeddings: one source chunk is read per output chunk, on demand', async () => {
    let pulled = 0;
    const source: EmbeddingSource = {
      rows: 37,
      cols: 5,
      async *chunks() {
        for (let r = 0; r < 37; r += 10) {
          pulled++;
          yield x.data.subarray(r * 5, Math.min(37, r + 10) * 5);
        }
      },
    };
    const [npy] = exportJobBundle({ embeddings: source, config: CONFIG });
    expect(pulled).toBe(0);
    const reader = toReadableStream(npy).getReader();
    const header = await reader.read();
    expect(header.value?.length).toBe(128);
    expect(pulled).toBe(0);
    await reader.read();
    expect(pulled).toBe(1);
    let total = header.value!.length + 10 * 5 * 4;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      total += value.length;
    }
    expect(pulled).toBe(4);
    expect(total).toBe(npy.size);
  });

  it('L2-normalises rows on the way out when asked (a zero row stays zero)', async () => {
    const m = randomMatrix(4, 3, 2);
    m.data.fill(0, 3, 6);
    const [npy] = exportJobBundle({ embeddings: matrixSource(m), config: CONFIG, normalize: true });
    const out = parseNpy(await collectBytes(npy)).data as Float32Array;
    for (let r = 0; r < 4; r++) {
      const norm = Math.hypot(...out.subarray(r * 3, r * 3 + 3));
      expect(norm).toBeCloseTo(r === 1 ? 0 : 1, 6);
    }
    expect(m.data[0]).not.toBeCloseTo(out[0], 6); // the source is not modified
  });

  it('centres on the mean row, then normalises, when asked', async () => {
    const m = randomMatrix(50, 4, 3);
    for (let i = 0; i < m.data.length; i++) m.data[i] += 5; // far from the origin
    const mean = await meanRow(matrixSource(m, 7));
    for (let c = 0; c < 4; c++) {
      let s = 0;
      for (let r = 0; r < 50; r++) s += m.data[r * 4 + c];
      expect(mean[c]).toBeCloseTo(s / 50, 5);
    }
    const bundle = exportJobBundle({
      embeddings: matrixSource(m, 7),
      config: CONFIG,
      center: mean,
      normalize: true,
    });
    const out = parseNpy(await collectBytes(bundle[0])).data as Float32Array;
    for (let r = 0; r < 50; r++) {
      const want = Array.from({ length: 4 }, (_, c) => m.data[r * 4 + c] - mean[c]);
      const norm = Math.hypot(...want);
      for (let c = 0; c < 4; c++) expect(out[r * 4 + c]).toBeCloseTo(want[c] / norm, 5);
    }
    const manifest = JSON.parse(text(await collectBytes(bundle[2]))) as Record<string, unknown>;
    expect([manifest.centered, manifest.normalized]).toEqual([true, true]);
    expect(() =>
      exportJobBundle({ embeddings: matrixSource(m), config: CONFIG, center: new Float32Array(3) }),
    ).toThrow(/the centre row has 3 values for 4 columns/);
  });

  it('rejects sources and ids that do not fit, with clear messages', async () => {
    const source = (chunks: Float32Array[], rows = 4): EmbeddingSource => ({
      rows,
      cols: 3,
      chunks: () => chunks,
    });
    const consume = (s: EmbeddingSource) =>
      collectBytes(exportJobBundle({ embeddings: s, config: CONFIG })[0]);
    await expect(consume(source([new Float32Array(5)]))).rejects.toThrow(
      /a chunk of 5 values is not whole rows of 3/,
    );
    await expect(consume(source([new Float32Array(9)]))).rejects.toThrow(
      /the source gave 3 rows, 4 were announced/,
    );
    await expect(consume(source([new Float32Array(15)]))).rejects.toThrow(
      /more than the 4 rows announced/,
    );
    await expect(consume(source([Float32Array.of(0, 0, 0, 1, Number.NaN, 0)], 2))).rejects.toThrow(
      /row 1 holds NaN; embeddings must be finite/,
    );
    expect(() =>
      exportJobBundle({ embeddings: matrixSource(x), ids: ids.slice(1), config: CONFIG }),
    ).toThrow(/36 ids for 37 embedding rows/);
    expect(() =>
      exportJobBundle({
        embeddings: matrixSource(x),
        ids: ids.map((s, i) => (i === 3 ? 'a\nb' : s)),
        config: CONFIG,
      }),
    ).toThrow(/id 3 contains a line break/);
    expect(() =>
      exportJobBundle({ embeddings: matrixSource(x), config: CONFIG, cluster: { nnodes: [1] } }),
    ).toThrow(/nnodes needs one value per level \(2\), got 1/);
  });

  it('streams a .npy from disk chunk by chunk, float64 rows as float32', async () => {
    for (const file of ['embeddings.npy', 'level1/centroids.npy']) {
      const path = join(LAYOUT, ...file.split('/'));
      const whole = loadMatrix(path);
      const source = await npyFileSource(path, 100); // 100 bytes: a couple of rows per chunk
      let chunks = 0;
      const rows: number[] = [];
      for await (const chunk of source.chunks()) {
        chunks++;
        rows.push(...chunk);
      }
      expect(chunks).toBeGreaterThan(5);
      expect(Float32Array.from(rows)).toEqual(whole.data);
    }
    await expect(npyFileSource(join(LAYOUT, 'nope.npy'))).rejects.toThrow(
      /nope\.npy: no such file/,
    );
  });

  it("maps Strata's settings with the reference's conventions", () => {
    // The reference counts a level's k-means runs, the first included; Strata's m the runs after it.
    expect([0, 1, 3, 10].map(toReferenceSteps)).toEqual([1, 2, 4, 11]);
    expect([1, 2, 4, 11].map(toStrataSteps)).toEqual([0, 1, 3, 10]);
    for (const m of [1, 2, 5, 10]) {
      const yaml = referenceConfigYaml(toReferenceConfig({ ...CONFIG, resamplingSteps: m }));
      expect(fromReferenceConfig(parseReferenceConfigYaml(yaml)).config.resamplingSteps).toBe(m);
    }
    const none = toReferenceConfig({ ...CONFIG, resamplingSteps: 0 });
    expect([none.n_resampling_steps, none.sample_size]).toEqual([
      [1, 1],
      [1, 1],
    ]);
    const closest = toReferenceConfig({ ...CONFIG, strategy: 'closest' }, { dtype: 'float64' });
    expect([closest.sampling_strategy, closest.dtype]).toEqual(['c', 'float64']);
    expect(() => checkReferenceConfig({ ...closest, n_clusters: [5] })).toThrow(
      /needs n_levels entries/,
    );
    expect(() => parseReferenceConfigYaml('n_levels: [')).toThrow(/config\.yaml is not valid YAML/);
    expect(() => parseReferenceConfigYaml('n_levels: 2\nsampling_strategy: x')).toThrow(
      /config\.yaml is not a valid reference config: .*sampling_strategy/,
    );
  });

  it.skipIf(!HAVE_NUMPY)('is read by numpy and PyYAML as the reference reads it', async () => {
    const dir = tempDir();
    await writeFiles(
      dir,
      exportJobBundle({ embeddings: matrixSource(x, 8), ids, config: CONFIG, target: 10 }),
    );
    const out = python(
      `
import json, sys, yaml, numpy as np
d = sys.argv[1]
cfg = yaml.safe_load(open(d + '/config.yaml'))
types = {k: type(v).__name__ for k, v in cfg.items()}
items = {k: [type(e).__name__ for e in v] for k, v in cfg.items() if isinstance(v, list)}
x = np.load(d + '/embeddings.npy')
ids = open(d + '/ids.txt').read().splitlines()
print(json.dumps({'types': types, 'items': items, 'dtype': str(x.dtype), 'shape': list(x.shape),
                  'sum': float(x.astype(np.float64).sum()), 'ids': len(ids), 'cfg': cfg}))
`,
      dir,
    );
    const r = JSON.parse(out) as {
      types: Record<string, string>;
      items: Record<string, string[]>;
      dtype: string;
      shape: number[];
      sum: number;
      ids: number;
      cfg: unknown;
    };
    expect(r.types).toEqual({
      n_levels: 'int',
      n_iters: 'int',
      n_clusters: 'list',
      n_splits: 'list',
      n_resampling_steps: 'list',
      sample_size: 'list',
      subset_indices_path: 'NoneType',
      checkpoint_period: 'int',
      dtype: 'str',
      high_precision: 'str',
      ngpus_per_node: 'list',
      nnodes: 'list',
      ncpus_per_gpu: 'int',
      sampling_strategy: 'str',
      slurm_partition: 'NoneType',
    });
    for (const list of Object.values(r.items)) expect(new Set(list)).toEqual(new Set(['int']));
    expect([r.dtype, r.shape, r.ids]).toEqual(['float32', [37, 5], 37]);
    expect(r.sum).toBeCloseTo(
      x.data.reduce((a, b) => a + b, 0),
      3,
    );
    expect(r.cfg).toEqual(toReferenceConfig(CONFIG));
  });
});

describe("Strata's results in the reference layout", () => {
  const config: HierarchyConfig = {
    levels: [
      { k: 20, sampleSize: 1 },
      { k: 5, sampleSize: 2 },
    ],
    resamplingSteps: 2,
    strategy: 'closest',
    nIters: 10,
    seed: 1,
  };

  async function run() {
    const x = loadMatrix(join(LAYOUT, 'embeddings.npy'));
    const h = await hierarchicalKMeans(x, config, new CpuBackend());
    const selection = sampleHierarchy(h, 30, { leafStrategy: 'random', seed: 2 });
    const dir = tempDir();
    await writeFiles(dir, referenceLayoutFiles(h, { selection, config }));
    return { x, h, selection, dir };
  }

  it('imports back to the same hierarchy and selection', async () => {
    const { x, h, selection, dir } = await run();
    const back = await importReference(await sourceFromDir(dir), { embeddings: x });
    expect(back.warnings).toEqual([]);
    expect(back.hierarchy.levels.map((l) => l.k)).toEqual([20, 5]);
    back.hierarchy.levels.forEach((level, t) => {
      expect(level.clusters).toEqual(h.levels[t].clusters);
      expect(level.centroids.data).toEqual(h.levels[t].centroids.data);
      expect(level.labels).toEqual(h.levels[t].labels);
      for (let i = 0; i < level.dist2.length; i++) {
        expect(level.dist2[i]).toBeCloseTo(h.levels[t].dist2[i], 3);
      }
    });
    expect(back.curated).toEqual([{ name: 'strata_30.npy', indices: selection }]);
    expect(back.config?.n_clusters).toEqual([20, 5]);
    const sel = parseNpy(readFileSync(join(dir, 'selection.npy')));
    expect([sel.dtype, sel.shape]).toEqual(['int64', [30]]);
  });

  it.skipIf(!HAVE_NUMPY)('is loaded by numpy as the reference tools load it', async () => {
    const { h, selection, dir } = await run();
    const out = python(
      `
import json, sys, numpy as np
d = sys.argv[1]
res = {}
for t in (1, 2):
    s = np.load(f'{d}/level{t}/sorted_clusters.npy', allow_pickle=True)
    c = np.load(f'{d}/level{t}/centroids.npy')
    assert s.dtype == object and all(m.dtype == np.int64 for m in s)
    res[t] = {'clusters': [m.tolist() for m in s], 'centroids': [str(c.dtype), list(c.shape)]}
sel = np.load(f'{d}/curated_datasets/strata_30.npy')
res['sel'] = [str(sel.dtype), sel.tolist()]
print(json.dumps(res))
`,
      dir,
    );
    const r = JSON.parse(out) as Record<string, { clusters: number[][]; centroids: unknown }> & {
      sel: [string, number[]];
    };
    h.levels.forEach((level, t) => {
      expect(r[t + 1].clusters).toEqual(level.clusters.map((m) => Array.from(m)));
      expect(r[t + 1].centroids).toEqual(['float32', [level.k, 6]]);
    });
    expect(r.sel).toEqual(['int64', Array.from(selection)]);
  });
});
