/**
 * Fixed, already-resized RGB images for the converter: emoji from emoji-datasource-google
 * (Apache-2.0) bilinear-resized onto white and laid out as 2x2 mosaics. The golden features
 * (golden.ts) use one mosaic; the int8 variant (variants.ts) calibrates its activation ranges on
 * one fixed set and is checked on another, disjoint one. Everything here is deterministic.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Tensor } from './forward.ts';
import { decodePng } from './png.ts';

const require = createRequire(import.meta.url);

interface EmojiEntry {
  unified: string;
  image: string;
  category: string;
  sort_order: number;
  has_img_google: boolean;
}

function emojiDir(): string {
  return join(dirname(require.resolve('emoji-datasource-google/emoji.json')), 'img/google/64');
}

/** Bilinear (half-pixel centres, edge clamp) resize of RGBA composited over white -> RGB. */
export function tile(code: string, size: number): Float64Array {
  const img = decodePng(new Uint8Array(readFileSync(join(emojiDir(), `${code}.png`))));
  const out = new Float64Array(size * size * 3);
  const sx = img.width / size;
  const sy = img.height / size;
  const px = (x: number, y: number, c: number): number => {
    const xi = Math.min(img.width - 1, Math.max(0, x));
    const yi = Math.min(img.height - 1, Math.max(0, y));
    const i = (yi * img.width + xi) * 4;
    const a = img.rgba[i + 3] / 255;
    return img.rgba[i + c] * a + 255 * (1 - a);
  };
  for (let y = 0; y < size; y++) {
    const fy = (y + 0.5) * sy - 0.5;
    const y0 = Math.floor(fy);
    const wy = fy - y0;
    for (let x = 0; x < size; x++) {
      const fx = (x + 0.5) * sx - 0.5;
      const x0 = Math.floor(fx);
      const wx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const top = px(x0, y0, c) * (1 - wx) + px(x0 + 1, y0, c) * wx;
        const bottom = px(x0, y0 + 1, c) * (1 - wx) + px(x0 + 1, y0 + 1, c) * wx;
        out[(y * size + x) * 3 + c] = top * (1 - wy) + bottom * wy;
      }
    }
  }
  return out;
}

/** Four emoji as a 2x2 mosaic, size x size RGB bytes. */
export function mosaic(codes: readonly string[], size: number): Uint8Array {
  const half = size / 2;
  const rgb = new Uint8Array(size * size * 3);
  codes.forEach((code, k) => {
    const t = tile(code, half);
    const ox = (k % 2) * half;
    const oy = Math.floor(k / 2) * half;
    for (let y = 0; y < half; y++) {
      for (let x = 0; x < half; x++) {
        for (let c = 0; c < 3; c++) {
          rgb[((oy + y) * size + ox + x) * 3 + c] = Math.round(t[(y * half + x) * 3 + c]);
        }
      }
    }
  });
  return rgb;
}

/** RGB bytes -> the bundled model's input: RGB / 255, NCHW, batch 1. */
export function toInput(rgb: Uint8Array, size: number): Tensor {
  const plane = size * size;
  const data = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) data[c * plane + p] = rgb[p * 3 + c] / 255;
  }
  return { shape: [1, 3, size, size], data };
}

/** 8-bit RGB or RGBA, not interlaced: what decodePng reads (a few emoji use a palette). */
function plainPng(code: string): boolean {
  const head = readFileSync(join(emojiDir(), `${code}.png`)).subarray(0, 29);
  return head[24] === 8 && (head[25] === 2 || head[25] === 6) && head[28] === 0;
}

/** Emoji with a Google image, skin-tone components left out, in the package's sort order. */
function emojiCodes(): string[] {
  const all = require('emoji-datasource-google/emoji.json') as EmojiEntry[];
  return all
    .filter((e) => e.has_img_google && e.category !== 'Component')
    .sort((a, b) => a.sort_order - b.sort_order)
    .map((e) => e.image.replace(/\.png$/, ''))
    .filter(plainPng);
}

/** `count` mosaics of emoji spread evenly over the whole list, starting at `phase` in [0, 1). */
function spread(count: number, phase: number, exclude: ReadonlySet<string>): string[][] {
  const codes = emojiCodes().filter((c) => !exclude.has(c));
  const picks = Array.from(
    { length: count * 4 },
    (_, i) => codes[Math.floor(((i + phase) * codes.length) / (count * 4))],
  );
  return Array.from({ length: count }, (_, m) => picks.slice(m * 4, m * 4 + 4));
}

/**
 * Calibration set of the int8 variant: 8 mosaics (32 emoji from every category). More images
 * moved the calibrated ranges by under 2% (16 mosaics) while doubling the build step's time.
 */
export function calibrationMosaics(): string[][] {
  return spread(8, 0.5, new Set());
}

/** The quality check's images: 16 mosaics sharing no emoji with the calibration set. */
export function evaluationMosaics(): string[][] {
  return spread(16, 0.25, new Set(calibrationMosaics().flat()));
}
