/**
 * A browser-test command (vitest `browser.commands`, run in Node by the test server): runs the
 * real `strata curate` (bin/strata.mjs in a child process, the command line's whole code path)
 * on .npy bytes sent from the page, and hands back the selection and what ran it. Lets a browser
 * test hold the app's pipeline and the command line against each other on the same rows.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserCommand } from 'vitest/node';

export interface CliSelection {
  /** selected row indices (sorted), from selection.npy */
  readonly selection: number[];
  /** run.json's backend, e.g. "cpu-wasm-relaxed-simd-x2" */
  readonly backend: string;
  readonly stderr: string;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The int64 payload of a 1-D .npy written by the CLI. */
function int64Npy(bytes: Buffer): number[] {
  const headerLen = bytes.readUInt16LE(8);
  const start = 10 + headerLen;
  const out: number[] = [];
  for (let o = start; o + 8 <= bytes.length; o += 8) out.push(Number(bytes.readBigInt64LE(o)));
  return out;
}

export const strataCurate: BrowserCommand<[npyBase64: string, args: string[]]> = (
  _ctx,
  npyBase64,
  args,
) => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-cli-'));
  try {
    const npy = join(dir, 'rows.npy');
    const out = join(dir, 'out');
    writeFileSync(npy, Buffer.from(npyBase64, 'base64'));
    const r = spawnSync(
      process.execPath,
      [join(root, 'bin', 'strata.mjs'), 'curate', '--embeddings', npy, '--out', out, ...args],
      { cwd: root, encoding: 'utf8', timeout: 120_000 },
    );
    if (r.status !== 0) {
      throw new Error(`strata curate exited with ${r.status}: ${r.stderr || r.error?.message}`);
    }
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { backend: string };
    const result: CliSelection = {
      selection: int64Npy(readFileSync(join(out, 'selection.npy'))),
      backend: run.backend,
      stderr: r.stderr,
    };
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
