/**
 * The CPU k-means kernel, written as WebAssembly text with its register-blocked loops unrolled by
 * this generator (so the block shape stays one constant, not hand-copied code). Assembled into
 * .wasm by scripts/assets/10-wasm.ts with binaryen; read by src/cpu/.
 *
 * Memory layout (all offsets are byte addresses chosen by src/cpu/wasm-kernel.ts):
 * - x is packed in blocks of KERNEL_ROWS rows: block b, chunk q (4 floats of the row, D padded
 *   with zeros to d4, a multiple of 4), row r at xp + ((b * d4/4 + q) * KERNEL_ROWS + r) * 16.
 *   Rows past N are zero. One pointer then walks a whole block; every load has a constant offset.
 * - centroids (and k-means++ candidates) are packed the same way in blocks of 4:
 *   block j, chunk q, centroid c at cp + ((j * d4/4 + q) * 4 + c) * 16. Padding centroids are
 *   zero; in assign they get |c|^2 = +Infinity, so they never win an argmin.
 *
 * Why the dot-product form with 4 centroids per block: the 4 sums of a row against a block of 4
 * centroids reduce (hsum4) into one f32x4 whose lanes line up with 4 centroid indices, so the
 * argmin runs 4 lanes at a time and the reduction costs 6 shuffles + 3 adds per 16 dot products.
 */

