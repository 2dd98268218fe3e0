/**
 * The CPU k-means kernel, written as WebAssembly text with its register-blocked loops unrolled by
 * this generator (so the block shape stays one constant, not hand-copied code). Assembled into
 * .wasm by scripts/assets/10-wasm.ts with binaryen; read by src/cpu/.
 *
 * Memory layout (all offsets are byte addresses chosen by src/cpu/wasm-kernel.ts):
 * - x is packed in blocks of KERNEL_ROWS rows: block b, chunk q (4 floats of the row, D padded with zeros
 *   to a multiple of 4), row r lives at xp + ((b * d4/4 + q) * KERNEL_ROWS + r) * 16. Rows past N are
 *   zero. One pointer then walks a whole block and every load has a constant offset.
 * - centroids (and k-means++ candidates) are packed the same way in blocks of 4:
 *   block j, chunk q, centroid c at cp + ((j * d4/4 + q) * 4 + c) * 16. Padding centroids are zero
 *   and get |c|^2 = +Infinity, so they never win an argmin.
 *
 * Why the dot-product form with 4 centroids per block: the 4 sums of a row against a block of 4
 * centroids reduce (hsum4) into one f32x4 whose lanes line up with 4 centroid indices, so the
 * argmin runs 4 lanes at a time and the reduction costs 6 shuffles + 3 adds per 16 dot products.
 */

export interface KernelShape {
  /** rows per register block (the accumulators are rows x 4 f32x4) */
  readonly rows: number;
  /** use f32x4.relaxed_madd (one fused multiply-add where the CPU has FMA) */
  readonly relaxed: boolean;
  /** import a shared memory (threads share it); otherwise a plain one */
  readonly shared: boolean;
}

/**
 * Rows per register block. Single-core throughput (GFLOP/s = 2*N*K*D per second of the thread's
 * CPU time, so other load on the shared machine does not skew it; median of 5), N 30k x D 384 x
 * K 1000, one call per ~1 ms before centroid chunking was added, 2-core Xeon (Sapphire Rapids):
 *
 *   rows                        1     2     3     4
 *   Chromium 156, SIMD128      30.1  39.7  40.2  32.4
 *   Chromium 156, relaxed FMA  30.8  47.6  41.4  37.7
 *   Node 20, SIMD128           28.4  38.0  35.2  29.0
 *
 * 2 rows x 4 centroids = 8 f32x4 accumulators + 4 centroid vectors + 1 row vector: V8 keeps
 * 15 xmm registers free for wasm (xmm15 is its scratch), and 3 rows (12 accumulators) spill
 * once FMA frees no temporary. N 20k x D 128 x K 256, relaxed: 51.4 (2 rows) vs 45.4 (3 rows).
 */
export const KERNEL_ROWS = 2;

/** Max pages of the memory (4 GiB, the wasm32 limit): a shared memory must declare one. */
export const MAX_PAGES = 65536;

const num = (v: number): string => (v === Infinity ? 'inf' : String(v));
const f4 = (v: number): string => `(v128.const f32x4 ${num(v)} ${num(v)} ${num(v)} ${num(v)})`;
const lanes = (...ls: number[]): string =>
  ls.map((l) => [0, 1, 2, 3].map((b) => l * 4 + b).join(' ')).join(' ');
const shuffle = (a: string, b: string, ...ls: number[]): string =>
  `(i8x16.shuffle ${lanes(...ls)} ${a} ${b})`;
const get = (name: string): string => `(local.get $${name})`;

/** [sum a0, sum a1, sum a2, sum a3] of four f32x4 values (given as expressions). */
function hsum4(a: readonly string[], tmp: string): string {
  // u = interleave low/high halves, add; then gather lanes 0,1 and 2,3 of both, add.
  return `
    (local.set $${tmp}01 (f32x4.add ${shuffle(a[0], a[1], 0, 4, 1, 5)} ${shuffle(a[0], a[1], 2, 6, 3, 7)}))
    (local.set $${tmp}23 (f32x4.add ${shuffle(a[2], a[3], 0, 4, 1, 5)} ${shuffle(a[2], a[3], 2, 6, 3, 7)}))
    (local.set $${tmp} (f32x4.add ${shuffle(get(tmp + '01'), get(tmp + '23'), 0, 1, 4, 5)} ${shuffle(get(tmp + '01'), get(tmp + '23'), 2, 3, 6, 7)}))`;
}

