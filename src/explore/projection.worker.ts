/**
 * Runs projectPca off the main thread (a 100k x 1792 matrix takes about a second in JS, too long
 * for a page to stay responsive). Comlink API: `project(data, rows, cols)`; the result's arrays
 * are transferred back, not copied.
 */
import * as Comlink from 'comlink';
import { projectPca, type Projection2D } from './projection';

const api = {
  project(data: Float32Array, rows: number, cols: number): Projection2D {
    const result = projectPca(data, rows, cols);
    return Comlink.transfer(result, [result.x.buffer, result.y.buffer]);
  },
};

export type ProjectionWorkerApi = typeof api;
Comlink.expose(api);
