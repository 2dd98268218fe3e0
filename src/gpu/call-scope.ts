/**
 * The GPU buffers of one backend call. Every buffer a call makes (storage, staging, and the
 * uniforms of its dispatches) is made through its scope and destroyed with it when the call ends,
 * however it ends, so no call leaves buffers behind for the garbage collector.
 */
import { stagingBuffer, storageBuffer } from './buffers.ts';
import { grid } from './pipelines.ts';
import { type UniformLayout, type UniformValues, createUniform } from './uniforms.ts';

export class CallScope {
  private readonly owned: { destroy(): void }[] = [];

  constructor(
    readonly device: GPUDevice,
    /** the device's maxComputeWorkgroupsPerDimension */
    private readonly maxWorkgroupsPerDimension: number,
  ) {}

  /** Workgroup counts for `groups` workgroups on this device (see pipelines.ts grid). */
  grid(groups: number): { x: number; y: number } {
    return grid(groups, this.maxWorkgroupsPerDimension);
  }

  /** Takes ownership of `resource`: it is destroyed with the scope. */
  own<T extends { destroy(): void }>(resource: T): T {
    this.owned.push(resource);
    return resource;
  }

  /** A storage buffer of `bytes` (rounded up to 16), optionally initialised. */
  storage(bytes: number, label: string, init?: ArrayBufferView): GPUBuffer {
    return this.own(storageBuffer(this.device, bytes, label, init));
  }

  /** A buffer the CPU maps to read back from. */
  staging(bytes: number, label: string): GPUBuffer {
    return this.own(stagingBuffer(this.device, bytes, label));
  }

  /** A uniform buffer of one Params value, written by field name. */
  uniform<N extends string>(
    layout: UniformLayout<N>,
    values: UniformValues<N>,
    label: string,
  ): GPUBuffer {
    return this.own(createUniform(this.device, layout, values, label));
  }

  /** Destroys everything the scope owns (idempotent). */
  destroy(): void {
    for (const r of this.owned.splice(0)) r.destroy();
  }
}
