/** Errors the pipeline raises on purpose; the UI tells them apart by `name`. */
export { StorageFullError } from '../store/errors';

export { CancelledError, isCancellation } from '../core/errors';

/** A person's mistake (bad file, impossible setting): show `message` as it is, no stack trace. */
export class UserInputError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UserInputError';
  }
}

/**
 * A worker (embedding, clustering, file reading) was terminated while it worked. What it had
 * stored is kept; resuming the run starts a new worker.
 */
export class WorkerStoppedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WorkerStoppedError';
  }
}

/**
 * Errors of the core and the embed side that are a person's mistake (a malformed .npy, a bad
 * model setting) carry these names; the pipeline rethrows them as UserInputError.
 */
const USER_ERROR_NAMES = new Set([
  'InputError',
  'NpyError',
  'PrecomputedError',
  'ModelSpecError',
  'PickleError',
  'UserInputError',
]);

export function asUserError(e: unknown): unknown {
  if (e instanceof Error && USER_ERROR_NAMES.has(e.name) && e.name !== 'UserInputError') {
    return new UserInputError(e.message, { cause: e });
  }
  return e;
}
