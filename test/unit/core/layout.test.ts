import { describe, expect, it } from 'vitest';
import { neighbourLayout, nearestNeighbours } from '../../../src/core/layout';
import { Rng } from '../../../src/core/rng';

/** `groups` tight blobs in 64-d, each around a random centre far from the others. */
function blobs(groups: number, per: number, cols: number, seed: number) {
  const rng = new Rng(seed);
  const centres = Array.from({ length: groups }, () =>
    Float32Array.from({ length: cols }, () => rng.normal() * 10),
  );
  const rows = groups * per;
  const data = new Float32Array(rows * cols);
  const group = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    group[i] = i % groups;
    for (let j = 0; j < cols; j++) data[i * cols + j] = centres[group[i]][j] + rng.normal() * 0.5;
  }
  return { data, rows, cols, group };
}

describe('neighbourLayout', () => {
  it('finds most true nearest neighbours', () => {
    const { data, rows, cols } = blobs(4, 100, 16, 1);
    const knn = nearestNeighbours(data, rows, cols, 5, new Rng(2));
    let hit = 0;
    for (let i = 0; i < rows; i++) {
      const exact = Array.from({ length: rows }, (_, j) => j)
        .filter((j) => j !== i)
        .map((j) => {
          let s = 0;
          for (let c = 0; c < cols; c++) s += (data[i * cols + c] - data[j * cols + c]) ** 2;
          return [j, s] as const;
        })
        .sort((a, b) => a[1] - b[1])
        .slice(0, 5)
        .map((p) => p[0]);
      const got = new Set(knn.idx.subarray(i * 5, i * 5 + 5));
      hit += exact.filter((j) => got.has(j)).length;
    }
    expect(hit / (rows * 5)).toBeGreaterThan(0.9);
  });

  it('keeps blobs apart on the map, and is the same for the same seed', () => {
    const { data, rows, cols, group } = blobs(3, 80, 64, 3);
    const a = neighbourLayout(data, rows, cols, { seed: 7, epochs: 100 });
    const b = neighbourLayout(data, rows, cols, { seed: 7, epochs: 100 });
    expect(Array.from(a.x)).toEqual(Array.from(b.x));
    // Each point's nearest map neighbour is in its own blob.
    let same = 0;
    for (let i = 0; i < rows; i++) {
      let best = -1;
      let bd = Infinity;
      for (let j = 0; j < rows; j++) {
        if (j === i) continue;
        const d = (a.x[i] - a.x[j]) ** 2 + (a.y[i] - a.y[j]) ** 2;
        if (d < bd) [bd, best] = [d, j];
      }
      if (group[best] === group[i]) same++;
    }
    expect(same / rows).toBeGreaterThan(0.95);
    expect(a.x.every(Number.isFinite)).toBe(true);
  });
});
