/**
 * The "closest" selection (shaders/select-closest.wgsl): the r rows of every cluster closest
 * to its centroid, by (dist2, row), over the rows sorted by label. One workgroup per cluster.
 */
import selectClosestSrc from '../../../shaders/select-closest.wgsl?raw';
import type { CallScope } from '../call-scope.ts';
import { type Dispatch, Kernel, shaderSpec } from '../kernel.ts';
import { uniformLayout } from '../uniforms.ts';

export const SELECT_CLOSEST_SHADER = shaderSpec({
  file: 'select-closest.wgsl',
  code: selectClosestSrc,
  params: uniformLayout([
    ['k', 'u32'],
    ['r', 'u32'],
    ['groupsX', 'u32'],
    ['pad', 'u32'],
  ]),
  bindings: [
    ['p', 'uniform'],
    ['perm', 'read-only-storage'],
    ['offsets', 'read-only-storage'],
    ['dist2', 'read-only-storage'],
    ['outOffsets', 'read-only-storage'],
    ['scratch', 'storage'],
    ['out', 'storage'],
  ],
});

type SelectBinding = (typeof SELECT_CLOSEST_SHADER.bindings)[number][0];

export class SelectClosestPass {
  private constructor(private readonly kernel: Kernel<SelectBinding>) {}

  static async compile(device: GPUDevice): Promise<SelectClosestPass> {
    return new SelectClosestPass(
      await Kernel.compile(device, SELECT_CLOSEST_SHADER, 'select-closest'),
    );
  }

  /**
   * Writes, for every cluster j in [0, k), its min(r, size) closest rows to
   * out[outOffsets[j] ..]; `buffers` are the sort's perm and offsets, the rows' dist2, the output
   * offsets and a scratch buffer as long as `out`.
   */
  dispatch(
    scope: CallScope,
    k: number,
    r: number,
    buffers: Readonly<Record<Exclude<SelectBinding, 'p'>, GPUBuffer>>,
  ): Dispatch {
    const g = scope.grid(k);
    const p = scope.uniform(SELECT_CLOSEST_SHADER.params, { k, r, groupsX: g.x }, 'select params');
    return this.kernel.dispatch(scope.device, { p, ...buffers }, g, 'select');
  }
}
