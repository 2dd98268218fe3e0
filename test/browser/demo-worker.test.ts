/**
 * The demo worker runs the toys with the app's k-means backends: the CPU one (the core's JS kernel) and,
 * when asked, WebGPU. Here WebGPU is SwiftShader (a software adapter, slow), so only the cheapest
 * Fig. 3 variant (k-means, 300 clusters, 10 Lloyd rounds) runs on it; its KL must match the CPU
 * run's closely (float32 on the GPU against float64 sums on the CPU).
 */
import { describe, expect, it } from 'vitest';
import * as Comlink from 'comlink';
import { fig3Variants, type Fig3Result } from '../../src/demo/toys';
import type { DemoService } from '../../src/demo/service';

function openWorker(): { api: Comlink.Remote<DemoService>; worker: Worker } {
  const worker = new Worker(new URL('../../src/workers/demo.worker.ts', import.meta.url), {
    type: 'module',
  });
  return { api: Comlink.wrap<DemoService>(worker), worker };
}

async function kmeansOnly(api: Comlink.Remote<DemoService>, backend: 'cpu' | 'webgpu') {
  const results: Fig3Result[] = [];
  const fractions: number[] = [];
  await api.fig3(
    { seed: 0, iterations: 10, variants: [fig3Variants()[0]], backend },
    Comlink.proxy((r: Fig3Result) => void results.push(r)),
    Comlink.proxy((_id: string, p: { fraction: number }) => void fractions.push(p.fraction)),
  );
  return { results, fractions };
}

describe('the demo worker', () => {
  it('runs k-means on WebGPU when asked, matching the CPU result (fails without an adapter)', async () => {
    expect(navigator.gpu, 'navigator.gpu is missing').toBeDefined();
    expect(await navigator.gpu.requestAdapter(), 'no WebGPU adapter found').not.toBeNull();
    const { api, worker } = openWorker();
    try {
      const cpu = await kmeansOnly(api, 'cpu');
      expect(cpu.results).toHaveLength(1);
      expect(cpu.results[0].backend).toBe('cpu-js');
      expect(cpu.results[0].centroids).toHaveLength(600);
      expect(cpu.fractions.length).toBeGreaterThan(0);

      const note = await api.backend('webgpu');
      expect(note.name).toBe('webgpu');
      const gpu = await kmeansOnly(api, 'webgpu');
      expect(gpu.results[0].backend).toBe('webgpu');
      expect(gpu.results[0].centroids).toHaveLength(600);
      expect(Math.abs(gpu.results[0].kl - cpu.results[0].kl)).toBeLessThan(0.01);

      // auto takes a hardware adapter, never a software one (there it stays on the CPU, saying why).
      const adapter = await navigator.gpu.requestAdapter();
      const auto = await api.backend('auto');
      if (adapter!.info.isFallbackAdapter) {
        expect(auto.name).toBe('cpu-js');
        expect(auto.note).toMatch(/WebGPU was not used/);
      } else {
        expect(auto.name).toBe('webgpu');
      }
    } finally {
      worker.terminate();
    }
  }, 120_000);
});
