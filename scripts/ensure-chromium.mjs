#!/usr/bin/env node
// Browser tests, benches and screenshots drive Debian's Chromium (never a downloaded browser).
// The interop tests also check Strata's files with the real numpy and PyYAML (Debian's
// python3-numpy, python3-yaml). Installs what is missing with apt when we are root; otherwise
// says exactly what to do.
import { existsSync } from 'node:fs';
import { execSync, spawnSync } from 'node:child_process';

const path = process.env.STRATA_CHROMIUM ?? '/usr/bin/chromium';
const python = process.env.STRATA_PYTHON ?? '/usr/bin/python3';
const missing = [];
if (!existsSync(path)) missing.push('chromium');
const py = spawnSync(python, ['-c', 'import numpy, yaml'], { stdio: 'ignore' });
if (py.status !== 0) missing.push('python3-numpy', 'python3-yaml');

if (missing.length > 0) {
  if (process.getuid?.() === 0) {
    console.log(`installing Debian packages: ${missing.join(' ')}`);
    execSync(
      `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${missing.join(' ')}`,
      { stdio: 'inherit' },
    );
  } else if (missing.includes('chromium')) {
    console.error(
      `Chromium not found at ${path}. Install it (sudo apt-get install chromium) or set STRATA_CHROMIUM.`,
    );
    process.exit(1);
  } else {
    console.warn(
      `numpy/PyYAML not found for ${python}: the interop checks against numpy will be skipped (sudo apt-get install python3-numpy python3-yaml).`,
    );
  }
}
