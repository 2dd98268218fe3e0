#!/usr/bin/env node
// Builds every generated asset the app and tests need (never committed). Each step is a file in
// scripts/assets/, run in name order; each is idempotent and skips work already up to date.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(import.meta.dirname, 'assets');
for (const name of readdirSync(dir).sort()) {
  if (!/\.(ts|mjs)$/.test(name)) continue;
  console.log(`assets: ${name}`);
  execFileSync(process.execPath, ['--import', 'tsx', join(dir, name)], { stdio: 'inherit' });
}
