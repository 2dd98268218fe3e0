/**
 * The stable counting sort of rows by label (shaders/label-sort.wgsl, label-scan.wgsl and
 * label-scatter.wgsl; the first explains the algorithm): the backbone of the centroid update
 * and of the "closest" selection. The three kernels read one Params value.
 */
import labelScanSrc from '../../../shaders/label-scan.wgsl?raw';
import labelScatterSrc from '../../../shaders/label-scatter.wgsl?raw';
import labelSortSrc from '../../../shaders/label-sort.wgsl?raw';
import type { CallScope } from '../call-scope.ts';
import { type Dispatch, Kernel, shaderSpec } from '../kernel.ts';
import { uniformLayout } from '../uniforms.ts';

/** Rows per workgroup of label-sort.wgsl's count (fixed in the WGSL). */
export const COUNT_ROWS_PER_GROUP = 256;

const PARAMS = uniformLayout([
  ['n', 'u32'],
  ['k', 'u32'],
  ['groupsX', 'u32'],
  ['pad', 'u32'],
]);

export const LABEL_COUNT_SHADER = shaderSpec({
  file: 'label-sort.wgsl',
  code: labelSortSrc,
  params: PARAMS,
  bindings: [
    ['p', 'uniform'],
    ['labels', 'read-only-storage'],
    ['counts', 'storage'],
  ],
});

export const LABEL_SCAN_SHADER = shaderSpec({
  file: 'label-scan.wgsl',
  code: labelScanSrc,
  params: PARAMS,
  bindings: [
    ['p', 'uniform'],
    ['counts', 'read-only-storage'],
    ['offsets', 'storage'],
    ['cursor', 'storage'],
  ],
});

export const LABEL_SCATTER_SHADER = shaderSpec({
  file: 'label-scatter.wgsl',
  code: labelScatterSrc,
  params: PARAMS,
  bindings: [
    ['p', 'uniform'],
    ['labels', 'read-only-storage'],
    ['cursor', 'storage'],
    ['perm', 'storage'],
  ],
});

/** The buffers and dispatches of one sort; the buffers belong to the call's scope. */
export interface SortPlan {
  /** rows per label; must be cleared before every run of `list` after the first */
  readonly counts: GPUBuffer;
  /** k + 1 segment starts: the rows of cluster j are perm[offsets[j] .. offsets[j + 1]) */
  readonly offsets: GPUBuffer;
  /** row indices sorted by label, stable */
  readonly perm: GPUBuffer;
  readonly list: readonly Dispatch[];
}

export class SortPass {
  private constructor(
    private readonly count: Kernel<'p' | 'labels' | 'counts'>,
    private readonly scan: Kernel<'p' | 'counts' | 'offsets' | 'cursor'>,
    private readonly scatter: Kernel<'p' | 'labels' | 'cursor' | 'perm'>,
  ) {}

  static async compile(device: GPUDevice): Promise<SortPass> {
    const [count, scan, scatter] = await Promise.all([
      Kernel.compile(device, LABEL_COUNT_SHADER, 'label-count', 'count'),
      Kernel.compile(device, LABEL_SCAN_SHADER, 'label-scan'),
      Kernel.compile(device, LABEL_SCATTER_SHADER, 'label-scatter'),
    ]);
    return new SortPass(count, scan, scatter);
  }

  /** Buffers and dispatches that sort the n rows of `labels` (values in [0, k)) by label. */
  plan(scope: CallScope, n: number, k: number, labels: GPUBuffer): SortPlan {
    const dev = scope.device;
    const counts = scope.storage(k * 4, 'counts');
    const offsets = scope.storage((k + 1) * 4, 'offsets');
    const cursor = scope.storage(k * 4, 'cursor');
    const perm = scope.storage(n * 4, 'perm');
    const g = scope.grid(Math.ceil(n / COUNT_ROWS_PER_GROUP));
    const p = scope.uniform(PARAMS, { n, k, groupsX: g.x }, 'sort params');
    const one = { x: 1, y: 1 };
    const list = [
      this.count.dispatch(dev, { p, labels, counts }, g, 'count'),
      this.scan.dispatch(dev, { p, counts, offsets, cursor }, one, 'scan'),
      this.scatter.dispatch(dev, { p, labels, cursor, perm }, one, 'scatter'),
    ];
    return { counts, offsets, perm, list };
  }
}
