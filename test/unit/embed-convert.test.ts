/**
 * The converter (nsfwjs TF.js graph -> ONNX) against an independent path: golden features that
 * the ORIGINAL TF.js model computed (scripts/convert-model/golden.ts), and its determinism.
 * The ONNX model runs in onnxruntime-web's Node build (wasm execution provider).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { convertNsfwjsMobileNet, FEATURE_DIM } from '../../scripts/convert-model/convert.ts';
import { decodePng } from '../../scripts/convert-model/png.ts';
import { BUNDLED_MODEL } from '../../src/embed/models.ts';

interface Golden {
  entries: { input: string; size: number; feature: number[] }[];
}

const GOLDEN_DIR = join(import.meta.dirname, '../fixtures/golden');
const golden = JSON.parse(
  readFileSync(join(GOLDEN_DIR, 'mobilenet-v2-1.4.json'), 'utf8'),
) as Golden;
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

/** The PNG's pixels as the model's input: RGB / 255, NCHW. */
function inputTensor(file: string): ort.Tensor {
  const img = decodePng(new Uint8Array(readFileSync(join(GOLDEN_DIR, file))));
  const plane = img.width * img.height;
  const x = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) x[c * plane + p] = img.rgba[p * 4 + c] / 255;
  }
  return new ort.Tensor('float32', x, [1, 3, img.height, img.width]);
}

describe('MobileNetV2-1.4 converter', () => {
  let onnx: Uint8Array;
  beforeAll(() => {
    onnx = convertNsfwjsMobileNet().onnx;
  });

  it('is deterministic and matches the pinned sha-256', () => {
    const again = convertNsfwjsMobileNet().onnx;
    expect(sha256(again)).toBe(sha256(onnx));
    expect(sha256(onnx)).toBe(BUNDLED_MODEL.sha256);
    expect(onnx.length).toBe(BUNDLED_MODEL.bytes);
  });

  it('keeps the uint8 weights (a float32 copy would be ~17 MB)', () => {
    expect(onnx.length).toBeGreaterThan(4_000_000);
    expect(onnx.length).toBeLessThan(5_000_000);
  });

  it('reproduces the TF.js features at 224 px and, with dynamic H/W, at 96 px', async () => {
    ort.env.wasm.numThreads = 1;
    const session = await ort.InferenceSession.create(onnx);
    expect(session.inputNames).toEqual([BUNDLED_MODEL.inputName]);
    expect(session.outputNames).toEqual([BUNDLED_MODEL.outputName]);
    expect(golden.entries.map((e) => e.size)).toEqual([224, 96]);
    for (const entry of golden.entries) {
      const out = await session.run({ input: inputTensor(entry.input) });
      const feature = out.feature;
      expect(feature.dims).toEqual([1, FEATURE_DIM]);
      const got = feature.data as Float32Array;
      const cos = cosine(got, entry.feature);
      expect(cos, `cosine at ${entry.size} px`).toBeGreaterThan(0.999);
      // Same arithmetic up to float32 rounding of the dequantisation: far tighter than 0.999.
      expect(cos).toBeGreaterThan(0.99999);
      const maxAbs = Math.max(...entry.feature.map((v, i) => Math.abs(v - got[i])));
      expect(maxAbs).toBeLessThan(5e-3);
    }
    await session.release();
  });
});
