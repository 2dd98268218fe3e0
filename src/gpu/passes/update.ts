/**
 * The centroid update (shaders/centroid-update.wgsl): compensated per-cluster means over the
 * rows sorted by label, one workgroup per cluster, chunk after chunk (partial sums carried in
 * `acc` between chunks).
 */
import centroidUpdateSrc from '../../../shaders/centroid-update.wgsl?raw';
import type { GpuRows } from '../buffers.ts';
import type { CallScope } from '../call-scope.ts';
import { type Dispatch, Kernel, shaderSpec } from '../kernel.ts';
import { uniformLayout } from '../uniforms.ts';

export const CENTROID_UPDATE_SHADER = shaderSpec({
  file: 'centroid-update.wgsl',
  code: centroidUpdateSrc,
  params: uniformLayout([
    ['k', 'u32'],
    ['d4', 'u32'],
    ['chunkStart', 'u32'],
    ['chunkEnd', 'u32'],
    ['first', 'u32'],
    ['last', 'u32'],
    ['groupsX', 'u32'],
    ['pad', 'u32'],
  ]),
  bindings: [
    ['p', 'uniform'],
    ['x', 'read-only-storage'],
    ['perm', 'read-only-storage'],
    ['offsets', 'read-only-storage'],
    ['acc', 'storage'],
    ['cent', 'storage'],
  ],
});

/** Bytes of the running sums `acc` must hold: none (a placeholder) unless x has several chunks. */
export function accumulatorBytes(rows: GpuRows, k: number): number {
  return rows.chunks.length > 1 ? 2 * k * rows.d4 * 16 : 32;
}

export class UpdatePass {
  private constructor(
    private readonly kernel: Kernel<'p' | 'x' | 'perm' | 'offsets' | 'acc' | 'cent'>,
  ) {}

  static async compile(device: GPUDevice): Promise<UpdatePass> {
    return new UpdatePass(await Kernel.compile(device, CENTROID_UPDATE_SHADER, 'centroid-update'));
  }

  /**
   * The mean of each cluster's rows into `cent` (a cluster without rows keeps its row), given
   * the sort's `perm` and `offsets`; one dispatch per chunk of `rows`.
   */
  dispatches(
    scope: CallScope,
    rows: GpuRows,
    k: number,
    perm: GPUBuffer,
    offsets: GPUBuffer,
    acc: GPUBuffer,
    cent: GPUBuffer,
  ): Dispatch[] {
    const chunks = rows.chunks;
    const g = scope.grid(k);
    return chunks.map((c, i) => {
      const p = scope.uniform(
        CENTROID_UPDATE_SHADER.params,
        {
          k,
          d4: rows.d4,
          chunkStart: c.rowStart,
          chunkEnd: c.rowStart + c.rows,
          first: i === 0 ? 1 : 0,
          last: i === chunks.length - 1 ? 1 : 0,
          groupsX: g.x,
        },
        'update params',
      );
      return this.kernel.dispatch(
        scope.device,
        { p, x: c.buffer, perm, offsets, acc, cent },
        g,
        'update',
      );
    });
  }
}
