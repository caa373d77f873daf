/**
 * Tensors made from a description rather than data: fill, zeros, ones, zerosLike,
 * onesLike, range, linspace, eye.
 * @module
 */
import { checkDType, type DType, isFloat, numberFits, type TypedArray } from "../dtype.ts";
import { checkShape, describe } from "../shape.ts";
import { allocate } from "../backend/cpu/storage.ts";
import type { Backend } from "../backend/backend.ts";
import { placement } from "../backend/registry.ts";
import { cpuBackend } from "../backend/cpu/backend.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { placed, toTensor } from "./convert.ts";

export function filled(
  op: string,
  shape: readonly number[],
  value: number | boolean,
  dtype: DType,
  backend: Backend = placement(),
): Tensor {
  checkDType(op, dtype);
  if (typeof value !== "number" && typeof value !== "boolean") {
    throw new TypeError(`${op}: value must be a number or a boolean, got ${typeof value}`);
  }
  if (!numberFits(Number(value), dtype)) {
    throw new RangeError(`${op}: ${value} cannot be represented as ${dtype}`);
  }
  const dims = checkShape(op, shape), n = dims.reduce((a, b) => a * b, 1);
  const v = dtype === "int64" ? BigInt(Number(value)) : Number(value);
  if (v === 0 || v === 0n) return new Tensor(backend.allocate(dtype, n, op), dtype, dims);
  const out = allocate(dtype, n, op);
  (out as unknown as { fill(v: number | bigint): void }).fill(v);
  return placed(op, out, dtype, dims, backend);
}

/**
 * A tensor of `shape` holding `value` everywhere (float32 unless dtype says otherwise).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.fill([2, 2], 7); // [[7, 7], [7, 7]]
 * ```
 */
export function fill(shape: readonly number[], value: number | boolean, dtype?: DType): Tensor {
  const d = dtype ?? (typeof value === "boolean" ? "bool" : "float32");
  return filled("fill", shape, value, d);
}

/** Zeros. @example tf.zeros([2, 3]) // float32 zeros of shape [2, 3] */
export function zeros(shape: readonly number[], dtype: DType = "float32"): Tensor {
  return filled("zeros", shape, 0, dtype);
}

/** Ones. @example tf.ones([2], "int32") // [1, 1] */
export function ones(shape: readonly number[], dtype: DType = "float32"): Tensor {
  return filled("ones", shape, 1, dtype);
}

/** Zeros with x's shape (and dtype). @example tf.zerosLike([1, 2]) // [0, 0] */
export function zerosLike(x: TensorLike, dtype?: DType): Tensor {
  const t = toTensor("zerosLike", x);
  return filled("zerosLike", t.shape, 0, dtype ?? t.dtype, t.backend);
}

/** Ones with x's shape (and dtype). @example tf.onesLike([1, 2]) // [1, 1] */
export function onesLike(x: TensorLike, dtype?: DType): Tensor {
  const t = toTensor("onesLike", x);
  return filled("onesLike", t.shape, 1, dtype ?? t.dtype, t.backend);
}

/**
 * start, start + delta, ... up to (not including) limit. With one argument it counts
 * from 0. As in TensorFlow, integer arguments give int32 and any fractional one
 * float32, unless dtype is given.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.range(5); // int32 [0, 1, 2, 3, 4]
 * tf.range(0, 1, 0.25); // float32 [0, 0.25, 0.5, 0.75]
 * ```
 */
export function range(start: number, limit?: number, delta = 1, dtype?: DType): Tensor {
  const op = "range";
  if (limit === undefined) [start, limit] = [0, start];
  for (const [name, v] of [["start", start], ["limit", limit], ["delta", delta]] as const) {
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new TypeError(`${op}: ${name} must be a finite number, got ${describe(v)}`);
    }
  }
  if (delta === 0) throw new RangeError(`${op}: delta must not be 0`);
  const d = dtype ?? ([start, limit, delta].every(Number.isInteger) ? "int32" : "float32");
  checkDType(op, d);
  if (d === "bool") throw new TypeError(`${op}: bool is not a numeric dtype`);
  const n = Math.max(0, Math.ceil((limit - start) / delta));
  checkShape(op, [n]);
  const out = allocate(d, n, op);
  writeSequence(out, n, (i) => start + i * delta);
  return placed(op, out, d, [n]);
}

function writeSequence(out: TypedArray, n: number, value: (i: number) => number): void {
  if (out instanceof BigInt64Array) { for (let i = 0; i < n; i++) out[i] = BigInt(value(i)); }
  else for (let i = 0; i < n; i++) out[i] = value(i);
}

/**
 * `num` evenly spaced values from start to stop, both included.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.linspace(0, 1, 5); // [0, 0.25, 0.5, 0.75, 1]
 * ```
 */
export function linspace(
  start: number,
  stop: number,
  num: number,
  dtype: DType = "float32",
): Tensor {
  const op = "linspace";
  for (const [name, v] of [["start", start], ["stop", stop]] as const) {
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new TypeError(`${op}: ${name} must be a finite number, got ${describe(v)}`);
    }
  }
  if (!Number.isInteger(num) || num < 0) {
    throw new RangeError(`${op}: num must be a non-negative integer, got ${describe(num)}`);
  }
  checkShape(op, [num]);
  if (!isFloat(checkDType(op, dtype))) throw new TypeError(`${op}: dtype must be a float type`);
  const out = allocate(dtype, num, op);
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  writeSequence(out, num, (i) => (i === num - 1 && num > 1 ? stop : start + i * step));
  return placed(op, out, dtype, [num]);
}

/** Options of eye. */
export interface EyeOptions {
  /** Leading batch dims. */
  batchShape?: number[];
  /** Element type (default float32). */
  dtype?: DType;
}

/**
 * Identity matrix (numRows x numColumns, square when numColumns is omitted).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.eye(2); // [[1, 0], [0, 1]]
 * ```
 */
export function eye(numRows: number, numColumns?: number, options: EyeOptions = {}): Tensor {
  const op = "eye";
  const cols = numColumns ?? numRows;
  for (const [name, v] of [["numRows", numRows], ["numColumns", cols]] as const) {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
      throw new RangeError(`${op}: ${name} must be a non-negative integer, got ${describe(v)}`);
    }
  }
  const batch = options.batchShape ?? [];
  const shape = [...batch, numRows, cols], dtype = options.dtype ?? "float32";
  const t = filled(op, shape, 0, dtype, cpuBackend); // checks the shape and dtype
  const matrices = t.size / Math.max(1, numRows * cols);
  const one = t.dtype === "int64" ? 1n : 1;
  const data = t.storage as unknown as { [i: number]: number | bigint };
  for (let b = 0; b < matrices; b++) {
    for (let i = 0; i < Math.min(numRows, cols); i++) data[b * numRows * cols + i * cols + i] = one;
  }
  return placed(op, t.storage as TypedArray, t.dtype, t.shape);
}
