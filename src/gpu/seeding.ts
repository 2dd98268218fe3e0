/**
 * Greedy k-means++ seeding on the GPU: the same draws as the CPU backend (src/core/kmeans.ts).
 * Candidates are drawn on the CPU with the run's seeded Rng from D^2 read back after every centre
 * (exactly the CPU's draw: float64 prefix sums, the same calls to the generator); candidate
 * potentials are scored on the GPU (passes/kmeanspp.ts) and finished in float64 on the CPU;
 * D^2 is updated on the GPU.
 */
import { throwIfAborted } from '../core/errors.ts';
import { kmeansPlusPlusTrials } from '../core/kmeans.ts';
import type { Rng } from '../core/rng.ts';
import type { Matrix } from '../core/types.ts';
import type { CallScope } from './call-scope.ts';
import type { KppMode } from './passes/kmeanspp.ts';
import type { GpuRunContext } from './run-context.ts';
import type { Uploaded } from './upload-cache.ts';

/** Index i with prefix[i-1] <= u < prefix[i]; the CPU backend's search, so draws match. */
function searchPrefix(prefix: Float64Array, u: number): number {
  let lo = 0;
  let hi = prefix.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (prefix[mid] > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Greedy k-means++ over the uploaded x; returns k x d4 padded centroids.
 *
 * Small inputs (all candidates' D^2 rows <= kppReadAllBytes, e.g. N=100k with 8 candidates):
 * a barrier-free kernel writes every candidate's new D^2 row, the rows come back in one round
 * trip per centre and the CPU sums them in float64 (exact potentials); keeping a candidate is a
 * GPU buffer copy. Larger inputs: kmeanspp.wgsl sums on the GPU (pairwise partials per 64 rows,
 * finished in float64 here), and only the kept row comes back (a second, copy-only round
 * trip); where even the rows do not fit one binding, D^2 is updated in place by the kernel.
 */
export async function gpuKMeansPlusPlus(
  ctx: GpuRunContext,
  scope: CallScope,
  x: Matrix,
  up: Uploaded,
  k: number,
  rng: Rng,
  signal?: AbortSignal,
): Promise<Float32Array> {
  const dev = ctx.device;
  const n = x.rows;
  const d = x.cols;
  const stride = up.rows.d4 * 4;
  const centroids = new Float32Array(k * stride);
  const trials = kmeansPlusPlusTrials(k);
  const rowsBytes = trials * n * 4;
  const store =
    rowsBytes <= Math.min(ctx.maxChunkBytes, ctx.gpu.limits.maxStorageBufferBindingSize);
  const mode: KppMode = { store, readAll: store && rowsBytes <= ctx.kppReadAllBytes };
  const readAll = mode.readAll;
  const kpp = ctx.kernels.kmeanspp.scorer(scope, up.rows, up.xnorm, trials, mode, (p) =>
    ctx.sync(p),
  );
  const { d2, newD2, stageRows } = kpp;

  const pot = new Float64Array(n);
  const prefix = new Float64Array(n);
  const candIdx = new Int32Array(trials);
  const candPot = new Float64Array(trials);
  const first = rng.int(n);
  centroids.set(x.data.subarray(first * d, first * d + d), 0);
  {
    let enc = dev.createCommandEncoder({ label: 'kpp first centre' });
    enc = kpp.score(enc, x.data, [first], 1, true, !store);
    if (store) {
      enc.copyBufferToBuffer(newD2, 0, d2, 0, n * 4);
      enc.copyBufferToBuffer(newD2, 0, stageRows, 0, n * 4);
    } else {
      enc.copyBufferToBuffer(d2, 0, stageRows, 0, n * 4);
    }
    dev.queue.submit([enc.finish()]);
    await kpp.readRow(pot);
    // Drain the GPU-summed potential of the first centre so the partials' staging is free.
    if (!readAll) await kpp.gpuPotentials(1, candPot);
  }
  /** readAll: row of newD2 the GPU must copy to D2 before the next scoring pass. */
  let adopt = -1;
  for (let c = 1; c < k; c++) {
    throwIfAborted(signal);
    let total = 0;
    for (let i = 0; i < n; i++) {
      total += pot[i];
      prefix[i] = total;
    }
    for (let t = 0; t < trials; t++) {
      // Every remaining row coincides with a centre: any row is as good as another.
      candIdx[t] = total > 0 ? searchPrefix(prefix, rng.next() * total) : rng.int(n);
    }
    let enc = dev.createCommandEncoder({ label: 'kpp score' });
    if (adopt >= 0) enc.copyBufferToBuffer(newD2, adopt * n * 4, d2, 0, n * 4);
    enc = kpp.score(enc, x.data, candIdx, trials, false, false);
    let bestT = 0;
    if (readAll) {
      // One round trip: every candidate's row; potentials summed here in float64.
      enc.copyBufferToBuffer(newD2, 0, stageRows, 0, rowsBytes);
      dev.queue.submit([enc.finish()]);
      await kpp.withStagedRows(rowsBytes, (rows) => {
        for (let t = 0; t < trials; t++) {
          let s = 0;
          const o = t * n;
          for (let i = 0; i < n; i++) s += rows[o + i];
          candPot[t] = s;
          if (s < candPot[bestT]) bestT = t;
        }
        if (c + 1 < k) {
          const o = bestT * n;
          for (let i = 0; i < n; i++) pot[i] = rows[o + i];
        }
      });
      adopt = bestT;
    } else {
      dev.queue.submit([enc.finish()]);
      await kpp.gpuPotentials(trials, candPot);
      for (let t = 1; t < trials; t++) if (candPot[t] < candPot[bestT]) bestT = t;
    }
    const chosen = candIdx[bestT];
    centroids.set(x.data.subarray(chosen * d, chosen * d + d), c * stride);
    if (readAll || c + 1 === k) continue; // the last centre needs no D^2
    if (store) {
      const e = dev.createCommandEncoder({ label: 'kpp keep' });
      e.copyBufferToBuffer(newD2, bestT * n * 4, d2, 0, n * 4);
      e.copyBufferToBuffer(newD2, bestT * n * 4, stageRows, 0, n * 4);
      dev.queue.submit([e.finish()]);
      await kpp.readRow(pot);
    } else {
      let e = dev.createCommandEncoder({ label: 'kpp update' });
      e = kpp.score(e, x.data, [chosen], 1, false, true);
      e.copyBufferToBuffer(d2, 0, stageRows, 0, n * 4);
      dev.queue.submit([e.finish()]);
      await kpp.readRow(pot);
      await kpp.gpuPotentials(1, candPot);
    }
  }
  return centroids;
}
