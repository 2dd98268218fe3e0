import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PickleError } from '../../src/interop/pickle.ts';
import {
  encodeIndexNpy,
  encodeSortedClustersNpy,
  readIndexNpy,
  readSortedClustersNpy,
} from '../../src/interop/sorted-clusters.ts';
import {
  HAVE_NUMPY,
  PICKLES,
  python,
  readBytes,
  runFixtureScript,
  tempDir,
} from './interop-helpers.ts';

/** The clusters every ok-*.npy holds (scripts/fixtures/hostile-pickles.py, CLUSTERS). */
const CLUSTERS = [[5, 2, 9], [], [7], [0, 1]];

const asArrays = (c: Int32Array[]): number[][] => c.map((a) => Array.from(a));

/** What each hostile file must be rejected for: the message names the cause. */
const REJECTIONS: Record<string, RegExp> = {
  'bad-os-system.npy': /refusing global posix\.system/,
  'bad-eval-proto4.npy': /refusing global builtins\.eval/,
  'bad-global-swap.npy': /refusing global os\.system/,
  'bad-dict-element.npy': /opcode EMPTY_DICT \(0x7d\) is not allowed/,
  'bad-float-element.npy': /opcode BINFLOAT \(0x47\) is not allowed/,
  'bad-python-int-element.npy': /cluster 0 is an int, not an integer array/,
  'bad-float-cluster.npy': /dtype 'f8' is not allowed/,
  'bad-2d-cluster.npy': /cluster 0 has shape \(2, 2\), not 1-D/,
  'bad-nested-object.npy': /cluster 0 is an object array, not an integer array/,
  'bad-count-mismatch.npy': /holds 4 clusters but the \.npy header says 7/,
  'bad-object-2d-header.npy': /object array of shape \(2, 2\), expected 1-D/,
  'bad-float-2d.npy': /dtype <f4 is neither an object array nor integers/,
  'bad-negative-id.npy': /cluster 0 member 1 is -5/,
  'bad-huge-id.npy': /cluster 0 member 0 is 1099511627776/,
  'bad-shape-data-mismatch.npy': /shape \(10\) and dtype i8 needs 80 bytes, has 24/,
  'bad-huge-binbytes.npy': /BINBYTES claims 4294967280 bytes but only \d+ are left/,
  'bad-huge-unicode8.npy': /BINUNICODE8 length 4611686018427387904 is absurd/,
  'bad-huge-shape.npy': /array shape \[1099511627776\] is absurdly large/,
  'bad-truncated.npy': /truncated/,
  'bad-no-stop.npy': /ends without STOP/,
  'bad-trailing-bytes.npy': /8 bytes follow STOP/,
  'bad-header-truncated.npy': /header claims \d+ bytes: the file is truncated/,
  'bad-not-npy.npy': /not a \.npy file/,
  'bad-memo-missing.npy': /GET of memo entry 200, which was never stored/,
  'bad-deep-marks.npy': /MARKs nest deeper than 64/,
  'bad-memo-bomb.npy': /STOP with 41 values on the stack, not 1/,
  'bad-self-append.npy': /holds a list, not a numpy array/,
  'bad-empty-pickle.npy': /ends without STOP/,
  'bad-proto9.npy': /protocol 9 is not one numpy writes/,
};

function rejection(bytes: Uint8Array): Error | undefined {
  try {
    readSortedClustersNpy(bytes, { name: 'f.npy' });
    return undefined;
  } catch (e) {
    return e as Error;
  }
}

describe('reading real numpy cluster files', () => {
  it('reads what np.save and pickle protocols 2, 3, 4 and 5 write', () => {
    for (const f of [
      'ok-np-save.npy',
      'ok-proto2.npy',
      'ok-proto3.npy',
      'ok-proto4.npy',
      'ok-proto5.npy',
    ]) {
      expect(asArrays(readSortedClustersNpy(readBytes(join(PICKLES, f)))), f).toEqual(CLUSTERS);
    }
  });

  it('reads big-endian and 32-bit member arrays, and a plain 2-D integer array', () => {
    expect(
      asArrays(readSortedClustersNpy(readBytes(join(PICKLES, 'ok-mixed-dtypes.npy')))),
    ).toEqual(CLUSTERS);
    expect(asArrays(readSortedClustersNpy(readBytes(join(PICKLES, 'ok-plain-2d.npy'))))).toEqual([
      [3, 1],
      [0, 2],
    ]);
  });

  it('checks member ids against the size of the level below', () => {
    const bytes = readBytes(join(PICKLES, 'ok-np-save.npy'));
    expect(() =>
      readSortedClustersNpy(bytes, { idLimit: 9, name: 'level1/sorted_clusters.npy' }),
    ).toThrow(/level1\/sorted_clusters\.npy: cluster 0 member 2 is 9: ids must lie in \[0, 9\)/);
    expect(readSortedClustersNpy(bytes, { idLimit: 10 })).toHaveLength(4);
  });
});

