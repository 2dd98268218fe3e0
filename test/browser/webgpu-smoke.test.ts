import { describe, expect, it } from 'vitest';

describe('the test browser', () => {
  it('has a WebGPU adapter (fails, never skips, when there is none)', async () => {
    expect(
      navigator.gpu,
      'navigator.gpu is missing: Chromium needs --enable-unsafe-webgpu',
    ).toBeDefined();
    const adapter = await navigator.gpu.requestAdapter();
    expect(adapter, 'no WebGPU adapter found').not.toBeNull();
    const device = await adapter!.requestDevice();
    const module = device.createShaderModule({
      code: `@group(0) @binding(0) var<storage, read_write> v: array<f32>;
             @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3u) {
               if (id.x < arrayLength(&v)) { v[id.x] = v[id.x] * 2.0; } }`,
    });
    const buf = device.createBuffer({
      size: 256 * 4,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(buf, 0, new Float32Array(256).fill(1.5));
    const read = device.createBuffer({
      size: 256 * 4,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const pipeline = device.createComputePipeline({
      layout: 'auto',
      compute: { module, entryPoint: 'main' },
    });
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(
      0,
      device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [{ binding: 0, resource: { buffer: buf } }],
      }),
    );
    pass.dispatchWorkgroups(4);
    pass.end();
    enc.copyBufferToBuffer(buf, 0, read, 0, 256 * 4);
    device.queue.submit([enc.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    expect(Array.from(new Float32Array(read.getMappedRange()).slice(0, 3))).toEqual([3, 3, 3]);
  });
});
