/**
 * Gradient clipping by norm, as TensorFlow's clip_ops: `clipByNorm` (one tensor, its L2
 * norm over some axes), `globalNorm` and `clipByGlobalNorm` (a list scaled together so
 * their joint L2 norm is at most clipNorm, as used for recurrent networks). Written in
 * ops, so they are differentiable and run on any device.
 * @module
 */
import { describe } from "../shape.ts";
import type { Tensor, TensorLike } from "../tensor.ts";
import { toTensor } from "./convert.ts";
import {
  addN,
  cast,
  divide,
  greater,
  isFinite as isFiniteOp,
  maximum,
  minimum,
  multiply,
  sqrt,
  square,
  where,
} from "./math.ts";
import { onesLike } from "./creation.ts";
import { type Axis, reduceSum } from "./reduce.ts";
import { isFloat } from "../dtype.ts";

function checkClipNorm(op: string, clipNorm: unknown): number {
  if (typeof clipNorm !== "number" || !(clipNorm > 0) || !Number.isFinite(clipNorm)) {
    throw new RangeError(`${op}: clipNorm must be a finite number > 0, got ${describe(clipNorm)}`);
  }
  return clipNorm;
}

function floatTensor(op: string, x: TensorLike): Tensor {
  const t = toTensor(op, x);
  if (!isFloat(t.dtype)) {
    throw new TypeError(`${op}: expected a floating-point tensor, got ${t.dtype}`);
  }
  return t;
}

/**
 * `t * clipNorm / max(norm(t), clipNorm)`, the L2 norm taken over `axes` (default all).
 * A zero tensor stays zero and its gradient finite.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.clipByNorm([3, 4], 1); // [0.6, 0.8]
 * ```
 */
export function clipByNorm(t: TensorLike, clipNorm: number, axes?: Axis): Tensor {
  const op = "clipByNorm";
  const x = floatTensor(op, t);
  checkClipNorm(op, clipNorm);
  const sumSquares = reduceSum(square(x), axes, { keepDims: true });
  // NOTE: sqrt at 0 has an infinite gradient: take it of 1 where the sum is 0.
  const positive = greater(sumSquares, 0);
  const norm = where(positive, sqrt(where(positive, sumSquares, onesLike(sumSquares))), 0);
  return divide(multiply(x, clipNorm), maximum(norm, clipNorm));
}

/**
 * sqrt(sum of the squares of every element of every tensor); null entries are skipped.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.globalNorm([[3], [4]]); // 5
 * ```
 */
export function globalNorm(tensors: readonly (TensorLike | null | undefined)[]): Tensor {
  const op = "globalNorm";
  if (!Array.isArray(tensors)) throw new TypeError(`${op}: expected an array of tensors`);
  const present = tensors.filter((t) => t !== null && t !== undefined) as TensorLike[];
  if (present.length === 0) throw new RangeError(`${op}: no tensors (all are null)`);
  const parts = present.map((t) => floatTensor(op, t));
  const dtype = parts[0].dtype;
  return sqrt(addN(parts.map((x) => cast(reduceSum(square(x)), dtype))));
}

/**
 * Scales all tensors by `clipNorm / max(globalNorm, clipNorm)`; returns the scaled list
 * (nulls kept in place) and the global norm before clipping, as TensorFlow's
 * clip_by_global_norm. `useNorm` passes a norm computed already.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const [clipped, norm] = tf.clipByGlobalNorm([[3], [4]], 1); // [[0.6], [0.8]], 5
 * ```
 */
export function clipByGlobalNorm<T extends TensorLike | null | undefined>(
  tensors: readonly T[],
  clipNorm: number,
  useNorm?: TensorLike,
): [(Tensor | Extract<T, null | undefined>)[], Tensor] {
  const op = "clipByGlobalNorm";
  if (!Array.isArray(tensors)) {
    throw new TypeError(`${op}: expected an array of tensors (or nulls), got ${describe(tensors)}`);
  }
  checkClipNorm(op, clipNorm);
  const norm = useNorm === undefined ? globalNorm(tensors) : floatTensor(op, useNorm);
  // scale = clipNorm * min(1 / norm, 1 / clipNorm): 1 / 0 = inf gives scale 1 for a zero norm.
  // A norm of inf or NaN makes every entry NaN, as TensorFlow does, rather than zeros.
  const finite = multiply(minimum(divide(1, norm), 1 / clipNorm), clipNorm);
  const scale = where(isFiniteOp(norm), finite, NaN);
  const clipped = tensors.map((t) =>
    t === null || t === undefined
      ? t as Extract<T, null | undefined>
      : multiply(floatTensor(op, t), cast(scale, toTensor(op, t).dtype))
  );
  return [clipped, norm];
}
