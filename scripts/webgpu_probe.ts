/**
 * `deno run -A scripts/webgpu_probe.ts`: what this machine's WebGPU offers, as JSON (issue 18;
 * docs/webgpu.md has the numbers measured with it): the adapter's name, its limits, the time
 * to get an adapter and a device, the cost of a dispatch submitted alone and batched, and of a
 * read back. Prints `{"adapter": null}` where Deno finds none (install Debian's
 * `mesa-vulkan-drivers` for the software adapter).
 * @module
 */

async function probe(): Promise<Record<string, unknown>> {
  const started = performance.now();
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) return { adapter: null };
  const adapterMs = performance.now() - started;
  const device = await adapter.requestDevice();
  const deviceMs = performance.now() - started - adapterMs;
  const module = device.createShaderModule({
    code: `@group(0) @binding(0) var<storage, read_write> o: array<f32>;
@compute @workgroup_size(1) fn main() { o[0] = o[0] + 1.0; }`,
  });
  const pipeline = device.createComputePipeline({
    layout: "auto",
    compute: { module, entryPoint: "main" },
  });
  const buffer = device.createBuffer({
    size: 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  const readable = device.createBuffer({
    size: 4,
    usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
  });
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [{ binding: 0, resource: { buffer } }],
  });
  const pass = (encoder: GPUCommandEncoder) => {
    const compute = encoder.beginComputePass();
    compute.setPipeline(pipeline);
    compute.setBindGroup(0, bindGroup);
    compute.dispatchWorkgroups(1);
    compute.end();
  };
  const dispatches = 1000;
  let start = performance.now();
  for (let i = 0; i < dispatches; i++) {
    const encoder = device.createCommandEncoder();
    pass(encoder);
    device.queue.submit([encoder.finish()]);
  }
  await device.queue.onSubmittedWorkDone();
  const aloneUs = (performance.now() - start) * 1000 / dispatches;
  start = performance.now();
  const batch = device.createCommandEncoder();
  for (let i = 0; i < dispatches; i++) pass(batch);
  device.queue.submit([batch.finish()]);
  await device.queue.onSubmittedWorkDone();
  const batchedUs = (performance.now() - start) * 1000 / dispatches;
  start = performance.now();
  const copy = device.createCommandEncoder();
  copy.copyBufferToBuffer(buffer, 0, readable, 0, 4);
  device.queue.submit([copy.finish()]);
  await readable.mapAsync(GPUMapMode.READ);
  const value = new Float32Array(readable.getMappedRange())[0];
  readable.unmap();
  const readMs = performance.now() - start;
  const info = adapter.info;
  return {
    adapter: {
      vendor: info.vendor,
      architecture: info.architecture,
      description: info.description,
    },
    maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
    maxBufferSize: device.limits.maxBufferSize,
    features: [...adapter.features].sort(),
    requestAdapterMs: Number(adapterMs.toFixed(1)),
    requestDeviceMs: Number(deviceMs.toFixed(1)),
    dispatchAloneUs: Number(aloneUs.toFixed(1)),
    dispatchBatchedUs: Number(batchedUs.toFixed(1)),
    readBackMs: Number(readMs.toFixed(2)),
    counted: value, // 2000: every dispatch ran
  };
}

if (import.meta.main) console.log(JSON.stringify(await probe(), null, 2));
