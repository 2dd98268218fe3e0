/**
 * Errors the core throws on purpose. They carry messages meant for people (the CLI prints them
 * as one line, the UI shows them), so callers can tell a user error from a bug by its class.
 */

/**
 * The one cancellation error: a person's cancel, an AbortSignal firing inside a long computation,
 * a closed workspace. A plain Error subclass (not a DOMException) so it behaves the same in Node,
 * workers and pages; `name` is 'AbortError', the platform's own abort name, so one check
 * (`isCancellation`) covers it, the platform's AbortError and errors that crossed a worker.
 */
export class CancelledError extends Error {
  constructor(message = 'Cancelled; finished steps are stored.') {
    super(message);
    this.name = 'AbortError';
  }
}

/** True for any cancellation: ours, the platform's AbortError, or one that crossed a worker. */
export function isCancellation(e: unknown): boolean {
  return e !== null && typeof e === 'object' && (e as { name?: unknown }).name === 'AbortError';
}

/** Bad input from a person (a malformed file, a non-finite row, an impossible parameter). */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** Throws CancelledError when the signal has fired. Cheap: call it between units of work. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}
