/**
 * The shared vocabulary of the curation core. Pure TypeScript: no DOM, no GPU, no IndexedDB,
 * no Node built-ins, so the same code runs in Node (CLI, benches), workers and pages.
 */

/** A dense row-major float32 matrix: row i is data[i*cols .. (i+1)*cols). */
export interface Matrix {
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;
}

/** Nearest-centroid assignment of every row. */
export interface Assignment {
  /** index of the nearest centroid, per row */
  readonly labels: Int32Array;
  /** squared Euclidean distance to that centroid, per row */
  readonly dist2: Float32Array;
}

export interface KMeansOptions {
  /** Lloyd rounds after the initial assignment (reference: 50, no early stop). */
  readonly nIters: number;
  /** Seed of the run's generator (k-means++ draws). Same seed + input + backend -> same output. */
  readonly seed: number;
  /** Optional early stop: relative objective change below this ends Lloyd early. Off by default. */
  readonly tolerance?: number;
  /**
   * Rows k-means++ seeds from: 'sampled' (default) a few rows a cluster where the input is
   * large, 'full' every row (the reference). See seeding.ts.
   */
  readonly seeding?: 'sampled' | 'full';
  readonly signal?: AbortSignal;
  /** Called after each Lloyd round: (round, nIters). */
  readonly onIteration?: (round: number, total: number) => void;
  /** Called during k-means++ initialisation as centres are chosen: (chosen, k). Optional. */
  readonly onInit?: (chosen: number, total: number) => void;
}

export interface KMeansResult {
  /** k x d; a cluster that went empty keeps its previous centroid (reference behaviour). */
  readonly centroids: Matrix;
  /** assignment of every input row to the final centroids */
  readonly assignment: Assignment;
  /** sum of squared distances of rows to their centroid (float64) */
  readonly objective: number;
  /** rounds actually run */
  readonly iterations: number;
}

/**
 * The seam between the method (hierarchy, sampling) and the arithmetic. The CPU backend lives in
 * src/core; the WGSL backend in src/gpu implements the same contract. Both are tested by one
 * shared suite that compares results with tolerance (argmin near-ties count as equal).
 */
export interface KMeansBackend {
  /** Short id shown to people and written into run metadata, e.g. "cpu-js", "webgpu". */
  readonly name: string;
  /** One full k-means: greedy k-means++ init, then nIters Lloyd rounds. k is capped at x.rows. */
  kmeans(x: Matrix, k: number, options: KMeansOptions): Promise<KMeansResult>;
  /** Nearest centroid for every row of x. */
  assign(x: Matrix, centroids: Matrix, signal?: AbortSignal): Promise<Assignment>;
  /** Release any resources (GPU buffers, workers). */
  dispose?(): void;
}

/**
 * The arithmetic a CPU k-means needs, so a faster kernel (WebAssembly SIMD, several threads)
 * can replace the plain-JS one without touching k-means++, Lloyd or the hierarchy. Methods may
 * be synchronous or return a Promise (a multi-threaded kernel waits on its workers).
 */
export interface CpuKernel {
  /** Short id, e.g. "js" or "wasm-simd-x2". */
  readonly name: string;
  /**
   * For every row of x, the nearest centroid and its squared distance, written into `out`
   * (out.labels.length === out.dist2.length === x.rows). Distances are computed as
   * |x|^2 - 2 x.c + |c|^2 and clamped at 0.
   */
  assign(x: Matrix, centroids: Matrix, out: Assignment): void | Promise<void>;
  /**
   * Squared distances of every row of x to each candidate row, candidate-major:
   * out[j * x.rows + i] = |x_i - cand_j|^2. Used by greedy k-means++ to score its trials.
   */
  distancesTo(x: Matrix, candidates: Matrix, out: Float32Array): void | Promise<void>;
}
