#!/usr/bin/env node
// Builds every generated asset the app and tests need (never committed): each step is a script
// under scripts/ that is idempotent and skips work whose output is already up to date.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const steps = [
  // [script, why]
];
for (const [script, why] of steps) {
  if (!existsSync(script)) continue;
  console.log(`assets: ${why}`);
  execFileSync(process.execPath, ['--import', 'tsx', script], { stdio: 'inherit' });
}
