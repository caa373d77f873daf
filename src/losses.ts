/**
 * `tf.losses`: TensorFlow 1's weighted losses (`tf.compat.v1.losses`). Each computes
 * elementwise (or per-example) losses, multiplies them by `weights` and reduces them as
 * `reduction` says; all are built from recorded ops, so they are differentiable (with
 * respect to the weights too).
 *
 * Decisions:
 * - `weights` is a scalar or has the losses' rank with each dimension 1 or equal to the
 *   losses' (TensorFlow 1's assert_broadcastable); anything else is an error.
 * - The reductions are TensorFlow 1's `Reduction` values ("none", "weighted_sum",
 *   "weighted_mean", "weighted_sum_over_batch_size", "weighted_sum_by_nonzero_weights",
 *   the default); the names without "weighted_" ("sum", "mean", ...) are accepted too.
 *   A zero denominator gives 0, as TensorFlow's div_no_nan.
 * - TensorFlow 1 computes every loss in float32; here a loss keeps its predictions' (or
 *   logits') float dtype, so float64 losses stay float64. Integer predictions become
 *   float32; labels take the predictions' dtype.
 * @module
 */
import { type DType, isFloat } from "./dtype.ts";
import { describe, sameShape, showShape } from "./shape.ts";
import type { Tensor, TensorLike } from "./tensor.ts";
import { castTensor } from "./ops/cast.ts";
import { toTensor } from "./ops/convert.ts";
import { onesLike } from "./ops/creation.ts";
import {
  abs,
  add,
  divide,
  equal,
  minimum,
  multiply,
  notEqual,
  squaredDifference,
  subtract,
  where,
} from "./ops/math.ts";
import { reduceSum } from "./ops/reduce.ts";
import { squeeze, stopGradient } from "./ops/views.ts";
import {
  sigmoidCrossEntropyWithLogits,
  softmaxCrossEntropyWithLogits,
  sparseSoftmaxCrossEntropyWithLogits,
} from "./ops/nn.ts";

/**
 * TensorFlow 1's loss reductions (`tf.losses.Reduction`).
 * @example
 * ```ts
 * import * as tf from "../mod.ts";
 * tf.losses.meanSquaredError([1, 2], [1, 4], { reduction: tf.losses.Reduction.SUM }); // 4
 * ```
 */
export const Reduction = {
  /** Unreduced weighted losses, of the losses' shape. */
  NONE: "none",
  /** The sum of the weighted losses. */
  SUM: "weighted_sum",
  /** The sum divided by the sum of the weights (broadcast to the losses' shape). */
  MEAN: "weighted_mean",
  /** The sum divided by the number of loss elements. */
  SUM_OVER_BATCH_SIZE: "weighted_sum_over_batch_size",
  /** The sum divided by the number of non-zero weights (the default). */
  SUM_BY_NONZERO_WEIGHTS: "weighted_sum_by_nonzero_weights",
  /** Same as SUM_BY_NONZERO_WEIGHTS. */
  SUM_OVER_NONZERO_WEIGHTS: "weighted_sum_by_nonzero_weights",
} as const;

/** A reduction: a Reduction value, or its name without "weighted_". */
export type ReductionName =
  | (typeof Reduction)[keyof typeof Reduction]
  | "sum"
  | "mean"
  | "sum_over_batch_size"
  | "sum_by_nonzero_weights"
  | "sum_over_nonzero_weights";

/** Options of every loss. */
export interface LossOptions {
  /** Scalar, or of the losses' rank with dimensions 1 or the losses' (default 1). */
  weights?: TensorLike;
  /** How to reduce the weighted losses (default "weighted_sum_by_nonzero_weights"). */
  reduction?: ReductionName;
}

/** Options of the cross-entropy losses with label smoothing. */
export interface CrossEntropyLossOptions extends LossOptions {
  /** In [0, 1]: labels move towards uniform (default 0). */
  labelSmoothing?: number;
}

/** Options of huberLoss. */
export interface HuberLossOptions extends LossOptions {
  /** Where the loss turns from quadratic to linear (default 1). */
  delta?: number;
}

const REDUCTIONS: Record<string, string> = {
  none: "none",
  weighted_sum: "sum",
  weighted_mean: "mean",
  weighted_sum_over_batch_size: "batch",
  weighted_sum_by_nonzero_weights: "nonzero",
  sum: "sum",
  mean: "mean",
  sum_over_batch_size: "batch",
  sum_by_nonzero_weights: "nonzero",
  sum_over_nonzero_weights: "nonzero",
};

function checkOptions(op: string, options: unknown): void {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`${op}: options must be an object, got ${describe(options)}`);
  }
}

function checkWeights(op: string, weights: Tensor, losses: Tensor): void {
  if (weights.rank === 0) return;
  const ok = weights.rank === losses.rank &&
    weights.shape.every((d, i) => d === 1 || d === losses.shape[i]);
  if (!ok) {
    throw new RangeError(
      `${op}: weights of shape ${showShape(weights.shape)} cannot be broadcast to the ` +
        `losses of shape ${showShape(losses.shape)} (weights must be a scalar or have the ` +
        "losses' rank with each dimension 1 or equal)",
    );
  }
}

