/**
 * Every `strata` subcommand, in the order `strata --help` lists them. To add commands, export
 * CliCommand objects from their own module and spread them into this list.
 */
import type { CliCommand } from './command.ts';
import { curateCommand } from './curate.ts';
import { toyCommand } from './toy.ts';
import { exportJobCommand } from './export-job.ts';
import { importCommand } from './import.ts';

export const commands: readonly CliCommand[] = [
  curateCommand,
  toyCommand,
  exportJobCommand,
  importCommand,
];
