/**
 * Errors the core throws on purpose. They carry messages meant for people (the CLI prints them
 * as one line, the UI shows them), so callers can tell a user error from a bug by its class.
 */

/**
 * Thrown when an AbortSignal fires during a long computation. It is a plain Error subclass (not a
 * DOMException) so it behaves the same in Node, workers and pages; `name` is 'AbortError' so code
 * that checks `err.name === 'AbortError'` treats it like the platform's own abort error.
 */
export class AbortedError extends Error {
  constructor(message = 'The operation was aborted') {
    super(message);
    this.name = 'AbortError';
  }
}

/** Bad input from a person (a malformed file, a non-finite row, an impossible parameter). */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** Throws AbortedError when the signal has fired. Cheap: call it between units of work. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError();
}
