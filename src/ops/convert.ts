/**
 * Turning JS values into tensors: `tf.constant` and the weak conversion every op
 * applies to its arguments (see the promotion rules in dtype.ts).
 * @module
 */
import { checkDType, type DType, dtypeOfArray, numberFits, type TypedArray } from "../dtype.ts";
import { checkRank, checkShape, denseStrides, showShape, sizeOf } from "../shape.ts";
import { allocate } from "../backend/cpu/storage.ts";
import type { Backend } from "../backend/backend.ts";
import { placement } from "../backend/registry.ts";
import {
  type NestedArray,
  Tensor,
  type TensorConvertible,
  type TensorLike,
  TO_TENSOR,
} from "../tensor.ts";
import { castTensor } from "./cast.ts";

type Leaf = number | boolean | bigint;

function isConvertible(value: unknown): value is TensorConvertible {
  return typeof value === "object" && value !== null && TO_TENSOR in value;
}

/** Shape and flat leaves of nested arrays; throws on ragged or non-numeric input. */
function flatten(op: string, value: NestedArray): { shape: number[]; leaves: Leaf[] } {
  const shape: number[] = [];
  let probe: NestedArray = value;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    if (probe.length === 0) break;
    probe = probe[0];
  }
  checkRank(op, shape.length);
  const leaves: Leaf[] = [];
  const walk = (node: NestedArray, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (Array.isArray(node)) {
        throw new TypeError(`${op}: ragged nested array: ${path} is an array, expected a scalar`);
      }
      const kind = typeof node;
      if (kind !== "number" && kind !== "boolean" && kind !== "bigint") {
        throw new TypeError(`${op}: cannot convert ${path} of type ${kind} to a tensor`);
      }
      leaves.push(node as Leaf);
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[depth]) {
      const got = Array.isArray(node) ? `length ${node.length}` : "a scalar";
      throw new TypeError(
        `${op}: ragged nested array: ${path} has ${got}, expected length ${shape[depth]}` +
          ` (shape ${showShape(shape)})`,
      );
    }
    for (let i = 0; i < node.length; i++) walk(node[i], depth + 1, `${path}[${i}]`);
  };
  walk(value, 0, "value");
  return { shape, leaves };
}

/** The dtype JS leaves infer on their own: bigints int64, all-booleans bool, else float32. */
function naturalDType(leaves: readonly Leaf[]): DType {
  if (leaves.length === 0) return "float32";
  let booleans = true;
  for (const leaf of leaves) {
    if (typeof leaf === "bigint") return "int64";
    if (typeof leaf !== "boolean") booleans = false;
  }
  return booleans ? "bool" : "float32";
}

function leafFits(leaf: Leaf, dtype: DType): boolean {
  if (typeof leaf === "boolean") return true; // true -> 1 in any dtype
  if (typeof leaf === "bigint") {
    return dtype === "int64" || (dtype !== "bool" && numberFits(Number(leaf), dtype) &&
      BigInt(Number(leaf)) === leaf);
  }
  return numberFits(leaf, dtype);
}

function writeLeaves(op: string, leaves: readonly Leaf[], dtype: DType): TypedArray {
  const out = allocate(dtype, leaves.length, op);
  for (let i = 0; i < leaves.length; i++) {
    const leaf = leaves[i];
    if (!leafFits(leaf, dtype)) {
      throw new TypeError(`${op}: ${String(leaf)} cannot be represented as ${dtype}`);
    }
    if (dtype === "int64") (out as BigInt64Array)[i] = BigInt(leaf);
    else (out as Exclude<TypedArray, BigInt64Array>)[i] = Number(leaf);
  }
  return out;
}

/**
 * A tensor of host values made by an op: on `backend` (the tf.device scope's by default).
 * NOTE: values are built in a host array first, whatever the device (one upload).
 */
export function placed(
  op: string,
  values: TypedArray,
  dtype: DType,
  shape: readonly number[],
  backend: Backend = placement(),
): Tensor {
  return new Tensor(backend.upload(values, op), dtype, shape);
}

function fromTypedArray(
  op: string,
  array: ArrayBufferView,
  dtype: DType | undefined,
  backend?: Backend,
): Tensor {
  const natural = dtypeOfArray(array);
  if (!natural) {
    throw new TypeError(`${op}: cannot make a tensor from a ${array.constructor.name}`);
  }
  const source = array as unknown as ArrayLike<number | bigint>;
  const target = dtype ?? natural;
  const out = allocate(target, source.length, op);
  if (target === "int64") {
    const o = out as BigInt64Array;
    for (let i = 0; i < source.length; i++) o[i] = BigInt(source[i]);
  } else if (natural === "int64") {
    const o = out as Exclude<TypedArray, BigInt64Array>;
    for (let i = 0; i < source.length; i++) o[i] = Number(source[i]);
  } else {
    (out as Exclude<TypedArray, BigInt64Array>).set(source as ArrayLike<number>);
  }
  return placed(op, out, target, [source.length], backend);
}

