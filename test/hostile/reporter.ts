/**
 * A vitest reporter that prints the hostile-input report: one line per case (from each test's
 * `meta.hostile`, set by the hostile test files of the unit and browser projects) and the totals
 * line over all of them. Prints nothing when no hostile case ran.
 */
import type { Reporter, TestCase } from 'vitest/node';
import { caseLine, totals, totalsLine, type CaseResult } from './report.ts';

export default class HostileReporter implements Reporter {
  readonly #results: CaseResult[] = [];

  onTestCaseResult(testCase: TestCase): void {
    this.#results.push(...(testCase.meta().hostile ?? []));
  }

  onTestRunEnd(): void {
    if (this.#results.length === 0) return;
    const order = ['CLI', 'import', 'embeddings', 'ingest', 'link', 'fault'];
    const sorted = [...this.#results].sort(
      (a, b) => order.indexOf(a.surface) - order.indexOf(b.surface),
    );
    const lines = [
      '',
      'Hostile-input report',
      ...sorted.map(caseLine),
      '',
      totalsLine(totals(sorted)),
      '',
    ];
    process.stdout.write(lines.join('\n') + '\n');
  }
}
