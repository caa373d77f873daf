/**
 * Feature descriptions of tf.train.Example parsing (tf.io.FixedLenFeature,
 * tf.io.VarLenFeature), the SparseTensor triple VarLen features parse into, and
 * tf.io.sparseToDense. See example.ts for the parser.
 * @module
 */
import { type DType, DTYPES } from "../dtype.ts";
import { checkShape, describe, sizeOf } from "../shape.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { toTensor } from "../ops/convert.ts";
import type { BatchList } from "../data/structure.ts";

/** A feature's dtype: TensorFlow's tf.float32, tf.int64 and tf.string. */
export type FeatureDType = "float32" | "int64" | "string";

/** A fixed-size feature (tf.io.FixedLenFeature). */
export interface FixedLenFeatureSpec {
  readonly kind: "fixed";
  readonly shape: readonly number[];
  readonly dtype: FeatureDType;
  /** The flat default values, when the feature may be missing. */
  readonly defaultValue?: Float32Array | BigInt64Array | Uint8Array[];
}

/** A variable-length feature (tf.io.VarLenFeature). */
export interface VarLenFeatureSpec {
  readonly kind: "varlen";
  readonly dtype: FeatureDType;
}

/** A feature description. */
export type FeatureSpec = FixedLenFeatureSpec | VarLenFeatureSpec;

/** TensorFlow's SparseTensor as plain data. */
export interface SparseTensor {
  indices: Tensor;
  values: Tensor | BatchList;
  denseShape: Tensor;
}

/** A parsed feature. */
export type ParsedFeature = Tensor | Uint8Array | BatchList | SparseTensor;

function checkFeatureDType(op: string, dtype: unknown): FeatureDType {
  if (dtype !== "float32" && dtype !== "int64" && dtype !== "string") {
    throw new TypeError(
      `${op}: dtype must be "float32", "int64" or "string", got ${describe(dtype)}` +
        (DTYPES.includes(dtype as DType) ? " (Example features hold only these three)" : ""),
    );
  }
  return dtype;
}

const encoder = new TextEncoder();

function flatDefault(op: string, value: unknown, dtype: FeatureDType, size: number) {
  if (dtype === "string") {
    const list = Array.isArray(value) ? value : [value];
    if (!list.every((v) => typeof v === "string" || v instanceof Uint8Array)) {
      throw new TypeError(`${op}: a string default must be strings or Uint8Arrays`);
    }
    const bytes = list.map((v) => (typeof v === "string" ? encoder.encode(v) : v as Uint8Array));
    if (bytes.length === 1 && size !== 1) return Array.from({ length: size }, () => bytes[0]);
    if (bytes.length !== size) {
      throw new RangeError(
        `${op}: the default has ${bytes.length} values, the shape needs ${size}`,
      );
    }
    return bytes;
  }
  let t: Tensor;
  try {
    t = toTensor(op, value as TensorLike, dtype);
  } catch (error) {
    throw new TypeError(`${op}: bad default value: ${(error as Error).message}`, { cause: error });
  }
  const flat = t.dtype === dtype ? t.dataSync() : null;
  const data = dtype === "int64" ? new BigInt64Array(size) : new Float32Array(size);
  const read = flat ?? Array.from(t.dataSync(), Number);
  if (t.size !== 1 && t.size !== size) {
    throw new RangeError(`${op}: the default has ${t.size} values, the shape needs ${size}`);
  }
  for (let i = 0; i < size; i++) {
    const v = read[t.size === 1 ? 0 : i];
    if (dtype === "int64") {
      if (typeof v === "number" && !Number.isSafeInteger(v)) {
        throw new TypeError(`${op}: int64 default ${v} is not an integer`);
      }
      (data as BigInt64Array)[i] = BigInt(v);
    } else (data as Float32Array)[i] = Number(v);
  }
  return data;
}

