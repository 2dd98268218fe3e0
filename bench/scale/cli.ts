/**
 * The scale bench's command-line run: `strata curate` on the same .npy as the page, with the
 * settings the page would pick for it (subset size from the core's defaultTarget, L2
 * normalisation as for a loaded .npy, near-duplicate removal at the default threshold, the
 * default time budget), under /usr/bin/time -v for the peak resident set size.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defaultTarget } from '../../src/core/plan.ts';
import { SCALE_CACHE } from './images.ts';

const ROOT = resolve(import.meta.dirname, '../..');

interface RunJson {
  readonly backend?: string;
  readonly parameters: {
    readonly levels: readonly { readonly k: number; readonly sampleSize: number }[];
    readonly nIters: number;
    readonly resamplingSteps?: number;
  };
  readonly plan?: {
    readonly estimatedSeconds?: number;
    readonly shape?: { readonly summary?: string };
  };
  readonly timings: Record<string, number | number[]>;
  readonly dedup?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

type Emit = (o: Record<string, unknown>) => void;

export async function runCli(
  npy: string,
  rows: number,
  emit: Emit,
  log: (s: string) => void,
): Promise<void> {
  const out = join(SCALE_CACHE, 'cli-out');
  rmSync(out, { recursive: true, force: true });
  const target = defaultTarget(rows);
  const args = [
    '-v',
    process.execPath,
    join(ROOT, 'bin', 'strata.mjs'),
    'curate',
    '--embeddings',
    npy,
    '--target',
    String(target),
    '--normalize',
    '--out',
    out,
  ];
  log(`strata curate --target ${target} --normalize on ${rows} rows`);
  const t0 = Date.now();
  const child = spawn('/usr/bin/time', args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    stderr = (stderr + s).slice(-200_000);
  });
  const code = await new Promise<number>((ok) => child.on('exit', (c) => ok(c ?? 1)));
  const seconds = (Date.now() - t0) / 1000;
  const peakKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1] ?? NaN);
  if (code !== 0) {
    emit({
      part: 'cli',
      kind: 'failed',
      exit: code,
      seconds,
      peak_rss_gib: peakKb / 2 ** 20,
      stderr: stderr.slice(-3000),
    });
    return;
  }
  const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as RunJson;
  const levels = run.parameters.levels;
  const timings = Object.fromEntries(
    Object.entries(run.timings).map(([k, v]) => [
      k,
      Array.isArray(v) ? v.map((s) => Number(s.toFixed(2))) : Number(v.toFixed(2)),
    ]),
  );
  const dedup = run.dedup ?? null;
  const removed = typeof dedup?.removed === 'number' ? dedup.removed : 0;
  emit({
    part: 'cli',
    kind: 'run',
    rows,
    seconds: Number(seconds.toFixed(2)),
    items_per_s: Number((rows / seconds).toFixed(1)),
    peak_rss_gib: Number((peakKb / 2 ** 20).toFixed(3)),
    input_gib: Number(((rows * 384 * 4) / 2 ** 30).toFixed(3)),
    backend: run.backend ?? null,
    k: levels.map((l) => l.k),
    r: levels.map((l) => l.sampleSize),
    rows_per_level1_cluster: Number(((rows - removed) / levels[0].k).toFixed(1)),
    lloyd_rounds: run.parameters.nIters,
    target,
    dedup,
    timings,
    estimated_seconds: run.plan?.estimatedSeconds ?? null,
    shape: run.plan?.shape?.summary ?? null,
  });
  rmSync(out, { recursive: true, force: true });
}
