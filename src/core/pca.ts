/**
 * A 2-D map of an embedding matrix: its first two principal components, found by power
 * iteration with deflation (no d x d covariance is ever formed: each round is X^T (X v), two
 * passes over the rows). Pure TypeScript, so it runs in a worker (src/workers/projection.worker.ts),
 * in a page or in Node.
 *
 * The components are fitted on an evenly strided subset of at most FIT_ROWS rows, then every
 * row is projected. Deterministic: no random draws (the start vector is a fixed pattern), and
 * each component's sign is fixed so that its largest coefficient is positive.
 */

/**
 * Rows used to fit the components. 2000 rows at d = 1792 cost ~7 MFLOP per power round, and
 * the top two components of embedding sets here agree with a full fit to cosine > 0.99 from a
 * few hundred rows on; 2000 keeps a margin while a whole fit stays well under a second in JS.
 */
export const FIT_ROWS = 2000;
/** Power rounds per component; convergence usually comes in 20-60 on embeddings. */
export const MAX_ROUNDS = 150;
/** Stop when the direction moves less than this (1 - |cos| between rounds). */
export const TOLERANCE = 1e-9;

export interface Projection2D {
  /** first principal coordinate of every row */
  readonly x: Float32Array;
  /** second principal coordinate of every row */
  readonly y: Float32Array;
  /** variance along each component (on the fitted rows) */
  readonly variance: readonly [number, number];
}

export function projectPca(data: Float32Array, rows: number, cols: number): Projection2D {
  if (data.length !== rows * cols) {
    throw new Error(`projection: ${data.length} values do not make ${rows} rows of ${cols}`);
  }
  const x = new Float32Array(rows);
  const y = new Float32Array(rows);
  if (rows === 0 || cols === 0) return { x, y, variance: [0, 0] };

  const m = Math.min(rows, FIT_ROWS);
  const fit = new Int32Array(m);
  for (let i = 0; i < m; i++) fit[i] = Math.floor((i * rows) / m);

  const mean = new Float64Array(cols);
  for (let i = 0; i < m; i++) {
    const o = fit[i] * cols;
    for (let j = 0; j < cols; j++) mean[j] += data[o + j];
  }
  for (let j = 0; j < cols; j++) mean[j] /= m;

  const components: Float64Array[] = [];
  const variance: number[] = [];
  const proj = new Float64Array(m);
  for (let c = 0; c < 2; c++) {
    let v = new Float64Array(cols);
    // A fixed, non-degenerate start vector; orthogonalised below like every iterate.
    for (let j = 0; j < cols; j++) v[j] = Math.sin(1 + j * 0.618034) + 0.01;
    orthonormalise(v, components);
    let lambda = 0;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      // proj = Xc v ; w = Xc^T proj   (Xc = centred fitted rows)
      for (let i = 0; i < m; i++) {
        const o = fit[i] * cols;
        let s = 0;
        for (let j = 0; j < cols; j++) s += (data[o + j] - mean[j]) * v[j];
        proj[i] = s;
      }
      const w = new Float64Array(cols);
      for (let i = 0; i < m; i++) {
        const o = fit[i] * cols;
        const p = proj[i];
        if (p === 0) continue;
        for (let j = 0; j < cols; j++) w[j] += (data[o + j] - mean[j]) * p;
      }
      const norm = orthonormalise(w, components);
      lambda = norm / m;
      if (norm === 0) break;
      let dot = 0;
      for (let j = 0; j < cols; j++) dot += w[j] * v[j];
      v = w;
      if (1 - Math.abs(dot) < TOLERANCE) break;
    }
    fixSign(v);
    components.push(v);
    variance.push(lambda);
  }

  const [u, w] = components;
  let meanU = 0;
  let meanW = 0;
  for (let j = 0; j < cols; j++) {
    meanU += mean[j] * u[j];
    meanW += mean[j] * w[j];
  }
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    let a = 0;
    let b = 0;
    for (let j = 0; j < cols; j++) {
      const d = data[o + j];
      a += d * u[j];
      b += d * w[j];
    }
    x[i] = a - meanU;
    y[i] = b - meanW;
  }
  return { x, y, variance: [variance[0], variance[1]] };
}

/** Remove the parts along earlier components, then scale to unit length; returns the length. */
function orthonormalise(v: Float64Array, basis: readonly Float64Array[]): number {
  for (const b of basis) {
    let dot = 0;
    for (let j = 0; j < v.length; j++) dot += v[j] * b[j];
    for (let j = 0; j < v.length; j++) v[j] -= dot * b[j];
  }
  let norm = 0;
  for (let j = 0; j < v.length; j++) norm += v[j] * v[j];
  norm = Math.sqrt(norm);
  if (norm > 0) for (let j = 0; j < v.length; j++) v[j] /= norm;
  return norm;
}

function fixSign(v: Float64Array): void {
  let best = 0;
  for (let j = 1; j < v.length; j++) if (Math.abs(v[j]) > Math.abs(v[best])) best = j;
  if (v[best] < 0) for (let j = 0; j < v.length; j++) v[j] = -v[j];
}
