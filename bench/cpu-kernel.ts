/**
 * `npm run bench:cpu`: throughput of the CPU k-means kernels, one JSON line per kernel, thread
 * count and workload, in Node and in headless Chromium (a cross-origin isolated page served by
 * Vite with the project's COOP/COEP headers, so the wasm kernel gets one worker per core).
 *
 *   {env, kernel, threads, workload, op, N, D, K, seconds, first_seconds, gflops, vs_js}
 *
 * seconds = median of 3 passes over the same x (resident in the kernel after the first pass,
 * which is timed apart as first_seconds because it also copies x); GFLOP/s = 2*N*K*D / seconds.
 * vs_js = that GFLOP/s over the plain-JS kernel's on the same workload in the same environment.
 * `dispatch` lines give the cost of one tiny call through the worker pool against the calling
 * thread (what POOL_MIN_WORK in src/cpu/wasm-kernel.ts is set from).
 *
 * Options: --env node|chromium (default both), --quick (skip the JS kernel on W1: ~1 min each).
 * The machine is shared: compare ratios from one run, not figures across runs.
 */
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { createServer } from 'vite';
import { jsKernel } from '../src/core/cpu-kernel-js.ts';
import { createWasmKernel, disposeCpuKernel, type WasmKernelOptions } from '../src/cpu/node.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../test/chromium.ts';
import {
  benchMatrix,
  dispatchSeconds,
  DISPATCH,
  timeKernel,
  WORKLOADS,
  type Workload,
} from './cpu-kernel-run.ts';

const ROOT = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const envArg = args.includes('--env') ? args[args.indexOf('--env') + 1] : 'all';
const quick = args.includes('--quick');

interface Case {
  readonly kernel: 'js' | 'wasm';
  readonly options?: WasmKernelOptions;
}

function casesFor(w: Workload, env: 'node' | 'chromium', cores: number): Case[] {
  const cases: Case[] = [];
  if (!(quick && w.workload === 'W1')) cases.push({ kernel: 'js' });
  cases.push({ kernel: 'wasm', options: { threads: 1, instructions: 'simd' } });
  // Node 20 has no relaxed SIMD without a flag; Chromium does.
  if (env === 'chromium') cases.push({ kernel: 'wasm', options: { threads: 1 } });
  if (cores > 1) cases.push({ kernel: 'wasm', options: { threads: cores } });
  return cases;
}

type Line = Record<string, unknown> & { gflops: number; kernel: string; workload: string };

function emit(line: Line, js: Map<string, number>): void {
  const base = js.get(line.workload);
  const out = base ? { ...line, vs_js: Number((line.gflops / base).toFixed(1)) } : line;
  if (line.kernel === 'js') js.set(line.workload, line.gflops);
  console.log(JSON.stringify(out));
}

async function benchNode(): Promise<void> {
  const { availableParallelism } = await import('node:os');
  const cores = availableParallelism();
  for (const w of WORKLOADS) {
    const x = benchMatrix(w.N, w.D, 1);
    const c = benchMatrix(w.K, w.D, 2);
    const js = new Map<string, number>();
    for (const cs of casesFor(w, 'node', cores)) {
      const kernel = cs.kernel === 'js' ? jsKernel : await createWasmKernel(cs.options);
      try {
        const t = await timeKernel(kernel, w, x, c);
        const threads = 'threads' in kernel ? kernel.threads : 1;
        emit({ env: 'node', kernel: kernel.name, threads, ...w, ...t }, js);
      } finally {
        disposeCpuKernel(kernel);
      }
    }
  }
  const local = await createWasmKernel({ threads: 1 });
  const pooled = await createWasmKernel({ threads: cores, poolMinWork: 0 });
  const [a, b] = [await dispatchSeconds(local), await dispatchSeconds(pooled)];
  console.log(
    JSON.stringify({
      env: 'node',
      dispatch: DISPATCH,
      calling_thread_ms: Number((a * 1e3).toFixed(4)),
      pool_ms: Number((b * 1e3).toFixed(4)),
      threads: pooled.threads,
    }),
  );
  local.dispose();
  pooled.dispose();
}

async function benchChromium(): Promise<void> {
  const server = await createServer({
    root: ROOT,
    configFile: resolve(ROOT, 'vite.config.ts'),
    logLevel: 'error',
    server: { host: '127.0.0.1', port: 0, strictPort: false },
  });
  await server.listen();
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    const base = server.resolvedUrls?.local[0];
    if (!base) throw new Error('the Vite server has no local URL');
    await page.goto(new URL('bench/cpu-kernel.html', base).href);
    await page.waitForFunction('typeof strataCpuBench === "function"', undefined, {
      timeout: 120_000,
    });
    const cores = Number(await page.evaluate('navigator.hardwareConcurrency'));
    for (const w of WORKLOADS) {
      const js = new Map<string, number>();
      for (const cs of casesFor(w, 'chromium', cores)) {
        const spec = JSON.stringify({ workload: w.workload, ...cs });
        // A string, so the page runs it as written (no bundler helpers injected).
        emit((await page.evaluate(`strataCpuBench(${spec})`)) as Line, js);
      }
    }
    const dispatch = await page.evaluate(`strataCpuDispatch(${cores})`);
    console.log(JSON.stringify({ env: 'chromium', ...(dispatch as object) }));
  } finally {
    await browser.close();
    await server.close();
  }
}

if (envArg === 'all' || envArg === 'node') await benchNode();
if (envArg === 'all' || envArg === 'chromium') await benchChromium();
