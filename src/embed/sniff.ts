/**
 * Tell image files from everything else by their bytes (never by the name), and catch files that
 * were cut short, so a skipped file gets a reason a person can act on. Pure: runs in Node too.
 */

export type ImageFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'bmp' | 'avif';

export type Sniffed =
  { ok: true; format: ImageFormat; mime: string } | { ok: false; reason: string };

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
  return { ok: true, format, mime: MIME[format] };
}
