/**
 * The hostile-input report's vocabulary: what a case expects, how an observed result is judged
 * (clear, ok, unclear, crash, hang, data loss), and the line each case prints. Shared by the
 * Node and browser test files and by the reporter that adds them up (test/hostile/reporter.ts).
 */

export type Surface = 'CLI' | 'ingest' | 'embeddings' | 'link' | 'import' | 'fault';

/** 'clear': refused or handled with a specific one-line message; 'ok': accepted. */
export type Expected = 'clear' | 'ok';

export type Actual = 'clear' | 'ok' | 'unclear' | 'crash' | 'hang' | 'data loss' | 'wrong';

export interface CaseResult {
  readonly input: string;
  readonly surface: Surface;
  readonly expected: Expected;
  readonly actual: Actual;
  /** the message or result seen, shortened to one line */
  readonly detail: string;
}

/** What a surface observed for one case, before judging. */
export interface Observation {
  /** a refusal or a handled problem: the message a person reads */
  readonly message?: string;
  /** true when the input was accepted (a run finished, a link read, a file taken) */
  readonly accepted?: boolean;
  /** CLI: the exit status */
  readonly exitCode?: number;
  /** an uncaught exception or a thrown value that is not one of the product's own errors */
  readonly crashed?: string;
  readonly timedOut?: boolean;
  /** an input or an earlier output changed or vanished */
  readonly modified?: string;
}

/** Messages that tell a person nothing, or show them the program's insides. */
const GENERIC =
  /unexpected error|internal error|please report|\n\s+at |\bat \S+:\d+:\d+|\[object |\bundefined\b|TypeError|RangeError|ReferenceError|Cannot read prop|is not a function/i;

export function isGeneric(message: string): boolean {
  return GENERIC.test(message) || message.trim() === '';
}

export const oneLine = (s: string, max = 120): string => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/**
 * Judges an observation. Crash, hang and data loss come first (they count whatever was
 * expected); then a refusal must carry a specific message (matching `pattern` when given) and,
 * from the CLI, exit 2 or 3; an accepted input must be expected to be accepted.
 */
export function judge(
  input: string,
  surface: Surface,
  expected: Expected,
  seen: Observation,
  pattern?: RegExp,
): CaseResult {
  const r = (actual: Actual, detail: string): CaseResult => ({
    input,
    surface,
    expected,
    actual,
    detail: oneLine(detail),
  });
  if (seen.modified) return r('data loss', seen.modified);
  if (seen.timedOut) return r('hang', 'no answer within the time limit');
  if (seen.crashed) return r('crash', seen.crashed);
  if (seen.exitCode === 1) return r('crash', `exit 1: ${seen.message ?? ''}`);
  if (seen.accepted) {
    const note = seen.message ? `accepted; ${seen.message}` : 'accepted';
    if (seen.message && isGeneric(seen.message)) return r('unclear', note);
    return r(expected === 'ok' ? 'ok' : 'wrong', note);
  }
  const message = seen.message ?? '';
  const code = seen.exitCode !== undefined ? `exit ${seen.exitCode}: ` : '';
  if (isGeneric(message)) return r('unclear', code + message);
  if (seen.exitCode !== undefined && seen.exitCode !== 2 && seen.exitCode !== 3) {
    return r('unclear', code + message);
  }
  if (message.trim().split('\n').length > 1) return r('unclear', code + message);
  if (pattern && !pattern.test(message))
    return r('unclear', `${code}${message} (expected ${pattern})`);
  return r(expected === 'clear' ? 'clear' : 'wrong', code + message);
}

/** The line a case prints: input, surface, expected, actual. */
export function caseLine(c: CaseResult): string {
  const mark = c.actual === 'clear' || c.actual === 'ok' ? 'pass' : 'FAIL';
  return `${mark}  ${c.surface.padEnd(10)} ${oneLine(JSON.stringify(c.input), 60).padEnd(60)} expected ${c.expected.padEnd(5)} got ${c.actual}: ${c.detail}`;
}

export interface Totals {
  tried: number;
  clear: number;
  refused: number;
  accepted: number;
  unclear: number;
  wrong: number;
  crash: number;
  hang: number;
  dataLoss: number;
}

export function totals(results: readonly CaseResult[]): Totals {
  const n = (a: Actual) => results.filter((r) => r.actual === a).length;
  return {
    tried: results.length,
    clear: n('clear') + n('ok'),
    refused: n('clear'),
    accepted: n('ok'),
    unclear: n('unclear'),
    wrong: n('wrong'),
    crash: n('crash'),
    hang: n('hang'),
    dataLoss: n('data loss'),
  };
}

export function totalsLine(t: Totals): string {
  return (
    `${t.tried} tried, ${t.clear} clear, ${t.crash} crash, ${t.hang} hang, ${t.dataLoss} data loss` +
    ` (${t.refused} refused with a specific message, ${t.accepted} accepted, ${t.unclear} unclear, ${t.wrong} not as expected)`
  );
}

declare module 'vitest' {
  interface TaskMeta {
    /** set by a hostile-input test (a fault test records two cases); the reporter counts them */
    hostile?: CaseResult[];
  }
}

/**
 * Adds a case to its test's report entry and fails the test unless the case came out as
 * expected (never a crash, a hang or data loss).
 */
export function recordCase(task: { meta: { hostile?: CaseResult[] } }, r: CaseResult): void {
  (task.meta.hostile ??= []).push(r);
  if (r.actual !== (r.expected === 'ok' ? 'ok' : 'clear')) {
    throw new Error(
      `${r.surface} ${JSON.stringify(r.input)}: expected ${r.expected}, got ${r.actual}: ${r.detail}`,
    );
  }
}
