/**
 * One arithmetic for a seed: the app's pipeline (ingest -> cluster worker -> sample, in
 * Chromium) and `strata curate` (Node, run by a test-server command) pick the same rows from the
 * same embeddings with the same settings and seed, near-duplicate removal on as by default.
 * Large enough that the kernels' thread pools take the calls and k-means++ seeds from a sample
 * (over SEED_MIN_ROWS rows).
 */
import { deleteDB } from 'idb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import { DEFAULT_DEDUP_THRESHOLD, Rng, SEED_MIN_ROWS, writeNpy } from '../../src/core';
import type { RunSettings } from '../../src/pipeline/contract';
import { Workspace } from '../../src/pipeline/workspace';
import type { CliSelection } from './strata-cli-command';

declare module 'vitest/browser' {
  interface BrowserCommands {
    strataCurate(npyBase64: string, args: string[]): Promise<CliSelection>;
  }
}

/**
 * 20000 rows x 16 dims around 60 centres of uneven weight, every tenth row a near-copy of the
 * row before it (what the near-duplicate search sets aside; the centres are close enough to the
 * noise that two distinct rows rarely count as copies).
 */
function rows(n: number, d: number): Float32Array {
  const rng = new Rng(11);
  const centres = Float32Array.from({ length: 60 * d }, () => 0.5 * rng.normal());
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(60 * rng.next() ** 2) * d;
    for (let j = 0; j < d; j++) {
      out[i * d + j] =
        i % 10 === 9 ? out[(i - 1) * d + j] + 0.01 * rng.normal() : centres[c + j] + rng.normal();
    }
  }
  return out;
}

function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

const SETTINGS: RunSettings = {
  model: 'precomputed',
  provider: 'auto',
  batchSize: 8,
  normalisation: 'l2',
  k: [200, 40],
  r: [1, 3],
  resamplingSteps: 2,
  resampleStrategy: 'closest',
  iterations: 5,
  target: 2500,
  leafStrategy: 'random',
  seed: 5,
  backend: 'cpu',
  // Near-duplicate removal at the default threshold on both sides, as both run by default.
  dedup: DEFAULT_DEDUP_THRESHOLD,
};

const dbName = `strata-agree-${crypto.randomUUID()}`;
let ws: Workspace;
beforeAll(async () => {
  ws = await Workspace.open({ dbName });
});
afterAll(async () => {
  await ws?.close();
  await deleteDB(dbName);
});

describe('the app and strata curate', () => {
  it('select the same rows for the same embeddings, settings and seed', async () => {
    const n = 20_000;
    const d = 16;
    expect(n).toBeGreaterThan(SEED_MIN_ROWS);
    const npy = writeNpy(rows(n, d), [n, d]) as Uint8Array<ArrayBuffer>;
    const s = SETTINGS;
    const cli = commands.strataCurate(base64(npy), [
      '--normalize',
      '--target',
      String(s.target),
      '--clusters',
      s.k.join(','),
      '--sample-size',
      s.r.join(','),
      '--resample',
      String(s.resamplingSteps),
      '--strategy',
      s.resampleStrategy,
      '--iters',
      String(s.iterations),
      '--leaf',
      s.leafStrategy,
      '--seed',
      String(s.seed),
    ]);

    const report = await ws.ingest({ kind: 'precomputed', npy: new File([npy], 'rows.npy') });
    const created = await ws.createRun(report.dataset.id, s);
    const run = await ws.start(created.id);
    expect(run.status).toBe('done');
    // The copies (and only a few distinct rows besides) were set aside before clustering.
    expect(run.duplicates?.removed).toBeGreaterThanOrEqual(n / 10);
    expect(run.duplicates?.removed).toBeLessThan(n / 5);
    const app = [...(await ws.selection(run.id))].sort((a, b) => a - b);

    const fromCli = await cli;
    // Both run the relaxed-SIMD kernel on every core; each record says which kernel decided.
    expect(fromCli.backend).toMatch(/^cpu-wasm-relaxed-simd/);
    expect(run.backendUsed).toBe(fromCli.backend);
    expect(app).toHaveLength(s.target);
    expect(app).toEqual(fromCli.selection);
  });
});
