/**
 * Writes the small image fixtures in test/fixtures/images/ (committed; run by hand if they ever
 * need to change):
 *
 *   npx tsx scripts/convert-model/make-fixtures.ts
 *
 * Source pictures: 64 px emoji PNGs from the npm package emoji-datasource-google (images
 * Apache-2.0). PNG and BMP and GIF are encoded here; JPEG and WebP by Chromium's own encoders
 * (canvas.convertToBlob), so no image library is needed. The bad files are derived from the good
 * ones: a JPEG cut in half, a JPEG whose image data is replaced by noise, an empty file, a text
 * file.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../test/chromium.ts';
import { decodePng, encodePngRgb, type RgbaImage } from './png.ts';

const require = createRequire(import.meta.url);
const OUT = join(import.meta.dirname, '../../test/fixtures/images');

function emoji(code: string): RgbaImage {
  const dir = dirname(require.resolve('emoji-datasource-google/emoji.json'));
  return decodePng(new Uint8Array(readFileSync(join(dir, 'img/google/64', `${code}.png`))));
}

/** Composite on a solid background; optionally widen with a coloured band on the left. */
function flatten(img: RgbaImage, band = 0): { width: number; height: number; rgb: Uint8Array } {
  const width = img.width + band;
  const height = img.height;
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      if (x < band) {
        rgb.set([30, 90, 200], o); // blue band marks the image's left edge
        continue;
      }
      const i = (y * img.width + (x - band)) * 4;
      const a = img.rgba[i + 3] / 255;
      for (let c = 0; c < 3; c++) rgb[o + c] = Math.round(img.rgba[i + c] * a + 255 * (1 - a));
    }
  }
  return { width, height, rgb };
}

function encodeBmp(width: number, height: number, rgb: Uint8Array): Uint8Array {
  const stride = Math.ceil((width * 3) / 4) * 4;
  const size = 54 + stride * height;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  out.set([0x42, 0x4d], 0);
  v.setUint32(2, size, true);
  v.setUint32(10, 54, true);
  v.setUint32(14, 40, true);
  v.setInt32(18, width, true);
  v.setInt32(22, height, true); // positive: bottom-up rows
  v.setUint16(26, 1, true);
  v.setUint16(28, 24, true);
  v.setUint32(34, stride * height, true);
  for (let y = 0; y < height; y++) {
    const row = 54 + (height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      out.set([rgb[i + 2], rgb[i + 1], rgb[i]], row + x * 3); // BGR
    }
  }
  return out;
}

/** GIF89a with a fixed 6x6x6 colour cube palette and plain LZW. */
function encodeGif(width: number, height: number, rgb: Uint8Array): Uint8Array {
  const bytes: number[] = [];
  const push16 = (n: number): void => {
    bytes.push(n & 0xff, n >> 8);
  };
  bytes.push(...new TextEncoder().encode('GIF89a'));
  push16(width);
  push16(height);
  bytes.push(0xf7, 0, 0); // global colour table, 256 entries
  for (let i = 0; i < 256; i++) {
    const c =
      i < 216 ? [Math.floor(i / 36), Math.floor(i / 6) % 6, i % 6].map((v) => v * 51) : [0, 0, 0];
    bytes.push(...c);
  }
  bytes.push(0x2c);
  push16(0);
  push16(0);
  push16(width);
  push16(height);
  bytes.push(0);
  const indices = new Uint8Array(width * height);
  for (let p = 0; p < indices.length; p++) {
    const q = (v: number): number => Math.round(v / 51);
    indices[p] = q(rgb[p * 3]) * 36 + q(rgb[p * 3 + 1]) * 6 + q(rgb[p * 3 + 2]);
  }
  // LZW with 8-bit min code size; reset the table before codes would exceed 12 bits.
  const minCode = 8;
  const clear = 1 << minCode;
  const end = clear + 1;
  const codes: { code: number; size: number }[] = [];
  let dict = new Map<string, number>();
  let next = end + 1;
  let size = minCode + 1;
  const reset = (): void => {
    dict = new Map();
    next = end + 1;
    size = minCode + 1;
  };
  codes.push({ code: clear, size });
  let prefix = String(indices[0]);
  for (let i = 1; i < indices.length; i++) {
    const k = indices[i];
    const joined = `${prefix},${k}`;
    if (dict.has(joined)) {
      prefix = joined;
      continue;
    }
    codes.push({ code: prefix.includes(',') ? dict.get(prefix)! : Number(prefix), size });
    dict.set(joined, next++);
    if (next - 1 === 1 << size) size++;
    if (next >= 4095) {
      codes.push({ code: clear, size });
      reset();
    }
    prefix = String(k);
  }
  codes.push({ code: prefix.includes(',') ? dict.get(prefix)! : Number(prefix), size });
  codes.push({ code: end, size });
  const data: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const { code, size: s } of codes) {
    acc |= code << bits;
    bits += s;
    while (bits >= 8) {
      data.push(acc & 0xff);
      acc >>>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) data.push(acc & 0xff);
  bytes.push(minCode);
  for (let i = 0; i < data.length; i += 255) {
    const block = data.slice(i, i + 255);
    bytes.push(block.length, ...block);
  }
  bytes.push(0, 0x3b);
  return Uint8Array.from(bytes);
}