/** Options of tf.constant. */
export interface ConstantOptions {
  /** Reshape the value to this shape, or fill it when the value is a scalar. */
  shape?: number[];
}

/**
 * A tensor from JS data: numbers, booleans, bigints, nested arrays, typed arrays, or
 * another tensor. JS numbers become float32 unless `dtype` says otherwise; typed
 * arrays keep their type (Int32Array -> int32, ...).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.constant([[1, 2], [3, 4]], "int32"); // shape [2, 2]
 * tf.constant(0, "float32", { shape: [2, 3] }); // filled
 * ```
 */
export function constant(
  value: TensorLike,
  dtype?: DType,
  options: ConstantOptions = {},
): Tensor {
  const op = "constant";
  if (dtype !== undefined) checkDType(op, dtype);
  if (isConvertible(value)) value = value[TO_TENSOR]();
  let result: Tensor;
  if (value instanceof Tensor) {
    result = dtype && dtype !== value.dtype ? castTensor(value, dtype) : value;
  } else if (ArrayBuffer.isView(value)) {
    result = fromTypedArray(op, value, dtype);
  } else {
    const { shape, leaves } = flatten(op, value as NestedArray);
    const target = dtype ?? naturalDType(leaves);
    result = placed(op, writeLeaves(op, leaves, target), target, shape);
  }
  return options.shape ? reshapeOrFill(op, result, checkShape(op, options.shape)) : result;
}

function reshapeOrFill(op: string, t: Tensor, shape: number[]): Tensor {
  const n = sizeOf(shape);
  if (!t.backend.readsSynchronously && (t.size === n || t.size === 1)) {
    // On a device read asynchronously: a copy on the device, dense, or broadcast from the
    // one value (stride 0).
    const source = t.size === n
      ? t
      : new Tensor(t.storage, t.dtype, shape, shape.map(() => 0), t.offset);
    const out = t.backend.allocateOutput(t.dtype, n, op);
    const target = t.size === n ? denseStrides(t.shape) : denseStrides(shape);
    t.backend.copyStrided(op, out, t.dtype, target, 0, source);
    return new Tensor(out, t.dtype, shape);
  }
  if (t.size === n) return placed(op, t.dataSync(), t.dtype, shape, t.backend);
  if (t.size === 1) {
    const out = allocate(t.dtype, n, op);
    (out as unknown as { fill(v: unknown): void }).fill(t.dataSync()[0]);
    return placed(op, out, t.dtype, shape, t.backend);
  }
  throw new RangeError(
    `${op}: a value of shape ${showShape(t.shape)} (${t.size} elements) cannot fill shape ` +
      `${showShape(shape)} (${n} elements)`,
  );
}

/**
 * An op's tensor argument. Tensors pass through; JS values are "weak": they take
 * `hint` (the other operand's dtype) when all their values fit it, else their natural
 * dtype, and go to `backend` (the other operand's), by default the tf.device scope's.
 */
export function toTensor(op: string, value: TensorLike, hint?: DType, backend?: Backend): Tensor {
  if (value instanceof Tensor) return value;
  if (isConvertible(value)) return value[TO_TENSOR]();
  if (value === undefined || value === null) {
    throw new TypeError(`${op}: expected a tensor, got ${value}`);
  }
  if (ArrayBuffer.isView(value)) return fromTypedArray(op, value, undefined, backend);
  if (typeof value === "number") {
    const dtype = hint && numberFits(value, hint) ? hint : "float32";
    const out = allocate(dtype, 1, op);
    if (dtype === "int64") (out as BigInt64Array)[0] = BigInt(value);
    else (out as Exclude<TypedArray, BigInt64Array>)[0] = value;
    return placed(op, out, dtype, [], backend);
  }
  if (typeof value !== "boolean" && typeof value !== "bigint" && !Array.isArray(value)) {
    throw new TypeError(`${op}: cannot convert a value of type ${typeof value} to a tensor`);
  }
  const { shape, leaves } = flatten(op, value as NestedArray);
  const natural = naturalDType(leaves);
  const dtype = hint && leaves.every((leaf) => weakFits(leaf, hint)) ? hint : natural;
  return placed(op, writeLeaves(op, leaves, dtype), dtype, shape, backend);
}

function weakFits(leaf: Leaf, dtype: DType): boolean {
  if (typeof leaf === "boolean") return dtype === "bool";
  if (dtype === "bool") return false;
  return leafFits(leaf, dtype);
}
