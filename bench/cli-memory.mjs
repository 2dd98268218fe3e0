#!/usr/bin/env node
/**
 * npm run bench:cli-memory [-- options]: peak memory of `strata curate` on a large pool.
 *
 * Writes bench/out/mix-{N}x{D}.npy once (the bench's Gaussian mixture, 500 centres, streamed to
 * disk in slices so this script never holds the pool), runs the command line on it under
 * /usr/bin/time -v and prints one JSON line: the plan it ran (k per level, rows per level-1
 * cluster, Lloyd rounds), its stage timings, and the peak resident set size ("Maximum resident
 * set size"), with the load average.
 *
 * Options:
 *   --n=1000000 --d=384   pool size
 *   --budget=SECONDS      the curate budget (default 60: the plan shrinks to fit; memory is
 *                         set by the pool, not by k)
 *   --normalize           pass --normalize (in place: it must not add a copy)
 *   --kernel=wasm|js      curate's --kernel (default wasm)
 */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { Rng } = await tsImport('../src/core/rng.ts', import.meta.url);

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
    if (!m) {
      console.error(`unknown argument ${a} (see the header of bench/cli-memory.mjs)`);
      process.exit(2);
    }
    return [m[1], m[2] ?? 'true'];
  }),
);
const N = Number(args.n ?? 1_000_000);
const D = Number(args.d ?? 384);
const budget = Number(args.budget ?? 60);
const CENTRES = 500;

const outDir = join(root, 'bench', 'out');
mkdirSync(outDir, { recursive: true });
const file = join(outDir, `mix-${N}x${D}.npy`);
if (!existsSync(file)) {
  console.error(`writing ${file} (${((N * D * 4) / 2 ** 30).toFixed(2)} GiB)`);
  // .npy v1 header, padded with spaces to a multiple of 64 bytes and ended by a newline.
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${N}, ${D}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const fd = openSync(`${file}.part`, 'w');
  writeSync(fd, head);
  writeSync(fd, Buffer.from(header, 'latin1'));
  const rng = new Rng(1);
  const centres = Float32Array.from({ length: CENTRES * D }, () => rng.normal());
  const SLICE = 16_384;
  const buf = new Float32Array(SLICE * D);
  for (let r0 = 0; r0 < N; r0 += SLICE) {
    const m = Math.min(SLICE, N - r0);
    for (let i = 0; i < m; i++) {
      const c = rng.int(CENTRES) * D;
      for (let j = 0; j < D; j++) buf[i * D + j] = centres[c + j] + 0.5 * rng.normal();
    }
    writeSync(fd, new Uint8Array(buf.buffer, 0, m * D * 4));
  }
  closeSync(fd);
  spawnSync('mv', [`${file}.part`, file]);
}

const out = join(outDir, `curate-${N}x${D}`);
rmSync(out, { recursive: true, force: true });
const curate = [
  join(root, 'bin', 'strata.mjs'),
  'curate',
  '--embeddings',
  file,
  '--target',
  String(Math.round(N / 5)),
  '--budget',
  String(budget),
  '--kernel',
  args.kernel ?? 'wasm',
  '--out',
  out,
  ...(args.normalize === 'true' ? ['--normalize'] : []),
];
const loadBefore = loadavg()[0];
const r = spawnSync('/usr/bin/time', ['-v', process.execPath, ...curate], {
  cwd: root,
  encoding: 'utf8',
  maxBuffer: 64 * 1024 * 1024,
});
const peakKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1] ?? NaN);
if (r.status !== 0) {
  console.error(r.stderr.slice(-4000));
  process.exit(1);
}
const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
const levels = run.parameters.levels;
console.log(
  JSON.stringify({
    bench: 'cli-memory',
    N,
    D,
    poolGiB: Number(((N * D * 4) / 2 ** 30).toFixed(3)),
    peakRssGiB: Number((peakKb / 2 ** 20).toFixed(3)),
    backend: run.backend,
    K: levels.map((l) => l.k).join('/'),
    rowsPerLevel1Cluster: Math.round(N / levels[0].k),
    iterations: run.parameters.nIters,
    normalize: run.parameters.normalize,
    budgetSeconds: budget,
    estimatedSeconds: Number(run.plan.estimatedSeconds.toFixed(1)),
    timings: Object.fromEntries(
      Object.entries(run.timings).map(([k, v]) => [
        k,
        Array.isArray(v) ? v.map((s) => Number(s.toFixed(2))) : Number(v.toFixed(2)),
      ]),
    ),
    shape: run.plan.shape.summary,
    load: [Number(loadBefore.toFixed(2)), Number(loadavg()[0].toFixed(2))],
  }),
);
rmSync(out, { recursive: true, force: true });
