/**
 * The hostile-input report, Node side: every command line of the case table through the CLI
 * (in-process through its main, and a few as real child processes of bin/strata.mjs), and every
 * reference layout through importReference. Each case is one test; its result goes to
 * `meta.hostile` for the report (test/hostile/reporter.ts). Inputs and earlier outputs are
 * hashed before and after every case: a change is data loss.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { importReference } from '../../src/interop/import.ts';
import { sourceFromDir } from '../../src/interop/node-files.ts';
import { CLI_CASES, IMPORT_CASES, type CliCase } from '../hostile/cases.ts';
import { judge, recordCase, type CaseResult, type Observation } from '../hostile/report.ts';

const BAD = join(import.meta.dirname, '../fixtures/bad');
const PICKLES = join(import.meta.dirname, '../fixtures/reference/pickles');
const BIN = join(import.meta.dirname, '../../bin/strata.mjs');
/** Past this a case counts as a hang (the slowest accepted case takes about a second). */
const CASE_TIMEOUT_MS = 30_000;

let tmp: string;

/** Content hash of every file under `root`, by path (empty when `root` does not exist). */
function snapshot(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (p: string): void => {
    if (!existsSync(p)) return;
    if (statSync(p).isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
    else out.set(p, createHash('sha256').update(readFileSync(p)).digest('hex'));
  };
  walk(root);
  return out;
}

function changed(before: Map<string, string>, after: Map<string, string>): string | undefined {
  for (const [p, h] of before) {
    const now = after.get(p);
    if (now === undefined) return `${p.replace(tmp, '$T').replace(BAD, '$B')} was deleted`;
    if (now !== h) return `${p.replace(tmp, '$T').replace(BAD, '$B')} was modified`;
  }
  return undefined;
}

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> =>
  Promise.race([p, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms).unref())]);

/** The last error line, without the "strata: error: " prefix (what a person reads). */
function errorOf(stderr: string): string {
  const lines = stderr.trim().split('\n');
  const error = lines.filter((l) => /error/.test(l));
  if (error.length !== 1) return stderr.trim();
  return error[0].replace(/^strata: error: /, '');
}

function warningsOf(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('strata: warning: '))
    .map((l) => l.slice('strata: warning: '.length))
    .join(' ');
}

async function runCli(args: readonly string[], inProcess: boolean): Promise<Observation> {
  if (inProcess) {
    let out = '';
    let err = '';
    const io = {
      out: (t: string) => void (out += t),
      err: (t: string) => void (err += t),
      errIsTty: false,
    };
    let code: number | 'timeout';
    try {
      code = await withTimeout(main([...args], io), CASE_TIMEOUT_MS);
    } catch (e) {
      return { crashed: `uncaught: ${e instanceof Error ? e.stack : String(e)}` };
    }
    if (code === 'timeout') return { timedOut: true };
    if (/\n\s+at /.test(err)) return { crashed: `stack trace shown: ${err}` };
    return code === 0
      ? { accepted: true, exitCode: 0, message: warningsOf(err) || undefined }
      : { exitCode: code, message: errorOf(err) };
  }
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { timeout: CASE_TIMEOUT_MS, killSignal: 'SIGKILL' },
      (e, _stdout, stderr) => {
        if (e?.killed) return resolve({ timedOut: true });
        const code = e ? (typeof e.code === 'number' ? e.code : 1) : 0;
        if (/\n\s+at /.test(stderr)) return resolve({ crashed: `stack trace shown: ${stderr}` });
        resolve(
          code === 0
            ? { accepted: true, exitCode: 0, message: warningsOf(stderr) || undefined }
            : { exitCode: code, message: errorOf(stderr) },
        );
      },
    );
  });
}

const expand = (a: string): string => a.replaceAll('$B', BAD).replaceAll('$T', tmp);