/** Inserts an EXIF APP1 segment with only an Orientation tag right after the JPEG's SOI. */
function withOrientation(jpeg: Uint8Array, orientation: number): Uint8Array {
  const tiff = [
    0x4d,
    0x4d,
    0x00,
    0x2a,
    0x00,
    0x00,
    0x00,
    0x08, // big-endian TIFF header, IFD at 8
    0x00,
    0x01, // one entry
    0x01,
    0x12,
    0x00,
    0x03,
    0x00,
    0x00,
    0x00,
    0x01,
    0x00,
    orientation,
    0x00,
    0x00, // Orientation
    0x00,
    0x00,
    0x00,
    0x00, // no next IFD
  ];
  const payload = [...new TextEncoder().encode('Exif'), 0, 0, ...tiff];
  const len = payload.length + 2;
  const app1 = [0xff, 0xe1, len >> 8, len & 0xff, ...payload];
  return Uint8Array.from([...jpeg.subarray(0, 2), ...app1, ...jpeg.subarray(2)]);
}

// The page-side encoder runs in Chromium; Node's type library has no DOM, so declare the two
// browser classes it uses.
declare const OffscreenCanvas: new (
  w: number,
  h: number,
) => {
  getContext(kind: '2d'): { putImageData(d: unknown, x: number, y: number): void } | null;
  convertToBlob(o: { type: string; quality: number }): Promise<Blob>;
};
declare const ImageData: new (d: Uint8ClampedArray, w: number, h: number) => unknown;

async function encodeInChromium(
  images: { width: number; height: number; rgb: Uint8Array; type: string }[],
): Promise<Uint8Array[]> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    const encoded = await page.evaluate(
      async (list) => {
        const out: string[] = [];
        for (const im of list) {
          const rgb = Uint8Array.from(atob(im.rgb), (c) => c.charCodeAt(0));
          const rgba = new Uint8ClampedArray(im.width * im.height * 4);
          for (let p = 0; p < im.width * im.height; p++) {
            rgba.set([rgb[p * 3], rgb[p * 3 + 1], rgb[p * 3 + 2], 255], p * 4);
          }
          const canvas = new OffscreenCanvas(im.width, im.height);
          canvas.getContext('2d')!.putImageData(new ImageData(rgba, im.width, im.height), 0, 0);
          const blob = await canvas.convertToBlob({ type: im.type, quality: 0.9 });
          const b = new Uint8Array(await blob.arrayBuffer());
          out.push(btoa(Array.from(b, (v) => String.fromCharCode(v)).join('')));
        }
        return out;
      },
      images.map((im) => ({ ...im, rgb: Buffer.from(im.rgb).toString('base64') })),
    );
    return encoded.map((b64) => new Uint8Array(Buffer.from(b64, 'base64')));
  } finally {
    await browser.close();
  }
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const dog = flatten(emoji('1f436'));
  const apple = flatten(emoji('1f34e'));
  const car = flatten(emoji('1f697'));
  const house = flatten(emoji('1f3e0'));
  const tree = flatten(emoji('1f333'));
  // 96 x 64: wider than tall, blue band on the left, to see where EXIF rotation puts it.
  const banded = flatten(emoji('1f431'), 32);
  const [appleJpg, carWebp, bandedJpg] = await encodeInChromium([
    { ...apple, type: 'image/jpeg' },
    { ...car, type: 'image/webp' },
    { ...banded, type: 'image/jpeg' },
  ]);
  const write = (name: string, b: Uint8Array | string): void => writeFileSync(join(OUT, name), b);
  write('dog.png', encodePngRgb(dog.width, dog.height, dog.rgb));
  write('apple.jpg', appleJpg);
  write('car.webp', carWebp);
  write('house.bmp', encodeBmp(house.width, house.height, house.rgb));
  write('tree.gif', encodeGif(tree.width, tree.height, tree.rgb));
  write('cat-upright.jpg', bandedJpg);
  // Orientation 6: the stored 96x64 picture is shown rotated 90 degrees clockwise (64x96).
  write('cat-exif-rotated.jpg', withOrientation(bandedJpg, 6));
  write('truncated.jpg', appleJpg.subarray(0, Math.floor(appleJpg.length / 2)));
  // Keep the JPEG's SOI/APP0 header and its end marker; replace everything between with noise.
  const corrupt = new Uint8Array(appleJpg.length);
  corrupt.set(appleJpg.subarray(0, 20));
  let s = 12345;
  for (let i = 20; i < corrupt.length - 2; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    corrupt[i] = (s >> 16) & 0xfe; // never 0xff: no accidental markers
  }
  corrupt.set([0xff, 0xd9], corrupt.length - 2);
  write('corrupt.jpg', corrupt);
  write('empty.jpg', new Uint8Array(0));
  write('notes.txt', 'These are not the pixels you are looking for.\n');
  console.log(`fixtures written to ${OUT}`);
}

await main();
