/**
 * `npm run bench:quality`: how label-balanced a curated subset is, per pool x method x seed, on
 * two real long-tailed pools with near-duplicates (bench/quality/pools.ts: emoji by category,
 * font-drawn digits), embedded once with the bundled model and cached under .cache/quality/.
 *
 * Prints JSON lines:
 *   {case: 'pool', pool, n, labels, concepts, counts, entropy, embedSeconds, cosineToWeb?}
 *   {case: 'dedup', pool, threshold, seed, kept, entropy, maxMinRatio, originalsKept,
 *    removedAcrossOriginals}   (the pool after dedup alone, seed 0)
 *   {case: 'run', pool, method, role, seed, target, kept, k, r, entropy, maxMinRatio, missing,
 *    conceptShare, counts, seconds, reused?, load}
 *   {case: 'summary', pool, method, role, seeds, entropy: {mean, sd}, maxMinRatio: {mean, sd},
 *    conceptShare: {mean, sd}, vsRandom, vsHierarchy, kept, levels (last seed's k and r)}
 *   {case: 'acceptance', pool, default, vsRandom, vsHierarchy, pass}
 *   {case: 'done', seconds, load}
 * entropy = Shannon entropy of the subset's labels / ln(labels in the pool) (1 = balanced);
 * maxMinRatio = largest / smallest label count (null when a label is missing); conceptShare =
 * distinct originals / subset size (1 = no two items are versions of one original); load =
 * os.loadavg() when the line was measured. Every method keeps 20% of the pool.
 *
 * Options:
 *   --seeds N        seeds 0..N-1 (default 3); 0: only the pool and dedup lines
 *   --pools a,b      pools to run (default emoji,digits)
 *   --baselines      the baselines and the default only, no candidates
 *   --full           also the candidates of FULL_EXTRA (methods.ts) and 5 seeds
 *   --markdown       print the docs/quality.md table after the JSON lines
 *   --write-doc      replace the table between the markers in docs/quality.md
 *   --table-from a.jsonl,b.jsonl
 *                    no run: the table from saved output of earlier runs (e.g. one per pool),
 *                    printed, or written into docs/quality.md with --write-doc
 * Seeds run interleaved (seed 0 of every method, then seed 1, ...), so machine load spreads
 * over all methods alike; quality figures do not depend on the load, only `seconds` does.
 */
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { DEFAULT_DEDUP_THRESHOLD } from '../src/core/dedup.ts';
import { CpuBackend } from '../src/core/kmeans.ts';
import { defaultTarget } from '../src/core/plan.ts';
import { createBestCpuKernel, disposeCpuKernel } from '../src/cpu/node.ts';
import { embedPool } from './quality/embed.ts';
import {
  BASELINES,
  CANDIDATES,
  FULL_EXTRA,
  measure,
  MethodRunner,
  poolData,
  type MethodSpec,
  type PoolData,
} from './quality/methods.ts';
import { digitsPool, emojiPool, labelCounts, type Pool } from './quality/pools.ts';
import { markdown, readLines, writeTable, type Line } from './quality/table.ts';

const ROOT = resolve(import.meta.dirname, '..');
const DOC = resolve(ROOT, 'docs/quality.md');
const args = process.argv.slice(2);
const flag = (name: string): boolean => args.includes(name);
const option = (name: string): string | undefined =>
  args.includes(name) ? args[args.indexOf(name) + 1] : undefined;
const full = flag('--full');
const seedCount = Number(option('--seeds') ?? (full ? 5 : 3));
const poolNames = (option('--pools') ?? 'emoji,digits').split(',');
const methods: MethodSpec[] = [
  ...BASELINES,
  ...(flag('--baselines') ? [] : CANDIDATES),
  ...(full ? FULL_EXTRA : []),
];
/** Normalised-entropy gain over random the default must reach (issue 13's acceptance). */
const MIN_GAIN = 0.1;

const load = (): number[] => loadavg().map((l) => Number(l.toFixed(2)));
const emitted: Line[] = [];
const emit = (o: Line): void => {
  const text = JSON.stringify(o, (_, v: unknown) => (v === Infinity ? null : v));
  emitted.push(JSON.parse(text) as Line);
  console.log(text);
};
const round = (v: number, digits = 4): number => Number(v.toFixed(digits));
const log = (s: string): void => void process.stderr.write(`quality: ${s}\n`);

function meanSd(v: readonly number[]): { mean: number; sd: number } {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, v.length - 1));
  return { mean: round(mean), sd: round(sd) };
}

const builders: Record<string, () => Pool> = {
  emoji: () => emojiPool(ROOT),
  digits: () => digitsPool(),
};

interface Summary {
  readonly pool: string;
  readonly method: MethodSpec;
  readonly entropy: { mean: number; sd: number };
  readonly ratio: { mean: number; sd: number } | null;
  readonly concepts: { mean: number; sd: number };
  readonly vsRandom: number;
  readonly vsHierarchy: number;
  readonly kept: number;
  readonly k: string;
}

// --table-from a.jsonl,b.jsonl: the table from saved runs, nothing measured.
const tableFrom = option('--table-from');
if (tableFrom) {
  const table = markdown(readLines(tableFrom.split(',')));
  if (flag('--write-doc')) await writeTable(DOC, table);
  else process.stdout.write(table);
  process.exit(0);
}

