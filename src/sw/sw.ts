/**
 * Strata's service worker. Two jobs:
 *
 * 1. Cross-origin isolation on hosts that cannot set headers. Multi-threaded WebAssembly needs
 *    SharedArrayBuffer, which browsers only give to a cross-origin isolated page: one served with
 *    `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`.
 *    Plain static hosts (GitHub Pages, a bucket, a USB stick behind `python -m http.server`)
 *    cannot add them, so this worker adds them to every same-origin response it hands the page.
 *    The first visit is not yet served by the worker: register.ts reloads the page once when the
 *    worker takes control.
 * 2. Offline use. Every file of the build (listed by the build, with content revisions) is kept
 *    in a cache named after the build: the files needed to start the app before the worker takes
 *    over, the rest (model, WebAssembly, demo images) right after. Files whose revision did not
 *    change are copied from the previous build's cache instead of being downloaded again.
 *    Pages are fetched network-first (so a new deploy shows up), falling back to the cached app;
 *    everything else is cache-first (file names carry content hashes, or the cache is per build).
 *
 * Works from any sub-path: every URL is resolved against the worker's own scope.
 * This file is compiled on its own into sw.js (a classic script, no imports) by vite-plugin.ts.
 */
import type { SwBuild, SwFile } from './build-info';

const sw = self as unknown as ServiceWorkerGlobalScope;

// Replaced by the build with the list of files and the policy; see vite-plugin.ts.
declare const __STRATA_SW_BUILD__: unknown;
const BUILD = __STRATA_SW_BUILD__ as SwBuild;

const SCOPE = new URL(sw.registration.scope);
/** Per app folder: two deployments on one origin (say /strata/ and /strata-test/) keep apart. */
const PREFIX = `strata:${SCOPE.pathname}:`;
const CACHE = `${PREFIX}${BUILD.version}`;
const INDEX = new URL('index.html', SCOPE).href;
/** Stored with each cached response so a later build can tell whether the bytes changed. */
const REV_HEADER = 'x-strata-rev';

