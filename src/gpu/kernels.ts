/**
 * The compiled k-means kernels of one device, and the tuning constants they run with.
 * Each WGSL file's header explains its algorithm; this file only picks sizes and compiles.
 */
import assignTiledSrc from '../../shaders/assign-tiled.wgsl?raw';
import assignNaiveSrc from '../../shaders/assign-naive.wgsl?raw';
import rowNormsSrc from '../../shaders/row-norms.wgsl?raw';
import labelSortSrc from '../../shaders/label-sort.wgsl?raw';
import labelScanSrc from '../../shaders/label-scan.wgsl?raw';
import labelScatterSrc from '../../shaders/label-scatter.wgsl?raw';
import centroidUpdateSrc from '../../shaders/centroid-update.wgsl?raw';
import kmeansppSrc from '../../shaders/kmeanspp.wgsl?raw';
import kmeansppRowsSrc from '../../shaders/kmeanspp-rows.wgsl?raw';
import selectClosestSrc from '../../shaders/select-closest.wgsl?raw';
import blockSumSrc from '../../shaders/block-sum.wgsl?raw';
import type { GpuContext } from './device.ts';
import { computePipeline } from './pipelines.ts';

export type AssignKernel = 'tiled' | 'naive';

export interface AssignTuning {
  /** threads per workgroup of assign-tiled.wgsl (each thread owns 4 points) */
  readonly workgroup: number;
  /** dimensions per centroid tile, in vec4 (tile = 16 centroids x 4*td4 floats) */
  readonly td4: number;
}

/**
 * Fallback adapter (SwiftShader, CPU): 32 threads x 16 vec4 (64 dims) per tile. Measured with
 * Chromium 156 on this 2-core Xeon, N=20k, D=128, K=256, median of 3 (GFLOP/s = 2NKD/s; the
 * machine was shared, so figures move by +-25%):
 *   WG 64 x TD4 16: 2.7-2.8    WG 32 x 16: 3.9-5.4    WG 16 x 16: 5.1    WG 16 x 32: 5.6
 *   WG 128 x 16: 3.9          WG 256 x 8: 3.0        WG 32 x 32: 4.0    WG 32 x 8: 2.3
 *   naive one-thread-per-point kernel: 0.51
 * SwiftShader runs a workgroup's invocations as SIMD lanes on one core and pays for every
 * barrier, so small workgroups with deep tiles win there. 32 x 16 keeps a workgroup at 128
 * points (small grids still spread over both cores) with 4 KiB of workgroup memory.
 */
export const FALLBACK_ASSIGN_TUNING: AssignTuning = { workgroup: 32, td4: 16 };
/**
 * Hardware GPUs: 64 threads (two warps / one wavefront) x 16 vec4, 4 KiB of workgroup memory so
 * many workgroups fit per core. Not measured: no hardware GPU was available while this was
 * written (SwiftShader figures above); bench/kmeans.html measures it on a machine that has one.
 */
export const HARDWARE_ASSIGN_TUNING: AssignTuning = { workgroup: 64, td4: 16 };
/**
 * Threads per workgroup of the naive kernel, row norms and kmeanspp-rows.wgsl (4 rows per
 * thread there). Barrier-free kernels: on SwiftShader a row-norms pass over 20k x 128 took
 * 5-10 ms at 64, so the size was not tuned further; the naive kernel at 64 is the baseline.
 */
export const ROW_WORKGROUP = 64;

/**
 * Rows per workgroup of kmeanspp.wgsl (the GPU-summed k-means++ path). On SwiftShader, 2000 rows
 * x 16 dims x 8 candidates took 14-45 ms per dispatch with 256 threads and four reductions, 11-35
 * ms with 64 threads and one reduction (machine shared, noisy).
 */
export const KPP_ROWS_PER_GROUP = 64;
/** Rows per workgroup of label-sort.wgsl's count and of block-sum.wgsl (fixed in the WGSL). */
export const COUNT_ROWS_PER_GROUP = 256;
export const BLOCK_SUM_ROWS = 256;
/** Candidates one k-means++ dispatch scores (four mat4x4 / vec4 accumulators in the WGSL). */
export const KPP_MAX_CANDIDATES = 16;

