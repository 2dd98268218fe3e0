/**
 * The 8-bit variant of the bundled model (scripts/convert-model/variants.ts; bench:embed
 * compares it, the app does not ship it): reproducible to the byte, built from the shipped
 * weights without a second rounding, and close to the float model's features on images it was
 * not calibrated on. Also checks the converter's
 * reference interpreter (which calibrates the variant) against onnxruntime on the float graph.
 * Models run in onnxruntime-web's Node build (wasm execution provider), as in the browser.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModelDef, countOps } from '../../scripts/convert-model/convert.ts';
import { runGraph } from '../../scripts/convert-model/forward.ts';
import { evaluationMosaics, mosaic, toInput } from '../../scripts/convert-model/images.ts';
import { encodeModel, type ModelDef } from '../../scripts/convert-model/onnx.ts';
import { decodePng } from '../../scripts/convert-model/png.ts';
import { loadNsfwjsGraph } from '../../scripts/convert-model/tfjs-graph.ts';
import { foldConstants, shippedWeights, variantDef } from '../../scripts/convert-model/variants.ts';

/** The variant's sha-256 and size: any change to the converter or the ranges shows here. */
const INT8 = {
  sha256: '7bed1abcb13fafbfaf249b06c1323af6278f0a2dff4bf8bba937f0c771541fbd',
  bytes: 4_490_276,
};

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function cosine(a: ArrayLike<number>, b: ArrayLike<number>, centre?: Float64Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] - (centre?.[i] ?? 0);
    const y = b[i] - (centre?.[i] ?? 0);
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return ab / Math.sqrt(aa * bb);
}

async function features(onnx: Uint8Array, inputs: { data: Float32Array; shape: number[] }[]) {
  const session = await ort.InferenceSession.create(onnx);
  const rows: Float32Array[] = [];
  for (const x of inputs) {
    const out = await session.run({ input: new ort.Tensor('float32', x.data, x.shape) });
    rows.push(out.feature.data as Float32Array);
  }
  await session.release();
  return rows;
}

describe('MobileNetV2-1.4, 8-bit variant', () => {
  let base: ModelDef;
  let int8: Uint8Array;
  beforeAll(() => {
    ort.env.wasm.numThreads = 1;
    base = buildModelDef(loadNsfwjsGraph());
    int8 = encodeModel(variantDef('int8', base));
  });

  it('is the same file every time, with every convolution between 8-bit quantise/dequantise nodes', () => {
    expect(sha256(int8)).toBe(INT8.sha256);
    expect(int8.length).toBe(INT8.bytes);
    const ops = countOps(variantDef('int8', base));
    expect(ops.Conv).toBe(52);
    // ReLU6 is the uint8 range itself: no Clip is left for onnxruntime to run in float.
    expect(ops.Clip).toBeUndefined();
    expect(ops.QuantizeLinear).toBe(63);
  });

  it('keeps all 52 shipped kernels as they are (one scale, a whole zero point each)', () => {
    const shipped = shippedWeights(base);
    expect(shipped.size).toBe(52);
    for (const w of shipped.values()) expect(Number.isInteger(w.zeroPoint)).toBe(true);
  });

  it('agrees with the float model on images it was not calibrated on', async () => {
    const inputs = evaluationMosaics()
      .slice(0, 8)
      .map((codes) => toInput(mosaic(codes, 224), 224));
    const float = await features(encodeModel(base), inputs);
    const quant = await features(int8, inputs);
    const centre = new Float64Array(float[0].length);
    for (const r of float) r.forEach((v, i) => (centre[i] += v / float.length));
    const mean = (f: (i: number) => number): number =>
      float.reduce((s, _, i) => s + f(i), 0) / float.length;
    expect(mean((i) => cosine(float[i], quant[i]))).toBeGreaterThan(0.995);
    // Centred, as the pipeline uses them: what is left after the shared part is removed.
    expect(mean((i) => cosine(float[i], quant[i], centre))).toBeGreaterThan(0.99);
  });

  it("the reference interpreter computes onnxruntime's float features", async () => {
    const png = decodePng(
      new Uint8Array(readFileSync(join(import.meta.dirname, '../fixtures/golden/input-96.png'))),
    );
    const rgb = new Uint8Array(96 * 96 * 3);
    for (let p = 0; p < 96 * 96; p++)
      for (let c = 0; c < 3; c++) rgb[p * 3 + c] = png.rgba[p * 4 + c];
    const x = toInput(rgb, 96);
    const folded = foldConstants(base);
    const [ort32] = await features(encodeModel(folded), [x]);
    expect(cosine(runGraph(folded, x).data, ort32)).toBeGreaterThan(0.99999);
  });
});
