/** Shared helpers of the interop tests: fixture paths and the optional real numpy. */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { parseNpy } from '../../src/core/npy.ts';
import type { Matrix } from '../../src/core/types.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures', 'reference');
export const PICKLES = join(FIXTURES, 'pickles');
export const LAYOUT = join(FIXTURES, 'layout');
export const PYTHON = process.env.STRATA_PYTHON ?? '/usr/bin/python3';

/** True when a python3 with numpy can run here (CI may lack it; the committed fixtures cover). */
export const HAVE_NUMPY =
  spawnSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

/** True when that python also has PyYAML (the reference launcher's YAML loader). */
export const HAVE_PYYAML =
  HAVE_NUMPY && spawnSync(PYTHON, ['-c', 'import yaml'], { stdio: 'ignore' }).status === 0;

/** Runs python code with arguments; throws with its stderr when it fails. */
export function python(code: string, ...args: string[]): string {
  const r = spawnSync(PYTHON, ['-c', code, ...args], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Temporary directories of this test file, removed when it ends. */
const temporary: string[] = [];
afterAll(() => {
  for (const d of temporary.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Runs one of scripts/fixtures/*.py into a fresh temporary directory and returns it. */
export function runFixtureScript(script: string, ...args: string[]): string {
  const out = tempDir();
  const r = spawnSync(PYTHON, [join(ROOT, 'scripts', 'fixtures', script), out, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr}`);
  return out;
}

export function readBytes(path: string): Uint8Array<ArrayBuffer> {
  const b = readFileSync(path);
  // a file read whole is backed by an ArrayBuffer (Node's type says ArrayBufferLike)
  return new Uint8Array(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength);
}

export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'strata-interop-'));
  temporary.push(d);
  return d;
}

/** A 2-D float32/float64 .npy as a float32 matrix. */
export function loadMatrix(path: string): Matrix {
  const a = parseNpy(readBytes(path));
  const data = a.data instanceof Float32Array ? a.data : Float32Array.from(a.data as Float64Array);
  return { data, rows: a.shape[0], cols: a.shape[1] };
}

/**
 * A copy of the committed layout (or of one folder of it) with its links kept as they are:
 * relative links into the copy's own step folders. (cpSync's default rewrites them as absolute
 * links into the committed fixture, so a write through one would change the fixture.)
 */
export function copyLayout(dir: string, sub = ''): void {
  cpSync(join(LAYOUT, sub), join(dir, sub), { recursive: true, verbatimSymlinks: true });
}