const t0 = performance.now();
const { kernel, reason } = await createBestCpuKernel();
const backend = new CpuBackend(kernel);
emit({ case: 'machine', kernel: kernel.name, reason, load: load() });
const summaries: Summary[] = [];
const pools: { data: PoolData; n: number }[] = [];
try {
  for (const name of poolNames) {
    const build = builders[name];
    if (!build)
      throw new Error(`unknown pool '${name}'; known: ${Object.keys(builders).join(', ')}`);
    const pool = build();
    const e = await embedPool(pool, log);
    const data = poolData(e.name, e.x, e.n, e.d, e.items);
    const all = Int32Array.from({ length: e.n }, (_, i) => i);
    const m = measure(data, all);
    pools.push({ data, n: e.n });
    emit({
      case: 'pool',
      pool: e.name,
      description: e.description,
      n: e.n,
      d: e.d,
      labels: data.labels.length,
      concepts: new Set(data.concept).size,
      counts: labelCounts(e.items),
      entropy: round(m.entropy),
      maxMinRatio: round(m.maxMinRatio, 2),
      embedSeconds: round(e.seconds, 1),
      ...(e.cosineToWeb !== undefined ? { cosineToWeb: round(e.cosineToWeb, 6) } : {}),
    });
  }

  for (const { data, n } of pools) {
    const runner = new MethodRunner(data, backend);
    const target = defaultTarget(n);
    const thresholds = [...new Set(methods.map((m) => m.dedup))].filter((t) => t !== null);
    for (const threshold of thresholds.sort()) {
      const st = await runner.dedupStats(threshold, 0);
      emit({
        case: 'dedup',
        pool: data.name,
        threshold,
        seed: 0,
        ...st,
        entropy: round(st.entropy),
        maxMinRatio: round(st.maxMinRatio, 2),
      });
    }
    // --seeds 0: the pools and what dedup does to them, no curation runs.
    if (seedCount === 0) continue;
    const results = new Map<
      string,
      { e: number[]; ratio: number[]; c: number[]; kept: number; k: string }
    >();
    for (let seed = 0; seed < seedCount; seed++) {
      for (const method of methods) {
        const r = await runner.run(method, seed);
        const m = measure(data, r.rows);
        emit({
          case: 'run',
          pool: data.name,
          method: method.name,
          role: method.role,
          seed,
          target,
          selected: r.rows.length,
          kept: r.kept,
          k: r.k,
          r: r.r,
          entropy: round(m.entropy),
          maxMinRatio: round(m.maxMinRatio, 2),
          missing: m.missing,
          conceptShare: round(m.conceptShare),
          counts: m.counts,
          seconds: round(r.seconds, 2),
          ...(r.reused ? { reused: true } : {}),
          load: load(),
        });
        const acc = results.get(method.name) ?? { e: [], ratio: [], c: [], kept: 0, k: '' };
        acc.e.push(m.entropy);
        acc.ratio.push(m.maxMinRatio);
        acc.c.push(m.conceptShare);
        acc.kept = r.kept;
        acc.k = r.k.length ? `${r.k.join('/')} (r ${r.r.join('/')})` : '-';
        results.set(method.name, acc);
      }
    }
    const meanOf = (name: string): number => meanSd(results.get(name)!.e).mean;
    for (const method of methods) {
      const acc = results.get(method.name)!;
      const entropy = meanSd(acc.e);
      const finite = acc.ratio.every(Number.isFinite);
      const s: Summary = {
        pool: data.name,
        method,
        entropy,
        ratio: finite ? meanSd(acc.ratio) : null,
        concepts: meanSd(acc.c),
        vsRandom: round(entropy.mean - meanOf('random')),
        vsHierarchy: round(entropy.mean - meanOf('hierarchy')),
        kept: acc.kept,
        k: acc.k,
      };
      summaries.push(s);
      emit({
        case: 'summary',
        pool: s.pool,
        method: method.name,
        role: method.role,
        seeds: seedCount,
        entropy: s.entropy,
        maxMinRatio: s.ratio,
        conceptShare: s.concepts,
        vsRandom: s.vsRandom,
        vsHierarchy: s.vsHierarchy,
        kept: s.kept,
        levels: s.k,
      });
    }
    const def = summaries.find((s) => s.pool === data.name && s.method.role === 'default')!;
    emit({
      case: 'acceptance',
      pool: data.name,
      default: def.method.name,
      threshold: DEFAULT_DEDUP_THRESHOLD,
      vsRandom: def.vsRandom,
      vsHierarchy: def.vsHierarchy,
      pass: def.vsRandom >= MIN_GAIN && def.vsHierarchy > 0,
    });
  }
} finally {
  disposeCpuKernel(kernel);
}
emit({ case: 'done', seconds: round((performance.now() - t0) / 1000, 1), load: load() });

if (flag('--markdown')) process.stdout.write('\n' + markdown(emitted));
if (flag('--write-doc')) {
  await writeTable(DOC, markdown(emitted));
  log('wrote the table into docs/quality.md');
}
