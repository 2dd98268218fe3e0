/**
 * Tell image files from everything else by their bytes (never by the name), and catch files that
 * were cut short, so a skipped file gets a reason a person can act on. Pure: runs in Node too.
 */

export type ImageFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'bmp' | 'avif';

export type Sniffed =
  | {
      ok: true;
      format: ImageFormat;
      mime: string;
      /** pixel size from the header, when the format's header gives it (not AVIF) */
      width?: number;
      height?: number;
    }
  | { ok: false; reason: string };

/**
 * Largest image Strata decodes: 100 megapixels. Decoding takes 4 bytes a pixel (400 MB here)
 * before the image is scaled down to the model's 224 px; a 20990 x 29700 scan (623 MP, 2.5 GB
 * decoded) failed to decode in Chromium, and a limit checked on the header refuses such files
 * with their size before any memory is spent, instead of a vague decoding failure.
 */
export const MAX_IMAGE_PIXELS = 100_000_000;

const u16be = (b: Uint8Array, i: number): number => (b[i] << 8) | b[i + 1];
const u16le = (b: Uint8Array, i: number): number => b[i] | (b[i + 1] << 8);
const u24le = (b: Uint8Array, i: number): number => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16);
const u32be = (b: Uint8Array, i: number): number =>
  ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
const i32le = (b: Uint8Array, i: number): number =>
  b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);

/** Width and height read from the format's header (no decoding), or null when it does not say. */
export function headerSize(
  b: Uint8Array,
  format: ImageFormat,
): { width: number; height: number } | null {
  switch (format) {
    case 'png':
      // Signature (8), IHDR length (4) and type (4), then width and height, big-endian.
      return b.length >= 24 ? { width: u32be(b, 16), height: u32be(b, 20) } : null;
    case 'gif':
      return b.length >= 10 ? { width: u16le(b, 6), height: u16le(b, 8) } : null;
    case 'bmp':
      // BITMAPINFOHEADER: a negative height means rows are stored top-down.
      return b.length >= 26
        ? { width: Math.abs(i32le(b, 18)), height: Math.abs(i32le(b, 22)) }
        : null;
    case 'webp': {
      const chunk = ascii(b, 12, 16);
      if (chunk === 'VP8X' && b.length >= 30) {
        return { width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 };
      }
      if (chunk === 'VP8 ' && b.length >= 30) {
        return { width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
      }
      if (chunk === 'VP8L' && b.length >= 25) {
        const bits = (b[21] | (b[22] << 8) | (b[23] << 16) | (b[24] << 24)) >>> 0;
        return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
      }
      return null;
    }
    case 'jpeg': {
      // Walk the marker segments to the first start-of-frame (SOF0-SOF15 but DHT, JPG, DAC).
      let i = 2;
      while (i + 9 < b.length) {
        if (b[i] !== 0xff) return null;
        const marker = b[i + 1];
        if (marker === 0xff) {
          i++;
          continue;
        }
        if (
          marker >= 0xc0 &&
          marker <= 0xcf &&
          marker !== 0xc4 &&
          marker !== 0xc8 &&
          marker !== 0xcc
        ) {
          return { width: u16be(b, i + 7), height: u16be(b, i + 5) };
        }
        if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
          i += 2;
          continue;
        }
        i += 2 + u16be(b, i + 2);
      }
      return null;
    }
    default:
      return null;
  }
}

/** The reason an image of this size is refused, or null when it is within the limit. */
export function tooLarge(size: { width: number; height: number } | null): string | null {
  if (!size) return null;
  const pixels = size.width * size.height;
  if (pixels <= MAX_IMAGE_PIXELS) return null;
  return (
    `image too large: ${size.width} x ${size.height} pixels (${Math.round(pixels / 1e6)} megapixels); ` +
    `Strata decodes images up to ${MAX_IMAGE_PIXELS / 1e6} megapixels (scale it down first)`
  );
}

const MIME: Record<ImageFormat, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  bmp: 'image/bmp',
  avif: 'image/avif',
};

const ascii = (b: Uint8Array, from: number, to: number): string =>
  String.fromCharCode(...b.subarray(from, Math.min(to, b.length)));

function startsWith(b: Uint8Array, sig: readonly number[], at = 0): boolean {
  return sig.every((v, i) => b[at + i] === v);
}

/** The last index of a two-byte marker within the final `window` bytes, or -1. */
function lastMarker(b: Uint8Array, m0: number, m1: number, window: number): number {
  for (let i = b.length - 2; i >= Math.max(0, b.length - window); i--) {
    if (b[i] === m0 && b[i + 1] === m1) return i;
  }
  return -1;
}

