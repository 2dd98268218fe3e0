/**
 * Page side of the service worker (see sw.ts): registers it, and on the first visit reloads the
 * page once when the worker takes control, so the page comes back cross-origin isolated
 * (SharedArrayBuffer, multi-threaded WebAssembly) even on hosts that cannot set headers.
 *
 * Call `ensureIsolation()` before mounting the app: when it answers 'reloading', do nothing more.
 * It never loops: one reload per tab session, and it gives up (the app runs single-threaded)
 * when the browser has no service workers or the worker does not take over in time.
 */

export type IsolationStatus =
  /** crossOriginIsolated is true (by the host's own headers or by the worker) */
  | 'isolated'
  /** the page is about to reload under the worker; do not start the app */
  | 'reloading'
  /** no service workers here (dev server, insecure context, private mode in some browsers) */
  | 'unsupported'
  /** the worker controls the page but the page is still not isolated, or it failed to start */
  | 'failed';

export interface OfflineStatus {
  readonly cached: number;
  readonly total: number;
  readonly bytes: number;
  readonly version: string;
}

/** Defined (true) by src/sw/vite-plugin.ts in builds, which ship sw.js; absent in dev and tests. */
declare const __STRATA_SERVICE_WORKER__: boolean | undefined;
export const HAS_SERVICE_WORKER =
  typeof __STRATA_SERVICE_WORKER__ !== 'undefined' && __STRATA_SERVICE_WORKER__ === true;

const RELOADED_KEY = 'strata.sw-reloaded';
/**
 * Install caches only the app's start files (~1.2 MB: the app, its workers, the ORT loader), a
 * few seconds on a slow line. Past this the app starts without threads; the worker still takes
 * over, and the next visit is isolated.
 */
const DEFAULT_TIMEOUT_MS = 15_000;

function markReloaded(): boolean {
  try {
    if (sessionStorage.getItem(RELOADED_KEY)) return false;
    sessionStorage.setItem(RELOADED_KEY, String(Date.now()));
    return true;
  } catch {
    return false; // storage blocked: no reload guard, so no reload either
  }
}

function clearReloaded(): void {
  try {
    sessionStorage.removeItem(RELOADED_KEY);
  } catch {
    // nothing to clear
  }
}

function waitForController(timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (navigator.serviceWorker.controller) return resolve(true);
    const timer = setTimeout(() => resolve(false), timeoutMs);
    navigator.serviceWorker.addEventListener(
      'controllerchange',
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      { once: true },
    );
  });
}

/**
 * Registers the worker (built app only: the dev server has no sw.js and sets the headers itself)
 * and makes sure the page is cross-origin isolated. `swUrl` is resolved against the page, so the app works from any sub-path.
 */
export async function ensureIsolation(
  options: { swUrl?: string; timeoutMs?: number } = {},
): Promise<IsolationStatus> {
  if (!HAS_SERVICE_WORKER || !('serviceWorker' in navigator) || !window.isSecureContext) {
    return window.crossOriginIsolated ? 'isolated' : 'unsupported';
  }
  let registration: ServiceWorkerRegistration;
  try {
    registration = await navigator.serviceWorker.register(options.swUrl ?? './sw.js', {
      scope: './',
    });
  } catch {
    return window.crossOriginIsolated ? 'isolated' : 'failed';
  }
  if (window.crossOriginIsolated) {
    // Isolated already: by the worker, or by the host's own headers before the worker controls
    // the page (the first visit to such a host). Either way the offline copy starts now, from
    // whichever worker is active; the app shows when it is done (offlineReady()).
    clearReloaded();
    return 'isolated';
  }
  if (navigator.serviceWorker.controller) {
    // Controlled but not isolated: an older worker without the headers may have served this
    // page; one reload gets the new one. If we already reloaded, run without threads.
    if (!markReloaded()) return 'failed';
  } else {
    // First visit: wait for the new worker to take over. An active worker that does not
    // control the page means a shift-reload bypassed it: a plain reload fixes that at once.
    if (
      !registration.active &&
      !(await waitForController(options.timeoutMs ?? DEFAULT_TIMEOUT_MS))
    ) {
      return 'failed';
    }
    if (!markReloaded()) return 'failed';
  }
  location.reload();
  return 'reloading';
}

/**
 * Asks the worker to finish the offline copy (model, WebAssembly, demo data) and resolves with
 * what is cached. The worker need not control the page yet: on a host that sends the isolation
 * headers itself the first visit is never reloaded, and the active worker is asked directly.
 * Rejects when there is no worker or the copy failed.
 */
export async function offlineReady(): Promise<OfflineStatus> {
  if (!HAS_SERVICE_WORKER || !('serviceWorker' in navigator)) {
    throw new Error('this page has no service worker');
  }
  const worker = navigator.serviceWorker.controller ?? (await navigator.serviceWorker.ready).active;
  if (!worker) throw new Error('no service worker is active for this page');
  const channel = new MessageChannel();
  const reply = new Promise<OfflineStatus>((resolve, reject) => {
    channel.port1.onmessage = (event: MessageEvent<OfflineStatus | { error: string }>) => {
      const data = event.data;
      if ('error' in data) reject(new Error(`offline copy failed: ${data.error}`));
      else resolve(data);
    };
  });
  worker.postMessage({ type: 'status' }, [channel.port2]);
  return reply;
}
