import { describe, expect, it } from 'vitest';
import { jsKernel } from '../../../src/core/cpu-kernel-js.ts';
import { createMatrix } from '../../../src/core/matrix.ts';
import { dist2, randomMatrix } from './helpers.ts';

describe('jsKernel', () => {
  // Odd sizes on purpose: row tiles (32) and 4-row blocks end part-way, centroid pairs leave one
  // over, and with d = 300 the centroid tile (32768 / d = 109 centroids) splits k = 251.
  for (const [n, d, k] of [
    [77, 3, 5],
    [61, 2, 37], // the 2-D path
    [130, 300, 251],
    [33, 1, 2],
    [5, 17, 1],
  ]) {
    it(`assigns every row to its nearest centroid (n=${n}, d=${d}, k=${k})`, () => {
      const x = randomMatrix(n, d, n + d);
      const c = randomMatrix(k, d, k + 1000);
      const out = { labels: new Int32Array(n), dist2: new Float32Array(n) };
      jsKernel.assign(x, c, out);
      for (let i = 0; i < n; i++) {
        let best = Infinity;
        for (let j = 0; j < k; j++) best = Math.min(best, dist2(x, i, c, j));
        const got = dist2(x, i, c, out.labels[i]);
        // The chosen centroid is the nearest up to float rounding (near-ties may differ).
        expect(got).toBeLessThanOrEqual(best * (1 + 1e-9) + 1e-9);
        expect(out.dist2[i]).toBeCloseTo(best, Math.max(0, 4 - Math.ceil(Math.log10(best + 1))));
      }
    });
  }

  it('clamps distances at zero and breaks ties towards the lower index', () => {
    const x = createMatrix(2, 2, Float32Array.from([1, 1, 5, 5]));
    const c = createMatrix(3, 2, Float32Array.from([5, 5, 1, 1, 1, 1]));
    const out = { labels: new Int32Array(2), dist2: new Float32Array(2) };
    jsKernel.assign(x, c, out);
    expect(Array.from(out.labels)).toEqual([1, 0]);
    expect(Array.from(out.dist2)).toEqual([0, 0]);
  });

  it('computes candidate-major distances', () => {
    const x = randomMatrix(41, 7, 1);
    const cand = randomMatrix(5, 7, 2);
    const out = new Float32Array(41 * 5);
    jsKernel.distancesTo(x, cand, out);
    for (let j = 0; j < 5; j++) {
      for (let i = 0; i < 41; i++) expect(out[j * 41 + i]).toBeCloseTo(dist2(x, i, cand, j), 3);
    }
  });

  it('rejects mismatched dimensions', () => {
    const out = { labels: new Int32Array(3), dist2: new Float32Array(3) };
    expect(() => jsKernel.assign(randomMatrix(3, 2, 1), randomMatrix(2, 3, 1), out)).toThrow(
      /dimension mismatch/,
    );
  });
});