export interface GpuKernels {
  readonly assign: GPUComputePipeline;
  readonly assignKernel: AssignKernel;
  /** rows per workgroup of `assign` */
  readonly assignRowsPerGroup: number;
  readonly tuning: AssignTuning;
  readonly rowNorms: GPUComputePipeline;
  readonly labelCount: GPUComputePipeline;
  readonly labelScan: GPUComputePipeline;
  readonly labelScatter: GPUComputePipeline;
  readonly centroidUpdate: GPUComputePipeline;
  readonly kmeanspp: GPUComputePipeline;
  /** kmeansppRows[g - 1] scores up to 4g candidates */
  readonly kmeansppRows: readonly GPUComputePipeline[];
  readonly selectClosest: GPUComputePipeline;
  readonly blockSum: GPUComputePipeline;
}

/**
 * Compiled kernels per device and configuration: compiling all of them takes seconds on
 * SwiftShader (LLVM), so backends sharing a device share them.
 */
const compiled = new WeakMap<GPUDevice, Map<string, Promise<GpuKernels>>>();

/** Compiles every kernel; throws GpuValidationError with the compiler's message on failure. */
export function compileKernels(
  gpu: GpuContext,
  assignKernel: AssignKernel = 'tiled',
  tuning?: AssignTuning,
): Promise<GpuKernels> {
  const t = tuning ?? (gpu.isFallback ? FALLBACK_ASSIGN_TUNING : HARDWARE_ASSIGN_TUNING);
  const key = `${assignKernel}:${t.workgroup}:${t.td4}`;
  let perDevice = compiled.get(gpu.device);
  if (!perDevice) {
    perDevice = new Map();
    compiled.set(gpu.device, perDevice);
  }
  let p = perDevice.get(key);
  if (!p) {
    p = compile(gpu.device, assignKernel, t);
    // A failed compile is not cached: the next attempt reports the error again.
    p.catch(() => perDevice.delete(key));
    perDevice.set(key, p);
  }
  return p;
}

async function compile(
  device: GPUDevice,
  assignKernel: AssignKernel,
  t: AssignTuning,
): Promise<GpuKernels> {
  const assign =
    assignKernel === 'tiled'
      ? computePipeline(device, 'assign-tiled', assignTiledSrc, 'main', {
          WG: t.workgroup,
          TD4: t.td4,
        })
      : computePipeline(device, 'assign-naive', assignNaiveSrc, 'main', { WG: ROW_WORKGROUP });
  const [
    assignP,
    rowNorms,
    labelCount,
    labelScan,
    labelScatter,
    centroidUpdate,
    kmeanspp,
    kmeansppRows,
    selectClosest,
    blockSum,
  ] = await Promise.all([
    assign,
    computePipeline(device, 'row-norms', rowNormsSrc, 'main', { WG: ROW_WORKGROUP }),
    computePipeline(device, 'label-count', labelSortSrc, 'count', {}),
    computePipeline(device, 'label-scan', labelScanSrc, 'main', {}),
    computePipeline(device, 'label-scatter', labelScatterSrc, 'main', {}),
    computePipeline(device, 'centroid-update', centroidUpdateSrc, 'main', {}),
    computePipeline(device, 'kmeanspp', kmeansppSrc, 'main', {}),
    Promise.all(
      [1, 2, 3, 4].map((g) =>
        computePipeline(device, `kmeanspp-rows-${g}`, kmeansppRowsSrc, 'main', {
          WG: ROW_WORKGROUP,
          NCG: g,
        }),
      ),
    ),
    computePipeline(device, 'select-closest', selectClosestSrc, 'main', {}),
    computePipeline(device, 'block-sum', blockSumSrc, 'main', {}),
  ]);
  return {
    assign: assignP,
    assignKernel,
    assignRowsPerGroup: assignKernel === 'tiled' ? t.workgroup * 4 : ROW_WORKGROUP,
    tuning: t,
    rowNorms,
    labelCount,
    labelScan,
    labelScatter,
    centroidUpdate,
    kmeanspp,
    kmeansppRows,
    selectClosest,
    blockSum,
  };
}
