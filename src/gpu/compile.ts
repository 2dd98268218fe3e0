/**
 * Every pass of one device, compiled once per device and configuration, and the list of all
 * shader specs (what the uniform-layout test holds against the WGSL files).
 */
import type { GpuContext } from './device.ts';
import type { ShaderSpec } from './kernel.ts';
import { ASSIGN_NAIVE_SHADER, ASSIGN_TILED_SHADER, AssignPass } from './passes/assign.ts';
import { KMEANSPP_ROWS_SHADER, KMEANSPP_SHADER, KmeansppPass } from './passes/kmeanspp.ts';
import { NormsPass, ROW_NORMS_SHADER } from './passes/norms.ts';
import { BLOCK_SUM_SHADER, ObjectivePass } from './passes/objective.ts';
import { SELECT_CLOSEST_SHADER, SelectClosestPass } from './passes/select-closest.ts';
import {
  LABEL_COUNT_SHADER,
  LABEL_SCAN_SHADER,
  LABEL_SCATTER_SHADER,
  SortPass,
} from './passes/sort.ts';
import { CENTROID_UPDATE_SHADER, UpdatePass } from './passes/update.ts';
import {
  type AssignKernel,
  type AssignTuning,
  FALLBACK_ASSIGN_TUNING,
  HARDWARE_ASSIGN_TUNING,
} from './tuning.ts';

/** Every WGSL file under shaders/, as the passes compile it. */
export const ALL_SHADERS: readonly ShaderSpec[] = [
  ROW_NORMS_SHADER,
  ASSIGN_TILED_SHADER,
  ASSIGN_NAIVE_SHADER,
  LABEL_COUNT_SHADER,
  LABEL_SCAN_SHADER,
  LABEL_SCATTER_SHADER,
  CENTROID_UPDATE_SHADER,
  KMEANSPP_SHADER,
  KMEANSPP_ROWS_SHADER,
  SELECT_CLOSEST_SHADER,
  BLOCK_SUM_SHADER,
];

export interface GpuKernels {
  readonly assignKernel: AssignKernel;
  readonly tuning: AssignTuning;
  readonly norms: NormsPass;
  readonly assign: AssignPass;
  readonly sort: SortPass;
  readonly update: UpdatePass;
  readonly kmeanspp: KmeansppPass;
  readonly objective: ObjectivePass;
  readonly selectClosest: SelectClosestPass;
}

/**
 * Compiled kernels per device and configuration: compiling all of them takes seconds on
 * SwiftShader (LLVM), so backends sharing a device share them.
 */
const compiled = new WeakMap<GPUDevice, Map<string, Promise<GpuKernels>>>();

/** Compiles every pass; throws GpuValidationError with the compiler's message on failure. */
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
  tuning: AssignTuning,
): Promise<GpuKernels> {
  const [assign, norms, sort, update, kmeanspp, selectClosest, objective] = await Promise.all([
    AssignPass.compile(device, assignKernel, tuning),
    NormsPass.compile(device),
    SortPass.compile(device),
    UpdatePass.compile(device),
    KmeansppPass.compile(device),
    SelectClosestPass.compile(device),
    ObjectivePass.compile(device),
  ]);
  return { assignKernel, tuning, norms, assign, sort, update, kmeanspp, objective, selectClosest };
}