/** Runs and judges one CLI case; inputs, the corpus and the earlier output are hashed around it. */
async function cliCase(c: CliCase): Promise<CaseResult> {
  const args = c.args.map(expand);
  const before = [snapshot(BAD), snapshot(join(tmp, 'earlier'))];
  const seen = await runCli(args, !c.process);
  const after = [snapshot(BAD), snapshot(join(tmp, 'earlier'))];
  const modified = changed(before[0], after[0]) ?? changed(before[1], after[1]);
  // An accepted run carries the warning the case names (a NaN row dropped, a k capped).
  const warned =
    seen.accepted && c.message && !c.message.test(seen.message ?? '')
      ? { accepted: false, message: `no warning matching ${c.message}: ${seen.message ?? ''}` }
      : {};
  return judge(
    c.input,
    'CLI',
    c.expected,
    { ...seen, ...warned, modified },
    c.expected === 'clear' ? c.message : undefined,
  );
}

async function importCase(
  input: string,
  dir: string,
  expected: 'clear' | 'ok',
  message?: RegExp,
): Promise<CaseResult> {
  const before = snapshot(dir);
  let seen: Observation;
  try {
    const got = await withTimeout(
      sourceFromDir(dir).then((s) => importReference(s)),
      CASE_TIMEOUT_MS,
    );
    seen =
      got === 'timeout'
        ? { timedOut: true }
        : { accepted: true, message: got.hierarchy.levels.map((l) => l.k).join('/') + ' clusters' };
  } catch (e) {
    const ours =
      e instanceof Error &&
      (e.name === 'InputError' || e.name === 'NpyError' || e.name === 'PickleError');
    seen = ours
      ? { message: (e as Error).message }
      : { crashed: `${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}` };
  }
  return judge(
    input,
    'import',
    expected,
    { ...seen, modified: changed(before, snapshot(dir)) },
    expected === 'clear' ? message : undefined,
  );
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'strata-hostile-'));
  // An earlier run's output, which no later command may change.
  const code = await main(
    [
      'curate',
      '--embeddings',
      join(BAD, 'npy/ok-small.npy'),
      '--target',
      '5',
      '--clusters',
      '4,2',
      '--iters',
      '2',
      '--out',
      join(tmp, 'earlier'),
    ],
    { out: () => undefined, err: () => undefined, errIsTty: false },
  );
  expect(code).toBe(0);
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const record = recordCase;

describe('hostile inputs: the command line', () => {
  for (const c of CLI_CASES.filter((c) => !c.process)) {
    it(c.input, async ({ task }) => record(task, await cliCase(c)));
  }
  for (const c of CLI_CASES.filter((c) => c.process)) {
    it.concurrent(c.input, async ({ task }) => record(task, await cliCase(c)));
  }
});

describe('hostile inputs: importing reference layouts', () => {
  for (const c of IMPORT_CASES) {
    it(c.input, async ({ task }) =>
      record(task, await importCase(c.input, join(BAD, c.input), c.expected, c.message)),
    );
  }

  // Every hostile or broken pickle of the reader's own fixtures in place of level 1's clusters.
  const bad = readdirSync(PICKLES).filter((n) => n.startsWith('bad-'));
  for (const name of bad) {
    it(`reference/ok-layout with level1/sorted_clusters.npy = pickles/${name}`, async ({
      task,
    }) => {
      const dir = join(tmp, `layout-${name}`);
      cpSync(join(BAD, 'reference/ok-layout'), dir, { recursive: true });
      cpSync(join(PICKLES, name), join(dir, 'level1/sorted_clusters.npy'));
      record(task, await importCase(`reference/ok-layout + pickles/${name}`, dir, 'clear'));
    });
  }

  it('reference/ok-layout with level1/centroids.npy a symlink to a file outside', async ({
    task,
  }) => {
    const dir = join(tmp, 'layout-symlink');
    cpSync(join(BAD, 'reference/ok-layout'), dir, { recursive: true });
    const outside = join(tmp, 'outside-secret.npy');
    writeFileSync(outside, readFileSync(join(dir, 'level1/centroids.npy')));
    rmSync(join(dir, 'level1/centroids.npy'));
    symlinkSync(outside, join(dir, 'level1/centroids.npy'));
    const before = snapshot(outside);
    const r = await importCase(
      'reference/ok-layout + symlink outside',
      dir,
      'clear',
      /level1\/centroids\.npy links outside the folder .*; refusing to follow it/,
    );
    record(task, changed(before, snapshot(outside)) ? { ...r, actual: 'data loss' } : r);
  });
});
