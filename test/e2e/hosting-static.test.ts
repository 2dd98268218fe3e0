/**
 * "Host your own": the output of `vite build`, copied as it is under a sub-path (/strata/) of a
 * plain static server that sends NO Cross-Origin-Opener/Embedder-Policy headers (the kind of host
 * most people have). The service worker must make the page cross-origin isolated (after its one
 * reload), the demo dataset must run end to end, a link's settings must arrive, a malformed
 * link must open with the defaults and a notice, the Content-Security-Policy must hold without
 * a single violation, and with the server stopped the app shell and the demo page must still work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, newContext } from './helpers/app.ts';
import { buildForHosting, serveStatic, type StaticHost } from './hosting-helpers.ts';

const RUN_TIMEOUT = 240_000;

let host: StaticHost;
let browser: Browser;

beforeAll(async () => {
  host = await serveStatic(await buildForHosting(), '/strata/');
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await host?.close().catch(() => undefined);
});

/** Records CSP violations in every page of the context (the test asserts there are none). */
async function watchCsp(context: BrowserContext): Promise<() => Promise<string[]>> {
  await context.addInitScript(() => {
    const seen: string[] = [];
    (globalThis as unknown as { __cspViolations: string[] }).__cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (e) => {
      seen.push(`${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}`);
    });
  });
  const pages: Page[] = [];
  context.on('page', (p) => pages.push(p));
  return async () => {
    const all: string[] = [];
    for (const p of pages) {
      if (p.isClosed()) continue;
      all.push(
        ...(await p
          .evaluate(
            () => (globalThis as unknown as { __cspViolations?: string[] }).__cspViolations ?? [],
          )
          .catch(() => [])),
      );
    }
    return all;
  };
}

/** Waits until the page (which reloads itself once under the worker) is cross-origin isolated. */
async function waitForIsolation(page: Page): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    // The first load reloads itself: evaluating across that navigation may throw; try again.
    const isolated = await page.evaluate(() => crossOriginIsolated).catch(() => false);
    if (isolated) return;
    if (Date.now() > deadline) throw new Error('the page never became cross-origin isolated');
    await page.waitForTimeout(250);
  }
}

/** Asks the worker to finish the offline copy; resolves with its counts. */
function offlineStatus(page: Page) {
  return page.evaluate(
    () =>
      new Promise<{ cached: number; total: number; bytes: number; error?: string }>(
        (resolve, reject) => {
          const worker = navigator.serviceWorker.controller;
          if (!worker) return reject(new Error('no service worker controls the page'));
          const channel = new MessageChannel();
          channel.port1.onmessage = (e) => resolve(e.data);
          worker.postMessage({ type: 'status' }, [channel.port2]);
        },
      ),
  );
}

