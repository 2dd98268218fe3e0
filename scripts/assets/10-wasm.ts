/**
 * Builds the CPU k-means kernel (wasm/kernel-wat.ts) into wasm/build/ (generated, gitignored):
 *
 *   kernel-simd.wasm            SIMD128, plain memory (one thread)
 *   kernel-simd-shared.wasm     SIMD128, shared memory (a pool of workers)
 *   kernel-relaxed.wasm         + relaxed-simd fused multiply-add, plain memory
 *   kernel-relaxed-shared.wasm  + relaxed-simd fused multiply-add, shared memory
 *
 * A shared memory must be declared shared by the module that imports it, hence two builds per
 * instruction set. src/cpu/ picks one at run time.
 *
 * Idempotent: wasm/build/stamp.txt holds a hash of the generator, this script and the binaryen
 * version; when it matches and every file exists, nothing is written.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KERNEL_FILES, KERNEL_ROWS, kernelWat } from '../../wasm/kernel-wat.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = join(ROOT, 'wasm/build');
const STAMP = join(OUT, 'stamp.txt');

const binaryenVersion = (
  JSON.parse(readFileSync(join(ROOT, 'node_modules/binaryen/package.json'), 'utf8')) as {
    version: string;
  }
).version;
const stamp = createHash('sha256')
  .update(readFileSync(join(ROOT, 'wasm/kernel-wat.ts')))
  .update(readFileSync(fileURLToPath(import.meta.url)))
  .update(binaryenVersion)
  .digest('hex');

const files = Object.values(KERNEL_FILES).map((f) => join(OUT, f.file));
if (
  existsSync(STAMP) &&
  readFileSync(STAMP, 'utf8').trim() === stamp &&
  files.every((f) => existsSync(f))
) {
  console.log('  wasm kernel: up to date');
} else {
  // Loaded only when building: importing binaryen alone takes ~5 s here.
  const { default: binaryen } = await import('binaryen');
  mkdirSync(OUT, { recursive: true });
  for (const { file, relaxed, shared } of Object.values(KERNEL_FILES)) {
    const module = binaryen.parseText(kernelWat({ rows: KERNEL_ROWS, relaxed, shared }));
    let features = binaryen.Features.MVP | binaryen.Features.SIMD128;
    if (relaxed) features |= binaryen.Features.RelaxedSIMD;
    if (shared) features |= binaryen.Features.Atomics;
    module.setFeatures(features);
    if (!module.validate()) throw new Error(`wasm kernel ${file} does not validate`);
    // No binaryen optimisation passes: the loops are already written the way they should run,
    // and V8 compiles them itself; the text stays the single source of the code's shape.
    const bytes = module.emitBinary();
    module.dispose();
    writeFileSync(join(OUT, file), bytes);
    console.log(`  wasm kernel: ${file} (${bytes.length} bytes)`);
  }
  writeFileSync(STAMP, stamp + '\n');
}
