/**
 * The WebGPU device's convolutions and pooling (NHWC x, HWIO filters, dense operands), with
 * the CPU's semantics (csrc/kernels/conv.c, pooling.c; csrc/include/eager.h).
 * @module
 */
import type { DType } from "../../dtype.ts";
import type { Tensor } from "../../tensor.ts";
import type { ConvGeometry, ConvPass, PoolGeometry } from "../backend.ts";
import type { GpuStorage, WebGpuBackend } from "./backend.ts";

export function convPass(
  gpu: WebGpuBackend,
  op: string,
  _pass: ConvPass,
  _dtype: DType,
  _shapes: [readonly number[], readonly number[], ConvGeometry],
  _result: GpuStorage,
  _a: Tensor,
  _b: Tensor,
): void {
  gpu.unsupported(op, "conv2d");
}

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
