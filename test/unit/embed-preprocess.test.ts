import { describe, expect, it } from 'vitest';
import {
  BUNDLED_MODEL,
  DINOV2_SMALL,
  CLIP_VIT_B32,
  type ModelSpec,
} from '../../src/embed/models.ts';
import { inputShape, outputRows, sourceRect, writeInput } from '../../src/embed/preprocess.ts';

describe('sourceRect', () => {
  it('squash keeps the whole image', () => {
    expect(sourceRect(640, 480, BUNDLED_MODEL)).toEqual({ sx: 0, sy: 0, sw: 640, sh: 480 });
  });
  it('center-crop takes the largest centred square', () => {
    expect(sourceRect(640, 480, CLIP_VIT_B32)).toEqual({ sx: 80, sy: 0, sw: 480, sh: 480 });
    expect(sourceRect(300, 500, CLIP_VIT_B32)).toEqual({ sx: 0, sy: 100, sw: 300, sh: 300 });
  });
  it('shorter-side-then-center-crop keeps the central 224/256 of the shorter side', () => {
    const r = sourceRect(512, 1024, DINOV2_SMALL);
    expect(r.sw).toBeCloseTo(448, 9);
    expect(r.sh).toBeCloseTo(448, 9);
    expect(r.sx).toBeCloseTo(32, 9);
    expect(r.sy).toBeCloseTo(288, 9);
  });
});

describe('writeInput', () => {
  const tiny = (layout: 'NCHW' | 'NHWC'): ModelSpec => ({
    ...DINOV2_SMALL,
    inputSize: 2,
    layout,
  });
  // 2x2 RGBA: red, green, blue, white
  const rgba = Uint8ClampedArray.of(
    255,
    0,
    0,
    255,
    0,
    255,
    0,
    255,
    0,
    0,
    255,
    255,
    255,
    255,
    255,
    255,
  );
  const norm = (v: number, c: number): number =>
    (v / 255 - DINOV2_SMALL.mean[c]) / DINOV2_SMALL.std[c];

  it('writes channel planes for NCHW into the right batch slot', () => {
    const out = new Float32Array(2 * 3 * 4).fill(7);
    writeInput(rgba, tiny('NCHW'), out, 1);
    expect(Array.from(out.subarray(0, 12))).toEqual(new Array(12).fill(7));
    const slot = out.subarray(12);
    const want = [255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255].map((v, i) =>
      norm(v, Math.floor(i / 4)),
    );
    want.forEach((v, i) => expect(slot[i]).toBeCloseTo(v, 5));
  });

  it('interleaves channels for NHWC', () => {
    const out = new Float32Array(12);
    writeInput(rgba, tiny('NHWC'), out, 0);
    const want = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255].map((v, i) => norm(v, i % 3));
    want.forEach((v, i) => expect(out[i]).toBeCloseTo(v, 5));
  });

  it('feeds the bundled model raw RGB / 255', () => {
    const spec = { ...BUNDLED_MODEL, inputSize: 2 };
    const out = new Float32Array(12);
    writeInput(rgba, spec, out, 0);
    expect(out[0]).toBeCloseTo(1, 6);
    expect(out[1]).toBe(0);
    expect(inputShape(spec, 5)).toEqual([5, 3, 2, 2]);
  });
});

describe('outputRows', () => {
  it('accepts [n, d] and checks d against the spec', () => {
    const data = Float32Array.from({ length: 2 * 1792 }, (_, i) => i);
    const r = outputRows(data, [2, 1792], 2, BUNDLED_MODEL);
    expect(r.dim).toBe(1792);
    expect(r.rows[1792]).toBe(1792);
    expect(() => outputRows(data, [2, 1792], 2, { ...BUNDLED_MODEL, dim: 512 })).toThrow(
      /Model output "feature" has shape \[2, 1792\]: 1792-d rows, but the model settings say 512/,
    );
  });
  it('takes the CLS token (or the mean) of [n, tokens, d]', () => {
    const spec: ModelSpec = { ...DINOV2_SMALL, dim: 2 };
    // 1 image, 3 tokens, 2 dims
    const data = Float32Array.of(1, 2, 3, 4, 5, 6);
    expect(Array.from(outputRows(data, [1, 3, 2], 1, spec).rows)).toEqual([1, 2]);
    expect(Array.from(outputRows(data, [1, 3, 2], 1, { ...spec, pooling: 'mean' }).rows)).toEqual([
      3, 4,
    ]);
  });
  it('rejects other shapes with a message naming the shape', () => {
    expect(() => outputRows(new Float32Array(10), [1, 10], 2, BUNDLED_MODEL)).toThrow(
      /has shape \[1, 10\]; expected 2 rows/,
    );
    expect(() => outputRows(new Float32Array(40), [1, 2, 4, 5], 1, BUNDLED_MODEL)).toThrow(
      /expected \[batch, dim\] or \[batch, tokens, dim\]/,
    );
  });
});
