// NOTE TO THE HELPER WRITING THE POOLING KERNELS: the main engineer accidentally overwrote
// your src/backend/webgpu/pool.ts at about 16:35 with an unrelated file (now moved to
// memory.ts). Your pooling code was lost: please write it again here (the stubs below only
// keep the project compiling meanwhile). Sorry.
import type { DType } from "../../dtype.ts";
import type { Tensor } from "../../tensor.ts";
import type { PoolGeometry } from "../backend.ts";
import type { GpuStorage, WebGpuBackend } from "./backend.ts";

export function poolForward(
  gpu: WebGpuBackend,
  op: string,
  _max: boolean,
  _dtype: DType,
  _shapes: [readonly number[], PoolGeometry],
  _result: GpuStorage,
  _x: Tensor,
): void {
  gpu.unsupported(op, "pooling");
}

export function maxPoolGradPass(
  gpu: WebGpuBackend,
  op: string,
  _secondOrder: boolean,
  _dtype: DType,
  _shapes: [readonly number[], PoolGeometry],
  _result: GpuStorage,
  _x: Tensor,
  _other: Tensor,
): void {
  gpu.unsupported(op, "max pooling's gradient");
}

export function avgPoolGradPass(
  gpu: WebGpuBackend,
  op: string,
  _dtype: DType,
  _shapes: [readonly number[], PoolGeometry],
  _result: GpuStorage,
  _dy: Tensor,
): void {
  gpu.unsupported(op, "average pooling's gradient");
}
