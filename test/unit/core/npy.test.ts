import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/core/errors.ts';
import { NpyError, npyHeader, parseNpy, writeNpy } from '../../../src/core/npy.ts';

/** Files written by NumPy 2.4 (np.save / numpy.lib.format.write_array), base64. */
const NUMPY = {
  // np.arange(6, dtype='<f4').reshape(2, 3) / 4
  f32: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAACAPgAAAD8AAEA/AACAPwAAoD8=',
  // [[1.5, -2.25], [3, 4]] as <f8, format version 2.0
  f64v2:
    'k05VTVBZAgB0AAAAeydkZXNjcic6ICc8ZjgnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwgMiksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAD4PwAAAAAAAALAAAAAAAAACEAAAAAAAAAQQA==',
  // [7, -1, 2**40] as <i8, format version 3.0
  i64v3:
    'k05VTVBZAwB0AAAAeydkZXNjcic6ICc8aTgnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMywpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoHAAAAAAAAAP//////////AAAAAAABAAA=',
  // np.asfortranarray(np.arange(6, dtype='<i4').reshape(2, 3))
  fortran:
    'k05VTVBZAQB2AHsnZGVzY3InOiAnPGk0JywgJ2ZvcnRyYW5fb3JkZXInOiBUcnVlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAwAAAAEAAAAEAAAAAgAAAAUAAAA=',
  // np.arange(3, dtype='>f4')
  bigEndian:
    'k05VTVBZAQB2AHsnZGVzY3InOiAnPmY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAP4AAAEAAAAA=',
  // np.array([np.arange(2), np.arange(3)], dtype=object), saved with allow_pickle=True
  object:
    'k05VTVBZAQB2AHsnZGVzY3InOiAnfE8nLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAqABJUSAQAAAAAAAIwWbnVtcHkuX2NvcmUubXVsdGlhcnJheZSMDF9yZWNvbnN0cnVjdJSTlIwFbnVtcHmUjAduZGFycmF5lJOUSwCFlEMBYpSHlFKUKEsBSwKFlGgDjAVkdHlwZZSTlIwCTziUiYiHlFKUKEsDjAF8lE5OTkr/////Sv////9LP3SUYoldlChoAmgFSwCFlGgHh5RSlChLAUsChZRoDIwCaTiUiYiHlFKUKEsDjAE8lE5OTkr/////Sv////9LAHSUYolDEAAAAAAAAAAAAQAAAAAAAACUdJRiaAJoBUsAhZRoB4eUUpQoSwFLA4WUaBmJQxgAAAAAAAAAAAEAAAAAAAAAAgAAAAAAAACUdJRiZXSUYi4=',
  // [[1, 2], [3, 255]] as uint8
  u8: 'k05VTVBZAQB2AHsnZGVzY3InOiAnfHUxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDIpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAgP/',
};

