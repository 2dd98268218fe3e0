/**
 * Turns whatever a failed action threw into words for an inline message. People never see a
 * stack trace: a UserInputError's message is theirs to read as it is; storage and GPU problems
 * get a sentence on what happened and what to do; anything else is reported as unexpected, with
 * its message, so a bug report can quote it.
 */
export interface UiError {
  readonly title: string;
  readonly detail: string;
  /** 'warning' for things a person can fix or retry, 'error' for the rest */
  readonly tone: 'warning' | 'error';
}

function nameOf(e: unknown): string {
  return e instanceof Error || e instanceof DOMException ? e.name : '';
}

function messageOf(e: unknown): string {
  if (e instanceof Error || e instanceof DOMException) return e.message;
  return typeof e === 'string' ? e : '';
}

/** True for a cancellation the person asked for: not an error worth a message. */
export function isCancellation(e: unknown): boolean {
  return nameOf(e) === 'AbortError';
}

export function describeError(e: unknown, action: string): UiError {
  const name = nameOf(e);
  const message = messageOf(e);
  if (name === 'UserInputError') {
    return { title: `Could not ${action}`, detail: message, tone: 'warning' };
  }
  if (name === 'StorageFullError') {
    // The store's message already says what was not saved and what to do.
    return { title: 'The browser refused to store more data', detail: message, tone: 'warning' };
  }
  if (name === 'QuotaExceededError') {
    return {
      title: 'The browser refused to store more data',
      detail:
        (message ? `${message} ` : '') +
        'Nothing half-written was kept. Delete old runs below, or free disk space, then resume.',
      tone: 'warning',
    };
  }
  if (name === 'WorkerStoppedError') {
    // The message says what is kept and that resuming goes on from there.
    return { title: 'A background task stopped', detail: message, tone: 'warning' };
  }
  if (/device (was )?lost|GPUDevice.*lost/i.test(message)) {
    return {
      title: 'The graphics device was lost',
      detail: `${message} Finished steps are stored; resume the run (it can continue on the CPU).`,
      tone: 'warning',
    };
  }
  if (name === 'NotAllowedError' || name === 'SecurityError') {
    return {
      title: `Could not ${action}`,
      detail: 'The browser did not give permission. Try again and allow access when asked.',
      tone: 'warning',
    };
  }
  return {
    title: `Could not ${action}`,
    detail: message || 'An unexpected error occurred.',
    tone: 'error',
  };
}
