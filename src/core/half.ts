/**
 * IEEE 754 half precision (binary16) for stored embeddings: encoding rounds to nearest, ties to
 * even (what hardware conversion does), with overflow to infinity and gradual underflow; decoding
 * is one lookup in a 65,536-entry table. Half precision keeps 11 significant bits (relative error
 * at most 2^-11, about 0.05%), which is far below the spread of embedding values that k-means
 * distinguishes; the objective check is in test/unit/core/half.test.ts.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The binary16 bits nearest to `v`. */
export function halfBits(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // infinity, NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // too large: infinity
  if (e <= 0) {
    if (e < -10) return sign; // below half of the smallest subnormal: zero
    // Subnormal: shift the mantissa (with its implicit 1) into place, round to nearest even.
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && half & 1) ? 1 : 0));
  }
  const half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa moves the exponent on, to infinity at the top: still correct.
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && half & 1) ? 1 : 0));
}

let table: Float32Array | null = null;

/** binary16 bits -> float32 value, for every 16-bit pattern. */
function decodeTable(): Float32Array {
  if (table) return table;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) t[h] = sign * mant * 2 ** -24;
    else if (exp === 0x1f) t[h] = mant ? NaN : sign * Infinity;
    else t[h] = sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  table = t;
  return t;
}

export function toHalf(src: Float32Array): Uint16Array {
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = halfBits(src[i]);
  return out;
}

/** Decode `src` into `out` (a new array when absent). */
export function fromHalf<T extends Float32Array<ArrayBufferLike> = Float32Array<ArrayBuffer>>(
  src: Uint16Array,
  out: T = new Float32Array(src.length) as T,
): T {
  const t = decodeTable();
  for (let i = 0; i < src.length; i++) out[i] = t[src[i]];
  return out;
}
