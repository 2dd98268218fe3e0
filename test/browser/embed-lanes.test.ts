/**
 * Lane workers (src/embed/lanes.ts) in real Chromium: two sessions side by side give the same
 * features as one, and a lane whose worker dies in the middle of a batch is dropped, its batch
 * run again on the lane that is left; when none is left the error says what happened and that
 * finished rows are kept.
 */
import { describe, expect, it } from 'vitest';
import { laneWorker, openLanes } from '../../src/embed/lanes';
import { BUNDLED_MODEL } from '../../src/embed/models';

const spec = { ...BUNDLED_MODEL, inputSize: 96 };

async function modelBytes(): Promise<Uint8Array> {
  const res = await fetch(`/${BUNDLED_MODEL.url}`);
  if (!res.ok) throw new Error(`model: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

function input(n: number): Float32Array {
  const x = new Float32Array(n * 3 * spec.inputSize ** 2);
  for (let i = 0; i < x.length; i++) x[i] = 0.5 + 0.4 * Math.sin(i * 0.01);
  return x;
}

describe('embedding lanes', () => {
  it('runs batches on two workers, and a worker that dies mid-batch costs nothing', async () => {
    const workers: Worker[] = [];
    const factory = (): Worker => {
      const w = laneWorker();
      workers.push(w);
      return w;
    };
    const lanes = await openLanes(await modelBytes(), spec, { lanes: 2, threads: 1, factory });
    try {
      expect(lanes.lanes).toBe(2);
      const x = input(2);
      const [a, b] = await Promise.all([lanes.run(x, 2), lanes.run(x, 2)]);
      expect(a.dim).toBe(1792);
      expect(Array.from(b.rows)).toEqual(Array.from(a.rows));
      // Both lanes busy, then lane 0 "crashes": its batch goes to lane 1 and still comes back.
      const both = [lanes.run(x, 2), lanes.run(x, 2)];
      workers[0].dispatchEvent(new ErrorEvent('error', { message: 'out of memory' }));
      const again = await Promise.all(both);
      for (const r of again) expect(Array.from(r.rows)).toEqual(Array.from(a.rows));
      // The last lane dies too: a clear message, no hang.
      const last = lanes.run(x, 2);
      workers[1].dispatchEvent(new ErrorEvent('error', { message: 'out of memory' }));
      await expect(last).rejects.toThrow(
        /embedding worker stopped: out of memory; the images embedded so far are kept/,
      );
    } finally {
      await lanes.release();
    }
  });
});
