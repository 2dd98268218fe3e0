/** Errors the pipeline raises on purpose; the UI tells them apart by `name`. */
export { StorageFullError } from '../store/errors';

/** Thrown by a run that was cancelled with `cancel`; finished work stays stored. */
export class CancelledError extends Error {
  constructor(message = 'The run was cancelled; finished steps are stored.') {
    super(message);
    this.name = 'CancelledError';
  }
}

/** A person's mistake (bad file, impossible setting): show `message` as it is, no stack trace. */
export class UserInputError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UserInputError';
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
  'UserInputError',
]);

export function asUserError(e: unknown): unknown {
  if (e instanceof Error && USER_ERROR_NAMES.has(e.name) && e.name !== 'UserInputError') {
    return new UserInputError(e.message, { cause: e });
  }
  return e;
}

/** True for cancellations (ours, an AbortSignal's, or the core's AbortedError). */
export function isAbort(e: unknown): boolean {
  if (e === null || typeof e !== 'object') return false;
  const name = (e as { name?: unknown }).name;
  return name === 'AbortError' || name === 'CancelledError';
}
