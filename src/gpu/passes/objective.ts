/**
 * The objective pass (shaders/block-sum.wgsl): partial sums of dist2 per 256 rows, finished in
 * float64 on the CPU. Lloyd runs it every round only when an early-stop tolerance needs the
 * objective.
 */
import blockSumSrc from '../../../shaders/block-sum.wgsl?raw';
import type { CallScope } from '../call-scope.ts';
import { type Dispatch, Kernel, shaderSpec } from '../kernel.ts';
import { uniformLayout } from '../uniforms.ts';

/** Values per partial sum of block-sum.wgsl (fixed in the WGSL). */
export const BLOCK_SUM_ROWS = 256;

export const BLOCK_SUM_SHADER = shaderSpec({
  file: 'block-sum.wgsl',
  code: blockSumSrc,
  params: uniformLayout([
    ['n', 'u32'],
    ['groupsX', 'u32'],
    ['pad0', 'u32'],
    ['pad1', 'u32'],
  ]),
  bindings: [
    ['p', 'uniform'],
    ['values', 'read-only-storage'],
    ['partials', 'storage'],
  ],
});

export class ObjectivePass {
  private constructor(private readonly kernel: Kernel<'p' | 'values' | 'partials'>) {}

  static async compile(device: GPUDevice): Promise<ObjectivePass> {
    return new ObjectivePass(await Kernel.compile(device, BLOCK_SUM_SHADER, 'block-sum'));
  }

  /** Partial sums (one per BLOCK_SUM_ROWS) of the first n values of `values` into `partials`. */
  dispatch(scope: CallScope, n: number, values: GPUBuffer, partials: GPUBuffer): Dispatch {
    const g = scope.grid(Math.ceil(n / BLOCK_SUM_ROWS));
    const p = scope.uniform(BLOCK_SUM_SHADER.params, { n, groupsX: g.x }, 'sum params');
    return this.kernel.dispatch(scope.device, { p, values, partials }, g, 'objective');
  }
}
