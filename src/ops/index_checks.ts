/**
 * Index handling shared by the indexing and scatter ops: index tensors must be int32 or
 * int64. The values are checked where they are, in the kernels, which report the position
 * of the first index out of range; the errors built here from it keep TensorFlow's
 * wording (`gather: indices[1] = 7 is not in [0, 5)`), reading the index values on the
 * error path only. NOTE: reading them before every call, as this module did, would be a
 * device round trip per call on a GPU.
 * @module
 */
import type { Backend } from "../backend/backend.ts";
import { cpuBackend } from "../backend/cpu/backend.ts";
import type { DType, TypedArray } from "../dtype.ts";
import { showShape } from "../shape.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { contiguous } from "./cast.ts";
import { placed, toTensor } from "./convert.ts";

export type IndexArray = Int32Array | BigInt64Array;

/**
 * Where an argument that sizes an op's result (sorted segment ids, bincount's values,
 * booleanMask's mask) is made, for data on `data`: such an argument is host data, as
 * TensorFlow's GPU kernels copy it (or its largest value) back before they run. For data on a
 * device, numbers or a CPU tensor are made / kept on the CPU, read there, and what the kernel
 * needs is copied to the device like any constant; a tensor on a device stays there (read
 * there when that device reads synchronously, else the op's error). On the CPU: the CPU.
 */
export function sizingBackend(data: Backend, arg: TensorLike): Backend {
  const onDevice = arg instanceof Tensor && arg.backend !== cpuBackend;
  return data !== cpuBackend && !onDevice ? cpuBackend : data;
}

/** A dense int32 or int64 index tensor; JS values become int32. */
export function indexTensor(
  op: string,
  value: TensorLike,
  what = "indices",
  backend?: Backend,
): Tensor {
  const t = toTensor(op, value, "int32", backend);
  if (t.dtype !== "int32" && t.dtype !== "int64") {
    throw new TypeError(`${op}: ${what} must be int32 or int64, got ${t.dtype}`);
  }
  return contiguous(t, op);
}

export function nonNegativeInt(op: string, value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new RangeError(`${op}: ${what} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

/** The multi-index (`1,2`) of flat position `flat` in `shape`. */
export function position(shape: readonly number[], flat: number): string {
  const parts = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    parts[d] = flat % shape[d];
    flat = Math.floor(flat / shape[d]);
  }
  return parts.join(",");
}

/** `indices[1,2]`, or `indices` for a scalar. */
export function at(what: string, shape: readonly number[], flat: number): string {
  return shape.length === 0 ? what : `${what}[${position(shape, flat)}]`;
}

/** The flat index element at `flat` (read on the error path only). */
function indexValue(idx: Tensor, flat: number): string {
  return String(idx.dataSync()[flat]);
}

/** gather's error for the bad index at flat position `bad` of `idx` (named `what`). */
export function gatherIndexError(
  op: string,
  what: string,
  idx: Tensor,
  bad: number,
  limit: number,
): Error {
  return new RangeError(
    `${op}: ${at(what, idx.shape, bad)} = ${indexValue(idx, bad)} is not in [0, ${limit})`,
  );
}

/** gatherNd's and scatterNd's error for row `row` of the index rows [n, depth] of `idx`. */
export function ndIndexError(
  op: string,
  idx: Tensor,
  row: number,
  shape: readonly number[],
  what: string,
): Error {
  const depth = idx.shape[idx.rank - 1];
  const values = Array.from({ length: depth }, (_, k) => indexValue(idx, row * depth + k));
  return new RangeError(
    `${op}: ${at("indices", idx.shape.slice(0, -1), row)} = [${values.join(", ")}] does not ` +
      `index into ${what} ${showShape(shape)}`,
  );
}

/**
 * Flat positions of the non-zero elements of a dense tensor, in row-major order: read on
 * the host, since they size `op`'s output. A device read only asynchronously (WebGPU) is an
 * error naming the op, as TensorFlow's GPU kernels copy the mask to the host for this.
 */
export function nonZeroPositions(t: Tensor, op: string): number[] {
  if (!t.backend.readsSynchronously) {
    throw new Error(
      `${op}: the output's shape depends on the values of a tensor on ${t.device}, which is ` +
        "read asynchronously: move it to the CPU first (`await t.cpuAsync()`)",
    );
  }
  const data = t.dataSync();
  const out: number[] = [];
  if (data instanceof BigInt64Array) {
    for (let i = 0; i < data.length; i++) if (data[i] !== 0n) out.push(i);
  } else {
    const d = data as Exclude<TypedArray, BigInt64Array>;
    for (let i = 0; i < d.length; i++) if (d[i] !== 0) out.push(i); // NaN counts as true
  }
  return out;
}

/** `positions` as an index tensor (int32 unless a position needs int64). */
export function positionTensor(
  positions: readonly number[],
  limit: number,
  backend: Backend,
): Tensor {
  const shape = [positions.length];
  if (limit <= 2 ** 31 - 1) {
    return placed("booleanMask", Int32Array.from(positions), "int32", shape, backend);
  }
  return placed("booleanMask", BigInt64Array.from(positions, BigInt), "int64", shape, backend);
}

export const SCATTER_DTYPES: readonly DType[] = ["float32", "float64", "int32", "int64"];

export function checkScatterDType(op: string, what: string, dtype: DType): void {
  if (!SCATTER_DTYPES.includes(dtype)) {
    throw new TypeError(`${op}: ${what} must be float32, float64, int32 or int64, got ${dtype}`);
  }
}
