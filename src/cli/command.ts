/**
 * What a `strata` subcommand looks like. Subcommands live in their own modules and are listed in
 * commands.ts; main.ts only dispatches, prints help and turns errors into exit codes.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InputError } from '../core/errors.ts';

/** Where a command writes: results to `out` (stdout), progress and warnings to `err` (stderr). */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** whether stderr is a terminal (progress may then redraw one line) */
  readonly errIsTty: boolean;
  /** fires on Ctrl-C */
  readonly signal?: AbortSignal;
}

export interface CliCommand {
  readonly name: string;
  /** one line for the command list */
  readonly summary: string;
  /** the full help text */
  readonly usage: string;
  /** runs the command on its arguments (after the command name); returns the exit code */
  run(argv: string[], io: CliIo): Promise<number>;
}

/** A mistake in the command line itself: printed as one line, exit status 2. */
export class UsageError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** parseArgs option specs, for flag sets that several commands share. */
export type FlagOptions = NonNullable<ParseArgsConfig['options']>;

/**
 * node:util parseArgs in strict mode, with its errors turned into UsageErrors that name the
 * command. Returns the parsed values (strings and booleans).
 */
export function parseFlags(
  command: string,
  argv: string[],
  options: FlagOptions,
): Record<string, string | boolean | undefined> {
  // `--target -5` would read as an unknown short option: join a string flag and a value that
  // looks like a negative number, so the flag's own check says what is wrong with it.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : null;
    const next = argv[i + 1];
    if (name && options[name]?.type === 'string' && next !== undefined && /^-[\d.]/.test(next)) {
      args.push(`${a}=${next}`);
      i++;
    } else args.push(a);
  }
  try {
    const { values } = parseArgs({ args, options, strict: true, allowPositionals: false });
    return values as Record<string, string | boolean | undefined>;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    // parseArgs messages are multi-line with advice for scripts; keep the first sentence.
    throw new UsageError(`${command}: ${msg.split('\n')[0]} (see 'strata ${command} --help')`);
  }
}

/** A flag the command cannot run without, e.g. `--out DIR`; returns its value. */
export function requiredFlag(
  command: string,
  f: Record<string, string | boolean | undefined>,
  name: string,
  placeholder: string,
): string {
  const v = f[name];
  if (typeof v !== 'string') {
    throw new UsageError(`${command}: --${name} ${placeholder} is required`);
  }
  return v;
}

/**
 * A flag's value as an integer in [min, max], with a clear error naming the flag. Only plain
 * decimal digits count ('1e3', '0x10', '10.5' are refused, not rounded). `what` words the
 * requirement (default "an integer >= min" or "an integer in [min, max]").
 */
export function intFlag(
  name: string,
  value: string | boolean | undefined,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
  what?: string,
): number | undefined {
  if (value === undefined) return undefined;
  const s = String(value).trim();
  const v = Number(s);
  if (!/^[+-]?\d+$/.test(s) || !Number.isSafeInteger(v) || v < min || v > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new UsageError(`--${name} must be ${what ?? `an integer ${range}`}, got '${s}'`);
  }
  return v;
}

/** A positive number (seconds, ...). */
export function numberFlag(name: string, value: string | boolean | undefined): number | undefined {
  if (value === undefined) return undefined;
  const s = String(value).trim();
  const v = Number(s);
  if (s === '' || !Number.isFinite(v) || v <= 0) {
    throw new UsageError(`--${name} must be a positive number, got '${s}'`);
  }
  return v;
}

/** A comma-separated list of integers >= min, e.g. --clusters 1000,200,40. */
export function intListFlag(
  name: string,
  value: string | boolean | undefined,
  min: number,
): number[] | undefined {
  if (value === undefined) return undefined;
  const parts = String(value).split(',');
  return parts.map((p) => {
    const v = intFlag(name, p, min);
    if (v === undefined) throw new UsageError(`--${name} must be a comma-separated list`);
    return v;
  });
}

/** One of a fixed set of words. */
export function choiceFlag<T extends string>(
  name: string,
  value: string | boolean | undefined,
  choices: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  const s = String(value);
  if (!(choices as readonly string[]).includes(s)) {
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}; got '${s}'`);
  }
  return s as T;
}