/**
 * A feature with exactly sizeOf(shape) values in every record (or defaultValue where
 * it is missing).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.io.FixedLenFeature([784], "float32");
 * tf.io.FixedLenFeature([], "int64", 0);
 * ```
 */
export function FixedLenFeature(
  shape: readonly number[],
  dtype: FeatureDType,
  defaultValue?: unknown,
): FixedLenFeatureSpec {
  const op = "FixedLenFeature";
  const s = checkShape(op, shape);
  const d = checkFeatureDType(op, dtype);
  const spec: FixedLenFeatureSpec = { kind: "fixed", shape: s, dtype: d };
  if (defaultValue === undefined || defaultValue === null) return Object.freeze(spec);
  return Object.freeze({ ...spec, defaultValue: flatDefault(op, defaultValue, d, sizeOf(s)) });
}

/**
 * A feature with any number of values per record, parsed into a SparseTensor triple.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.io.VarLenFeature("int64");
 * ```
 */
export function VarLenFeature(dtype: FeatureDType): VarLenFeatureSpec {
  return Object.freeze({ kind: "varlen", dtype: checkFeatureDType("VarLenFeature", dtype) });
}

/** Checks a features argument: an object of feature descriptions. */
export function checkFeatures(op: string, features: unknown): [string, FeatureSpec][] {
  if (typeof features !== "object" || features === null || Array.isArray(features)) {
    throw new TypeError(`${op}: features must be an object of FixedLenFeature/VarLenFeature`);
  }
  const entries = Object.entries(features);
  for (const [key, f] of entries) {
    const kind = (f as FeatureSpec)?.kind;
    if (kind !== "fixed" && kind !== "varlen") {
      throw new TypeError(`${op}: feature "${key}" must be a FixedLenFeature or VarLenFeature`);
    }
  }
  return entries as [string, FeatureSpec][];
}

/**
 * The dense tensor of a SparseTensor (tf.sparse.to_dense): denseShape filled with
 * defaultValue, the values at their indices.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const record = tf.io.serializeExample({ ids: { int64List: [4, 5] } });
 * const { ids } = tf.io.parseExample([record], { ids: tf.io.VarLenFeature("int64") });
 * tf.io.sparseToDense(ids as tf.io.SparseTensor); // [[4, 5]]
 * ```
 */
export function sparseToDense(sparse: SparseTensor, defaultValue: number | bigint = 0): Tensor {
  const op = "sparseToDense";
  const { indices, values, denseShape } = (sparse ?? {}) as Partial<SparseTensor>;
  if (
    !(indices instanceof Tensor) || !(values instanceof Tensor) ||
    !(denseShape instanceof Tensor) ||
    indices.rank !== 2 || denseShape.rank !== 1 || indices.shape[1] !== denseShape.size ||
    values.rank !== 1 || values.size !== indices.shape[0]
  ) {
    throw new TypeError(
      `${op}: expected a SparseTensor { indices, values, denseShape } of tensors`,
    );
  }
  const shape = checkShape(op, Array.from(denseShape.dataSync(), Number));
  const rank = shape.length, data = values.dataSync();
  const out = values.dtype === "int64"
    ? new BigInt64Array(sizeOf(shape))
    : new Float32Array(sizeOf(shape));
  if (defaultValue !== 0 && defaultValue !== 0n) {
    (out as unknown as { fill(v: unknown): void }).fill(
      values.dtype === "int64" ? BigInt(defaultValue) : Number(defaultValue),
    );
  }
  const idx = indices.dataSync();
  for (let i = 0; i < values.size; i++) {
    let flat = 0;
    for (let d = 0; d < rank; d++) {
      const j = Number(idx[i * rank + d]);
      if (!(j >= 0 && j < shape[d])) {
        throw new RangeError(`${op}: index ${j} of value ${i} is out of range`);
      }
      flat = flat * shape[d] + j;
    }
    (out as Float32Array)[flat] = data[i] as number;
  }
  return new Tensor(out, values.dtype === "int64" ? "int64" : "float32", shape);
}
