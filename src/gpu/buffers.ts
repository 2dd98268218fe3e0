/**
 * GPU-side storage for row matrices. A matrix is split into row chunks so that no storage
 * binding exceeds the device's per-binding limit (<= 128 MiB, see device.ts); every kernel that
 * reads rows runs once per chunk. Rows are zero-padded to a multiple of 4 floats so shaders can
 * read vec4s; zero columns change no dot product, norm or mean.
 */
import type { Matrix } from '../core/types.ts';

/*
 * Buffer usage flags by their values in the WebGPU specification, not via the GPUBufferUsage
 * global: that global is missing where WebGPU is, and this module must load there too (the
 * cluster worker imports it and then runs on the CPU).
 */
export const MAP_READ = 0x0001;
export const COPY_SRC = 0x0004;
export const COPY_DST = 0x0008;
export const UNIFORM = 0x0040;
export const STORAGE = 0x0080;

export interface RowChunk {
  readonly buffer: GPUBuffer;
  /** global index of the chunk's first row */
  readonly rowStart: number;
  readonly rows: number;
}

export interface GpuRows {
  readonly rows: number;
  readonly cols: number;
  /** padded row length in vec4 */
  readonly d4: number;
  readonly chunks: readonly RowChunk[];
  destroy(): void;
}

/** Number of vec4s per padded row. */
export function vec4sPerRow(cols: number): number {
  return Math.max(1, Math.ceil(cols / 4));
}

/** How many padded rows fit one binding of `maxBytes` (at least 1). */
export function rowsPerChunk(cols: number, maxBytes: number): number {
  return Math.max(1, Math.floor(maxBytes / (vec4sPerRow(cols) * 16)));
}

/** Copies rows [r0, r0 + n) of m into a padded float32 array of n * d4 * 4 values. */
function padRows(m: Matrix, r0: number, n: number, d4: number, out: Float32Array): void {
  const d = m.cols;
  const stride = d4 * 4;
  if (stride === d) {
    out.set(m.data.subarray(r0 * d, (r0 + n) * d));
    return;
  }
  for (let i = 0; i < n; i++) {
    out.set(m.data.subarray((r0 + i) * d, (r0 + i + 1) * d), i * stride);
  }
}

/** Uploads m in row chunks of at most `maxChunkBytes` each. */
export function uploadRows(
  device: GPUDevice,
  m: Matrix,
  maxChunkBytes: number,
  label: string,
  extraUsage = 0,
): GpuRows {
  const d4 = vec4sPerRow(m.cols);
  const per = rowsPerChunk(m.cols, maxChunkBytes);
  const chunks: RowChunk[] = [];
  for (let r0 = 0; r0 < Math.max(1, m.rows); r0 += per) {
    const n = Math.max(1, Math.min(per, m.rows - r0));
    const buffer = device.createBuffer({
      label: `${label}[${chunks.length}]`,
      size: n * d4 * 16,
      usage: STORAGE | COPY_DST | extraUsage,
      mappedAtCreation: true,
    });
    if (m.rows > 0)
      padRows(m, r0, Math.min(n, m.rows - r0), d4, new Float32Array(buffer.getMappedRange()));
    buffer.unmap();
    chunks.push({ buffer, rowStart: r0, rows: Math.min(n, Math.max(0, m.rows - r0)) });
  }
  return {
    rows: m.rows,
    cols: m.cols,
    d4,
    chunks,
    destroy() {
      for (const c of chunks) c.buffer.destroy();
    },
  };
}

/** A plain storage buffer of `bytes` (rounded up to 16), optionally initialised. */
export function storageBuffer(
  device: GPUDevice,
  bytes: number,
  label: string,
  init?: ArrayBufferView,
  extraUsage = 0,
): GPUBuffer {
  const size = Math.max(16, Math.ceil(bytes / 16) * 16);
  const buffer = device.createBuffer({
    label,
    size,
    usage: STORAGE | COPY_SRC | COPY_DST | extraUsage,
    mappedAtCreation: init !== undefined,
  });
  if (init) {
    new Uint8Array(buffer.getMappedRange()).set(
      new Uint8Array(init.buffer, init.byteOffset, init.byteLength),
    );
    buffer.unmap();
  }
  return buffer;
}

/** A uniform buffer holding u32 values (WGSL structs of u32 fields). */
export function uniformU32(device: GPUDevice, values: readonly number[], label: string): GPUBuffer {
  const size = Math.max(16, Math.ceil((values.length * 4) / 16) * 16);
  const buffer = device.createBuffer({
    label,
    size,
    usage: UNIFORM | COPY_DST,
    mappedAtCreation: true,
  });
  const u = new Uint32Array(buffer.getMappedRange());
  for (let i = 0; i < values.length; i++) u[i] = values[i] >>> 0;
  buffer.unmap();
  return buffer;
}

/** Copies `bytes` from `src` at `offset` to the CPU. */
export async function readBack(
  device: GPUDevice,
  src: GPUBuffer,
  bytes: number,
  offset = 0,
): Promise<ArrayBuffer> {
  const size = Math.max(4, Math.ceil(bytes / 4) * 4);
  const staging = device.createBuffer({
    label: 'readback',
    size,
    usage: MAP_READ | COPY_DST,
  });
  const enc = device.createCommandEncoder({ label: 'readback' });
  enc.copyBufferToBuffer(src, offset, staging, 0, size);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = staging.getMappedRange().slice(0, bytes);
  staging.unmap();
  staging.destroy();
  return out;
}
