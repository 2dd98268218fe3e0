/**
 * The projection worker: runs the core's projectPca (src/core/pca.ts) and neighbourLayout
 * (src/core/layout.ts) off the main thread (a 100k x 1792 PCA takes about a second in JS, the
 * layout tens of seconds: far too long for a page to stay responsive).
 * `project(data, rows, cols)` and `layout(data, rows, cols, seed, init)`; the results' arrays are
 * transferred back, not copied. The core knows nothing of workers, so marking the arrays for
 * transfer is the one thing done here. Callers type it as `Comlink.Remote<ProjectionService>`.
 */
import * as Comlink from 'comlink';
import { neighbourLayout, type Layout2D } from '../core/layout';
import { projectPca, type Projection2D } from '../core/pca';

const projection = {
  project(data: Float32Array, rows: number, cols: number): Projection2D {
    const result = projectPca(data, rows, cols);
    return Comlink.transfer(result, [result.x.buffer, result.y.buffer]);
  },
  layout(
    data: Float32Array,
    rows: number,
    cols: number,
    seed: number,
    init: { x: Float32Array; y: Float32Array },
  ): Layout2D {
    const result = neighbourLayout(data, rows, cols, { seed, init });
    return Comlink.transfer(result, [result.x.buffer, result.y.buffer]);
  },
};

export type ProjectionService = typeof projection;
Comlink.expose(projection);
