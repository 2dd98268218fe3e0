/**
 * WebGPU device acquisition for the k-means backend.
 *
 * Rules learned the hard way (see platform.md):
 * - never filter adapters with powerPreference / forceFallbackAdapter: on machines without a GPU
 *   the only adapter is a fallback one (SwiftShader), and it must still be usable;
 * - `shader-f16` is optional (asking for it unconditionally makes requestDevice fail on many
 *   adapters);
 * - request every limit the kernels rely on explicitly, walking down a ladder of values the
 *   adapter can grant, so the device behaves the same on every adapter;
 * - never bind more than 128 MiB per storage binding (lavapipe and many real GPUs cap there),
 *   even where an adapter offers more: big inputs are processed in row chunks instead.
 */

/** The largest storage binding any kernel uses, whatever the adapter offers. */
export const MAX_BINDING_BYTES = 128 * 1024 * 1024;

/** What the kernels may use on this device (a subset of GPUSupportedLimits, as granted). */
export interface GpuLimits {
  readonly maxStorageBufferBindingSize: number;
  readonly maxBufferSize: number;
  readonly maxComputeWorkgroupStorageSize: number;
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly maxComputeWorkgroupSizeX: number;
  readonly maxComputeWorkgroupsPerDimension: number;
  readonly maxStorageBuffersPerShaderStage: number;
}

/** A short, person-readable description of the adapter (what benchmarks and notices print). */
export interface GpuAdapterDescription {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  readonly isFallbackAdapter: boolean;
}

/** Fired on `GpuContext.events` when the device is lost (driver reset, tab backgrounded, OOM). */
export class GpuLostEvent extends Event {
  constructor(
    readonly reason: GPUDeviceLostReason,
    readonly message: string,
  ) {
    super('lost');
  }
}

/** Fired on `GpuContext.events` for a GPU error nobody captured with an error scope. */
export class GpuUncapturedErrorEvent extends Event {
  constructor(
    readonly kind: 'validation' | 'out-of-memory' | 'internal' | 'unknown',
    readonly message: string,
  ) {
    super('uncapturederror');
  }
}

export interface GpuContext {
  readonly device: GPUDevice;
  readonly adapterInfo: GpuAdapterDescription;
  readonly isFallback: boolean;
  readonly hasF16: boolean;
  readonly limits: GpuLimits;
  /** Dispatches GpuLostEvent ('lost') and GpuUncapturedErrorEvent ('uncapturederror'). */
  readonly events: EventTarget;
  /** True once the device is lost; every later GPU call is pointless. */
  readonly isLost: () => boolean;
  /** The adapter in one line, e.g. "google swiftshader (fallback adapter)". */
  readonly label: string;
}

export type GpuUnavailableReason =
  'no-webgpu' | 'no-adapter' | 'limits-too-low' | 'device-request-failed';

export interface GpuUnavailable {
  readonly ok: false;
  readonly reason: GpuUnavailableReason;
  /** For people: what is missing and what it means for them. */
  readonly message: string;
}

export type GpuAcquireResult = { readonly ok: true; readonly gpu: GpuContext } | GpuUnavailable;

export interface AcquireOptions {
  /** Reject fallback (software) adapters instead of accepting them. Default: accept. */
  readonly rejectFallback?: boolean;
  /** navigator.gpu to use (defaults to the global one; workers and pages both have it). */
  readonly navigatorGpu?: GPU;
}

/**
 * Ladders: the first value the adapter can grant wins. The lowest rung of each is the WebGPU
 * default, which every adapter grants, so only maxStorageBufferBindingSize can fail (below).
 */
const WORKGROUP_STORAGE_LADDER = [32768, 16384];
const INVOCATIONS_LADDER = [256];
/** Kernels bind at most 8 storage buffers (the WebGPU default); more is never requested. */
const STORAGE_BUFFERS_NEEDED = 8;
/** Below this a binding cannot hold even a modest chunk of rows; not worth running on. */
const MIN_BINDING_BYTES = 16 * 1024 * 1024;

function pick(ladder: readonly number[], available: number): number | undefined {
  for (const v of ladder) if (v <= available) return v;
  return undefined;
}

function describeAdapter(info: GPUAdapterInfo): GpuAdapterDescription {
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    // Older Chromium versions exposed the flag on the adapter only; treat absence as false.
    isFallbackAdapter: info.isFallbackAdapter === true,
  };
}

function labelOf(d: GpuAdapterDescription): string {
  const parts = [d.vendor, d.architecture, d.device, d.description].filter((s) => s.length > 0);
  const name = parts.length > 0 ? parts.join(' ') : 'unknown adapter';
  return d.isFallbackAdapter ? `${name} (fallback adapter)` : name;
}

/**
 * Finds an adapter and requests a device with the limits the k-means kernels need. Never throws
 * for a missing or unsuitable GPU: it returns `{ ok: false, reason, message }` so the caller can
 * fall back to the CPU backend and say why.
 */
