/**
 * A CpuKernel for 2-D points (the demo's toys), bit-identical to the core's jsKernel.
 *
 * jsKernel is built for embeddings (D in the hundreds): row tiles copied to float64 and 4x2
 * register blocks. At D = 2 that machinery costs more than the arithmetic. This kernel does the
 * same float64 operations in the same order, without the blocking:
 *   assign:      dist2 = |x|^2 + (|c|^2 - 2 x.c), lowest index wins ties (strict <)
 *   distancesTo: d2    = (|x|^2 - 2 x.c) + |c|^2
 * with x.c = x0*c0 + x1*c1 and |v|^2 = v0*v0 + v1*v1, clamped at 0. Same inputs give the same
 * bits as jsKernel (test/browser/demo-toys.test.ts checks it), so the demo's numbers are the
 * command line's (`npx strata toy`) numbers. Any other D is handed to jsKernel.
 *
 * Measured (Node 20, the 2-core dev machine, one k-means k=3000 on 6000 toy points, 10 rounds,
 * CPU profile): jsKernel 3.3 s, of which distancesTo 1.5 s and assign 0.9 s; this kernel 1.2 s,
 * where greedy k-means++'s own loops (0.8 s) are now most of the time. Same objective, same bits.
 */
import { jsKernel } from '../core/cpu-kernel-js';
import type { Assignment, CpuKernel, Matrix } from '../core/types';

function assign(x: Matrix, centroids: Matrix, out: Assignment): void {
  if (x.cols !== 2 || centroids.cols !== 2) return jsKernel.assign(x, centroids, out) as void;
  const n = x.rows;
  const k = centroids.rows;
  if (out.labels.length !== n || out.dist2.length !== n) {
    throw new RangeError(`assignment buffers must hold ${n} rows`);
  }
  if (k === 0) throw new RangeError('cannot assign to zero centroids');
  const c = new Float64Array(centroids.data);
  const cn = new Float64Array(k);
  for (let j = 0; j < k; j++) cn[j] = c[2 * j] * c[2 * j] + c[2 * j + 1] * c[2 * j + 1];
  const xd = x.data;
  for (let i = 0; i < n; i++) {
    const x0 = xd[2 * i];
    const x1 = xd[2 * i + 1];
    let best = Infinity;
    let label = 0;
    for (let j = 0; j < k; j++) {
      const s = cn[j] - 2 * (x0 * c[2 * j] + x1 * c[2 * j + 1]);
      if (s < best) {
        best = s;
        label = j;
      }
    }
    const v = x0 * x0 + x1 * x1 + best;
    out.dist2[i] = v > 0 ? v : 0;
    out.labels[i] = label;
  }
}

function distancesTo(x: Matrix, candidates: Matrix, out: Float32Array): void {
  if (x.cols !== 2 || candidates.cols !== 2) {
    return jsKernel.distancesTo(x, candidates, out) as void;
  }
  const n = x.rows;
  const m = candidates.rows;
  if (out.length < n * m) throw new RangeError(`distance buffer must hold ${n * m} values`);
  const xd = x.data;
  const cd = candidates.data;
  for (let j = 0; j < m; j++) {
    const c0: number = cd[2 * j];
    const c1: number = cd[2 * j + 1];
    const cn = c0 * c0 + c1 * c1;
    const o = j * n;
    for (let i = 0; i < n; i++) {
      const x0 = xd[2 * i];
      const x1 = xd[2 * i + 1];
      const v = x0 * x0 + x1 * x1 - 2 * (x0 * c0 + x1 * c1) + cn;
      out[o + i] = v > 0 ? v : 0;
    }
  }
}

export const planarKernel: CpuKernel = { name: 'js-2d', assign, distancesTo };
