/**
 * The WebGPU backend destroys every buffer it makes: a call leaves behind only the cached upload
 * of its input (whatever path it takes, cancelled calls included), and dispose() leaves nothing.
 * Counts live buffers by wrapping the device's createBuffer. FAILS when no adapter is found.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelledError } from '../../src/core/errors.ts';
import { Rng } from '../../src/core/rng.ts';
import type { Matrix } from '../../src/core/types.ts';
import { acquireGpu, type GpuContext } from '../../src/gpu/device.ts';
import { GpuBackend, type GpuBackendOptions } from '../../src/gpu/gpu-backend.ts';

function randomMatrix(n: number, d: number, seed: number): Matrix {
  const rng = new Rng(seed);
  const data = new Float32Array(n * d);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return { data, rows: n, cols: d };
}

let gpu: GpuContext;
const live = new Set<GPUBuffer>();

beforeAll(async () => {
  const got = await acquireGpu();
  if (!got.ok) throw new Error(`no WebGPU device: ${got.message}`);
  gpu = got.gpu;
  const device = gpu.device;
  const create = device.createBuffer.bind(device);
  device.createBuffer = (descriptor: GPUBufferDescriptor): GPUBuffer => {
    const buffer = create(descriptor);
    live.add(buffer);
    const destroy = buffer.destroy.bind(buffer);
    buffer.destroy = () => {
      live.delete(buffer);
      destroy();
    };
    return buffer;
  };
});

afterAll(() => {
  gpu?.device.destroy();
});

/** Every public call once, on one input (so the upload cache holds exactly one entry). */
async function everyCall(b: GpuBackend, x: Matrix): Promise<void> {
  const k = 12;
  const run = await b.kmeans(x, k, { nIters: 3, seed: 1 });
  await b.kmeans(x, k, { nIters: 5, seed: 2, tolerance: 1e-9 });
  await b.assign(x, run.centroids);
  await b.clusterMeans(x, run.assignment.labels, run.centroids);
  await b.selectClosest(run.assignment.labels, run.assignment.dist2, k, 4);
  // Cancelled after its buffers exist: still leaves nothing behind.
  const ctl = new AbortController();
  const cancelled = b.kmeans(x, k, {
    nIters: 10,
    seed: 3,
    signal: ctl.signal,
    onIteration: () => ctl.abort(),
  });
  await expect(cancelled).rejects.toBeInstanceOf(CancelledError);
}

const configs: [string, Omit<GpuBackendOptions, 'gpu'>][] = [
  ['default', {}],
  ['rows in 8 KiB chunks (k-means++ updates D^2 in place)', { maxChunkBytes: 8 * 1024 }],
  ['k-means++ summed on the GPU', { kppReadAllBytes: 0 }],
];

describe('GPU buffers', () => {
  for (const [name, opts] of configs) {
    it(`are destroyed after every call and on dispose: ${name}`, async () => {
      expect(live.size).toBe(0);
      const b = await GpuBackend.create({ gpu, ...opts });
      const x = randomMatrix(600, 20, 7);
      try {
        await everyCall(b, x);
        const cached = live.size;
        // The upload of x (row chunks, |x|^2 and the norms pass's uniforms) and nothing else.
        expect(cached).toBeGreaterThan(0);
        await everyCall(b, x);
        expect(live.size).toBe(cached);
      } finally {
        b.dispose();
      }
      expect(live.size).toBe(0);
    });
  }
});