export async function acquireGpu(opts: AcquireOptions = {}): Promise<GpuAcquireResult> {
  const gpu = opts.navigatorGpu ?? (typeof navigator !== 'undefined' ? navigator.gpu : undefined);
  if (!gpu) {
    return {
      ok: false,
      reason: 'no-webgpu',
      message: 'This browser does not offer WebGPU; clustering runs on the CPU.',
    };
  }
  let adapter: GPUAdapter | null;
  try {
    // No powerPreference, no forceFallbackAdapter: accept whatever adapter the browser has.
    adapter = await gpu.requestAdapter();
  } catch (err) {
    return {
      ok: false,
      reason: 'no-adapter',
      message: `WebGPU found no usable adapter (${errorText(err)}); clustering runs on the CPU.`,
    };
  }
  if (!adapter) {
    return {
      ok: false,
      reason: 'no-adapter',
      message: 'WebGPU found no adapter on this machine; clustering runs on the CPU.',
    };
  }
  const adapterInfo = describeAdapter(adapter.info);
  if (opts.rejectFallback && adapterInfo.isFallbackAdapter) {
    return {
      ok: false,
      reason: 'no-adapter',
      message: 'The only WebGPU adapter is a software fallback; clustering runs on the CPU.',
    };
  }
  const al = adapter.limits;
  const binding = Math.min(al.maxStorageBufferBindingSize, MAX_BINDING_BYTES);
  if (binding < MIN_BINDING_BYTES) {
    return {
      ok: false,
      reason: 'limits-too-low',
      message: `The GPU allows only ${binding} bytes per storage buffer (need ${MIN_BINDING_BYTES}); clustering runs on the CPU.`,
    };
  }
  const workgroupStorage = pick(WORKGROUP_STORAGE_LADDER, al.maxComputeWorkgroupStorageSize);
  const invocations = pick(INVOCATIONS_LADDER, al.maxComputeInvocationsPerWorkgroup);
  if (
    workgroupStorage === undefined ||
    invocations === undefined ||
    al.maxComputeWorkgroupSizeX < 256 ||
    al.maxStorageBuffersPerShaderStage < STORAGE_BUFFERS_NEEDED
  ) {
    return {
      ok: false,
      reason: 'limits-too-low',
      message: 'The GPU offers less than the WebGPU default limits; clustering runs on the CPU.',
    };
  }
  // No buffer is larger than one binding (big inputs are split into row chunks); the WebGPU
  // default maxBufferSize (256 MiB) already exceeds that, so this never asks for more.
  const bufferSize = Math.min(al.maxBufferSize, Math.max(binding, 256 * 1024 * 1024));
  const requiredLimits: Record<string, number> = {
    maxStorageBufferBindingSize: binding,
    maxBufferSize: bufferSize,
    maxComputeWorkgroupStorageSize: workgroupStorage,
    maxComputeInvocationsPerWorkgroup: invocations,
    maxComputeWorkgroupSizeX: 256,
    maxStorageBuffersPerShaderStage: STORAGE_BUFFERS_NEEDED,
  };
  const hasF16 = adapter.features.has('shader-f16');
  const requiredFeatures: GPUFeatureName[] = [];
  if (hasF16) requiredFeatures.push('shader-f16');
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'strata' });
  } catch (err) {
    return {
      ok: false,
      reason: 'device-request-failed',
      message: `The GPU refused a device (${errorText(err)}); clustering runs on the CPU.`,
    };
  }
  const events = new EventTarget();
  let lost = false;
  void device.lost.then((info) => {
    lost = true;
    events.dispatchEvent(new GpuLostEvent(info.reason, info.message));
  });
  device.addEventListener('uncapturederror', (ev) => {
    const e = (ev as GPUUncapturedErrorEvent).error;
    events.dispatchEvent(new GpuUncapturedErrorEvent(errorKind(e), e.message));
  });
  const limits: GpuLimits = {
    maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
    maxBufferSize: device.limits.maxBufferSize,
    maxComputeWorkgroupStorageSize: device.limits.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: device.limits.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: device.limits.maxComputeWorkgroupSizeX,
    maxComputeWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
    maxStorageBuffersPerShaderStage: device.limits.maxStorageBuffersPerShaderStage,
  };
  return {
    ok: true,
    gpu: {
      device,
      adapterInfo,
      isFallback: adapterInfo.isFallbackAdapter,
      hasF16,
      limits,
      events,
      isLost: () => lost,
      label: labelOf(adapterInfo),
    },
  };
}

export function errorKind(e: GPUError): GpuUncapturedErrorEvent['kind'] {
  if (e instanceof GPUValidationError) return 'validation';
  if (e instanceof GPUOutOfMemoryError) return 'out-of-memory';
  if (typeof GPUInternalError !== 'undefined' && e instanceof GPUInternalError) return 'internal';
  return 'unknown';
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