function madd(shape: KernelShape, a: string, b: string, acc: string): string {
  return shape.relaxed
    ? `(f32x4.relaxed_madd ${a} ${b} ${acc})`
    : `(f32x4.add (f32x4.mul ${a} ${b}) ${acc})`;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/**
 * assign(xp, d4, rb0, rb1, cp, c2p, kb, labels, dist, state, kc): for every row block b in
 * [rb0, rb1), every row of it, the nearest of the kb*4 packed centroids: labels[row] (i32) and
 * dist[row] = max(0, |x|^2 + min_j(|c_j|^2 - 2 x.c_j)) (f32). Ties go to the lowest index.
 *
 * Cache blocking: the centroids are walked in chunks of kc blocks, each chunk against all rows
 * of [rb0, rb1) before the next, so a chunk is read from L2 once per row block instead of
 * streaming all K x D centroids from memory for every 2-3 rows. Between chunks each row's
 * running best (4 lanes of value + index) waits in `state` (32 bytes per row, by row index).
 */
function assignFunc(shape: KernelShape): string {
  const R = shape.rows;
  const rs = range(R);
  const cs = range(4);
  const locals = [
    'xb i32',
    'xend i32',
    'px i32',
    'pc i32',
    'c2q i32',
    'j i32',
    'j0 i32',
    'j1 i32',
    'st i32',
    'b i32',
    'row i32',
    'bestl i32',
    'li i32',
    'bestv f32',
    'lv f32',
    ...rs.map((r) => `n${r} f32`),
    ...rs.flatMap((r) => cs.map((c) => `a${r}${c} v128`)),
    ...cs.map((c) => `c${c} v128`),
    ...rs.map((r) => `x${r} v128`),
    ...rs.map((r) => `bv${r} v128`),
    ...rs.map((r) => `bi${r} v128`),
    'jv v128',
    's v128',
    's01 v128',
    's23 v128',
    'vals v128',
    'm v128',
  ]
    .map((l) => `(local $${l})`)
    .join(' ');
  const blockBytes = `(i32.mul ${get('d4')} (i32.const ${R * 4}))`;

  // |x_r|^2 of each row of the block, once per block (cost D, against K*D for the dots).
  const norms = `
    ${rs.map((r) => `(local.set $x${r} ${f4(0)})`).join('\n')}
    (local.set $px ${get('xb')})
    (loop $nq
      ${rs
        .map(
          (r) =>
            `(local.set $c0 (v128.load offset=${r * 16} ${get('px')}))
             (local.set $x${r} ${madd(shape, get('c0'), get('c0'), get(`x${r}`))})`,
        )
        .join('\n')}
      (local.set $px (i32.add ${get('px')} (i32.const ${R * 16})))
      (br_if $nq (i32.lt_u ${get('px')} ${get('xend')})))
    ${rs
      .map(
        (r) =>
          `(local.set $n${r} (f32.add
             (f32.add (f32x4.extract_lane 0 ${get(`x${r}`)}) (f32x4.extract_lane 1 ${get(`x${r}`)}))
             (f32.add (f32x4.extract_lane 2 ${get(`x${r}`)}) (f32x4.extract_lane 3 ${get(`x${r}`)}))))`,
      )
      .join('\n')}`;

  // One centroid block: R x 4 accumulators over the row's chunks.
  const inner = `
    ${rs.flatMap((r) => cs.map((c) => `(local.set $a${r}${c} ${f4(0)})`)).join('\n')}
    (local.set $px ${get('xb')})
    (loop $q
      ${cs.map((c) => `(local.set $c${c} (v128.load offset=${c * 16} ${get('pc')}))`).join('\n')}
      ${rs
        .map(
          (r) => `(local.set $x${r} (v128.load offset=${r * 16} ${get('px')}))
      ${cs.map((c) => `(local.set $a${r}${c} ${madd(shape, get(`x${r}`), get(`c${c}`), get(`a${r}${c}`))})`).join('\n')}`,
        )
        .join('\n')}
      (local.set $px (i32.add ${get('px')} (i32.const ${R * 16})))
      (local.set $pc (i32.add ${get('pc')} (i32.const 64)))
      (br_if $q (i32.lt_u ${get('px')} ${get('xend')})))`;

  // Fold the block's 4 candidates into each row's per-lane best (strict <: earlier block wins).
  const fold = rs
    .map(
      (r) => `${hsum4(
        cs.map((c) => get(`a${r}${c}`)),
        's',
      )}
    (local.set $vals (f32x4.sub (v128.load ${get('c2q')}) (f32x4.add ${get('s')} ${get('s')})))
    (local.set $m (f32x4.lt ${get('vals')} ${get(`bv${r}`)}))
    (local.set $bv${r} (v128.bitselect ${get('vals')} ${get(`bv${r}`)} ${get('m')}))
    (local.set $bi${r} (v128.bitselect ${get('jv')} ${get(`bi${r}`)} ${get('m')}))`,
    )
    .join('\n');

  // Lanes -> one (value, index): min value, lowest index among equal values.
  const finish = rs
    .map(
      (r) => `
    (local.set $bestv (f32x4.extract_lane 0 ${get(`bv${r}`)}))
    (local.set $bestl (i32x4.extract_lane 0 ${get(`bi${r}`)}))
    ${[1, 2, 3]
      .map(
        (l) => `
    (local.set $lv (f32x4.extract_lane ${l} ${get(`bv${r}`)}))
    (local.set $li (i32x4.extract_lane ${l} ${get(`bi${r}`)}))
    (if (i32.or (f32.lt ${get('lv')} ${get('bestv')})
                (i32.and (f32.eq ${get('lv')} ${get('bestv')}) (i32.lt_s ${get('li')} ${get('bestl')})))
      (then (local.set $bestv ${get('lv')}) (local.set $bestl ${get('li')})))`,
      )
      .join('')}
    (local.set $row (i32.add (i32.mul ${get('b')} (i32.const ${R})) (i32.const ${r})))
    (i32.store (i32.add ${get('labels')} (i32.shl ${get('row')} (i32.const 2))) ${get('bestl')})
    (f32.store (i32.add ${get('dist')} (i32.shl ${get('row')} (i32.const 2)))
      (f32.max (f32.const 0) (f32.add ${get(`n${r}`)} ${get('bestv')})))`,
    )
    .join('\n');

  return `
  (func (export "assign") (param $xp i32) (param $d4 i32) (param $rb0 i32) (param $rb1 i32)
      (param $cp i32) (param $c2p i32) (param $kb i32) (param $labels i32) (param $dist i32)
      (param $state i32) (param $kc i32)
    ${locals}
    (if (i32.ge_u ${get('rb0')} ${get('rb1')}) (then (return)))
    (local.set $j0 (i32.const 0))
    (loop $chunks
      (local.set $j1 (select (i32.add ${get('j0')} ${get('kc')}) ${get('kb')}
        (i32.lt_u (i32.add ${get('j0')} ${get('kc')}) ${get('kb')})))
      (local.set $b ${get('rb0')})
      (loop $rows
        (local.set $xb (i32.add ${get('xp')} (i32.mul ${get('b')} ${blockBytes})))
        (local.set $xend (i32.add ${get('xb')} ${blockBytes}))
        (local.set $st (i32.add ${get('state')} (i32.mul ${get('b')} (i32.const ${R * 32}))))
        (if (i32.eqz ${get('j0')})
          (then
            ${rs.map((r) => `(local.set $bv${r} ${f4(Infinity)})`).join('\n')}
            ${rs.map((r) => `(local.set $bi${r} (v128.const i32x4 0 1 2 3))`).join('\n')})
          (else
            ${rs.map((r) => `(local.set $bv${r} (v128.load offset=${r * 32} ${get('st')}))`).join('\n')}
            ${rs.map((r) => `(local.set $bi${r} (v128.load offset=${r * 32 + 16} ${get('st')}))`).join('\n')}))
        (local.set $jv (i32x4.add (i32x4.splat (i32.shl ${get('j0')} (i32.const 2)))
          (v128.const i32x4 0 1 2 3)))
        (local.set $pc (i32.add ${get('cp')} (i32.mul ${get('j0')} (i32.shl ${get('d4')} (i32.const 4)))))
        (local.set $c2q (i32.add ${get('c2p')} (i32.shl ${get('j0')} (i32.const 4))))
        (local.set $j ${get('j0')})
        (loop $cols
          ${inner}
          ${fold}
          (local.set $jv (i32x4.add ${get('jv')} (v128.const i32x4 4 4 4 4)))
          (local.set $c2q (i32.add ${get('c2q')} (i32.const 16)))
          (local.set $j (i32.add ${get('j')} (i32.const 1)))
          (br_if $cols (i32.lt_u ${get('j')} ${get('j1')})))
        (if (i32.ge_u ${get('j1')} ${get('kb')})
          (then
            ${norms}
            ${finish})
          (else
            ${rs.map((r) => `(v128.store offset=${r * 32} ${get('st')} ${get(`bv${r}`)})`).join('\n')}
            ${rs.map((r) => `(v128.store offset=${r * 32 + 16} ${get('st')} ${get(`bi${r}`)})`).join('\n')}))
        (local.set $b (i32.add ${get('b')} (i32.const 1)))
        (br_if $rows (i32.lt_u ${get('b')} ${get('rb1')})))
      (local.set $j0 ${get('j1')})
      (br_if $chunks (i32.lt_u ${get('j0')} ${get('kb')}))))`;
}

/**
 * distTo(xp, d4, rb0, rb1, cp, mb, out, stride): out[j * stride + row] = |x_row - cand_j|^2 for
 * the mb*4 packed candidates, from the differences themselves (no |x|^2 - 2x.c + |c|^2
 * cancellation: a candidate's own row gets exactly 0, which k-means++ relies on).
 */
function distToFunc(shape: KernelShape): string {
  const R = shape.rows;
  const rs = range(R);
  const cs = range(4);
  const locals = [
    'xb i32',
    'xend i32',
    'px i32',
    'pc i32',
    'pc0 i32',
    'j i32',
    'b i32',
    'o i32',
    ...rs.flatMap((r) => cs.map((c) => `a${r}${c} v128`)),
    ...cs.map((c) => `c${c} v128`),
    'x v128',
    't v128',
    's v128',
    's01 v128',
    's23 v128',
  ]
    .map((l) => `(local $${l})`)
    .join(' ');
  const blockBytes = `(i32.mul ${get('d4')} (i32.const ${R * 4}))`;
  const inner = `
    ${rs.flatMap((r) => cs.map((c) => `(local.set $a${r}${c} ${f4(0)})`)).join('\n')}
    (local.set $px ${get('xb')})
    (local.set $pc ${get('pc0')})
    (loop $q
      ${cs.map((c) => `(local.set $c${c} (v128.load offset=${c * 16} ${get('pc')}))`).join('\n')}
      ${rs
        .map(
          (r) => `(local.set $x (v128.load offset=${r * 16} ${get('px')}))
      ${cs
        .map(
          (c) => `(local.set $t (f32x4.sub ${get('x')} ${get(`c${c}`)}))
      (local.set $a${r}${c} ${madd(shape, get('t'), get('t'), get(`a${r}${c}`))})`,
        )
        .join('\n')}`,
        )
        .join('\n')}
      (local.set $px (i32.add ${get('px')} (i32.const ${R * 16})))
      (local.set $pc (i32.add ${get('pc')} (i32.const 64)))
      (br_if $q (i32.lt_u ${get('px')} ${get('xend')})))`;
  // out offset of (candidate 4j + c, row b*R + r) = ((4j + c) * stride + b*R + r) * 4
  const store = rs
    .map(
      (r) => `${hsum4(
        cs.map((c) => get(`a${r}${c}`)),
        's',
      )}
    ${cs
      .map(
        (
          c,
        ) => `(f32.store (i32.add ${get('o')} (i32.shl (i32.add (i32.mul (i32.const ${c}) ${get('stride')})
          (i32.add (i32.mul ${get('b')} (i32.const ${R})) (i32.const ${r}))) (i32.const 2)))
      (f32x4.extract_lane ${c} ${get('s')}))`,
      )
      .join('\n')}`,
    )
    .join('\n');
  return `
  (func (export "distTo") (param $xp i32) (param $d4 i32) (param $rb0 i32) (param $rb1 i32)
      (param $cp i32) (param $mb i32) (param $out i32) (param $stride i32)
    ${locals}
    (if (i32.ge_u ${get('rb0')} ${get('rb1')}) (then (return)))
    (local.set $b ${get('rb0')})
    (loop $rows
      (local.set $xb (i32.add ${get('xp')} (i32.mul ${get('b')} ${blockBytes})))
      (local.set $xend (i32.add ${get('xb')} ${blockBytes}))
      (local.set $pc0 ${get('cp')})
      (local.set $o ${get('out')})
      (local.set $j (i32.const 0))
      (loop $cols
        ${inner}
        ${store}
        (local.set $pc0 ${get('pc')})
        (local.set $o (i32.add ${get('o')} (i32.shl ${get('stride')} (i32.const 4))))
        (local.set $j (i32.add ${get('j')} (i32.const 1)))
        (br_if $cols (i32.lt_u ${get('j')} ${get('mb')})))
      (local.set $b (i32.add ${get('b')} (i32.const 1)))
      (br_if $rows (i32.lt_u ${get('b')} ${get('rb1')}))))`;
}

/** The whole module as WebAssembly text. */
export function kernelWat(shape: KernelShape): string {
  const memory = `(import "env" "memory" (memory 1 ${MAX_PAGES}${shape.shared ? ' shared' : ''}))`;
  return `(module
  ${memory}
  (func (export "rows") (result i32) (i32.const ${shape.rows}))
  ${assignFunc(shape)}
  ${distToFunc(shape)}
)
`;
}

/** The built files, by variant; scripts/assets/10-wasm.ts writes them into wasm/build/. */
export const KERNEL_FILES = {
  simd: { file: 'kernel-simd.wasm', relaxed: false, shared: false },
  simdShared: { file: 'kernel-simd-shared.wasm', relaxed: false, shared: true },
  relaxed: { file: 'kernel-relaxed.wasm', relaxed: true, shared: false },
  relaxedShared: { file: 'kernel-relaxed-shared.wasm', relaxed: true, shared: true },
} as const;

export type KernelVariant = keyof typeof KERNEL_FILES;