export interface KernelShape {
  /** rows per register block (the accumulators are rows x 4 f32x4), 1 to 4 */
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
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const lines = (n: number, f: (i: number) => string): string => range(n).map(f).join('\n');
const locals = (names: readonly string[]): string => names.map((l) => `(local $${l})`).join(' ');

/**
 * $s = [sum a0, sum a1, sum a2, sum a3] of four f32x4 expressions (missing ones count as 0).
 * Every lane is reduced as (l0 + l2) + (l1 + l3) whatever its position, so a row's |x|^2 and
 * its dot product with an identical row come out bit-for-bit equal (see distTo).
 */
function hsum4(a: readonly string[]): string {
  const v = [0, 1, 2, 3].map((i) => a[i] ?? f4(0));
  return `
    (local.set $s01 (f32x4.add ${shuffle(v[0], v[1], 0, 4, 1, 5)} ${shuffle(v[0], v[1], 2, 6, 3, 7)}))
    (local.set $s23 (f32x4.add ${shuffle(v[2], v[3], 0, 4, 1, 5)} ${shuffle(v[2], v[3], 2, 6, 3, 7)}))
    (local.set $s (f32x4.add ${shuffle(get('s01'), get('s23'), 0, 1, 4, 5)} ${shuffle(get('s01'), get('s23'), 2, 3, 6, 7)}))`;
}
const HSUM_LOCALS = ['s v128', 's01 v128', 's23 v128'];

function madd(shape: KernelShape, a: string, b: string, acc: string): string {
  return shape.relaxed
    ? `(f32x4.relaxed_madd ${a} ${b} ${acc})`
    : `(f32x4.add (f32x4.mul ${a} ${b}) ${acc})`;
}

/** Locals of dotBlock and rowNorms. */
function blockLocals(shape: KernelShape): string[] {
  const rs = range(shape.rows);
  return [
    'xb i32',
    'xend i32',
    'px i32',
    'pc i32',
    ...rs.flatMap((r) => range(4).map((c) => `a${r}${c} v128`)),
    ...range(4).map((c) => `c${c} v128`),
    ...rs.map((r) => `x${r} v128`),
    ...HSUM_LOCALS,
  ];
}

/**
 * $a{r}{c} = row r of the block at $xb (ending at $xend) . centroid c of the block at $pc, over
 * all d4 values; leaves $pc at the next centroid block.
 */
function dotBlock(shape: KernelShape): string {
  const R = shape.rows;
  return `
    ${lines(R * 4, (i) => `(local.set $a${(i / 4) | 0}${i % 4} ${f4(0)})`)}
    (local.set $px ${get('xb')})
    (loop $q
      ${lines(4, (c) => `(local.set $c${c} (v128.load offset=${c * 16} ${get('pc')}))`)}
      ${lines(
        R,
        (r) => `(local.set $x${r} (v128.load offset=${r * 16} ${get('px')}))
      ${lines(4, (c) => `(local.set $a${r}${c} ${madd(shape, get(`x${r}`), get(`c${c}`), get(`a${r}${c}`))})`)}`,
      )}
      (local.set $px (i32.add ${get('px')} (i32.const ${R * 16})))
      (local.set $pc (i32.add ${get('pc')} (i32.const 64)))
      (br_if $q (i32.lt_u ${get('px')} ${get('xend')})))`;
}

/** $s lane r = |row r|^2 of the block at $xb, accumulated exactly like dotBlock's products. */
function rowNorms(shape: KernelShape): string {
  const R = shape.rows;
  return `
    ${lines(R, (r) => `(local.set $x${r} ${f4(0)})`)}
    (local.set $px ${get('xb')})
    (loop $nq
      ${lines(
        R,
        (r) => `(local.set $c0 (v128.load offset=${r * 16} ${get('px')}))
      (local.set $x${r} ${madd(shape, get('c0'), get('c0'), get(`x${r}`))})`,
      )}
      (local.set $px (i32.add ${get('px')} (i32.const ${R * 16})))
      (br_if $nq (i32.lt_u ${get('px')} ${get('xend')})))
    ${hsum4(range(R).map((r) => get(`x${r}`)))}`;
}

/** Sets $xb/$xend to row block $b. */
function rowBlock(shape: KernelShape): string {
  const bytes = `(i32.mul ${get('d4')} (i32.const ${shape.rows * 4}))`;
  return `
    (local.set $xb (i32.add ${get('xp')} (i32.mul ${get('b')} ${bytes})))
    (local.set $xend (i32.add ${get('xb')} ${bytes}))`;
}

/**
 * assign(xp, d4, rb0, rb1, cp, c2p, kb, labels, dist, state, kc): for every row block b in
 * [rb0, rb1), every row of it, the nearest of the kb*4 packed centroids: labels[row] (i32) and
 * dist[row] = max(0, |x|^2 + min_j(|c_j|^2 - 2 x.c_j)) (f32), |c_j|^2 read from c2p (f32 each).
 * Ties go to the lowest index.
 *
 * Cache blocking: the centroids are walked in chunks of kc blocks, each chunk against all rows
 * of [rb0, rb1) before the next, so a chunk is read from L2 once per row block instead of
 * streaming all K x D centroids from memory for every 2 rows. Between chunks each row's
 * running best (4 lanes of value + index) waits in `state` (32 bytes per row, by row index).
 */
function assignFunc(shape: KernelShape): string {
  const R = shape.rows;
  const vars = locals([
    ...blockLocals(shape),
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
    ...range(R).map((r) => `bv${r} v128`),
    ...range(R).map((r) => `bi${r} v128`),
    'jv v128',
    'vals v128',
    'm v128',
  ]);

  // Fold the block's 4 centroids into each row's per-lane best (strict <: earlier block wins).
  const fold = lines(
    R,
    (r) => `${hsum4(range(4).map((c) => get(`a${r}${c}`)))}
    (local.set $vals (f32x4.sub (v128.load ${get('c2q')}) (f32x4.add ${get('s')} ${get('s')})))
    (local.set $m (f32x4.lt ${get('vals')} ${get(`bv${r}`)}))
    (local.set $bv${r} (v128.bitselect ${get('vals')} ${get(`bv${r}`)} ${get('m')}))
    (local.set $bi${r} (v128.bitselect ${get('jv')} ${get(`bi${r}`)} ${get('m')}))`,
  );

  // Lanes -> one (value, index): min value, lowest index among equal values. $s holds |x|^2.
  const finish = lines(
    R,
    (r) => `
    (local.set $bestv (f32x4.extract_lane 0 ${get(`bv${r}`)}))
    (local.set $bestl (i32x4.extract_lane 0 ${get(`bi${r}`)}))
    ${lines(
      3,
      (i) => `
    (local.set $lv (f32x4.extract_lane ${i + 1} ${get(`bv${r}`)}))
    (local.set $li (i32x4.extract_lane ${i + 1} ${get(`bi${r}`)}))
    (if (i32.or (f32.lt ${get('lv')} ${get('bestv')})
                (i32.and (f32.eq ${get('lv')} ${get('bestv')}) (i32.lt_s ${get('li')} ${get('bestl')})))
      (then (local.set $bestv ${get('lv')}) (local.set $bestl ${get('li')})))`,
    )}
    (local.set $row (i32.add (i32.mul ${get('b')} (i32.const ${R})) (i32.const ${r})))
    (i32.store (i32.add ${get('labels')} (i32.shl ${get('row')} (i32.const 2))) ${get('bestl')})
    (f32.store (i32.add ${get('dist')} (i32.shl ${get('row')} (i32.const 2)))
      (f32.max (f32.const 0) (f32.add (f32x4.extract_lane ${r} ${get('s')}) ${get('bestv')})))`,
  );

  return `
  (func (export "assign") (param $xp i32) (param $d4 i32) (param $rb0 i32) (param $rb1 i32)
      (param $cp i32) (param $c2p i32) (param $kb i32) (param $labels i32) (param $dist i32)
      (param $state i32) (param $kc i32)
    ${vars}
    (if (i32.ge_u ${get('rb0')} ${get('rb1')}) (then (return)))
    (local.set $j0 (i32.const 0))
    (loop $chunks
      (local.set $j1 (select (i32.add ${get('j0')} ${get('kc')}) ${get('kb')}
        (i32.lt_u (i32.add ${get('j0')} ${get('kc')}) ${get('kb')})))
      (local.set $b ${get('rb0')})
      (loop $rows
        ${rowBlock(shape)}
        (local.set $st (i32.add ${get('state')} (i32.mul ${get('b')} (i32.const ${R * 32}))))
        (if (i32.eqz ${get('j0')})
          (then
            ${lines(R, (r) => `(local.set $bv${r} ${f4(Infinity)})`)}
            ${lines(R, (r) => `(local.set $bi${r} (v128.const i32x4 0 1 2 3))`)})
          (else
            ${lines(R, (r) => `(local.set $bv${r} (v128.load offset=${r * 32} ${get('st')}))`)}
            ${lines(R, (r) => `(local.set $bi${r} (v128.load offset=${r * 32 + 16} ${get('st')}))`)}))
        (local.set $jv (i32x4.add (i32x4.splat (i32.shl ${get('j0')} (i32.const 2)))
          (v128.const i32x4 0 1 2 3)))
        (local.set $pc (i32.add ${get('cp')} (i32.mul ${get('j0')} (i32.shl ${get('d4')} (i32.const 4)))))
        (local.set $c2q (i32.add ${get('c2p')} (i32.shl ${get('j0')} (i32.const 4))))
        (local.set $j ${get('j0')})
        (loop $cols
          ${dotBlock(shape)}
          ${fold}
          (local.set $jv (i32x4.add ${get('jv')} (v128.const i32x4 4 4 4 4)))
          (local.set $c2q (i32.add ${get('c2q')} (i32.const 16)))
          (local.set $j (i32.add ${get('j')} (i32.const 1)))
          (br_if $cols (i32.lt_u ${get('j')} ${get('j1')})))
        (if (i32.ge_u ${get('j1')} ${get('kb')})
          (then
            ${rowNorms(shape)}
            ${finish})
          (else
            ${lines(R, (r) => `(v128.store offset=${r * 32} ${get('st')} ${get(`bv${r}`)})`)}
            ${lines(R, (r) => `(v128.store offset=${r * 32 + 16} ${get('st')} ${get(`bi${r}`)})`)}))
        (local.set $b (i32.add ${get('b')} (i32.const 1)))
        (br_if $rows (i32.lt_u ${get('b')} ${get('rb1')})))
      (local.set $j0 ${get('j1')})
      (br_if $chunks (i32.lt_u ${get('j0')} ${get('kb')}))))`;
}

/**
 * norms4(cp, mb, d4, out): |c|^2 of the mb*4 packed candidates, as one f32x4 per block at
 * out + j*16, accumulated exactly like dotBlock's products and reduced by hsum4.
 */
function norms4Func(shape: KernelShape): string {
  return `
  (func (export "norms4") (param $cp i32) (param $mb i32) (param $d4 i32) (param $out i32)
    ${locals(['pc i32', 'end i32', 'j i32', 'v v128', ...range(4).map((c) => `a${c} v128`), ...HSUM_LOCALS])}
    (if (i32.eqz ${get('mb')}) (then (return)))
    (local.set $pc ${get('cp')})
    (loop $blocks
      ${lines(4, (c) => `(local.set $a${c} ${f4(0)})`)}
      (local.set $end (i32.add ${get('pc')} (i32.shl ${get('d4')} (i32.const 4))))
      (loop $q
        ${lines(
          4,
          (c) => `(local.set $v (v128.load offset=${c * 16} ${get('pc')}))
        (local.set $a${c} ${madd(shape, get('v'), get('v'), get(`a${c}`))})`,
        )}
        (local.set $pc (i32.add ${get('pc')} (i32.const 64)))
        (br_if $q (i32.lt_u ${get('pc')} ${get('end')})))
      ${hsum4(range(4).map((c) => get(`a${c}`)))}
      (v128.store (i32.add ${get('out')} (i32.shl ${get('j')} (i32.const 4))) ${get('s')})
      (local.set $j (i32.add ${get('j')} (i32.const 1)))
      (br_if $blocks (i32.lt_u ${get('j')} ${get('mb')}))))`;
}

/**
 * distTo(xp, d4, rb0, rb1, cp, c2p, mb, out, stride): out[j * stride + row] =
 * max(0, |x_row|^2 + |cand_j|^2 - 2 x_row.cand_j) for the mb*4 packed candidates, |cand|^2 from
 * norms4 at c2p. The same multiply-add loop as assign: a difference-of-rows form needs a
 * subtract and a multiply-add per value, and one k-means++ step on W1's rows (N 100k x D 384,
 * 8 candidates, Chromium, relaxed SIMD, 1 thread) ran at 15.2 GFLOP/s that way against 23.7
 * this way. A row identical to a candidate still gets exactly 0: its |x|^2, |c|^2 and x.c are
 * the same sums in the same order.
 */
function distToFunc(shape: KernelShape): string {
  const R = shape.rows;
  const vars = locals([...blockLocals(shape), 'c2q i32', 'j i32', 'b i32', 'o i32', 'xn v128']);
  // out offset of (candidate 4j + c, row b*R + r) = $o + (c * stride + b*R + r) * 4
  const store = lines(
    R,
    (r) => `${hsum4(range(4).map((c) => get(`a${r}${c}`)))}
    (local.set $s (f32x4.max ${f4(0)} (f32x4.sub
      (f32x4.add (f32x4.splat (f32x4.extract_lane ${r} ${get('xn')})) (v128.load ${get('c2q')}))
      (f32x4.add ${get('s')} ${get('s')}))))
    ${lines(
      4,
      (
        c,
      ) => `(f32.store (i32.add ${get('o')} (i32.shl (i32.add (i32.mul (i32.const ${c}) ${get('stride')})
        (i32.add (i32.mul ${get('b')} (i32.const ${R})) (i32.const ${r}))) (i32.const 2)))
      (f32x4.extract_lane ${c} ${get('s')}))`,
    )}`,
  );
  return `
  (func (export "distTo") (param $xp i32) (param $d4 i32) (param $rb0 i32) (param $rb1 i32)
      (param $cp i32) (param $c2p i32) (param $mb i32) (param $out i32) (param $stride i32)
    ${vars}
    (if (i32.ge_u ${get('rb0')} ${get('rb1')}) (then (return)))
    (local.set $b ${get('rb0')})
    (loop $rows
      ${rowBlock(shape)}
      ${rowNorms(shape)}
      (local.set $xn ${get('s')})
      (local.set $pc ${get('cp')})
      (local.set $c2q ${get('c2p')})
      (local.set $o ${get('out')})
      (local.set $j (i32.const 0))
      (loop $cols
        ${dotBlock(shape)}
        ${store}
        (local.set $c2q (i32.add ${get('c2q')} (i32.const 16)))
        (local.set $o (i32.add ${get('o')} (i32.shl ${get('stride')} (i32.const 4))))
        (local.set $j (i32.add ${get('j')} (i32.const 1)))
        (br_if $cols (i32.lt_u ${get('j')} ${get('mb')})))
      (local.set $b (i32.add ${get('b')} (i32.const 1)))
      (br_if $rows (i32.lt_u ${get('b')} ${get('rb1')}))))`;
}

/** The whole module as WebAssembly text. */
export function kernelWat(shape: KernelShape): string {
  if (!(shape.rows >= 1 && shape.rows <= 4)) throw new RangeError('rows must be 1 to 4');
  const memory = `(import "env" "memory" (memory 1 ${MAX_PAGES}${shape.shared ? ' shared' : ''}))`;
  return `(module
  ${memory}
  (func (export "rows") (result i32) (i32.const ${shape.rows}))
  ${assignFunc(shape)}
  ${norms4Func(shape)}
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