describe('hostile cluster files', () => {
  it('names every bad-*.npy fixture in this table', () => {
    const bad = readdirSync(PICKLES).filter((f) => f.startsWith('bad-'));
    expect(bad.sort()).toEqual(Object.keys(REJECTIONS).sort());
  });

  for (const [file, reason] of Object.entries(REJECTIONS)) {
    it(`rejects ${file} with a clear message`, () => {
      const e = rejection(readBytes(join(PICKLES, file)));
      expect(e).toBeInstanceOf(PickleError);
      expect(e?.message).toMatch(/^f\.npy: /);
      expect(e?.message).toMatch(reason);
    });
  }

  it('survives 3000 random corruptions of a real file: a result or a PickleError, nothing else', () => {
    const good = readBytes(join(PICKLES, 'ok-np-save.npy'));
    let seed = 12345;
    const rand = (n: number): number => {
      // xorshift32: deterministic corruptions, so a failure reproduces
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    let rejected = 0;
    for (let trial = 0; trial < 3000; trial++) {
      let b = good.slice();
      const kind = rand(3);
      if (kind === 0) {
        for (let j = 0; j <= rand(4); j++) b[128 + rand(b.length - 128)] = rand(256);
      } else if (kind === 1) {
        b = b.subarray(0, 128 + rand(b.length - 128));
      } else {
        const at = 128 + rand(b.length - 128);
        const ins = new Uint8Array(1 + rand(8)).map(() => rand(256));
        b = new Uint8Array([...b.subarray(0, at), ...ins, ...b.subarray(at)]);
      }
      const e = rejection(b);
      if (e) {
        expect(e, `trial ${trial}: ${e.stack}`).toBeInstanceOf(PickleError);
        rejected++;
      }
    }
    // Most corruptions must be caught; a flipped id byte can still be a valid file.
    expect(rejected).toBeGreaterThan(1500);
  });
});

describe('writing cluster files', () => {
  const many = Array.from({ length: 2500 }, (_, i) => (i % 7 === 0 ? [] : [i, i + 1, 40000 + i]));
  const big = [Array.from({ length: 300 }, (_, i) => 299 - i), [1]];

  it('reads back what it writes, across append batches and long clusters', () => {
    for (const clusters of [CLUSTERS, many, big, []]) {
      expect(asArrays(readSortedClustersNpy(encodeSortedClustersNpy(clusters)))).toEqual(clusters);
    }
  });

  it('writes a 64-byte aligned header and int64 selections', () => {
    const bytes = encodeSortedClustersNpy(CLUSTERS);
    const headerLen = bytes[8] | (bytes[9] << 8);
    expect((10 + headerLen) % 64).toBe(0);
    expect(Array.from(readIndexNpy(encodeIndexNpy([4, 0, 2 ** 31 - 1])))).toEqual([
      4,
      0,
      2 ** 31 - 1,
    ]);
  });

  it.skipIf(!HAVE_NUMPY)('writes files numpy loads as object arrays of int64 arrays', () => {
    const dir = tempDir();
    const files = { small: CLUSTERS, many, big, empty: [] as number[][] };
    for (const [name, clusters] of Object.entries(files)) {
      writeFileSync(join(dir, `${name}.npy`), encodeSortedClustersNpy(clusters));
    }
    writeFileSync(join(dir, 'sel.npy'), encodeIndexNpy([3, 1, 4]));
    const out = python(
      `
import json, sys, numpy as np
res = {}
for name in ['small', 'many', 'big', 'empty']:
    a = np.load(f'{sys.argv[1]}/{name}.npy', allow_pickle=True)
    assert a.dtype == object and a.ndim == 1, (a.dtype, a.shape)
    assert all(x.dtype == np.int64 and x.ndim == 1 for x in a)
    res[name] = [x.tolist() for x in a]
s = np.load(f'{sys.argv[1]}/sel.npy')
res['sel'] = [str(s.dtype), s.tolist()]
print(json.dumps(res))
`,
      dir,
    );
    expect(JSON.parse(out)).toEqual({ ...files, sel: ['int64', [3, 1, 4]] });
  });

  it.skipIf(!HAVE_NUMPY)(
    'reads a numpy-written file of 2500 clusters (several append batches)',
    () => {
      const dir = tempDir();
      python(
        `
import sys, numpy as np
a = np.empty(2500, dtype=object)
for i in range(2500): a[i] = np.arange(i % 5, dtype=np.int64) * 1000 + i
np.save(sys.argv[1] + '/many.npy', a, allow_pickle=True)
`,
        dir,
      );
      const got = readSortedClustersNpy(readBytes(join(dir, 'many.npy')));
      expect(got).toHaveLength(2500);
      expect(Array.from(got[1234])).toEqual([1234, 2234, 3234, 4234]);
      expect(got[2000]).toHaveLength(0);
    },
  );

  it.skipIf(!HAVE_NUMPY)('the committed fixtures are what the script writes today', () => {
    const fresh = runFixtureScript('hostile-pickles.py');
    const names = readdirSync(fresh).sort();
    expect(names).toEqual(readdirSync(PICKLES).sort());
    for (const f of names) {
      const e = rejection(readBytes(join(fresh, f)));
      if (f.startsWith('ok-')) expect(e, f).toBeUndefined();
      else expect(e?.message, f).toMatch(REJECTIONS[f]);
    }
  });
});
