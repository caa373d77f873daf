/**
 * Reductions over any set of axes. The reduced axes are moved last in a strided view
 * (no copy) and eager_reduce walks kept x reduced dims.
 *
 * Dtypes: sums, means and products of integers stay integer (a mean truncates, as in
 * TensorFlow); bool tensors are summed as int32 (TensorFlow rejects them; NumPy and
 * TensorFlow.js count them); reduceAll and reduceAny take bool. Empty reductions give
 * 0 (sum), NaN (mean), 1 (prod), -Infinity / the lowest integer (max), +Infinity / the
 * highest (min).
 * @module
 */
import { type DType, isFloat } from "../dtype.ts";
import { Reduce } from "../native/codes.ts";
import { normalizeAxes, normalizeAxis, showShape, sizeOf } from "../shape.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { castTensor } from "./cast.ts";
import { toTensor } from "./convert.ts";
import {
  abs,
  add,
  divide,
  equal,
  exp,
  isFinite,
  log,
  multiply,
  pow,
  sqrt,
  square,
  subtract,
  where,
} from "./math.ts";
import { broadcastTo, reshape, reverse, slice, stopGradient, transpose } from "./views.ts";
import { pad } from "./array.ts";
import { zerosLike } from "./creation.ts";
import { active, record1 } from "../tape.ts";

/** Options of the reductions. */
export interface ReduceOptions {
  /** Keep reduced axes as dims of size 1 (TensorFlow's keepdims). */
  keepDims?: boolean;
}

/** Axes to reduce: one axis, a list, or undefined/null for all. */
export type Axis = number | readonly number[] | null | undefined;

/** Runs one reduction kernel over `axes` of x; the output dtype is `outDtype`. */
function reduceKernel(
  op: string,
  code: number,
  x: Tensor,
  axes: readonly number[],
  outDtype: DType,
  keepDims: boolean,
): Tensor {
  const reduced = new Set(axes);
  const shape: number[] = [], strides: number[] = [], outShape: number[] = [];
  for (let d = 0; d < x.rank; d++) {
    if (reduced.has(d)) {
      if (keepDims) outShape.push(1);
      continue;
    }
    shape.push(x.shape[d]);
    strides.push(x.strides[d]);
    outShape.push(x.shape[d]);
  }
  const keepRank = shape.length;
  for (const d of axes) {
    shape.push(x.shape[d]);
    strides.push(x.strides[d]);
  }
  const out = x.backend.allocate(outDtype, sizeOf(outShape), op);
  x.backend.reduce(op, code, x, shape, strides, keepRank, out);
  return new Tensor(out, outDtype, outShape);
}

/** A reduction over axes. */
export type Reduction = (x: TensorLike, axis?: Axis, options?: ReduceOptions) => Tensor;
/** argMax / argMin. */
export type ArgReduction = (x: TensorLike, axis?: number, options?: ArgOptions) => Tensor;

/** dy of a reduction, reshaped to keep the reduced dims (size 1) so it broadcasts to x. */
function keptGrad(dy: Tensor, x: Tensor, axes: readonly number[]): Tensor {
  return reshape(dy, x.shape.map((d, i) => (axes.includes(i) ? 1 : d)));
}

/** d(reduction)/dx times dy, from x, the output kept as [reduced dims = 1] and dy so kept. */
type ReductionGrad = (dy: Tensor, x: Tensor, y: Tensor, axes: readonly number[]) => Tensor;

const REDUCTION_GRADS: Partial<Record<number, ReductionGrad>> = {
  [Reduce.SUM]: (dy, x) => broadcastTo(dy, x.shape),
  [Reduce.MEAN]: (dy, x, _y, axes) =>
    broadcastTo(divide(dy, axes.reduce((n, a) => n * x.shape[a], 1)), x.shape),
  // NOTE: ties share the gradient equally, as TensorFlow.
  [Reduce.MAX]: (dy, x, y, axes) => extremumGrad(dy, x, y, axes),
  [Reduce.MIN]: (dy, x, y, axes) => extremumGrad(dy, x, y, axes),
  [Reduce.PROD]: (dy, x, y, axes) => prodGrad(dy, x, y, axes),
};

function extremumGrad(dy: Tensor, x: Tensor, y: Tensor, axes: readonly number[]): Tensor {
  const hits = castTensor(equal(x, y), x.dtype);
  return multiply(hits, divide(dy, reduceSum(hits, axes, { keepDims: true })));
}

