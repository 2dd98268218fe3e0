/**
 * One WGSL kernel as a pass declares and compiles it: the shader's source, its `struct Params`
 * (a uniform layout, see uniforms.ts) and its group-0 bindings by name, compiled against an
 * explicit bind group layout built from those bindings. Bind groups are then made from buffers
 * by binding name, so neither the uniform nor the bindings depend on counting positions; the
 * unit test test/unit/gpu/shader-layout.test.ts holds both lists against every WGSL file.
 */
import { computePipeline, withErrorScopes } from './pipelines.ts';
import type { UniformLayout } from './uniforms.ts';

/**
 * How a kernel reads a binding: `var<uniform>`, `var<storage, read>` or `var<storage,
 * read_write>`. (GPUBufferBindingType's values.)
 */
export type BindingKind = 'uniform' | 'read-only-storage' | 'storage';

export interface ShaderSpec<B extends string = string, P extends string = string> {
  /** the file under shaders/ */
  readonly file: string;
  readonly code: string;
  /** the shader's `struct Params` */
  readonly params: UniformLayout<P>;
  /** the shader's `@group(0)` bindings; the position in this list is the binding number */
  readonly bindings: readonly (readonly [name: B, kind: BindingKind])[];
}

/** A spec, with its type parameters inferred from the literal lists. */
export function shaderSpec<const B extends string, P extends string>(
  spec: ShaderSpec<B, P>,
): ShaderSpec<B, P> {
  return spec;
}

/* GPUShaderStage.COMPUTE by value: the global is missing where WebGPU is (see buffers.ts). */
const COMPUTE_STAGE = 0x4;

/** The bind group layout of a spec's bindings, shared by every pipeline compiled from it. */
export function bindGroupLayout(
  device: GPUDevice,
  spec: ShaderSpec,
  label: string,
): GPUBindGroupLayout {
  return device.createBindGroupLayout({
    label,
    entries: spec.bindings.map(([, type], binding) => ({
      binding,
      visibility: COMPUTE_STAGE,
      buffer: { type },
    })),
  });
}

/** One dispatch of a kernel over an (x, y) grid of workgroups with one bind group. */
export interface Dispatch {
  readonly pipeline: GPUComputePipeline;
  readonly bind: GPUBindGroup;
  readonly x: number;
  readonly y: number;
}

export class Kernel<B extends string = string, P extends string = string> {
  private constructor(
    readonly spec: ShaderSpec<B, P>,
    readonly layout: GPUBindGroupLayout,
    readonly pipeline: GPUComputePipeline,
  ) {}

  /**
   * Compiles `entryPoint` of the spec with pipeline-overridable `constants`; throws
   * GpuValidationError with the compiler's message on failure. `layout` shares one bind group
   * layout between variants of one shader (else a new one is made).
   */
  static async compile<B extends string, P extends string>(
    device: GPUDevice,
    spec: ShaderSpec<B, P>,
    label: string,
    entryPoint = 'main',
    constants: Record<string, number> = {},
    layout?: GPUBindGroupLayout,
  ): Promise<Kernel<B, P>> {
    const layouts = await withErrorScopes(device, `the bind group layout of ${label}`, () => {
      const group = layout ?? bindGroupLayout(device, spec, label);
      return {
        group,
        pipeline: device.createPipelineLayout({ label, bindGroupLayouts: [group] }),
      };
    });
    const pipeline = await computePipeline(
      device,
      label,
      spec.code,
      entryPoint,
      constants,
      layouts.pipeline,
    );
    return new Kernel(spec, layouts.group, pipeline);
  }

  /** A bind group from one buffer per binding, by the binding's WGSL name. */
  bind(device: GPUDevice, buffers: Readonly<Record<B, GPUBuffer>>, label: string): GPUBindGroup {
    return device.createBindGroup({
      label,
      layout: this.layout,
      entries: this.spec.bindings.map(([name], binding) => ({
        binding,
        resource: { buffer: buffers[name] },
      })),
    });
  }

  /** A dispatch of this kernel over `grid` with a new bind group of `buffers`. */
  dispatch(
    device: GPUDevice,
    buffers: Readonly<Record<B, GPUBuffer>>,
    grid: { readonly x: number; readonly y: number },
    label: string,
  ): Dispatch {
    return {
      pipeline: this.pipeline,
      bind: this.bind(device, buffers, label),
      x: grid.x,
      y: grid.y,
    };
  }
}

/** Records `list` into one compute pass. */
export function encode(pass: GPUComputePassEncoder, list: readonly Dispatch[]): void {
  for (const d of list) {
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bind);
    pass.dispatchWorkgroups(d.x, d.y);
  }
}

/** Encodes `list` as one compute pass and submits it. */
export function submitDispatches(
  device: GPUDevice,
  label: string,
  list: readonly Dispatch[],
  before?: (enc: GPUCommandEncoder) => void,
): void {
  const enc = device.createCommandEncoder({ label });
  before?.(enc);
  const pass = enc.beginComputePass();
  encode(pass, list);
  pass.end();
  device.queue.submit([enc.finish()]);
}
