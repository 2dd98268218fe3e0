/**
 * Decoding in Chromium: every supported format, EXIF orientation, and what the model is fed.
 */
import { describe, expect, it } from 'vitest';
import { bitmapToInput, decodeBitmap } from '../../src/embed/decode';
import { BUNDLED_MODEL, type ModelSpec } from '../../src/embed/models';

const blob = async (name: string): Promise<Blob> =>
  (await fetch(`/test/fixtures/images/${name}`)).blob();

describe('decodeBitmap', () => {
  it('decodes PNG, JPEG, WebP, BMP and GIF', async () => {
    for (const name of ['dog.png', 'apple.jpg', 'car.webp', 'house.bmp', 'tree.gif']) {
      const bmp = await decodeBitmap(await blob(name));
      expect([bmp.width, bmp.height], name).toEqual([64, 64]);
      bmp.close();
    }
  });

  it('applies EXIF orientation: the 96x64 picture tagged "rotate 90" comes out 64x96', async () => {
    const upright = await decodeBitmap(await blob('cat-upright.jpg'));
    expect([upright.width, upright.height]).toEqual([96, 64]);
    upright.close();
    const rotated = await decodeBitmap(await blob('cat-exif-rotated.jpg'));
    expect([rotated.width, rotated.height]).toEqual([64, 96]);
    // Orientation 6 turns the left edge (blue band) into the top edge.
    const spec: ModelSpec = { ...BUNDLED_MODEL, inputSize: 32 };
    const x = new Float32Array(3 * 32 * 32);
    bitmapToInput(rotated, spec, x, 0);
    const at = (c: number, row: number, col: number): number => x[c * 1024 + row * 32 + col];
    expect(at(2, 2, 16)).toBeGreaterThan(0.6); // blue at the top
    expect(at(0, 2, 16)).toBeLessThan(0.3);
    expect(at(2, 16, 2)).toBeGreaterThan(0.8); // white background on the left, not blue band
    expect(at(0, 16, 2)).toBeGreaterThan(0.8);
  });

  it('rejects a corrupt JPEG', async () => {
    await expect(decodeBitmap(await blob('corrupt.jpg'))).rejects.toThrow();
  });

  it('feeds a 224x224 PNG to the model pixel for pixel (no resampling at the model size)', async () => {
    const file = await (await fetch('/test/fixtures/golden/input-224.png')).blob();
    const x = new Float32Array(3 * 224 * 224);
    bitmapToInput(await decodeBitmap(file), BUNDLED_MODEL, x, 0);
    // Independent read of the same pixels through a plain canvas.
    const bmp = await createImageBitmap(file);
    const c = new OffscreenCanvas(224, 224).getContext('2d')!;
    c.drawImage(bmp, 0, 0);
    const px = c.getImageData(0, 0, 224, 224).data;
    let maxDiff = 0;
    for (let p = 0; p < 224 * 224; p++) {
      for (let ch = 0; ch < 3; ch++) {
        maxDiff = Math.max(maxDiff, Math.abs(x[ch * 224 * 224 + p] - px[p * 4 + ch] / 255));
      }
    }
    // float32 rounding of v * (1/255) only; one grey level off would be 0.0039.
    expect(maxDiff).toBeLessThan(1e-6);
  });
});
