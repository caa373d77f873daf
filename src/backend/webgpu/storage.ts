/**
 * A tensor's storage on the WebGPU device. Its own module so that the kernel modules can make
 * storage of their own (conv.ts's staging buffer) without importing backend.ts, which imports
 * them.
 * @module
 */
import type { DeviceBuffer } from "../backend.ts";
import type { WebGpuBackend } from "./backend.ts";

/** A tensor's storage on the device: a pooled GPU buffer of at least `bytes` bytes. */
export class GpuStorage implements DeviceBuffer {
  holders = 0;
  /** Whether the buffer went back to the pool (disposed, released or freed). */
  returned = false;
  constructor(
    readonly backend: WebGpuBackend,
    readonly buffer: GPUBuffer,
    readonly bytes: number,
  ) {}
}
