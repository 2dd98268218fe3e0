/**
 * Pixels -> model input, as pure functions (tested in Node): which part of an image a model
 * sees, and how RGBA bytes become a normalised float tensor in the model's layout.
 */
import type { ModelSpec } from './models';

/** Source rectangle (in image pixels) that is scaled onto the model's square input. */
export interface SourceRect {
  sx: number;
  sy: number;
  sw: number;
  sh: number;
}

/** ImageNet evaluation rule: resize the shorter side to size / 0.875 (256 for 224), crop size. */
const CROP_FRACTION = 0.875;

export function sourceRect(width: number, height: number, spec: ModelSpec): SourceRect {
  if (spec.resize === 'squash') return { sx: 0, sy: 0, sw: width, sh: height };
  const shorter = Math.min(width, height);
  // Side of the square, in source pixels, that maps onto the whole input.
  const side =
    spec.resize === 'center-crop'
      ? shorter
      : shorter * (spec.inputSize / Math.round(spec.inputSize / CROP_FRACTION));
  return { sx: (width - side) / 2, sy: (height - side) / 2, sw: side, sh: side };
}

/**
 * Writes one S x S RGBA image (alpha already composited) into slot `index` of a batch tensor:
 * value = (pixel / 255 - mean) / std, channel-planar for NCHW, interleaved for NHWC.
 */
export function writeInput(
  rgba: Uint8ClampedArray | Uint8Array,
  spec: ModelSpec,
  out: Float32Array,
  index: number,
): void {
  const s = spec.inputSize;
  const plane = s * s;
  if (rgba.length !== plane * 4) {
    throw new Error(`expected ${plane * 4} RGBA bytes for ${s}x${s}, got ${rgba.length}`);
  }
  const base = index * 3 * plane;
  // Fold /255, -mean and /std into one multiply-add per value.
  const scale = spec.std.map((sd) => 1 / (255 * sd));
  const shift = spec.mean.map((m, c) => -m / spec.std[c]);
  if (spec.layout === 'NCHW') {
    for (let c = 0; c < 3; c++) {
      const o = base + c * plane;
      const k = scale[c];
      const a = shift[c];
      for (let p = 0; p < plane; p++) out[o + p] = rgba[p * 4 + c] * k + a;
    }
  } else {
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) out[base + p * 3 + c] = rgba[p * 4 + c] * scale[c] + shift[c];
    }
  }
}

/** Shape of a batch input tensor for `n` images. */
export function inputShape(spec: ModelSpec, n: number): number[] {
  const s = spec.inputSize;
  return spec.layout === 'NCHW' ? [n, 3, s, s] : [n, s, s, 3];
}

/**
 * Turns a model output into n rows of `dim` floats. Accepts [n, dim], [n, dim, 1, 1] (pooled
 * CNN maps) and [n, tokens, dim] (ViT hidden states: CLS token or mean over tokens). Anything
 * else is an error that names the shape, so a wrong output name is easy to fix.
 */
export function outputRows(
  data: Float32Array,
  dims: readonly number[],
  n: number,
  spec: ModelSpec,
): { rows: Float32Array; dim: number } {
  const where = `Model output "${spec.outputName}" has shape [${dims.join(', ')}]`;
  if (dims[0] !== n) throw new Error(`${where}; expected ${n} rows (one per image).`);
  let dim: number;
  let rows: Float32Array;
  if (dims.length === 2 || (dims.length === 4 && dims[2] === 1 && dims[3] === 1)) {
    dim = dims[1];
    rows = data.slice(0, n * dim);
  } else if (dims.length === 3) {
    const tokens = dims[1];
    dim = dims[2];
    rows = new Float32Array(n * dim);
    for (let i = 0; i < n; i++) {
      const item = i * tokens * dim;
      if (spec.pooling === 'mean') {
        for (let t = 0; t < tokens; t++) {
          for (let d = 0; d < dim; d++) rows[i * dim + d] += data[item + t * dim + d] / tokens;
        }
      } else {
        rows.set(data.subarray(item, item + dim), i * dim);
      }
    }
  } else {
    throw new Error(`${where}; expected [batch, dim] or [batch, tokens, dim].`);
  }
  if (spec.dim > 0 && dim !== spec.dim) {
    throw new Error(`${where}: ${dim}-d rows, but the model settings say ${spec.dim}.`);
  }
  return { rows, dim };
}
