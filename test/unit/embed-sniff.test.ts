import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { headerSize, MAX_IMAGE_PIXELS, sniffImage } from '../../src/embed/sniff.ts';

const IMAGES = join(import.meta.dirname, '../fixtures/images');
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(join(IMAGES, name)));

describe('sniffImage', () => {
  it('recognises every fixture format by its bytes', () => {
    expect(sniffImage(read('dog.png'))).toMatchObject({ ok: true, format: 'png' });
    expect(sniffImage(read('apple.jpg'))).toMatchObject({ ok: true, format: 'jpeg' });
    expect(sniffImage(read('car.webp'))).toMatchObject({ ok: true, format: 'webp' });
    expect(sniffImage(read('house.bmp'))).toMatchObject({ ok: true, format: 'bmp' });
    expect(sniffImage(read('tree.gif'))).toMatchObject({ ok: true, format: 'gif' });
  });

  it('gives a reason for empty, text, truncated and unknown files', () => {
    expect(sniffImage(new Uint8Array(0))).toEqual({ ok: false, reason: 'empty file (0 bytes)' });
    const text = new TextEncoder().encode('id,label\n1,cat\n');
    expect(sniffImage(text)).toEqual({ ok: false, reason: 'not an image: the file is text' });
    const jpg = read('apple.jpg');
    const cut = sniffImage(jpg.subarray(0, Math.floor(jpg.length / 2)));
    expect(cut).toMatchObject({ ok: false });
    expect(!cut.ok && cut.reason).toMatch(/truncated JPEG/);
    const png = read('dog.png');
    expect(sniffImage(png.subarray(0, png.length - 20))).toMatchObject({ ok: false });
    const webp = read('car.webp');
    const w = sniffImage(webp.subarray(0, webp.length - 10));
    expect(!w.ok && w.reason).toMatch(/truncated WebP/);
    const junk = Uint8Array.of(0, 1, 2, 3, 250, 251, 252, 253, 0, 0);
    const j = sniffImage(junk);
    expect(!j.ok && j.reason).toMatch(/unknown format \(starts with 00 01 02 03 fa fb fc fd\)/);
  });

  it('names formats browsers cannot decode', () => {
    const tiff = Uint8Array.of(0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0);
    expect(sniffImage(tiff)).toMatchObject({ ok: false, reason: expect.stringMatching(/TIFF/) });
    const heic = new Uint8Array(32);
    heic.set(new TextEncoder().encode('\0\0\0\x18ftypheic'), 0);
    expect(sniffImage(heic)).toMatchObject({ ok: false, reason: expect.stringMatching(/HEIC/) });
    const svg = new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"></svg>');
    expect(sniffImage(svg)).toMatchObject({ ok: false, reason: expect.stringMatching(/SVG/) });
  });
});

describe('image size from the header', () => {
  it('reads every fixture format without decoding', () => {
    const sizes: Record<string, [number, number]> = {
      'dog.png': [64, 64],
      'apple.jpg': [64, 64],
      'cat-upright.jpg': [96, 64],
      'cat-exif-rotated.jpg': [96, 64],
      'car.webp': [64, 64],
      'house.bmp': [64, 64],
      'tree.gif': [64, 64],
    };
    for (const [name, [width, height]] of Object.entries(sizes)) {
      expect(sniffImage(read(name)), name).toMatchObject({ ok: true, width, height });
    }
  });

  it('refuses an image over the pixel limit, naming its size and the limit', () => {
    // A valid PNG header for 20990 x 29700 (a large scan), then the IEND chunk.
    const png = new Uint8Array(64);
    png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
    png.set(new TextEncoder().encode('IHDR'), 12);
    new DataView(png.buffer).setUint32(16, 20990);
    new DataView(png.buffer).setUint32(20, 29700);
    png.set(new TextEncoder().encode('IEND'), 56);
    const s = sniffImage(png);
    expect(s.ok).toBe(false);
    expect(!s.ok && s.reason).toBe(
      `image too large: 20990 x 29700 pixels (623 megapixels); Strata decodes images up to ` +
        `${MAX_IMAGE_PIXELS / 1e6} megapixels (scale it down first)`,
    );
    expect(headerSize(png, 'png')).toEqual({ width: 20990, height: 29700 });
  });
});
