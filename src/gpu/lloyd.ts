/**
 * Lloyd's iterations on the GPU: nIters rounds of (stable counting sort by label, compensated
 * per-cluster means, |c|^2, fused assignment), all encoded on the GPU; nothing is read back
 * inside the loop (progress waits for a round to finish without reading anything). Only an
 * early-stop tolerance needs the objective every round: then 1 float per 256 rows comes back per
 * round.
 */
import { CancelledError } from '../core/errors.ts';
import type { KMeansOptions, KMeansResult, Matrix } from '../core/types.ts';
import { unpaddedRows } from './buffers.ts';
import type { CallScope } from './call-scope.ts';
import { submitDispatches } from './kernel.ts';
import { BLOCK_SUM_ROWS } from './passes/objective.ts';
import { accumulatorBytes } from './passes/update.ts';
import type { GpuRunContext } from './run-context.ts';
import type { Uploaded } from './upload-cache.ts';

/** Lloyd from the k x d4 padded centroids `init` over the uploaded x. */
export async function gpuLloyd(
  ctx: GpuRunContext,
  scope: CallScope,
  x: Matrix,
  up: Uploaded,
  init: Float32Array,
  k: number,
  options: KMeansOptions,
): Promise<KMeansResult> {
  const dev = ctx.device;
  const K = ctx.kernels;
  const n = x.rows;
  const d4 = up.rows.d4;
  const cent = scope.storage(k * d4 * 16, 'centroids', init);
  const cnorm = scope.storage(k * 4, 'cnorm');
  const labels = scope.storage(n * 4, 'labels');
  const dist2 = scope.storage(n * 4, 'dist2');
  const acc = scope.storage(accumulatorBytes(up.rows, k), 'centroid sums');
  const sort = K.sort.plan(scope, n, k, labels);
  const tol = options.tolerance ?? 0;
  const objBlocks = Math.ceil(n / BLOCK_SUM_ROWS);
  const objPartials = scope.storage(objBlocks * 4, 'objective partials');
  const objDispatch = K.objective.dispatch(scope, n, dist2, objPartials);
  const normsC = K.norms.centroids(scope, cent, k, d4, cnorm);
  const assign = K.assign.dispatches(scope, up.rows, up.xnorm, cent, cnorm, k, labels, dist2);
  const round = [
    ...sort.list,
    ...K.update.dispatches(scope, up.rows, k, sort.perm, sort.offsets, acc, cent),
    normsC,
    ...assign,
  ];
  const objective = async (): Promise<number> => {
    submitDispatches(dev, 'objective', [objDispatch]);
    const p = await ctx.readInto(objPartials, (b) => new Float32Array(b), objBlocks * 4);
    let s = 0;
    for (let i = 0; i < p.length; i++) s += p[i];
    return s;
  };

  submitDispatches(dev, 'lloyd init', [normsC, ...assign]);
  let obj = tol > 0 ? await objective() : 0;
  let iterations = 0;
  let pending: Promise<unknown> | undefined;
  let pendingRound = 0;
  for (let r = 1; r <= options.nIters; r++) {
    if (options.signal?.aborted) {
      if (pending) await ctx.sync(pending);
      throw new CancelledError();
    }
    submitDispatches(dev, `lloyd round ${r}`, round, (enc) => enc.clearBuffer(sort.counts));
    iterations = r;
    if (tol > 0) {
      const next = await objective();
      options.onIteration?.(r, options.nIters);
      const change = Math.abs(obj - next) / Math.max(obj, Number.MIN_VALUE);
      obj = next;
      if (change < tol) break;
      continue;
    }
    // Keep one round in flight: wait for the previous round (no data comes back), report it.
    const done = dev.queue.onSubmittedWorkDone();
    if (pending) {
      await ctx.sync(pending);
      options.onIteration?.(pendingRound, options.nIters);
    }
    pending = done;
    pendingRound = r;
  }
  if (pending) {
    await ctx.sync(pending);
    options.onIteration?.(pendingRound, options.nIters);
  }
  const lab = await ctx.readInto(labels, (b) => new Uint32Array(b), n * 4);
  const d2 = await ctx.readInto(dist2, (b) => new Float32Array(b), n * 4);
  const c = await ctx.readInto(cent, (b) => new Float32Array(b), k * d4 * 16);
  let total = 0;
  for (let i = 0; i < n; i++) total += d2[i];
  return {
    centroids: { data: unpaddedRows(c, k, x.cols, d4), rows: k, cols: x.cols },
    assignment: { labels: new Int32Array(lab.buffer), dist2: d2 },
    objective: total,
    iterations,
  };
}
