/**
 * The row-norms pass (shaders/row-norms.wgsl): |x|^2 of every point row, once per upload, and
 * |c|^2 of the centroids, after every update.
 */
import rowNormsSrc from '../../../shaders/row-norms.wgsl?raw';
import type { GpuRows } from '../buffers.ts';
import type { CallScope } from '../call-scope.ts';
import { type Dispatch, Kernel, shaderSpec } from '../kernel.ts';
import { ROW_WORKGROUP } from '../tuning.ts';
import { uniformLayout } from '../uniforms.ts';

export const ROW_NORMS_SHADER = shaderSpec({
  file: 'row-norms.wgsl',
  code: rowNormsSrc,
  params: uniformLayout([
    ['rows', 'u32'],
    ['outBase', 'u32'],
    ['d4', 'u32'],
    ['groupsX', 'u32'],
  ]),
  bindings: [
    ['p', 'uniform'],
    ['m', 'read-only-storage'],
    ['norms', 'storage'],
  ],
});

export class NormsPass {
  private constructor(private readonly kernel: Kernel<'p' | 'm' | 'norms'>) {}

  static async compile(device: GPUDevice): Promise<NormsPass> {
    return new NormsPass(
      await Kernel.compile(device, ROW_NORMS_SHADER, 'row-norms', 'main', { WG: ROW_WORKGROUP }),
    );
  }

  /** |row|^2 of every row of `rows` into `out` (indexed by global row), one dispatch per chunk. */
  rows(scope: CallScope, rows: GpuRows, out: GPUBuffer): Dispatch[] {
    return rows.chunks.map((c) => {
      const g = scope.grid(Math.ceil(c.rows / ROW_WORKGROUP));
      const p = scope.uniform(
        ROW_NORMS_SHADER.params,
        { rows: c.rows, outBase: c.rowStart, d4: rows.d4, groupsX: g.x },
        'norms params',
      );
      return this.kernel.dispatch(scope.device, { p, m: c.buffer, norms: out }, g, 'norms');
    });
  }

  /** |c|^2 of the k padded rows (d4 vec4s each) of `cent` into `out`. */
  centroids(scope: CallScope, cent: GPUBuffer, k: number, d4: number, out: GPUBuffer): Dispatch {
    const g = scope.grid(Math.ceil(k / ROW_WORKGROUP));
    const p = scope.uniform(
      ROW_NORMS_SHADER.params,
      { rows: k, outBase: 0, d4, groupsX: g.x },
      'cnorm params',
    );
    return this.kernel.dispatch(scope.device, { p, m: cent, norms: out }, g, 'cnorm');
  }
}
