/**
 * A synthetic pool with known near-duplicate groups, for the dedup tests and bench: distinct
 * "base images" (each with a class label), some of them copied a few times with small noise
 * (the near-duplicates), and bases of one class made alike on purpose (hard negatives that a
 * good threshold must keep apart).
 */
import { Rng } from './rng.ts';

export interface DuplicatePoolOptions {
  /** distinct base items */
  readonly bases: number;
  readonly d: number;
  readonly classes: number;
  /** share of bases that get copies */
  readonly copiedShare: number;
  /** copies per copied base: uniform in [1, maxCopies] */
  readonly maxCopies: number;
  readonly seed: number;
  /**
   * Cosine of a base to its class direction; two bases of one class then sit at about its
   * square (0.64 for 0.8), well under a 0.9 threshold.
   */
  readonly classCos?: number;
  /** largest angle (radians) between a copy and its base; copies of one base stay within twice it */
  readonly maxCopyAngle?: number;
}

export interface DuplicatePool {
  /** n x d rows, shuffled so copies are not next to their base */
  readonly x: Float32Array;
  readonly n: number;
  readonly d: number;
  /** per row: the base it was made from (rows with one base are copies of each other) */
  readonly base: Int32Array;
  /** per row: the class label of its base */
  readonly label: Int32Array;
}

function unitGaussian(rng: Rng, d: number): Float64Array {
  const v = new Float64Array(d);
  let s = 0;
  for (let t = 0; t < d; t++) {
    v[t] = rng.normal();
    s += v[t] * v[t];
  }
  const inv = 1 / Math.sqrt(s);
  for (let t = 0; t < d; t++) v[t] *= inv;
  return v;
}

/** `u` turned by `angle` towards a random direction orthogonal to it (u is unit). */
function turn(rng: Rng, u: Float64Array, angle: number): Float64Array {
  const d = u.length;
  const r = unitGaussian(rng, d);
  let dot = 0;
  for (let t = 0; t < d; t++) dot += r[t] * u[t];
  let s = 0;
  for (let t = 0; t < d; t++) {
    r[t] -= dot * u[t];
    s += r[t] * r[t];
  }
  const inv = 1 / Math.sqrt(s);
  const c = Math.cos(angle);
  const sn = Math.sin(angle);
  const out = new Float64Array(d);
  for (let t = 0; t < d; t++) out[t] = c * u[t] + sn * r[t] * inv;
  return out;
}

export function duplicatePool(o: DuplicatePoolOptions): DuplicatePool {
  const rng = new Rng(o.seed);
  const d = o.d;
  const classCos = o.classCos ?? 0.8;
  // 0.2 rad (11.5 degrees): a copy keeps cosine >= 0.98 to its base, two copies >= 0.92.
  const maxAngle = o.maxCopyAngle ?? 0.2;
  const classDirs = Array.from({ length: o.classes }, () => unitGaussian(rng, d));
  const vecs: Float64Array[] = [];
  const base: number[] = [];
  const label: number[] = [];
  for (let b = 0; b < o.bases; b++) {
    const c = b % o.classes;
    const v = turn(rng, classDirs[c], Math.acos(classCos));
    vecs.push(v);
    base.push(b);
    label.push(c);
    if (rng.next() < o.copiedShare) {
      const copies = 1 + rng.int(o.maxCopies);
      for (let k = 0; k < copies; k++) {
        vecs.push(turn(rng, v, maxAngle * rng.next()));
        base.push(b);
        label.push(c);
      }
    }
  }
  const n = vecs.length;
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  const x = new Float32Array(n * d);
  const outBase = new Int32Array(n);
  const outLabel = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const src = order[i];
    x.set(vecs[src], i * d);
    outBase[i] = base[src];
    outLabel[i] = label[src];
  }
  return { x, n, d, base: outBase, label: outLabel };
}
