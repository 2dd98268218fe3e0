/**
 * The one source of randomness in the core: xoshiro128** (Blackman & Vigna), seeded through
 * splitmix32. All of its arithmetic is 32-bit (Math.imul, shifts), so it is fast in every JS
 * engine and gives the same stream everywhere. Every random draw of a run comes from a generator
 * built from an explicit seed; `Rng.derive` gives each (level, step, purpose) its own stream, so a
 * run resumed at step s draws exactly what the uninterrupted run drew.
 */

/** splitmix32 step: a strong 32-bit mixer, also used to expand seeds into generator state. */
function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/**
 * Folds any finite number into 32 bits, keeping every bit of integers up to 2^53 (low and high
 * words are mixed separately), so seeds 1 and 2^32 + 1 differ.
 */
function fold(value: number): number {
  if (!Number.isFinite(value)) throw new RangeError(`seed must be a finite number, got ${value}`);
  if (Number.isInteger(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER) {
    const neg = value < 0 ? 1 : 0;
    const a = Math.abs(value);
    const lo = a >>> 0;
    const hi = Math.floor(a / 4294967296) >>> 0;
    return mix32(lo ^ mix32(hi ^ mix32(neg)));
  }
  // Non-integers: mix the float64 bit pattern.
  const f = new Float64Array([value]);
  const u = new Uint32Array(f.buffer);
  return mix32(u[0] ^ mix32(u[1] ^ 0x5bd1e995));
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  /** The second value of the last Box-Muller pair, or NaN when none is waiting. */
  private spare = Number.NaN;

  constructor(seed: number) {
    let h = fold(seed);
    h = mix32(h);
    this.s0 = h;
    h = mix32(h);
    this.s1 = h;
    h = mix32(h);
    this.s2 = h;
    h = mix32(h);
    this.s3 = h;
    // xoshiro's only bad state is all zeros; splitmix makes it practically impossible, but be sure.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /**
   * A stable sub-seed for a path of integers, e.g. Rng.derive(seed, level, step). Distinct paths
   * give unrelated streams; the same path always gives the same seed (a uint32).
   */
  static derive(seed: number, ...path: number[]): number {
    let h = mix32(fold(seed) ^ 0x6a09e667);
    for (let i = 0; i < path.length; i++) {
      h = mix32(h ^ mix32(fold(path[i]) + Math.imul(i + 1, 0x27d4eb2d)));
    }
    return h >>> 0;
  }

  /** Uniform uint32. */
  nextU32(): number {
    const s0 = this.s0;
    const s1 = this.s1;
    const s2 = this.s2;
    const s3 = this.s3;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    let n2 = s2 ^ s0;
    let n3 = s3 ^ s1;
    const n1 = s1 ^ n2;
    const n0 = s0 ^ n3;
    n2 ^= t;
    n3 = rotl(n3, 11);
    this.s0 = n0;
    this.s1 = n1;
    this.s2 = n2;
    this.s3 = n3;
    return r;
  }

  /** Uniform float64 in [0, 1) with 53 random bits. */
  next(): number {
    const a = this.nextU32() >>> 5; // 27 bits
    const b = this.nextU32() >>> 6; // 26 bits
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Uniform integer in [0, n). Unbiased (rejection) for n <= 2^32. */
  int(n: number): number {
    if (!(n >= 1) || !Number.isInteger(n))
      throw new RangeError(`int(n) needs an integer n >= 1, got ${n}`);
    if (n > 4294967296) return Math.floor(this.next() * n);
    // Reject the top partial block of the uint32 range so every residue is equally likely.
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const u = this.nextU32();
      if (u < limit) return u % n;
    }
  }

  /** Standard normal (Box-Muller; the pair's second value is kept for the next call). */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const s = this.spare;
      this.spare = Number.NaN;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Fisher-Yates shuffle in place; returns the same array. */
  shuffle<T extends { length: number; [i: number]: unknown }>(arr: T): T {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = arr[i];
      arr[i] = arr[j];
      arr[j] = t;
    }
    return arr;
  }

  /**
   * `count` distinct integers from [0, n), in the order drawn (partial Fisher-Yates when count is
   * a large share of n, Floyd's set method otherwise, so small draws from huge ranges stay cheap).
   */
  sample(n: number, count: number): Int32Array {
    if (count > n) throw new RangeError(`cannot draw ${count} distinct values from ${n}`);
    const out = new Int32Array(count);
    if (count * 4 >= n) {
      const pool = new Int32Array(n);
      for (let i = 0; i < n; i++) pool[i] = i;
      for (let i = 0; i < count; i++) {
        const j = i + this.int(n - i);
        const t = pool[i];
        pool[i] = pool[j];
        pool[j] = t;
        out[i] = pool[i];
      }
      return out;
    }
    const seen = new Set<number>();
    let w = 0;
    for (let j = n - count; j < n; j++) {
      const t = this.int(j + 1);
      const v = seen.has(t) ? j : t;
      seen.add(v);
      out[w++] = v;
    }
    return out;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
