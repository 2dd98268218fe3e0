/**
 * Where a command writes, made safe before any work starts: the output folder is checked first
 * (a file in its place, a non-empty folder without --force, an input inside it, a parent that
 * cannot be written are refused with one line each), results are written into a staging folder
 * beside it, and only a finished run moves them into place. An interrupted or failed run leaves
 * no half output, and nothing ever writes over the command's own input.
 */
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { basename, dirname, relative, resolve, isAbsolute } from 'node:path';
import { InputError } from '../core/errors.ts';

/** The output location was refused or could not be written: exit status 3. */
export class OutputError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'OutputError';
  }
}

export interface StagedOutput {
  /** the folder the person asked for */
  readonly dir: string;
  /** where the command writes; moved into `dir` by commit() */
  readonly staging: string;
  /** moves what was written into place (replacing same-named entries when `dir` exists) */
  commit(): void;
  /** removes the staging folder (after a failure or an interrupt); safe to call twice */
  abandon(): void;
}

function real(p: string): string {
  // An input that is a symbolic link counts where it points.
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

function inside(child: string, parent: string): boolean {
  const r = relative(parent, child);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
}

function reasonOf(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EROFS') return 'read-only file system';
  if (code === 'ENOSPC') return 'the disk is full';
  if (code === 'ENOTDIR') return 'a file is in the way';
  return e instanceof Error ? e.message : String(e);
}

/**
 * Checks `--out DIR` against the inputs and makes the staging folder. Call before reading any
 * input, so a bad location costs nothing.
 */
export function stageOutput(
  dirArg: string,
  options: { readonly force: boolean; readonly inputs: readonly string[] },
): StagedOutput {
  const dir = resolve(dirArg);
  let exists = false;
  try {
    const st = statSync(dir);
    if (!st.isDirectory()) throw new OutputError(`--out ${dirArg} is a file, not a folder`);
    exists = true;
  } catch (e) {
    if (e instanceof OutputError) throw e;
    if ((e as { code?: unknown }).code !== 'ENOENT') {
      throw new OutputError(`cannot use --out ${dirArg}: ${reasonOf(e)}`);
    }
  }
  const realDir = exists ? real(dir) : dir;
  for (const input of options.inputs) {
    if (inside(real(input), realDir)) {
      throw new OutputError(
        `--out ${dirArg} holds the input ${input}; writing there could replace it: pick another folder`,
      );
    }
  }
  if (exists && readdirSync(dir).length > 0 && !options.force) {
    throw new OutputError(`${dirArg} exists and is not empty; pick another --out or pass --force`);
  }
  const parent = dirname(dir);
  let staging: string;
  try {
    mkdirSync(parent, { recursive: true });
    staging = mkdtempSync(resolve(parent, `.${basename(dir)}.partial-`));
  } catch (e) {
    throw new OutputError(`cannot write in ${parent}: ${reasonOf(e)}`);
  }
  let done = false;
  return {
    dir,
    staging,
    commit() {
      try {
        if (!exists) {
          renameSync(staging, dir);
        } else {
          for (const entry of readdirSync(staging)) {
            rmSync(resolve(dir, entry), { recursive: true, force: true });
            renameSync(resolve(staging, entry), resolve(dir, entry));
          }
          rmSync(staging, { recursive: true, force: true });
        }
        done = true;
      } catch (e) {
        throw new OutputError(`cannot move the results into ${dirArg}: ${reasonOf(e)}`);
      }
    },
    abandon() {
      if (!done) rmSync(staging, { recursive: true, force: true });
      done = true;
    },
  };
}
