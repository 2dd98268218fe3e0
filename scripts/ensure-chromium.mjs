#!/usr/bin/env node
// Browser tests, benches and screenshots drive Debian's Chromium (never a downloaded browser).
// Installs it with apt when it is missing and we are root; otherwise says exactly what to do.
import { existsSync } from 'node:fs';
import { execSync } from 'node:child_process';

const path = process.env.STRATA_CHROMIUM ?? '/usr/bin/chromium';
if (!existsSync(path)) {
  if (process.getuid?.() === 0) {
    console.log('Chromium not found: installing Debian package "chromium" with apt-get...');
    execSync(
      'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium',
      {
        stdio: 'inherit',
      },
    );
  } else {
    console.error(
      `Chromium not found at ${path}. Install it (sudo apt-get install chromium) or set STRATA_CHROMIUM.`,
    );
    process.exit(1);
  }
}
