/**
 * Shared scaffolding for end-to-end tests of the built app: build it once with `vite build`,
 * serve the output with `vite preview` on a free port, and start headless Chromium through
 * playwright-core with the project's flags (test/chromium.ts). Reused by every e2e file.
 */
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type LaunchOptions,
  type Page,
} from 'playwright-core';
import { preview, type PreviewServer } from 'vite';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../chromium.ts';

export const ROOT = resolve(import.meta.dirname, '../../..');
/** The e2e build goes to its own folder so it never fights over dist/ with `npm run build`. */
export const E2E_DIST = join(ROOT, '.cache/e2e-dist');
const LOCK = join(ROOT, '.cache/e2e-build.lock');
/** What a build depends on; the build is redone when any of these is newer than the output. */
const INPUTS = ['src', 'public', 'shaders', 'index.html', 'vite.config.ts', 'package.json'];

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

/** The newest modification time among the build's inputs: a build older than this is stale. */
export function newestInputMtime(): number {
  return Math.max(...INPUTS.map((p) => newestMtime(join(ROOT, p))));
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((ok, fail) => {
    // Vitest sets NODE_ENV=test, which would make `vite build` produce a development bundle
    // (import.meta.env.DEV true): end-to-end tests must drive the production build people get.
    const child = spawn(cmd, args, {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, NODE_ENV: 'production' },
    });
    child.on('error', fail);
    child.on('exit', (code) =>
      code === 0 ? ok() : fail(new Error(`${cmd} ${args.join(' ')} exited with ${code}`)),
    );
  });
}

/** Whether the process that wrote a lock is still running. */
function holderAlive(): boolean {
  try {
    const pid = Number(readFileSync(join(LOCK, 'pid'), 'utf8'));
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else; anything else (ESRCH, no pid file yet).
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A lock directory: several test files (or people) may ask for a build at the same time. */
async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  mkdirSync(join(ROOT, '.cache'), { recursive: true });
  for (let waited = 0; ; waited += 500) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, 'pid'), String(process.pid));
      break;
    } catch {
      // A lock whose process died (a killed test run) is taken over after a grace period
      // long enough for the holder to have written its pid.
      if (waited >= 2000 && !holderAlive()) {
        rmSync(LOCK, { recursive: true, force: true });
        continue;
      }
      if (waited > 600_000) throw new Error(`gave up waiting for the build lock ${LOCK}`);
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/**
 * Builds the app into E2E_DIST unless the existing build is newer than every input.
 * Generated assets (model, demo data) must exist already: `npm test` runs `npm run assets` first.
 */
export async function buildApp(): Promise<string> {
  await withLock(async () => {
    const built = existsSync(join(E2E_DIST, 'index.html'))
      ? statSync(join(E2E_DIST, 'index.html')).mtimeMs
      : 0;
    if (built > newestInputMtime()) return;
    await run(process.execPath, [
      join(ROOT, 'node_modules/vite/bin/vite.js'),
      'build',
      '--outDir',
      E2E_DIST,
      '--emptyOutDir',
      '--logLevel',
      'warn',
    ]);
  });
  return E2E_DIST;
}

export interface Preview {
  /** base URL with a trailing slash, e.g. http://127.0.0.1:41234/ */
  readonly url: string;
  readonly server: PreviewServer;
  close(): Promise<void>;
}

/** Builds (if needed) and serves the app with `vite preview` (COOP/COEP on) on a free port. */
export async function startPreview(): Promise<Preview> {
  const outDir = await buildApp();
  const server = await preview({
    root: ROOT,
    configFile: join(ROOT, 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir },
    preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
  });
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('preview server has no port');
  const url = `http://127.0.0.1:${address.port}/`;
  return { url, server, close: () => server.close() };
}

/** Headless Chromium with WebGPU (SwiftShader) and no background network, fresh profile. */
export function launchBrowser(options: LaunchOptions = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    headless: true,
    ...options,
  });
}

/** Desktop and narrow viewports used for screenshots. */
export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  narrow: { width: 390, height: 844 },
} as const;

export const SCREENSHOT_DIR = join(ROOT, 'artifacts/screenshots');

/** A context that accepts downloads, with console errors collected for failure messages. */
export async function newContext(
  browser: Browser,
  viewport: { width: number; height: number } = VIEWPORTS.desktop,
): Promise<{ context: BrowserContext; errors: string[] }> {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const errors: string[] = [];
  context.on('weberror', (e) => errors.push(String(e.error())));
  return { context, errors };
}

/**
 * Full-page screenshots of the page as it is now, at desktop and narrow widths, into
 * artifacts/screenshots/<name>-desktop.png and <name>-narrow.png. The viewport is restored after.
 */
export async function snap(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const before = page.viewportSize() ?? VIEWPORTS.desktop;
  for (const [label, size] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(size);
    // From the top: a full-page shot of a scrolled page draws the sticky header mid-page.
    await page.evaluate('window.scrollTo(0, 0)');
    // Time for layout, ResizeObservers and canvases that redraw on resize.
    await page.waitForTimeout(250);
    await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}-${label}.png`), fullPage: true });
  }
  await page.setViewportSize(before);
}

/**
 * Records every request that leaves the page's origin (blob: and data: URLs stay in the page).
 * Returns the live list: check it is empty at the end of a run.
 */
export function watchForeignRequests(page: Page, origin: string): string[] {
  const foreign: string[] = [];
  page.on('request', (req) => {
    const url = req.url();
    if (url.startsWith('blob:') || url.startsWith('data:')) return;
    if (new URL(url).origin !== origin) foreign.push(url);
  });
  return foreign;
}
