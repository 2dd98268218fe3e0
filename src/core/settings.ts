/**
 * The type of every run setting, declared once: the UI, the pipeline, the CLI, the job bundle
 * and the plan resolver all import them from here. Types only.
 */
import type { ResampleStrategy } from './hierarchy.ts';
import type { LeafStrategy } from './sampling.ts';

export type { LeafStrategy, ResampleStrategy };

export type Normalisation = 'center-l2' | 'l2' | 'none';
export type BackendChoice = 'auto' | 'webgpu' | 'cpu';
export type ProviderChoice = 'auto' | 'webgpu' | 'wasm';
/** Hierarchy settings the automatic plan may pick again for the rows a run clusters. */
export type AutoPlanField = 'k' | 'r' | 'iterations';

export interface RunSettings {
  /** embedding model id from MODEL_CATALOGUE ('precomputed' for .npy datasets) */
  readonly model: string;
  /** the person's own model ("use my own .onnx"); used when its id equals `model` */
  readonly customModel?: ModelSpec;
  /** onnxruntime-web execution provider */
  readonly provider: ProviderChoice;
  /** images per inference batch */
  readonly batchSize: number;
  /** row preprocessing before k-means */
  readonly normalisation: Normalisation;
  /** clusters per level, bottom (level 1) first, strictly decreasing */
  readonly k: readonly number[];
  /** points per cluster kept at each resampling step, per level (1 = no resampling there) */
  readonly r: readonly number[];
  /** resampling steps per level (m) */
  readonly resamplingSteps: number;
  readonly resampleStrategy: ResampleStrategy;
  /** Lloyd rounds per k-means run */
  readonly iterations: number;
  /** size of the curated subset */
  readonly target: number;
  /** how points are picked inside a leaf cluster whose budget is smaller than its size */
  readonly leafStrategy: LeafStrategy;
  readonly seed: number;
  readonly backend: BackendChoice;
  /**
   * Near-duplicate removal before clustering: the cosine similarity (of centred, L2-normalised
   * rows) at or above which two items count as copies; null = off. Absent on settings made
   * before the stage existed, which means off.
   */
  readonly dedup?: number | null;
  /**
   * The hierarchy settings the automatic plan picked rather than the person: the cluster stage
   * plans them again for the rows it clusters (after near-duplicate removal, as `strata curate`
   * plans for the rows it keeps). Absent or empty: every value is kept as given.
   */
  readonly autoPlan?: readonly AutoPlanField[];
}

/** An embedding model: what it needs as input and gives as output. */
export type ResizeRule = 'squash' | 'center-crop' | 'shorter-side-then-center-crop';

export interface ModelSpec {
  /** stable id: part of every embedding-cache key */
  readonly id: string;
  readonly name: string;
  readonly description: string;
  /**
   * Where the .onnx file is. Relative URLs are resolved against the app's root (the bundled
   * model ships under public/); absolute URLs are downloaded once into the Cache API.
   */
  readonly url?: string;
  /** a local .onnx file the person picked ("use my own .onnx"); wins over `url` */
  readonly file?: Blob;
  /** lowercase hex sha-256 of the .onnx file, checked after download when known */
  readonly sha256?: string;
  /** exact size of the .onnx file in bytes, checked after download when known */
  readonly bytes?: number;
  /** side of the square image the model is fed, in pixels */
  readonly inputSize: number;
  /**
   * How an image becomes a square:
   * - 'squash': scale both sides to inputSize (aspect ratio not kept, nothing cut off);
   * - 'center-crop': the largest centred square, scaled to inputSize (CLIP's rule);
   * - 'shorter-side-then-center-crop': shorter side scaled to inputSize / 0.875 (256 for 224),
   *   then the central inputSize square (the ImageNet evaluation rule DINOv2 uses).
   */
  readonly resize: ResizeRule;
  /** per-channel RGB mean and std applied to pixel / 255 */
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
  readonly layout: 'NCHW' | 'NHWC';
  /** input tensor name; default: the model's first input */
  readonly inputName?: string;
  readonly outputName: string;
  /** embedding dimension; a model whose output disagrees is rejected with a precise message */
  readonly dim: number;
  /**
   * For outputs shaped [batch, tokens, dim] (ViT hidden states): which row becomes the
   * embedding. 'cls' = token 0 (default), 'mean' = average over tokens.
   */
  readonly pooling?: 'cls' | 'mean';
  readonly license: string;
  /** honest note on how the model was trained */
  readonly supervised: string;
}