/** Headers that make the page (and its workers) cross-origin isolated. */
function isolate(res: Response, destination: RequestDestination): Response {
  // Opaque responses cannot be rebuilt; a redirect is followed by the browser itself.
  if (res.type === 'opaque' || res.type === 'opaqueredirect' || res.status === 0) return res;
  const headers = new Headers(res.headers);
  headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
  headers.set('Cross-Origin-Resource-Policy', 'same-origin');
  headers.delete(REV_HEADER);
  if (destination === 'document' || destination === 'worker' || destination === 'sharedworker') {
    headers.set('Content-Security-Policy', BUILD.csp);
  }
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

function urlOf(file: SwFile): string {
  return new URL(file.url, SCOPE).href;
}

/** Puts one file in the cache: from an older build's cache when its revision matches, else the network. */
async function cacheFile(cache: Cache, file: SwFile, old: Cache[]): Promise<void> {
  const url = urlOf(file);
  for (const previous of old) {
    const hit = await previous.match(url);
    if (hit && hit.headers.get(REV_HEADER) === file.rev) {
      await cache.put(url, hit);
      return;
    }
  }
  // 'reload' skips the HTTP cache: what goes in must be this build's bytes.
  const res = await fetch(url, { cache: 'reload', credentials: 'same-origin' });
  if (!res.ok) throw new Error(`${file.url}: HTTP ${res.status}`);
  const headers = new Headers(res.headers);
  headers.set(REV_HEADER, file.rev);
  await cache.put(url, new Response(res.body, { status: 200, statusText: 'OK', headers }));
}

async function olderCaches(): Promise<Cache[]> {
  const names = (await caches.keys()).filter((n) => n.startsWith(PREFIX) && n !== CACHE);
  return Promise.all(names.map((n) => caches.open(n)));
}

/** Caches the given files that are not cached yet, a few at a time. */
async function fill(files: readonly SwFile[]): Promise<void> {
  const cache = await caches.open(CACHE);
  const old = await olderCaches();
  const missing: SwFile[] = [];
  for (const f of files) if (!(await cache.match(urlOf(f)))) missing.push(f);
  let next = 0;
  // 4 downloads at a time: enough to fill a connection, few enough to leave room for the page.
  const lane = async () => {
    while (next < missing.length) await cacheFile(cache, missing[next++], old);
  };
  await Promise.all([lane(), lane(), lane(), lane()]);
}

let rest: Promise<void> | null = null;
/**
 * Everything not needed to start (model, wasm, demo data), then the old builds' caches go.
 * Started by the page's first message, not in `activate`: the page's requests wait while the
 * worker is activating, and these downloads are tens of megabytes.
 */
function fillRest(): Promise<void> {
  rest ??= fill(BUILD.files)
    .then(async () => {
      const stale = (await caches.keys()).filter((n) => n.startsWith(PREFIX) && n !== CACHE);
      await Promise.all(stale.map((n) => caches.delete(n)));
    })
    .catch((e: unknown) => {
      rest = null; // the next message retries
      throw e;
    });
  return rest;
}

async function offlineStatus(): Promise<{ cached: number; total: number; bytes: number }> {
  const cache = await caches.open(CACHE);
  let cached = 0;
  let bytes = 0;
  for (const f of BUILD.files) {
    if (await cache.match(urlOf(f))) {
      cached++;
      bytes += f.bytes;
    }
  }
  return { cached, total: BUILD.files.length, bytes };
}

sw.addEventListener('install', (event) => {
  event.waitUntil(fill(BUILD.files.filter((f) => f.shell)).then(() => sw.skipWaiting()));
});

sw.addEventListener('activate', (event) => {
  // Take over the open page now: register.ts reloads it once, and it comes back isolated.
  event.waitUntil(sw.clients.claim());
});

/**
 * Messages from the page: `{ type: 'status' }` finishes the offline copy, then answers on the
 * message's port with `{ cached, total, bytes, version }` (or `{ error }`).
 */
sw.addEventListener('message', (event) => {
  const data: unknown = event.data;
  if (typeof data !== 'object' || data === null || !('type' in data)) return;
  if (data.type !== 'status') return;
  const port = event.ports[0];
  event.waitUntil(
    fillRest()
      .then(offlineStatus)
      .then((s) => port?.postMessage({ ...s, version: BUILD.version }))
      .catch((e: unknown) => port?.postMessage({ error: String(e) })),
  );
});

async function fromNetworkThenCache(request: Request): Promise<Response> {
  try {
    const res = await fetch(request);
    if (res.ok && res.type === 'basic') {
      const copy = res.clone();
      const headers = new Headers(copy.headers);
      headers.set(REV_HEADER, 'runtime');
      void caches
        .open(CACHE)
        .then((c) => c.put(request.url, new Response(copy.body, { status: 200, headers })));
    }
    return res;
  } catch (e) {
    const cached = await caches.match(request.url, { cacheName: CACHE });
    if (cached) return cached;
    throw e;
  }
}

/**
 * How long a page request may take before the cached app is shown instead. Pages are
 * network-first so a new deploy shows up; on a lossy connection that hangs rather than fails,
 * the app the person already has is better than a blank tab.
 */
const PAGE_TIMEOUT_MS = 4000;

async function page(request: Request): Promise<Response> {
  const network = fetch(request);
  // When the cache answers first, a later network failure is expected, not an error to report.
  network.catch(() => undefined);
  const timeout = new Promise<null>((resolve) => setTimeout(resolve, PAGE_TIMEOUT_MS, null));
  try {
    const first = await Promise.race([network, timeout]);
    if (first) return first;
    // Slow: use the cached app if there is one, else keep waiting for the network.
    return (await caches.match(INDEX)) ?? (await network);
  } catch (e) {
    // Offline: any page of the app is the app (its state is in the hash).
    const cached = await caches.match(INDEX);
    if (cached) return cached;
    throw e;
  }
}

sw.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  // Model downloads from other hosts go straight to the network (they are CORS requests, which
  // COEP require-corp accepts); the embed cache keeps them.
  if (url.origin !== SCOPE.origin || !url.href.startsWith(SCOPE.href)) return;
  // Byte ranges would need slicing cached bodies; nothing in the app asks for them.
  if (request.headers.has('range')) return;
  const destination = request.destination;
  event.respondWith(
    (async () => {
      if (request.mode === 'navigate') return isolate(await page(request), 'document');
      const cached = await caches.match(request.url, { cacheName: CACHE });
      return isolate(cached ?? (await fromNetworkThenCache(request)), destination);
    })(),
  );
});
