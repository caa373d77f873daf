/**
 * oneHot. As in TensorFlow, an index outside [0, depth) gives an all-off row rather than an
 * error; integer input, so no gradient.
 * @module
 */
import { checkDType, type DType } from "../dtype.ts";
import { checkRank, checkSize, normalizeAxis, sizeOf } from "../shape.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { indexTensor, nonNegativeInt } from "./index_checks.ts";

/** Options of {@link oneHot}. */
export interface OneHotOptions {
  /** The value at the index (converted to `dtype`). */
  onValue?: number | boolean;
  /** The value elsewhere (converted to `dtype`). */
  offValue?: number | boolean;
  /** Where the new depth dim goes in the output; -1 (default) appends it. */
  axis?: number;
  /** Output dtype. */
  dtype?: DType;
}

/**
 * One-hot encoding (tf.one_hot): a new dim of size `depth` holding `onValue` at each
 * index and `offValue` elsewhere. An index outside [0, depth) gives an all-off row, as
 * in TensorFlow.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.oneHot([0, 2], 3); // [[1, 0, 0], [0, 0, 1]]
 * tf.oneHot([0, 2], 3, { axis: 0, dtype: "int32" }); // [[1, 0], [0, 0], [0, 1]]
 * ```
 */
export function oneHot(indices: TensorLike, depth: number, options: OneHotOptions = {}): Tensor {
  const op = "oneHot";
  const idx = indexTensor(op, indices);
  nonNegativeInt(op, depth, "depth");
  const dtype = checkDType(op, options.dtype ?? "float32");
  const onValue = Number(options.onValue ?? 1), offValue = Number(options.offValue ?? 0);
  const axis = normalizeAxis(op, options.axis ?? -1, idx.rank + 1);
  const shape = [...idx.shape.slice(0, axis), depth, ...idx.shape.slice(axis)];
  checkRank(op, shape.length);
  checkSize(op, shape);
  const out = idx.backend.allocate(dtype, sizeOf(shape), op);
  if (sizeOf(shape) > 0) {
    const sizes = [sizeOf(idx.shape.slice(0, axis)), depth, sizeOf(idx.shape.slice(axis))];
    idx.backend.oneHot(op, dtype, idx, sizes, [onValue, offValue], out);
  }
  return new Tensor(out, dtype, shape);
}
