/**
 * Compiles the WGSL kernels once per device and turns every compile or validation problem into
 * a thrown error. A shader that fails validation must never "run" silently: WebGPU reports such
 * failures only to error scopes or the `uncapturederror` event, and a k-means that ignores them
 * returns garbage (splat-transform's GpuKmeans at D=384 is the cautionary tale).
 */

export class GpuValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpuValidationError';
  }
}

/** Thrown when the device is lost mid-run: the caller finishes the work on the CPU. */
export class GpuDeviceLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpuDeviceLostError';
  }
}

/**
 * Runs `body` inside validation + out-of-memory error scopes and throws the first captured error.
 * `what` names the step for the message ("k-means++ candidate pass").
 */
export async function withErrorScopes<T>(
  device: GPUDevice,
  what: string,
  body: () => T | Promise<T>,
): Promise<T> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let result: T;
  let thrown: unknown = undefined;
  try {
    result = await body();
  } catch (err) {
    thrown = err;
  }
  // On a lost device popErrorScope may reject; the body's own error then says more.
  const validation = await device.popErrorScope().catch(() => null);
  const oom = await device.popErrorScope().catch(() => null);
  if (validation)
    throw new GpuValidationError(`WebGPU validation failed in ${what}: ${validation.message}`);
  if (oom) throw new GpuValidationError(`The GPU ran out of memory in ${what}: ${oom.message}`);
  if (thrown !== undefined) throw thrown;
  return result!;
}

/**
 * Compiles a compute pipeline; throws with the shader compiler's messages on failure. `layout`
 * defaults to 'auto' (the passes give theirs explicitly, see kernel.ts).
 */
export async function computePipeline(
  device: GPUDevice,
  label: string,
  code: string,
  entryPoint: string,
  constants: Record<string, number>,
  layout: GPUPipelineLayout | 'auto' = 'auto',
): Promise<GPUComputePipeline> {
  return withErrorScopes(device, `compiling ${label}`, async () => {
    const module = device.createShaderModule({ label, code });
    const info = await module.getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === 'error');
    if (errors.length > 0) {
      const text = errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('; ');
      throw new GpuValidationError(`WGSL ${label} does not compile: ${text}`);
    }
    try {
      return await device.createComputePipelineAsync({
        label,
        layout,
        compute: { module, entryPoint, constants },
      });
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new GpuValidationError(`WebGPU rejected pipeline ${label}: ${msg}`);
    }
  });
}

/**
 * Workgroup counts for `groups` workgroups: a 1-D grid while it fits one dimension, else a 2-D
 * grid of `groupsX` columns (kernels compute `wid.x + wid.y * groupsX` and bounds-check).
 */
export function grid(groups: number, maxPerDim: number): { x: number; y: number } {
  const g = Math.max(1, groups);
  if (g <= maxPerDim) return { x: g, y: 1 };
  const y = Math.ceil(g / maxPerDim);
  return { x: Math.ceil(g / y), y };
}
