/**
 * The tuning constants of the WGSL k-means kernels: workgroup and tile sizes the passes compile
 * with, and the size up to which k-means++ reads candidate rows back. Each constant carries the
 * measurement that chose it; each WGSL file's header explains its algorithm. Sizes fixed inside a
 * shader live with its pass (src/gpu/passes/).
 */

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

/**
 * k-means++ reads every candidate's D^2 row back (one round trip per centre, potentials summed
 * on the CPU) while they total at most this many bytes; N=100k with 8 candidates is 3.2 MB.
 * Measured on SwiftShader: copying, mapping and summing 480 KB took 1-6 ms, against 45-170 ms for
 * one pass of the GPU-summing kernel over the same 20k rows (its barriers are what cost there).
 * Not measured on a hardware GPU, where the read-back costs PCIe bandwidth (~0.2 ms per MB).
 */
export const KPP_READ_ALL_BYTES = 4 * 1024 * 1024;