function bytes(b64: string): Uint8Array {
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

describe('parseNpy', () => {
  it('reads NumPy files of every supported version', () => {
    const f32 = parseNpy(bytes(NUMPY.f32));
    expect(f32.dtype).toBe('float32');
    expect(f32.shape).toEqual([2, 3]);
    expect(Array.from(f32.data as Float32Array)).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);
    const f64 = parseNpy(bytes(NUMPY.f64v2));
    expect(f64.dtype).toBe('float64');
    expect(Array.from(f64.data as Float64Array)).toEqual([1.5, -2.25, 3, 4]);
    const i64 = parseNpy(bytes(NUMPY.i64v3));
    expect(i64.shape).toEqual([3]);
    expect(Array.from(i64.data as BigInt64Array)).toEqual([7n, -1n, 2n ** 40n]);
    const u8 = parseNpy(bytes(NUMPY.u8));
    expect(Array.from(u8.data as Uint8Array)).toEqual([1, 2, 3, 255]);
  });

  it('transposes Fortran-order arrays into C order', () => {
    const f = parseNpy(bytes(NUMPY.fortran));
    expect(f.fortranOrder).toBe(true);
    expect(f.shape).toEqual([2, 3]);
    expect(Array.from(f.data as Int32Array)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('reads data at an unaligned offset by copying it', () => {
    const src = bytes(NUMPY.f64v2);
    const shifted = new Uint8Array(src.length + 3);
    shifted.set(src, 3);
    const a = parseNpy(shifted.subarray(3));
    expect(Array.from(a.data as Float64Array)).toEqual([1.5, -2.25, 3, 4]);
  });

  it('gives a specific error for each unreadable file', () => {
    const f32 = bytes(NUMPY.f32);
    const cases: [Uint8Array, RegExp][] = [
      [new TextEncoder().encode('hello, world, not numpy'), /bad magic/],
      [new Uint8Array(0), /bad magic/],
      [
        f32.subarray(0, f32.length - 3),
        /truncated .npy data: shape \(2, 3\) needs 24 bytes, the file has 21/,
      ],
      [f32.subarray(0, 40), /truncated .npy header/],
      [bytes(NUMPY.bigEndian), /big-endian arrays \(>f4\) are not supported/],
      [bytes(NUMPY.object), /pickled object arrays are not supported here/],
    ];
    for (const [input, message] of cases) {
      expect(() => parseNpy(input)).toThrow(NpyError);
      expect(() => parseNpy(input)).toThrow(message);
    }
    // An unsupported dtype (complex64) and an unknown version.
    const complex = writeNpy(new Float32Array(2), [2]);
    complex.set(new TextEncoder().encode("'<c8'"), complex.indexOf(0x27, 10 + 8));
    expect(() => parseNpy(complex)).toThrow(/unsupported dtype '<c8'/);
    const v9 = f32.slice();
    v9[6] = 9;
    expect(() => parseNpy(v9)).toThrow(/unsupported .npy format version 9/);
    expect(new NpyError('x')).toBeInstanceOf(InputError);
  });
});

describe('writeNpy', () => {
  it('writes byte-for-byte what NumPy writes', () => {
    const a = Float32Array.from([0, 0.25, 0.5, 0.75, 1, 1.25]);
    expect(writeNpy(a, [2, 3])).toEqual(bytes(NUMPY.f32));
  });

  it('round-trips every dtype with a 64-byte aligned header', () => {
    const arrays = [
      Float32Array.from([1, -2, 3.5]),
      Float64Array.from([1e-300, 2, -3]),
      Int8Array.from([-1, 2, 3]),
      Int16Array.from([-300, 2, 3]),
      Int32Array.from([-1e9, 2, 3]),
      BigInt64Array.from([-(2n ** 60n), 2n, 3n]),
      Uint8Array.from([255, 0, 1]),
      Uint16Array.from([65535, 0, 1]),
      Uint32Array.from([4e9, 0, 1]),
      BigUint64Array.from([2n ** 63n, 0n, 1n]),
    ];
    for (const a of arrays) {
      const file = writeNpy(a, [3, 1]);
      const header = npyHeader(parseNpy(file).dtype, [3, 1]);
      expect(header.length % 64).toBe(0);
      const back = parseNpy(file);
      expect(back.shape).toEqual([3, 1]);
      expect(back.data).toEqual(a);
    }
    expect(parseNpy(writeNpy(new Float32Array(0), [0, 4])).shape).toEqual([0, 4]);
    expect(() => writeNpy(new Float32Array(5), [2, 3])).toThrow(/holds 6 values, the data 5/);
  });

  it('streams: header then raw data equals writeNpy', () => {
    const a = Int32Array.from([5, 6, 7, 8]);
    const header = npyHeader('int32', [4]);
    const joined = new Uint8Array(header.length + a.byteLength);
    joined.set(header);
    joined.set(new Uint8Array(a.buffer), header.length);
    expect(joined).toEqual(writeNpy(a, [4]));
  });
});
