/**
 * Typed uniform buffers. Every WGSL kernel reads its scalar parameters from a `struct Params`
 * uniform; each pass (src/gpu/passes/) declares that struct once, as a field list (name + type,
 * in WGSL order), and writes the buffer by field name. Offsets and size follow WGSL's layout
 * rules, and test/unit/gpu/shader-layout.test.ts parses every shader's `struct Params` and holds
 * it against the pass's list, so a field added, dropped, renamed or reordered on either side
 * fails a test instead of shifting every later value by one slot.
 */
import { COPY_DST, UNIFORM } from './buffers.ts';

/** The scalar types a Params struct may hold (all 4 bytes, 4-byte aligned in WGSL). */
export type UniformType = 'u32' | 'i32' | 'f32';

export interface UniformField<Name extends string = string> {
  readonly name: Name;
  readonly type: UniformType;
  /** byte offset in the struct */
  readonly offset: number;
}

export interface UniformLayout<Name extends string = string> {
  /** the fields in WGSL declaration order */
  readonly fields: readonly UniformField<Name>[];
  /** WGSL's SizeOf(Params): last field's end rounded up to the struct's alignment */
  readonly size: number;
  /** bytes of the uniform buffer: size rounded up to 16 (at least 16) */
  readonly bufferSize: number;
}

/**
 * The values one write needs: every field by name, except padding (fields named `pad...`,
 * there only to round the struct up), which is always written as 0.
 */
export type UniformValues<Name extends string> = {
  readonly [K in Exclude<Name, `pad${string}`>]: number;
};

/** WGSL size and alignment of each scalar type (WGSL spec, "Alignment and Size"). */
const SCALAR = { u32: 4, i32: 4, f32: 4 } as const satisfies Record<UniformType, number>;

/** A layout from `[name, type]` pairs in the order the WGSL struct declares them. */
export function uniformLayout<const F extends readonly (readonly [string, UniformType])[]>(
  fields: F,
): UniformLayout<F[number][0]> {
  let end = 0;
  let align = 1;
  const seen = new Set<string>();
  const out: UniformField<F[number][0]>[] = [];
  for (const [name, type] of fields) {
    if (seen.has(name)) throw new Error(`uniform field ${name} is declared twice`);
    seen.add(name);
    const a = SCALAR[type];
    const offset = Math.ceil(end / a) * a;
    out.push({ name, type, offset });
    end = offset + SCALAR[type];
    align = Math.max(align, a);
  }
  const size = Math.ceil(end / align) * align;
  return { fields: out, size, bufferSize: Math.max(16, Math.ceil(size / 16) * 16) };
}

function isPadding(name: string): boolean {
  return name.startsWith('pad');
}

/**
 * The bytes of one Params value, `layout.bufferSize` long. u32 fields take `v >>> 0` and i32
 * fields `v | 0` (what a Uint32Array / Int32Array store does); f32 fields round to float32.
 */
export function uniformBytes<N extends string>(
  layout: UniformLayout<N>,
  values: UniformValues<N>,
): ArrayBuffer {
  const bytes = new ArrayBuffer(layout.bufferSize);
  const view = new DataView(bytes);
  const byName = values as Readonly<Record<string, number>>;
  for (const f of layout.fields) {
    const v = isPadding(f.name) ? 0 : byName[f.name];
    if (typeof v !== 'number') throw new Error(`uniform field ${f.name} has no value`);
    if (f.type === 'u32') view.setUint32(f.offset, v >>> 0, true);
    else if (f.type === 'i32') view.setInt32(f.offset, v | 0, true);
    else view.setFloat32(f.offset, v, true);
  }
  return bytes;
}

/** A new uniform buffer holding `values`; the caller destroys it. */
export function createUniform<N extends string>(
  device: GPUDevice,
  layout: UniformLayout<N>,
  values: UniformValues<N>,
  label: string,
): GPUBuffer {
  const buffer = device.createBuffer({
    label,
    size: layout.bufferSize,
    usage: UNIFORM | COPY_DST,
    mappedAtCreation: true,
  });
  new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(uniformBytes(layout, values)));
  buffer.unmap();
  return buffer;
}

/** Rewrites a uniform buffer (made at least `layout.bufferSize` long) on the queue. */
export function writeUniform<N extends string>(
  queue: GPUQueue,
  buffer: GPUBuffer,
  layout: UniformLayout<N>,
  values: UniformValues<N>,
): void {
  queue.writeBuffer(buffer, 0, uniformBytes(layout, values));
}
