import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ATTRIBUTIONS,
  BUNDLED_MODEL,
  MODEL_CATALOGUE,
  customModelSpec,
  preprocessingId,
} from '../../src/embed/models.ts';
import { sha256Js } from '../../src/embed/sha256.ts';

describe('model catalogue', () => {
  it('offers the bundled model first, then DINOv2-small and CLIP ViT-B/32 from the hub', () => {
    expect(MODEL_CATALOGUE[0]).toBe(BUNDLED_MODEL);
    expect(MODEL_CATALOGUE.map((m) => m.dim)).toEqual([1792, 384, 512]);
    for (const m of MODEL_CATALOGUE.slice(1)) {
      expect(m.url).toMatch(
        /^https:\/\/huggingface\.co\/.+\/resolve\/[0-9a-f]{40}\/onnx\/.+\.onnx$/,
      );
    }
    expect(new Set(MODEL_CATALOGUE.map((m) => m.id)).size).toBe(MODEL_CATALOGUE.length);
  });

  it('says honestly how the bundled model was trained, and credits its sources', () => {
    expect(BUNDLED_MODEL.supervised).toMatch(/ImageNet-supervised CNN/);
    expect(BUNDLED_MODEL.url?.startsWith('http')).toBe(false);
    expect(ATTRIBUTIONS).toMatch(/nsfwjs/);
    expect(ATTRIBUTIONS).toMatch(/MIT/);
    expect(ATTRIBUTIONS).toMatch(/Apache License 2\.0/);
  });

  it('keys the cache by everything that changes the pixels', () => {
    const base = preprocessingId(BUNDLED_MODEL);
    expect(preprocessingId({ ...BUNDLED_MODEL })).toBe(base);
    expect(preprocessingId({ ...BUNDLED_MODEL, inputSize: 96 })).not.toBe(base);
    expect(preprocessingId({ ...BUNDLED_MODEL, resize: 'center-crop' })).not.toBe(base);
    expect(preprocessingId({ ...BUNDLED_MODEL, mean: [0.5, 0, 0] })).not.toBe(base);
  });
});

describe('customModelSpec', () => {
  it('fills ImageNet defaults and names the model after the file', () => {
    const file = new File([new Uint8Array(4)], 'my-encoder.onnx');
    const spec = customModelSpec({ file, outputName: 'emb', dim: 256 });
    expect(spec).toMatchObject({
      id: 'custom:my-encoder.onnx',
      name: 'my-encoder.onnx',
      inputSize: 224,
      resize: 'center-crop',
      layout: 'NCHW',
      outputName: 'emb',
      dim: 256,
    });
    expect(spec.file).toBe(file);
  });

  it('rejects settings that cannot work, with messages for people', () => {
    expect(() => customModelSpec({})).toThrow(/Pick an \.onnx file or give the URL/);
    expect(() => customModelSpec({ url: 'not a url' })).toThrow(/not a valid URL/);
    expect(() => customModelSpec({ url: 'file:///x.onnx' })).toThrow(/Only http\(s\) URLs/);
    expect(() => customModelSpec({ url: 'https://x/m.onnx', inputSize: 3.5 })).toThrow(
      /Input size/,
    );
    expect(() => customModelSpec({ url: 'https://x/m.onnx', std: [1, 0, 1] })).toThrow(
      /Std needs three positive/,
    );
    expect(() => customModelSpec({ url: 'https://x/m.onnx', sha256: 'abc' })).toThrow(
      /64 lowercase/,
    );
  });
});

describe('sha256Js (fallback where WebCrypto is missing)', () => {
  it('agrees with Node for lengths around the padding edges', () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 1000, 100_003]) {
      const b = new Uint8Array(randomBytes(n));
      expect(sha256Js(b), `length ${n}`).toBe(createHash('sha256').update(b).digest('hex'));
    }
  });
});