describe('the built app on a plain static host, under a sub-path', () => {
  it('isolates itself, runs the demo data, honours links, and works offline', async () => {
    const { context, errors } = await newContext(browser);
    const cspViolations = await watchCsp(context);
    const page = await context.newPage();

    // 1. A link with settings, on the first visit: the worker installs, the page reloads once
    //    (keeping the hash) and comes back cross-origin isolated.
    await page.goto(`${host.url}#/curate?target=37&seed=5`);
    await waitForIsolation(page);
    expect(new URL(page.url()).hash).toBe('#/curate?target=37&seed=5');
    const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
    expect(scope).toBe(host.url);
    expect(await page.evaluate(() => typeof SharedArrayBuffer)).toBe('function');

    // 2. The demo dataset end to end: one click to load it, the link's settings applied, run.
    await page.getByRole('button', { name: 'Try with demo data' }).click();
    await page.getByRole('heading', { name: 'Settings' }).waitFor({ timeout: 60_000 });
    expect(await page.getByLabel('Curated subset size').inputValue()).toBe('37');
    await page.getByText('Advanced', { exact: true }).click();
    expect(await page.getByLabel('Seed').inputValue()).toBe('5');
    await page.getByRole('button', { name: 'Run curation' }).click();
    await page.getByText('Curated subset ready').waitFor({ timeout: RUN_TIMEOUT });
    const selected = Number((await page.locator('.big').first().textContent())?.replace(/,/g, ''));
    expect(selected).toBe(37);

    // 3. Everything the build holds is now in the offline cache, and the page says so.
    await page.locator('[data-offline="ready"]').waitFor({ timeout: 120_000 });
    const status = await offlineStatus(page);
    expect(status.error).toBeUndefined();
    expect(status.cached).toBe(status.total);
    expect(status.total).toBeGreaterThan(200); // app files + 200 demo images + model

    // 4. A malformed link opens with the defaults and says so (already isolated: no reload).
    const bad = await context.newPage();
    await bad.goto(`${host.url}#/curate?seed=banana`);
    const notice = bad.getByRole('alert').filter({ hasText: 'opened with its defaults' });
    await notice.waitFor();
    expect(await notice.textContent()).toContain('seed: must be a whole number');
    expect(await bad.evaluate(() => crossOriginIsolated)).toBe(true);
    await bad.close();

    // 5. The host goes away. The app shell, the run stored in the browser and the live demo
    //    still work, still isolated.
    await host.close();
    const before = host.requests.length;
    await page.reload();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    const demo = await context.newPage();
    await demo.goto(`${host.url}#/demo`);
    await demo.getByRole('heading', { name: 'How it works' }).waitFor();
    expect(await demo.evaluate(() => crossOriginIsolated)).toBe(true);
    // The demo's worker starts from the cache and computes the first variant.
    await demo
      .locator('.kl-chart g.row[data-variant="kmeans"][data-state="done"]')
      .waitFor({ timeout: 120_000 });
    expect(host.requests.length).toBe(before); // nothing reached the (stopped) host
    await demo.close();

    // Nothing in the app needed anything the policy forbids.
    expect(await cspViolations()).toEqual([]);

    // The policy is in force: no string-to-code (no 'unsafe-eval'), no inline script, no
    // workers from blob: URLs, while WebAssembly compiles ('wasm-unsafe-eval'; the embedding
    // run above used it). Probed from page code: DevTools' own evaluation is exempt from CSP.
    const probe = await page.evaluate(async () => {
      const blocked: string[] = [];
      document.addEventListener('securitypolicyviolation', (e) => {
        blocked.push(`${e.violatedDirective.split('-')[0]}:${e.blockedURI}`);
      });
      const w = window as unknown as Record<string, unknown>;
      // eslint-disable-next-line no-implied-eval -- the point: the policy must refuse it
      setTimeout('window.__probeTimer = 1', 0);
      const inline = document.createElement('script');
      inline.textContent = 'window.__probeInline = 1';
      document.head.append(inline);
      new Worker(URL.createObjectURL(new Blob([''], { type: 'text/javascript' })));
      // The smallest valid module: magic number and version.
      const wasm = await WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])).then(
        () => 'compiled',
        (e: Error) => e.name,
      );
      await new Promise((r) => setTimeout(r, 300));
      return {
        timerRan: w.__probeTimer === 1,
        inlineRan: w.__probeInline === 1,
        blocked: [...new Set(blocked.map((b) => b.replace(/^(\w+):blob:.*/, '$1:blob')))].sort(),
        wasm,
      };
    });
    expect(probe).toEqual({
      timerRan: false,
      inlineRan: false,
      blocked: ['script:eval', 'script:inline', 'worker:blob'],
      wasm: 'compiled',
    });
    expect(errors).toEqual([]);
    await context.close();
  });

  it('is ready offline after one visit when the host sends the isolation headers itself', async () => {
    const withHeaders = await serveStatic(await buildForHosting(), '/strata/', {
      isolationHeaders: true,
    });
    const { context, errors } = await newContext(browser);
    try {
      const page = await context.newPage();
      await page.goto(withHeaders.url);
      // Isolated by the host on the first load: no reload, so the worker does not control
      // this page yet, and the offline copy must complete all the same.
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
      await page.locator('[data-offline="ready"]').waitFor({ timeout: 120_000 });
      const copied = await page.evaluate(async () => {
        const names = await caches.keys();
        let n = 0;
        for (const name of names) n += (await (await caches.open(name)).keys()).length;
        return n;
      });
      expect(copied).toBeGreaterThan(200); // app files + 200 demo images + model

      // The host goes away: the app and the demo data come from the copy.
      await withHeaders.close();
      const before = withHeaders.requests.length;
      await page.reload();
      await page.getByRole('button', { name: 'Try with demo data' }).click();
      await page.getByRole('heading', { name: 'Settings' }).waitFor({ timeout: 60_000 });
      expect(await page.locator('[data-stat="items"]').textContent()).toBe('200');
      expect(withHeaders.requests.length).toBe(before);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      await withHeaders.close().catch(() => undefined);
    }
  });
});
