/**
 * The assignment pass: every row's nearest centroid and squared distance, fused in one kernel
 * per row chunk. shaders/assign-tiled.wgsl is the one runs use; shaders/assign-naive.wgsl (one
 * thread per point) is the baseline benchmarks compare it with. Both read the same Params and
 * bindings.
 */
import assignNaiveSrc from '../../../shaders/assign-naive.wgsl?raw';
import assignTiledSrc from '../../../shaders/assign-tiled.wgsl?raw';
import type { GpuRows } from '../buffers.ts';
import type { CallScope } from '../call-scope.ts';
import { type BindingKind, type Dispatch, Kernel, shaderSpec } from '../kernel.ts';
import { type AssignKernel, type AssignTuning, ROW_WORKGROUP } from '../tuning.ts';
import { uniformLayout } from '../uniforms.ts';

const PARAMS = uniformLayout([
  ['rows', 'u32'], // rows in this chunk
  ['rowBase', 'u32'], // global index of the chunk's first row
  ['d4', 'u32'],
  ['k', 'u32'],
  ['groupsX', 'u32'],
]);

const BINDINGS = [
  ['p', 'uniform'],
  ['x', 'read-only-storage'],
  ['xnorm', 'read-only-storage'],
  ['cent', 'read-only-storage'],
  ['cnorm', 'read-only-storage'],
  ['labels', 'storage'],
  ['dist2', 'storage'],
] as const satisfies readonly (readonly [string, BindingKind])[];

export const ASSIGN_TILED_SHADER = shaderSpec({
  file: 'assign-tiled.wgsl',
  code: assignTiledSrc,
  params: PARAMS,
  bindings: BINDINGS,
});

export const ASSIGN_NAIVE_SHADER = shaderSpec({
  file: 'assign-naive.wgsl',
  code: assignNaiveSrc,
  params: PARAMS,
  bindings: BINDINGS,
});

type AssignBinding = (typeof BINDINGS)[number][0];

export class AssignPass {
  private constructor(
    private readonly kernel: Kernel<AssignBinding>,
    readonly kind: AssignKernel,
    /** rows per workgroup */
    readonly rowsPerGroup: number,
    readonly tuning: AssignTuning,
  ) {}

  static async compile(
    device: GPUDevice,
    kind: AssignKernel,
    t: AssignTuning,
  ): Promise<AssignPass> {
    const kernel =
      kind === 'tiled'
        ? await Kernel.compile(device, ASSIGN_TILED_SHADER, 'assign-tiled', 'main', {
            WG: t.workgroup,
            TD4: t.td4,
          })
        : await Kernel.compile(device, ASSIGN_NAIVE_SHADER, 'assign-naive', 'main', {
            WG: ROW_WORKGROUP,
          });
    return new AssignPass(kernel, kind, kind === 'tiled' ? t.workgroup * 4 : ROW_WORKGROUP, t);
  }

  /**
   * Labels and dist2 (global) of every row of `rows` against the k centroids `cent` with norms
   * `cnorm`; `xnorm` holds the rows' norms. One dispatch per chunk.
   */
  dispatches(
    scope: CallScope,
    rows: GpuRows,
    xnorm: GPUBuffer,
    cent: GPUBuffer,
    cnorm: GPUBuffer,
    k: number,
    labels: GPUBuffer,
    dist2: GPUBuffer,
  ): Dispatch[] {
    return rows.chunks.map((c) => {
      const g = scope.grid(Math.ceil(c.rows / this.rowsPerGroup));
      const p = scope.uniform(
        PARAMS,
        { rows: c.rows, rowBase: c.rowStart, d4: rows.d4, k, groupsX: g.x },
        'assign params',
      );
      return this.kernel.dispatch(
        scope.device,
        { p, x: c.buffer, xnorm, cent, cnorm, labels, dist2 },
        g,
        'assign',
      );
    });
  }
}
