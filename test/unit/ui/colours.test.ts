import { describe, expect, it } from 'vitest';
import {
  CURATED,
  EXCLUDED,
  INCLUDED,
  POOL,
  SET_ASIDE,
  pointColours,
} from '../../../src/ui/explore/colours';
import type { RowFacts } from '../../../src/pipeline/contract';

/** Five rows: pool, curated, excluded by hand, set aside, set aside but kept by hand. */
const facts: RowFacts = {
  clusters: [Int32Array.from([0, 1, 2, 0, 1])],
  labels: ['a'],
  labelOfRow: Int32Array.from([0, 0, -1, 0, 0]),
  selected: Uint8Array.from([0, 1, 0, 0, 1]),
  sampled: Uint8Array.from([0, 1, 1, 0, 0]),
  dist2: new Float32Array(5),
  duplicateGroup: Int32Array.from([-1, -1, -1, 0, 0]),
  setAside: Uint8Array.from([0, 0, 0, 1, 1]),
};

const rgb = (out: Uint8Array, i: number): number[] => [...out.subarray(4 * i, 4 * i + 3)];

describe('map point colours', () => {
  it('colours set-aside near-duplicates apart, and one kept by hand as included', () => {
    const out = pointColours({ facts, by: 'curated', level: 1 });
    expect(rgb(out, 0)).toEqual([...POOL]);
    expect(rgb(out, 1)).toEqual([...CURATED]);
    expect(rgb(out, 2)).toEqual([...EXCLUDED]);
    expect(rgb(out, 3)).toEqual([...SET_ASIDE]);
    expect(rgb(out, 4)).toEqual([...INCLUDED]);
  });

  it('fades rows outside the filter and brings focused rows forward', () => {
    const visible = Uint8Array.from([1, 0, 1, 1, 1]);
    const focus = Uint8Array.from([0, 0, 0, 1, 0]);
    const out = pointColours({ facts, by: 'label', level: 1, visible, focus });
    expect(out[4 * 1 + 3]).toBe(28);
    expect(out[4 * 3 + 3]).toBe(255);
    expect(rgb(out, 2)).toEqual([...POOL]);
  });
});
