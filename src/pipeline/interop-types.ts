/**
 * UI <-> pipeline types for interop with the reference distributed pipeline (types only; the
 * contract re-exports them): what a job bundle will hold, and a reference output picked in the
 * page.
 */
import type { Normalisation } from '../core/settings';

/**
 * Which hierarchy a job bundle carries: 'settings' = the current settings as they are (fitted to
 * this device's time budget); 'cluster' = the full-size plan for a cluster (no time budget, 50
 * Lloyd rounds, no resampling at level 1), as `strata export-job` picks it.
 */
export type JobBundlePlan = 'settings' | 'cluster';

/** What a job bundle will hold, shown before it is written. */
export interface JobBundleInfo {
  /** the folder name inside the zip or the picked folder */
  readonly folder: string;
  readonly datasetName: string;
  readonly rows: number;
  readonly cols: number;
  readonly k: readonly number[];
  readonly r: readonly number[];
  /** Strata's resampling steps m (refits after a level's first k-means) */
  readonly resamplingSteps: number;
  /** the reference's n_resampling_steps per level (k-means runs, the first included: m + 1) */
  readonly referenceSteps: readonly number[];
  readonly iterations: number;
  readonly target: number;
  readonly normalisation: Normalisation;
  readonly embeddingBytes: number;
  readonly totalBytes: number;
  /** estimated GPU-hours on the reference pipeline (an assumed GPU rate, stated in the README) */
  readonly gpuHours: number;
  /** ids whose line breaks were written as spaces */
  readonly flattenedIds: number;
  readonly files: readonly { readonly path: string; readonly size: number }[];
}

/** A reference output folder picked in the page. */
export type ReferenceImportSource =
  /** an <input type=file webkitdirectory> FileList (paths from webkitRelativePath) */
  | { readonly kind: 'fileList'; readonly files: FileList | readonly File[] }
  | { readonly kind: 'directoryHandle'; readonly handle: FileSystemDirectoryHandle }
  /** a zip of the folder */
  | { readonly kind: 'zip'; readonly file: File };
