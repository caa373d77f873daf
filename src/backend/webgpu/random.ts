/**
 * The WebGPU device's random fills: Philox4x32-10 streams, the CPU's (csrc/kernels/random.c).
 * @module
 */
import type { DType } from "../../dtype.ts";
import type { GpuStorage, WebGpuBackend } from "./backend.ts";

export function randomFill(
  gpu: WebGpuBackend,
  op: string,
  _dist: number,
  _dtype: DType,
  _seeds: readonly bigint[],
  _params: readonly number[],
  _out: GpuStorage,
  _n: number,
): void {
  gpu.unsupported(op, "random fills");
}
