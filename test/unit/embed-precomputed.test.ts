import { describe, expect, it } from 'vitest';
import { writeNpy } from '../../src/core/npy.ts';
import { loadPrecomputed, parseIds } from '../../src/embed/precomputed.ts';

const npyFile = (
  data: Float32Array | Float64Array | Int32Array,
  shape: number[],
  name = 'emb.npy',
): File => new File([writeNpy(data, shape) as Uint8Array<ArrayBuffer>], name);
const text = (s: string, name: string): File => new File([s], name);

describe('loadPrecomputed', () => {
  it('loads float32 rows with ids from a .txt file', async () => {
    const r = await loadPrecomputed(
      npyFile(Float32Array.of(1, 2, 3, 4, 5, 6), [3, 2]),
      text('a.jpg\nb.jpg\nc.jpg\n', 'ids.txt'),
    );
    expect(r.matrix).toMatchObject({ rows: 3, cols: 2 });
    expect(Array.from(r.matrix.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(r.ids).toEqual(['a.jpg', 'b.jpg', 'c.jpg']);
    expect(r.warnings).toEqual([]);
  });

  it('converts float64 and numbers the rows when there is no ids file', async () => {
    const r = await loadPrecomputed(npyFile(Float64Array.of(0.5, 1.5), [2, 1]));
    expect(r.matrix.data).toBeInstanceOf(Float32Array);
    expect(Array.from(r.matrix.data)).toEqual([0.5, 1.5]);
    expect(r.ids).toEqual(['0', '1']);
  });

  it('drops NaN/inf rows and lists them in a warning', async () => {
    const r = await loadPrecomputed(
      npyFile(Float32Array.of(1, 1, NaN, 2, 3, 3, 4, Infinity), [4, 2]),
      text('id\nw\nx\ny\nz\n', 'ids.csv'),
    );
    expect(r.ids).toEqual(['w', 'y']);
    expect(Array.from(r.matrix.data)).toEqual([1, 1, 3, 3]);
    expect(r.warnings).toEqual([
      'Dropped 2 of 4 rows with NaN or infinite values: rows 1 (x), 3 (z).',
    ]);
  });

  it('explains malformed headers, wrong dtypes and shapes', async () => {
    const junk = new File([new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])], 'x.npy');
    await expect(loadPrecomputed(junk)).rejects.toThrow(/^x\.npy: not a \.npy file/);
    const bad = writeNpy(Float32Array.of(1, 2), [1, 2]);
    bad.set(new TextEncoder().encode("{'dexxx"), 10); // 'descr' key no longer present
    await expect(
      loadPrecomputed(new File([bad as Uint8Array<ArrayBuffer>], 'h.npy')),
    ).rejects.toThrow(/h\.npy: malformed \.npy header/);
    await expect(loadPrecomputed(npyFile(Int32Array.of(1, 2), [1, 2]))).rejects.toThrow(
      /emb\.npy holds int32 values; embeddings must be float32 or float64/,
    );
    await expect(loadPrecomputed(npyFile(Float32Array.of(1, 2, 3), [3]))).rejects.toThrow(
      /emb\.npy is 1-D with shape \(3\); expected a 2-D array/,
    );
    await expect(loadPrecomputed(new File([], 'e.npy'))).rejects.toThrow(/e\.npy is empty/);
  });

  it('refuses an ids file whose count disagrees or repeats an id', async () => {
    const npy = npyFile(Float32Array.of(1, 2, 3), [3, 1]);
    await expect(loadPrecomputed(npy, text('a\nb\n', 'ids.txt'))).rejects.toThrow(
      'ids.txt lists 2 ids but emb.npy has 3 rows; they must match one to one.',
    );
    await expect(loadPrecomputed(npy, text('a\nb\na\n', 'ids.txt'))).rejects.toThrow(
      'ids.txt: id "a" appears twice (entries 1 and 3); ids must be unique.',
    );
    await expect(loadPrecomputed(npy, text('a\n\nc\n', 'ids.txt'))).rejects.toThrow(
      'ids.txt: line 2 is empty; every row needs an id.',
    );
  });
});

describe('parseIds', () => {
  it('reads CSV with a header (id column by name, quoted cells) or without one', () => {
    expect(parseIds('label,path\ncat,"a, b.jpg"\ndog,c.jpg\n', 'm.csv', 2)).toEqual([
      'a, b.jpg',
      'c.jpg',
    ]);
    expect(parseIds('x.jpg,1\ny.jpg,2\n', 'm.csv', 2)).toEqual(['x.jpg', 'y.jpg']);
    expect(parseIds('name,score\nx,1\ny,2', 'm.csv', 2)).toEqual(['x', 'y']);
  });
  it('reads JSON lines of strings, numbers or objects', () => {
    expect(parseIds('"a"\n7\n{"path":"p.png","label":1}\n', 'ids.jsonl', 3)).toEqual([
      'a',
      '7',
      'p.png',
    ]);
    expect(() => parseIds('{"label":1}\n', 'ids.jsonl', 1)).toThrow(/ids\.jsonl: line 1 has no id/);
    expect(() => parseIds('{oops\n', 'ids.jsonl', 1)).toThrow(
      'ids.jsonl: line 1 is not valid JSON.',
    );
  });
});