function looksLikeText(b: Uint8Array): boolean {
  const n = Math.min(b.length, 512);
  let printable = 0;
  for (let i = 0; i < n; i++) {
    const c = b[i];
    if (c === 0) return false;
    if (c === 9 || c === 10 || c === 13 || (c >= 32 && c < 127) || c >= 128) printable++;
  }
  return printable === n;
}

function hex(b: Uint8Array, n: number): string {
  return Array.from(b.subarray(0, n), (v) => v.toString(16).padStart(2, '0')).join(' ');
}

/**
 * Identify an image format from the whole file's bytes and check that the file is complete where
 * the format has an end marker (JPEG EOI, PNG IEND, GIF trailer): browsers happily decode the top
 * of a truncated JPEG and fill the rest with grey, which would poison the embedding silently.
 */
export function sniffImage(bytes: Uint8Array): Sniffed {
  if (bytes.length === 0) return { ok: false, reason: 'empty file (0 bytes)' };
  const b = bytes;
  let format: ImageFormat | undefined;
  if (startsWith(b, [0xff, 0xd8, 0xff])) format = 'jpeg';
  else if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) format = 'png';
  else if (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a') format = 'gif';
  else if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP') format = 'webp';
  else if (ascii(b, 0, 2) === 'BM' && b.length >= 26) format = 'bmp';
  else if (ascii(b, 4, 8) === 'ftyp') {
    const brands = ascii(b, 8, 32);
    if (/avi[fs]/.test(brands)) format = 'avif';
    else if (/hei[cxm]|mif1|msf1/.test(brands)) {
      return {
        ok: false,
        reason: 'HEIC/HEIF image: this browser cannot decode it (convert to JPEG)',
      };
    } else
      return {
        ok: false,
        reason: `not an image (a video/ISO media file, brand "${ascii(b, 8, 12)}")`,
      };
  }

  if (!format) {
    if (startsWith(b, [0x49, 0x49, 0x2a, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2a])) {
      return {
        ok: false,
        reason: 'TIFF image: browsers cannot decode TIFF (convert to PNG or JPEG)',
      };
    }
    if (startsWith(b, [0x00, 0x00, 0x01, 0x00])) {
      return { ok: false, reason: 'ICO icon: not supported' };
    }
    const head = ascii(b, 0, 256).trimStart().toLowerCase();
    if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg'))) {
      return { ok: false, reason: 'SVG drawing: vector images are not supported' };
    }
    if (looksLikeText(b)) return { ok: false, reason: 'not an image: the file is text' };
    return { ok: false, reason: `not an image: unknown format (starts with ${hex(b, 8)})` };
  }

  if (format === 'jpeg') {
    if (b.length < 128) return { ok: false, reason: `corrupt JPEG: only ${b.length} bytes` };
    // EOI may be followed by padding or appended data (some cameras): look near the end.
    if (lastMarker(b, 0xff, 0xd9, 64 * 1024) < 0) {
      return { ok: false, reason: 'truncated JPEG: no end-of-image marker (file cut short?)' };
    }
  } else if (format === 'png') {
    if (!ascii(b, Math.max(0, b.length - 64), b.length).includes('IEND')) {
      return { ok: false, reason: 'truncated PNG: no IEND chunk (file cut short?)' };
    }
  } else if (format === 'gif') {
    if (!b.subarray(Math.max(0, b.length - 16)).includes(0x3b)) {
      return { ok: false, reason: 'truncated GIF: no trailer byte (file cut short?)' };
    }
  } else if (format === 'webp') {
    const riffSize = (b[4] | (b[5] << 8) | (b[6] << 16) | (b[7] << 24)) >>> 0;
    if (riffSize + 8 > b.length) {
      return {
        ok: false,
        reason: `truncated WebP: header says ${riffSize + 8} bytes, file has ${b.length}`,
      };
    }
  } else if (format === 'bmp') {
    const size = (b[2] | (b[3] << 8) | (b[4] << 16) | (b[5] << 24)) >>> 0;
    if (size > b.length) {
      return {
        ok: false,
        reason: `truncated BMP: header says ${size} bytes, file has ${b.length}`,
      };
    }
  }
  const size = headerSize(b, format);
  const refused = tooLarge(size);
  if (refused) return { ok: false, reason: refused };
  return { ok: true, format, mime: MIME[format], ...(size ?? {}) };
}