/**
 * total / denominator, or 0 (still connected to total) where the denominator is 0. A tensor
 * denominator is tested on its device (no read: a WebGPU one cannot be read synchronously),
 * and divides only where it is not 0, so that no NaN reaches the gradients.
 */
function divideNoNaN(total: Tensor, denominator: Tensor | number): Tensor {
  if (typeof denominator === "number") {
    return denominator === 0 ? multiply(total, 0) : divide(total, denominator);
  }
  const zero = equal(denominator, 0);
  return where(zero, multiply(total, 0), divide(total, where(zero, 1, denominator)));
}

/** The number of non-zero weights once broadcast to the losses' shape, as a tensor. */
function countNonZero(weights: Tensor, losses: Tensor): Tensor | number {
  if (weights.size === 0) return 0;
  const nonZero = reduceSum(castTensor(notEqual(weights, 0), losses.dtype));
  return multiply(nonZero, losses.size / weights.size);
}

function weighted(op: string, losses: Tensor, options: LossOptions): Tensor {
  const reduction = options.reduction ?? Reduction.SUM_BY_NONZERO_WEIGHTS;
  const kind = typeof reduction === "string" ? REDUCTIONS[reduction] : undefined;
  if (kind === undefined) {
    throw new RangeError(
      `${op}: unknown reduction ${describe(reduction)}; expected one of ${
        Object.keys(REDUCTIONS).map((r) => `"${r}"`).join(", ")
      }`,
    );
  }
  const weights = options.weights === undefined
    ? null
    : castTensor(toTensor(op, options.weights, losses.dtype), losses.dtype);
  if (weights) checkWeights(op, weights, losses);
  const product = weights ? multiply(losses, weights) : losses;
  if (kind === "none") return product;
  const total = reduceSum(product);
  switch (kind) {
    case "sum":
      return total;
    case "mean":
      return divideNoNaN(
        total,
        weights ? reduceSum(multiply(onesLike(losses), weights)) : losses.size,
      );
    case "batch":
      return divideNoNaN(total, losses.size);
    default:
      return divideNoNaN(total, weights ? countNonZero(weights, losses) : losses.size);
  }
}

/**
 * Weights `losses` and reduces them (TensorFlow 1's compute_weighted_loss).
 * @example
 * ```ts
 * import * as tf from "../mod.ts";
 * tf.losses.computeWeightedLoss([1, 2, 3], { weights: [1, 0, 1] }); // (1 + 3) / 2 = 2
 * ```
 */
export function computeWeightedLoss(losses: TensorLike, options: LossOptions = {}): Tensor {
  const op = "computeWeightedLoss";
  checkOptions(op, options);
  const t = toTensor(op, losses);
  return weighted(op, isFloat(t.dtype) ? t : castTensor(t, "float32"), options);
}

/** Predictions (float, or made float32) and labels of the same shape and dtype. */
function pair(
  op: string,
  labels: TensorLike,
  predictions: TensorLike,
  names = ["labels", "predictions"],
): [Tensor, Tensor] {
  const p0 = toTensor(op, predictions);
  const dtype: DType = isFloat(p0.dtype) ? p0.dtype : "float32";
  const p = castTensor(p0, dtype);
  const l = castTensor(toTensor(op, labels, dtype), dtype);
  if (!sameShape(l.shape, p.shape)) {
    throw new RangeError(
      `${op}: ${names[0]} ${showShape(l.shape)} and ${names[1]} ${
        showShape(p.shape)
      } differ in shape`,
    );
  }
  return [l, p];
}

function smoothing(op: string, value: unknown): number {
  const s = value ?? 0;
  if (typeof s !== "number" || !(s >= 0 && s <= 1)) {
    throw new RangeError(`${op}: labelSmoothing must be a number in [0, 1], got ${describe(s)}`);
  }
  return s;
}

/**
 * (predictions - labels)^2, weighted and reduced.
 * @example
 * ```ts
 * import * as tf from "../mod.ts";
 * tf.losses.meanSquaredError([[0, 1]], [[1, 1]]); // 0.5
 * ```
 */
export function meanSquaredError(
  labels: TensorLike,
  predictions: TensorLike,
  options: LossOptions = {},
): Tensor {
  const op = "meanSquaredError";
  checkOptions(op, options);
  const [l, p] = pair(op, labels, predictions);
  return weighted(op, squaredDifference(p, l), options);
}

/**
 * |predictions - labels|, weighted and reduced.
 * @example
 * ```ts
 * import * as tf from "../mod.ts";
 * tf.losses.absoluteDifference([0, 1], [2, 1]); // 1
 * ```
 */
export function absoluteDifference(
  labels: TensorLike,
  predictions: TensorLike,
  options: LossOptions = {},
): Tensor {
  const op = "absoluteDifference";
  checkOptions(op, options);
  const [l, p] = pair(op, labels, predictions);
  return weighted(op, abs(subtract(p, l)), options);
}

