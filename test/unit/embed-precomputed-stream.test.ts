import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.ts';
import { writeNpy } from '../../src/core/npy.ts';
import { loadPrecomputed } from '../../src/embed/precomputed.ts';
import { streamPrecomputed, type PrecomputedChunk } from '../../src/embed/precomputed-stream.ts';

const npyFile = (data: Float32Array | Float64Array | Int32Array, shape: number[]): File =>
  new File([writeNpy(data, shape) as Uint8Array<ArrayBuffer>], 'emb.npy');
const text = (s: string, name: string): File => new File([s], name);

/** Every slice handed over, and the largest read of the file. */
async function stream(npy: File, ids?: File, chunkRows = 4) {
  const chunks: PrecomputedChunk[] = [];
  let largest = 0;
  const slice = npy.slice.bind(npy);
  // The reader only slices: record how much of the file one read asks for.
  Object.defineProperty(npy, 'slice', {
    value: (a?: number, b?: number) => {
      largest = Math.max(largest, (b ?? npy.size) - (a ?? 0));
      return slice(a, b);
    },
  });
  const summary = await streamPrecomputed(npy, ids, async (c) => void chunks.push(c), chunkRows);
  return { summary, chunks, largest };
}

describe('streaming a precomputed matrix', () => {
  it('hands over the same rows and ids as reading it whole, a slice at a time', async () => {
    const rng = new Rng(1);
    const data = Float32Array.from({ length: 10 * 3 }, () => rng.normal());
    data[4] = NaN; // row 1
    data[3 * 7 + 2] = Infinity; // row 7
    const ids = Array.from({ length: 10 }, (_, i) => `c${i % 3}/${i}.jpg`).join('\n');
    const whole = await loadPrecomputed(npyFile(data, [10, 3]), text(ids, 'ids.txt'));
    const { summary, chunks, largest } = await stream(
      npyFile(data, [10, 3]),
      text(ids, 'ids.txt'),
      4,
    );
    expect(summary).toEqual({ rows: 8, cols: 3, warnings: whole.warnings });
    expect(chunks.map((c) => [c.rows, c.read, c.total])).toEqual([
      [3, 4, 10],
      [3, 8, 10],
      [2, 10, 10],
    ]);
    expect(chunks.flatMap((c) => c.ids)).toEqual(whole.ids);
    expect(chunks.flatMap((c) => Array.from(c.data))).toEqual(Array.from(whole.matrix.data));
    // Never more than the header or one slice of 4 rows x 3 floats at once.
    expect(largest).toBeLessThanOrEqual(4096);
  });

  it('reads a large file in slices no bigger than one slice of rows', async () => {
    const n = 2000;
    const d = 16;
    const { summary, largest } = await stream(
      npyFile(new Float32Array(n * d).fill(0.5), [n, d]),
      undefined,
      256,
    );
    expect(summary.rows).toBe(n);
    expect(largest).toBeLessThanOrEqual(Math.max(4096, 256 * d * 4));
  });

  it('converts float64 and reads Fortran-order files whole, in the same slices', async () => {
    const f64 = await stream(npyFile(Float64Array.of(0.5, 1.5, 2.5), [3, 1]), undefined, 2);
    expect(f64.chunks.map((c) => Array.from(c.data))).toEqual([[0.5, 1.5], [2.5]]);
    expect(f64.chunks.flatMap((c) => c.ids)).toEqual(['0', '1', '2']);
    const fortran = writeNpy(Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3]);
    const h = new TextDecoder('latin1').decode(fortran);
    const at = h.indexOf('False');
    fortran.set(new TextEncoder().encode('True '), at);
    const f = await stream(new File([fortran as Uint8Array<ArrayBuffer>], 'f.npy'), undefined, 1);
    // Column-major 1..6 as a 2 x 3 matrix: rows (1, 3, 5) and (2, 4, 6).
    expect(f.chunks.map((c) => Array.from(c.data))).toEqual([
      [1, 3, 5],
      [2, 4, 6],
    ]);
  });

  it('gives the same messages as reading it whole', async () => {
    const cases: [File, File?][] = [
      [new File([new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])], 'x.npy')],
      [npyFile(Int32Array.of(1, 2), [1, 2])],
      [npyFile(Float32Array.of(1, 2, 3), [3])],
      [new File([], 'e.npy')],
      [npyFile(Float32Array.of(NaN, Infinity), [2, 1])],
      [npyFile(Float32Array.of(1, 2, 3), [3, 1]), text('a\nb\n', 'ids.txt')],
      [
        new File(
          [
            writeNpy(Float32Array.of(1, 2, 3, 4), [2, 2]).subarray(
              0,
              140,
            ) as Uint8Array<ArrayBuffer>,
          ],
          't.npy',
        ),
      ],
    ];
    for (const [npy, ids] of cases) {
      const whole = await loadPrecomputed(npy, ids).then(
        () => 'no error',
        (e: Error) => e.message,
      );
      const sliced = await streamPrecomputed(npy, ids, async () => undefined).then(
        () => 'no error',
        (e: Error) => e.message,
      );
      expect(sliced).toBe(whole);
      expect(sliced).not.toBe('no error');
    }
  });
});
