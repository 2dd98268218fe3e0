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

/** A buffer the CPU maps to read what the GPU copied into it. */
export function stagingBuffer(device: GPUDevice, bytes: number, label: string): GPUBuffer {
  return device.createBuffer({ label, size: Math.max(16, bytes), usage: MAP_READ | COPY_DST });
}

/** The rows of m, each padded to d4 vec4s (m's own data when no padding is needed). */
export function paddedRows(m: Matrix, d4: number): Float32Array {
  const stride = d4 * 4;
  if (stride === m.cols) return m.data;
  const out = new Float32Array(m.rows * stride);
  for (let i = 0; i < m.rows; i++) {
    out.set(m.data.subarray(i * m.cols, (i + 1) * m.cols), i * stride);
  }
  return out;
}

/** The first `rows` rows of padded `buf` (d4 vec4s each), cut back to `cols` values. */
export function unpaddedRows(
  buf: Float32Array,
  rows: number,
  cols: number,
  d4: number,
): Float32Array {
  const stride = d4 * 4;
  if (stride === cols) return buf.slice(0, rows * cols);
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) out.set(buf.subarray(i * stride, i * stride + cols), i * cols);
  return out;
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
  // Destroyed on every path: a map that fails on a dying device must not leave it behind.
  try {
    const enc = device.createCommandEncoder({ label: 'readback' });
    enc.copyBufferToBuffer(src, offset, staging, 0, size);
    device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const out = staging.getMappedRange().slice(0, bytes);
    staging.unmap();
    return out;
  } finally {
    staging.destroy();
  }
}
