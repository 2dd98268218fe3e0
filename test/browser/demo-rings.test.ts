/**
 * The rings toy on the demo page: balanced hierarchical sampling against a random draw of the
 * same size, counted per ring in the page's table.
 *
 * Settings: the reference README's rings (20000/200/1000/500/8000 points, 2 levels [1000, 300],
 * r = [15, 2], 1000 drawn) with the page's quick 10 Lloyd rounds, and 2 resampling steps instead
 * of 10 to keep the test short (~8 s of k-means here). Measured with 2 steps: max/min 1.9-2.0
 * (1.4-1.9 with 10; random 100+); the smallest ring keeps ~130 of its 200 points.
 */
import { describe, expect, it } from 'vitest';
import { flushSync, mount, unmount } from 'svelte';
import RingsDemo from '../../src/ui/demo/RingsDemo.svelte';
import { DEFAULT_DEMO, type DemoSelection } from '../../src/ui/share/hash';

function counts(root: HTMLElement, kind: 'balanced' | 'random'): number[] {
  return [...root.querySelectorAll(`table.counts tbody td[data-count="${kind}"]`)].map((td) =>
    Number(td.textContent),
  );
}

describe('the rings demo', () => {
  it('draws a balanced sample across rings where a random one follows the crowd', async () => {
    const target = document.body.appendChild(document.createElement('div'));
    let selection: DemoSelection = { ...DEFAULT_DEMO, toy: 'rings', steps: 2 };
    const demo = mount(RingsDemo, {
      target,
      props: {
        selection,
        onchange: (next: DemoSelection) => (selection = next),
        backend: 'cpu',
      },
    });
    try {
      flushSync();
      await expect
        .poll(() => target.querySelectorAll('table.counts tbody tr').length, { timeout: 120_000 })
        .toBe(5);
      const balanced = counts(target, 'balanced');
      const random = counts(target, 'random');
      const sizes = [20000, 200, 1000, 500, 8000];
      expect(balanced.reduce((a, b) => a + b)).toBe(1000);
      expect(random.reduce((a, b) => a + b)).toBe(1000);
      balanced.forEach((c, i) => expect(c).toBeLessThanOrEqual(sizes[i]));
      // Random follows the crowd: the 20,000-point ring takes about two thirds.
      expect(random[0]).toBeGreaterThan(600);
      expect(random[1]).toBeLessThan(20);
      // Balanced: every ring gets a real share; the crowded ring is cut to a fraction.
      expect(Math.min(...balanced)).toBeGreaterThan(100);
      expect(balanced[0]).toBeLessThan(300);
      expect(Math.max(...balanced) / Math.min(...balanced)).toBeLessThan(2.5);
      // Both samples are drawn over the rings.
      expect(target.querySelectorAll('.pair [role="img"]').length).toBe(2);
      expect(target.textContent).toContain('Largest / smallest share');
    } finally {
      unmount(demo);
      target.remove();
    }
  }, 150_000);
});