/**
 * d prod / dx_i = the product of the other elements of x_i's slice: the exclusive
 * cumulative products from the left and from the right, multiplied (TensorFlow's rule).
 * Zeros need no special case, and since it is built from differentiable ops every
 * higher derivative is exact too (y / x_i with a zero mask got the second derivative
 * wrong for slices with two zeros).
 */
function prodGrad(dy: Tensor, x: Tensor, _y: Tensor, axes: readonly number[]): Tensor {
  if (x.size === 0) return zerosLike(x);
  const kept = [...x.shape.keys()].filter((d) => !axes.includes(d));
  const perm = [...kept, ...axes];
  const n = axes.reduce((p, a) => p * x.shape[a], 1);
  const moved = transpose(x, perm);
  const rows = reshape(moved, [x.size / n, n]);
  const others = multiply(
    exclusiveCumprod(rows),
    reverse(exclusiveCumprod(reverse(rows, 1)), 1),
  );
  const back = transpose(reshape(others, moved.shape), perm.map((_, i) => perm.indexOf(i)));
  return multiply(dy, back);
}

/** Products of the elements before each one along the last axis of [m, n] (1 first). */
function exclusiveCumprod(v: Tensor): Tensor {
  const [m, n] = v.shape;
  let scan = v;
  // Hillis-Steele: after the step for k, scan[j] is the product of v[j-2k+1 .. j].
  for (let k = 1; k < n; k *= 2) {
    const shifted = pad(slice(scan, [0, 0], [m, n - k]), [[0, 0], [k, 0]], { constantValue: 1 });
    scan = multiply(scan, shifted);
  }
  return pad(slice(scan, [0, 0], [m, n - 1]), [[0, 0], [1, 0]], { constantValue: 1 });
}

function numericReduction(op: string, code: number): Reduction {
  return (x: TensorLike, axis?: Axis, options: ReduceOptions = {}): Tensor => {
    let t = toTensor(op, x);
    if (t.dtype === "bool") {
      if (code === Reduce.MAX || code === Reduce.MIN) {
        throw new TypeError(`${op}: expected a numeric tensor, got bool`);
      }
      t = castTensor(t, "int32");
    }
    const axes = normalizeAxes(op, axis, t.rank);
    const out = reduceKernel(op, code, t, axes, t.dtype, options.keepDims ?? false);
    const grad = REDUCTION_GRADS[code];
    if (grad && active.length !== 0) {
      record1(op, [t], out, (dy) => [
        () => grad(keptGrad(dy, t, axes), t, keptGrad(out, t, axes), axes),
      ]);
    }
    return out;
  };
}

function boolReduction(op: string, code: number): Reduction {
  return (x: TensorLike, axis?: Axis, options: ReduceOptions = {}): Tensor => {
    const t = toTensor(op, x, "bool");
    if (t.dtype !== "bool") throw new TypeError(`${op}: expected a bool tensor, got ${t.dtype}`);
    return reduceKernel(op, code, t, normalizeAxes(op, axis, t.rank), "bool", !!options.keepDims);
  };
}

/** Sum over axes (all when omitted). @example tf.reduceSum([[1, 2], [3, 4]], 0) // [4, 6] */
export const reduceSum: Reduction = numericReduction("reduceSum", Reduce.SUM);
/** Mean over axes. @example tf.reduceMean([1, 2, 3, 4]) // 2.5 */
export const reduceMean: Reduction = numericReduction("reduceMean", Reduce.MEAN);
/** Product over axes. @example tf.reduceProd([1, 2, 3]) // 6 */
export const reduceProd: Reduction = numericReduction("reduceProd", Reduce.PROD);
/** Maximum over axes; NaN wins. @example tf.reduceMax([[1, 5], [3, 2]], 1) // [5, 3] */
export const reduceMax: Reduction = numericReduction("reduceMax", Reduce.MAX);
/** Minimum over axes; NaN wins. @example tf.reduceMin([[1, 5], [3, 2]], 1) // [1, 2] */
export const reduceMin: Reduction = numericReduction("reduceMin", Reduce.MIN);
/** Logical and over axes. @example tf.reduceAll([true, false]) // false */
export const reduceAll: Reduction = boolReduction("reduceAll", Reduce.ALL);
/** Logical or over axes. @example tf.reduceAny([true, false]) // true */
export const reduceAny: Reduction = boolReduction("reduceAny", Reduce.ANY);

/** Options of argMax and argMin. */
export interface ArgOptions {
  /** "int64" (TensorFlow's default) or "int32". */
  outputType?: "int32" | "int64";
}

