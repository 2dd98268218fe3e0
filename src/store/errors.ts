/**
 * Errors the store raises on purpose, with messages meant for people. They live here (not in
 * the pipeline) because the store is the layer that meets the browser's quota.
 */

/** The browser refused to store more; the failed transaction was aborted and left nothing behind. */
export class StorageFullError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageFullError';
  }
}

/** True for the DOMException (or a wrapped error) the browser raises when the quota is reached. */
export function isQuotaError(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  const name = (err as { name?: unknown }).name;
  if (name === 'QuotaExceededError') return true;
  // Chromium reports a quota hit at commit time as an UnknownError whose message says so.
  const message = (err as { message?: unknown }).message;
  return name === 'UnknownError' && typeof message === 'string' && /quota/i.test(message);
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** The sentence shown when a write hits the quota, with the numbers when the browser gives them. */
export function storageFullMessage(
  what: string,
  usage?: number | null,
  quota?: number | null,
): string {
  const numbers =
    usage != null && quota != null ? ` (${formatBytes(usage)} used of ${formatBytes(quota)})` : '';
  return (
    `The browser's storage for this site is full${numbers}, so ${what} was not saved; ` +
    'nothing was half-written. Delete old runs or datasets, or free disk space, then resume.'
  );
}

export { formatBytes };
