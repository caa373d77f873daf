/**
 * deno-eager: TensorFlow's eager execution for Deno. Import this module as `tf`.
 *
 * @example
 * ```ts
 * import * as tf from "./mod.ts";
 * const x = tf.constant([[1, 2], [3, 4]], "int32");
 * console.log(x.matmul(x).toString());
 * // tf.Tensor(
 * // [[ 7 10]
 * //  [15 22]], shape=(2, 2), dtype=int32)
 * ```
 * @module
 */
import "./src/tensor_methods.ts";
import { ensureLibrary } from "./src/native/lib.ts";

await ensureLibrary();

export { Tensor } from "./src/tensor.ts";
export type { NestedArray, Scalar, TensorLike } from "./src/tensor.ts";
export type { DType, TypedArray } from "./src/dtype.ts";
export { setNumThreads } from "./src/native/lib.ts";
export { device, numGpus } from "./src/device.ts";
export { constant } from "./src/ops/convert.ts";
export type { ConstantOptions } from "./src/ops/convert.ts";
export * from "./src/ops/math.ts";
export * from "./src/ops/reduce.ts";
export * from "./src/ops/matmul.ts";
export * from "./src/ops/views.ts";
export * from "./src/ops/array.ts";
export * from "./src/ops/creation.ts";
export * as nn from "./src/namespaces/nn.ts";
