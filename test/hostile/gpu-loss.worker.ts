/**
 * A cluster worker for fault injection: the product's ClusterRunner, whose GPU device is
 * destroyed (as a driver reset or a lost device would) right after level 1 is handed over.
 * The hostile fault test hands it to a Workspace through its worker factories.
 */
import * as Comlink from 'comlink';
import { ClusterRunner, type ClusterCallbacks } from '../../src/cluster/service';
import { GpuBackend } from '../../src/gpu/gpu-backend';

let gpu: GpuBackend | undefined;

class LosingRunner extends ClusterRunner {
  constructor() {
    super({ makeGpu: async () => (gpu = await GpuBackend.create()) });
  }

  override runHierarchy(...args: Parameters<ClusterRunner['runHierarchy']>) {
    const [x, rows, cols, config, options, callbacks] = args;
    const hooks: ClusterCallbacks = {
      onProgress: (p) => callbacks.onProgress?.(p),
      onStep: (level, step, c) => callbacks.onStep?.(level, step, c),
      onNotice: (m) => callbacks.onNotice?.(m),
      onLevel: async (index, level) => {
        await callbacks.onLevel?.(index, level);
        if (index === 0) gpu?.gpu.device.destroy();
      },
    };
    return super.runHierarchy(x, rows, cols, config, options, hooks);
  }
}

Comlink.expose(new LosingRunner());