function argReduction(op: string, code: number): ArgReduction {
  return (x: TensorLike, axis = 0, options: ArgOptions = {}): Tensor => {
    const t = toTensor(op, x);
    if (t.dtype === "bool") throw new TypeError(`${op}: expected a numeric tensor, got bool`);
    if (t.rank === 0) throw new RangeError(`${op}: expected a tensor of rank >= 1, got a scalar`);
    const a = normalizeAxis(op, axis, t.rank);
    if (t.shape[a] === 0) {
      throw new RangeError(
        `${op}: cannot reduce over axis ${axis} of size 0 (${showShape(t.shape)})`,
      );
    }
    const outputType = options.outputType ?? "int64";
    if (outputType !== "int32" && outputType !== "int64") {
      throw new TypeError(`${op}: outputType must be "int32" or "int64", got ${outputType}`);
    }
    const result = reduceKernel(op, code, t, [a], "int64", false);
    return castTensor(result, outputType);
  };
}

/** Index of the largest value along an axis (int64). @example tf.argMax([1, 9, 3]) // 1 */
export const argMax: ArgReduction = argReduction("argMax", Reduce.ARGMAX);
/** Index of the smallest value along an axis (int64). @example tf.argMin([4, 0, 3]) // 1 */
export const argMin: ArgReduction = argReduction("argMin", Reduce.ARGMIN);

function floatInput(op: string, x: TensorLike): Tensor {
  const t = toTensor(op, x);
  if (!isFloat(t.dtype)) {
    throw new TypeError(
      `${op}: expected a floating-point tensor (cast integers first), got ${t.dtype}`,
    );
  }
  return t;
}

/**
 * log(sum(exp(x))) over axes, computed stably by subtracting the maximum first.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.logSumExp([0, 0]); // log(2)
 * ```
 */
export function logSumExp(x: TensorLike, axis?: Axis, options: ReduceOptions = {}): Tensor {
  const t = floatInput("logSumExp", x);
  const peak = reduceMax(t, axis, { keepDims: true });
  // NOTE: an all -Infinity (or +Infinity) slice would give inf - inf = NaN; shift by 0 there.
  const shift = stopGradient(where(isFinite(peak), peak, 0));
  const sum = reduceSum(exp(subtract(t, shift)), axis, options);
  const kept = options.keepDims ? shift : reshape(shift, sum.shape);
  return add(log(sum), kept);
}

/** Options of tf.norm. */
export interface NormOptions extends ReduceOptions {
  /** "euclidean" (default; "fro" is the same), 1, 2, Infinity or any p > 0. */
  ord?: "euclidean" | "fro" | number;
}

/**
 * Vector norm over axes (all when omitted): (sum |x|^p)^(1/p), max |x| for Infinity.
 * Matrix norms other than Frobenius (the euclidean norm over two axes) are not supported.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.norm([3, 4]); // 5
 * ```
 */
export function norm(x: TensorLike, axis?: Axis, options: NormOptions = {}): Tensor {
  const op = "norm";
  const t = floatInput(op, x);
  const ord = options.ord ?? "euclidean";
  const keep = { keepDims: options.keepDims ?? false };
  if (ord === "euclidean" || ord === "fro" || ord === 2) {
    return sqrt(reduceSum(square(t), axis, keep));
  }
  if (ord === Infinity) return reduceMax(abs(t), axis, keep);
  if (ord === -Infinity) return reduceMin(abs(t), axis, keep);
  if (ord === 1) return reduceSum(abs(t), axis, keep);
  if (typeof ord === "number" && ord > 0) {
    return pow(reduceSum(pow(abs(t), ord), axis, keep), 1 / ord);
  }
  throw new RangeError(
    `${op}: unsupported ord ${String(ord)}; use "euclidean", a p > 0 or Infinity`,
  );
}

/**
 * Variance over axes (population variance, as tf.math.reduce_variance).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.reduceVariance([1, 2, 3, 4]); // 1.25
 * ```
 */
export function reduceVariance(x: TensorLike, axis?: Axis, options: ReduceOptions = {}): Tensor {
  const t = floatInput("reduceVariance", x);
  const mean = reduceMean(t, axis, { keepDims: true });
  return reduceMean(square(subtract(t, mean)), axis, options);
}

/**
 * Standard deviation over axes.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.reduceStd([1, 3]); // 1
 * ```
 */
export function reduceStd(x: TensorLike, axis?: Axis, options: ReduceOptions = {}): Tensor {
  return sqrt(reduceVariance(x, axis, options));
}
