/**
 * The `strata` command line: dispatch to a subcommand, print help, and map errors to exit codes
 * (0 ok, 2 bad input or usage, 3 output location refused, 130 interrupted, 1 a bug, printed
 * with its stack).
 */
import { CancelledError, InputError } from '../core/errors.ts';
import { UsageError, type CliCommand, type CliIo } from './command.ts';
import { commands } from './commands.ts';
import { OutputError } from './output.ts';

/**
 * Exit status: 0 done; 1 a bug (please report); 2 a bad command line or input file; 3 the output
 * location was refused or could not be written; 130 interrupted (Ctrl-C).
 */
const EXIT_OUTPUT = 3;

function overview(list: readonly CliCommand[]): string {
  const width = Math.max(...list.map((c) => c.name.length)) + 2;
  return [
    'strata: balanced data curation (hierarchical k-means with resampling, Vo et al. 2024)',
    '',
    'usage: strata <command> [options]    (strata <command> --help for details)',
    '',
    ...list.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
  ].join('\n');
}

function defaultIo(signal?: AbortSignal): CliIo {
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    errIsTty: process.stderr.isTTY === true,
    signal,
  };
}

/** Runs the command line `argv` (without node and script); resolves to the exit code. */
export async function main(
  argv: string[],
  io?: CliIo,
  list: readonly CliCommand[] = commands,
): Promise<number> {
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  const ownIo = io ?? defaultIo(controller.signal);
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? list.find((c) => c.name === rest[0]) : undefined;
    ownIo.out(topic ? topic.usage + '\n' : overview(list));
    return 0;
  }
  const command = list.find((c) => c.name === name);
  if (!command) {
    ownIo.err(
      `strata: error: unknown command '${name}' (commands: ${list.map((c) => c.name).join(', ')})\n`,
    );
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    ownIo.out(command.usage + '\n');
    return 0;
  }
  if (!io) process.once('SIGINT', onSigint);
  try {
    return await command.run(rest, ownIo);
  } catch (e) {
    if (e instanceof OutputError) {
      ownIo.err(`strata: error: ${e.message}\n`);
      return EXIT_OUTPUT;
    }
    if (e instanceof UsageError || e instanceof InputError) {
      ownIo.err(`strata: error: ${e.message}\n`);
      return 2;
    }
    if (e instanceof CancelledError) {
      ownIo.err('\nstrata: interrupted\n');
      return 130;
    }
    ownIo.err(
      `strata: internal error (please report): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    return 1;
  } finally {
    if (!io) process.off('SIGINT', onSigint);
  }
}