/**
 * Huber loss of e = predictions - labels: 0.5 e^2 where |e| <= delta, else
 * 0.5 delta^2 + delta (|e| - delta); weighted and reduced.
 * @example
 * ```ts
 * import * as tf from "../mod.ts";
 * tf.losses.huberLoss([0, 0], [0.5, 3]); // (0.125 + 2.5) / 2
 * ```
 */
export function huberLoss(
  labels: TensorLike,
  predictions: TensorLike,
  options: HuberLossOptions = {},
): Tensor {
  const op = "huberLoss";
  checkOptions(op, options);
  const delta = options.delta ?? 1;
  if (typeof delta !== "number" || !(delta > 0) || !Number.isFinite(delta)) {
    throw new RangeError(`${op}: delta must be a positive number, got ${describe(delta)}`);
  }
  const [l, p] = pair(op, labels, predictions);
  const absError = abs(subtract(p, l));
  const quadratic = minimum(absError, delta);
  const linear = subtract(absError, quadratic);
  const losses = add(multiply(multiply(quadratic, quadratic), 0.5), multiply(linear, delta));
  return weighted(op, losses, options);
}

/**
 * Sigmoid cross-entropy of multi-label logits; labels in [0, 1] of the logits' shape,
 * smoothed towards 0.5 by `labelSmoothing`; weighted and reduced.
 * @example
 * ```ts
 * import * as tf from "../mod.ts";
 * tf.losses.sigmoidCrossEntropy([[1, 0]], [[0, 0]]); // log(2)
 * ```
 */
export function sigmoidCrossEntropy(
  multiClassLabels: TensorLike,
  logits: TensorLike,
  options: CrossEntropyLossOptions = {},
): Tensor {
  const op = "sigmoidCrossEntropy";
  checkOptions(op, options);
  const s = smoothing(op, options.labelSmoothing);
  let [z, x] = pair(op, multiClassLabels, logits, ["multiClassLabels", "logits"]);
  if (s > 0) z = add(multiply(z, 1 - s), 0.5 * s);
  return weighted(op, sigmoidCrossEntropyWithLogits({ labels: z, logits: x }), options);
}

/**
 * Softmax cross-entropy per example, from one-hot (or probability) labels of the logits'
 * shape [batch..., classes], smoothed towards uniform by `labelSmoothing`; no gradient
 * flows into the labels. Weighted (weights of the batch shape) and reduced.
 * @example
 * ```ts
 * import * as tf from "../mod.ts";
 * tf.losses.softmaxCrossEntropy([[0, 1]], [[0, 0]]); // log(2)
 * ```
 */
export function softmaxCrossEntropy(
  onehotLabels: TensorLike,
  logits: TensorLike,
  options: CrossEntropyLossOptions = {},
): Tensor {
  const op = "softmaxCrossEntropy";
  checkOptions(op, options);
  const s = smoothing(op, options.labelSmoothing);
  let [z, x] = pair(op, onehotLabels, logits, ["onehotLabels", "logits"]);
  if (x.rank < 1) throw new RangeError(`${op}: logits must have a class dimension, got shape []`);
  if (s > 0) z = add(multiply(z, 1 - s), s / x.shape[x.rank - 1]);
  const losses = softmaxCrossEntropyWithLogits({ labels: stopGradient(z), logits: x });
  return weighted(op, losses, options);
}

/**
 * Softmax cross-entropy per example from integer class labels: labels [batch...] (or
 * [batch..., 1]), logits [batch..., classes]; weights of shape [batch...] (or
 * [batch..., 1]). Weighted and reduced.
 * @example
 * ```ts
 * import * as tf from "../mod.ts";
 * tf.losses.sparseSoftmaxCrossEntropy(new Int32Array([1]), [[0, 0]]); // log(2)
 * ```
 */
export function sparseSoftmaxCrossEntropy(
  labels: TensorLike,
  logits: TensorLike,
  options: LossOptions = {},
): Tensor {
  const op = "sparseSoftmaxCrossEntropy";
  checkOptions(op, options);
  const x0 = toTensor(op, logits);
  const x = isFloat(x0.dtype) ? x0 : castTensor(x0, "float32");
  let l = toTensor(op, labels, "int32");
  if (l.dtype !== "int32" && l.dtype !== "int64") l = castTensor(l, "int32");
  // TensorFlow 1's remove_squeezable_dimensions: [batch, 1] labels and weights.
  if (l.rank === x.rank && l.rank > 0 && l.shape[l.rank - 1] === 1) l = squeeze(l, -1);
  let weights = options.weights;
  if (weights !== undefined) {
    const w = toTensor(op, weights, x.dtype);
    weights = w.rank - l.rank === 1 && w.shape[w.rank - 1] === 1 ? squeeze(w, -1) : w;
  }
  const losses = sparseSoftmaxCrossEntropyWithLogits({ labels: l, logits: x });
  return weighted(op, losses, { ...options, weights });
}
