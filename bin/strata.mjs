#!/usr/bin/env node
// The `strata` command. The CLI is TypeScript (the same core the app runs), loaded through tsx.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
