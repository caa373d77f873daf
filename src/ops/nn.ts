/**
 * Neural-network ops composed from the core ops (so their gradients compose too):
 * softmax, logSoftmax, the cross-entropy losses, biasAdd, l2Loss, moments and
 * batchNormalization. Convolution and pooling live in conv.ts, dropout in random.ts.
 * @module
 */
import { isFloat } from "../dtype.ts";
import { active, record1, withoutRecording } from "../tape.ts";
import { backendOf } from "../backend/backend.ts";
import { describe, normalizeAxis, showShape } from "../shape.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { castTensor, contiguous } from "./cast.ts";
import { toTensor } from "./convert.ts";
import { gatherAs } from "./gather_scatter.ts";
import { indexTensor } from "./index_checks.ts";
import {
  add,
  divide,
  exp,
  greaterEqual,
  log1p,
  multiply,
  neg,
  rsqrt,
  square,
  subtract,
  where,
} from "./math.ts";
import { type Axis, logSumExp, reduceMax, reduceMean, reduceSum } from "./reduce.ts";
import { zerosLike } from "./creation.ts";
import { expandDims, reshape } from "./views.ts";
import { oneHot } from "./one_hot.ts";

function checkArgs(op: string, args: unknown): void {
  if (typeof args !== "object" || args === null || !("labels" in args) || !("logits" in args)) {
    throw new TypeError(`${op}: expected an object { labels, logits }`);
  }
}

function floatTensor(op: string, x: TensorLike, what = "x"): Tensor {
  const t = toTensor(op, x);
  if (!isFloat(t.dtype)) {
    throw new TypeError(`${op}: ${what} must be float32 or float64, got ${t.dtype}`);
  }
  return t;
}

/**
 * exp(x) / sum(exp(x)) along `axis` (last by default), computed stably.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.nn.softmax([1, 1]); // [0.5, 0.5]
 * ```
 */
export function softmax(logits: TensorLike, axis = -1): Tensor {
  const t = floatTensor("softmax", logits, "logits");
  if (normalizeAxis("softmax", axis, t.rank) === t.rank - 1) {
    const y = fusedSoftmax("softmax", t, false);
    // d softmax: (dy - sum(dy * y)) * y along the axis.
    if (active.length !== 0) {
      record1("softmax", [t], y, (dy) => [
        () => multiply(subtract(dy, reduceSum(multiply(dy, y), -1, { keepDims: true })), y),
      ]);
    }
    return y;
  }
  const e = exp(subtract(t, reduceMax(t, axis, { keepDims: true })));
  return divide(e, reduceSum(e, axis, { keepDims: true }));
}

/** softmax or log-softmax along the last axis in one kernel (csrc/kernels/softmax.c). */
function fusedSoftmax(op: string, x: Tensor, log: boolean): Tensor {
  const t = contiguous(x, op);
  const cols = t.shape[t.rank - 1]; // rank >= 1: normalizeAxis rejected scalars
  const out = t.backend.allocateOutput(t.dtype, t.size, op);
  t.backend.softmax(op, t, cols === 0 ? 0 : t.size / cols, cols, log, out);
  return new Tensor(out, t.dtype, t.shape);
}

/**
 * log(softmax(x)) along `axis`, computed stably.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.nn.logSoftmax([0, 0]); // [-0.6931472, -0.6931472]
 * ```
 */
export function logSoftmax(logits: TensorLike, axis = -1): Tensor {
  const t = floatTensor("logSoftmax", logits, "logits");
  if (normalizeAxis("logSoftmax", axis, t.rank) === t.rank - 1) {
    const y = fusedSoftmax("logSoftmax", t, true);
    // d logSoftmax: dy - softmax * sum(dy) along the axis.
    if (active.length !== 0) {
      record1("logSoftmax", [t], y, (dy) => [
        () => subtract(dy, multiply(exp(y), reduceSum(dy, -1, { keepDims: true }))),
      ]);
    }
    return y;
  }
  return subtract(t, logSumExp(t, axis, { keepDims: true }));
}

/** Arguments of the cross-entropy ops (TensorFlow passes them by name). */
export interface CrossEntropyArgs {
  labels: TensorLike;
  logits: TensorLike;
  /** The class axis (default -1). */
  axis?: number;
}

/**
 * Softmax cross-entropy per example: -sum(labels * logSoftmax(logits)) over the class
 * axis. Labels are probabilities of the logits' shape.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.nn.softmaxCrossEntropyWithLogits({ labels: [[0, 1]], logits: [[0, 0]] }); // [0.6931472]
 * ```
 */
export function softmaxCrossEntropyWithLogits(args: CrossEntropyArgs): Tensor {
  const op = "softmaxCrossEntropyWithLogits";
  checkArgs(op, args);
  const logits = floatTensor(op, args.logits, "logits");
  const labels = castTensor(toTensor(op, args.labels, logits.dtype), logits.dtype);
  if (labels.shape.join() !== logits.shape.join()) {
    throw new RangeError(
      `${op}: labels ${showShape(labels.shape)} and logits ${
        showShape(logits.shape)
      } differ in shape`,
    );
  }
  const axis = args.axis ?? -1;
  return neg(reduceSum(multiply(labels, logSoftmax(logits, axis)), axis));
}

/**
 * Softmax cross-entropy with integer class labels: labels [batch...] in [0, classes),
 * logits [batch..., classes].
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.nn.sparseSoftmaxCrossEntropyWithLogits({ labels: [1], logits: [[0, 0]] }); // [0.6931472]
 * ```
 */
export function sparseSoftmaxCrossEntropyWithLogits(
  args: { labels: TensorLike; logits: TensorLike },
): Tensor {
  const op = "sparseSoftmaxCrossEntropyWithLogits";
  checkArgs(op, args);
  const logits = floatTensor(op, args.logits, "logits");
  const labels = indexTensor(op, args.labels, "labels");
  const batchShape = logits.shape.slice(0, -1);
  if (logits.rank < 1 || labels.shape.join() !== batchShape.join()) {
    throw new RangeError(
      `${op}: labels ${showShape(labels.shape)} must have the logits' shape ` +
        `${showShape(logits.shape)} without the last dimension`,
    );
  }
  // Each row's log-probability at its label: a gather whose kernel checks the labels (no
  // label is read here), batched over the leading dims. NOTE: recorded as one op whose
  // gradient is one kernel pass, (softmax - oneHot) * dy, instead of the five passes over
  // [rows, classes] of differentiating logSoftmax and the gather op by op.
  const logp = withoutRecording(() => logSoftmax(logits));
  const loss = withoutRecording(() =>
    neg(gatherAs(op, "labels", logp, labels, { batchDims: labels.rank }))
  );
  if (active.length !== 0) {
    record1(op, [logits], loss, (dy) => [() => {
      // Under an outer tape (higher derivatives) logp is recomputed where it can see it.
      const lp = active.length !== 0 ? logSoftmax(logits) : logp;
      return sparseXentGrad(lp, labels, dy);
    }]);
  }
  return loss;
}

/** (exp(logp) - oneHot(labels)) * dy[..., None] in one kernel, differentiable in ops. */
function sparseXentGrad(logp: Tensor, labels: Tensor, dy: Tensor): Tensor {
  const op = "sparseSoftmaxCrossEntropyWithLogits";
  const cols = logp.shape[logp.rank - 1], rows = labels.size;
  const d = castTensor(dy, logp.dtype);
  const backend = backendOf(op, logp, labels, d);
  const out = backend.allocateOutput(logp.dtype, logp.size, op);
  const [lp, l, g] = [logp, labels, d].map((t) => contiguous(t, op));
  backend.sparseXentGrad(op, rows, cols, lp, l, g, out);
  const grad = new Tensor(out, logp.dtype, logp.shape);
  if (active.length !== 0) {
    record1(op, [logp, d], grad, (ddx) => [
      () => multiply(multiply(ddx, exp(logp)), expandDims(d, -1)),
      () =>
        reduceSum(
          multiply(ddx, subtract(exp(logp), oneHot(labels, cols, { dtype: logp.dtype }))),
          -1,
        ),
    ]);
  }
  return grad;
}

/**
 * Sigmoid cross-entropy: max(x, 0) - x * z + log(1 + exp(-|x|)), elementwise.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.nn.sigmoidCrossEntropyWithLogits({ labels: [1], logits: [0] }); // [0.6931472]
 * ```
 */
export function sigmoidCrossEntropyWithLogits(
  args: { labels: TensorLike; logits: TensorLike },
): Tensor {
  const op = "sigmoidCrossEntropyWithLogits";
  checkArgs(op, args);
  const x = floatTensor(op, args.logits, "logits");
  const z = castTensor(toTensor(op, args.labels, x.dtype), x.dtype);
  if (z.shape.join() !== x.shape.join()) {
    throw new RangeError(
      `${op}: labels ${showShape(z.shape)} and logits ${showShape(x.shape)} differ in shape`,
    );
  }
  // NOTE: one mask for both kinks (as TensorFlow): with maximum(x, 0) and abs(x) the
  // gradient at x == 0 would be 1 - z instead of sigmoid(0) - z.
  const positive = greaterEqual(x, 0);
  const reluLogits = where(positive, x, zerosLike(x));
  const negAbsLogits = where(positive, neg(x), x);
  return add(subtract(reluLogits, multiply(x, z)), log1p(exp(negAbsLogits)));
}

/**
 * Adds a bias vector along the channel dimension (last for NHWC, 1 for NCHW).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.nn.biasAdd([[1, 2]], [10, 20]); // [[11, 22]]
 * ```
 */
export function biasAdd(
  x: TensorLike,
  bias: TensorLike,
  dataFormat: "NHWC" | "NCHW" = "NHWC",
): Tensor {
  const op = "biasAdd";
  if (dataFormat !== "NHWC" && dataFormat !== "NCHW") {
    throw new TypeError(`${op}: dataFormat must be "NHWC" or "NCHW", got ${describe(dataFormat)}`);
  }
  const t = toTensor(op, x);
  const b = toTensor(op, bias, t.dtype);
  const channel = dataFormat === "NCHW" ? 1 : t.rank - 1;
  if (b.rank !== 1 || t.rank < 2 || t.shape[channel] !== b.shape[0]) {
    throw new RangeError(
      `${op}: bias ${showShape(b.shape)} must be a vector of the channel size of ${
        showShape(t.shape)
      } (${dataFormat})`,
    );
  }
  if (dataFormat === "NHWC") return add(t, b);
  return add(t, reshape(b, [b.shape[0], ...Array(t.rank - 2).fill(1)]));
}

/**
 * sum(x^2) / 2.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.nn.l2Loss([1, 2]); // 2.5
 * ```
 */
export function l2Loss(x: TensorLike): Tensor {
  return divide(reduceSum(square(floatTensor("l2Loss", x))), 2);
}

/**
 * Mean and (population) variance over axes.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const [mean, variance] = tf.nn.moments([1, 2, 3, 4], [0]); // 2.5, 1.25
 * ```
 */
export function moments(
  x: TensorLike,
  axes: Axis,
  options: { keepDims?: boolean } = {},
): [Tensor, Tensor] {
  const t = floatTensor("moments", x);
  const mean = reduceMean(t, axes, { keepDims: true });
  const variance = reduceMean(square(subtract(t, mean)), axes, options);
  return [options.keepDims ? mean : reduceMean(t, axes), variance];
}

/**
 * (x - mean) / sqrt(variance + epsilon) * scale + offset, broadcasting each argument.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.nn.batchNormalization([1, 3], 2, 1, 0, 1, 0); // [-1, 1]
 * ```
 */
export function batchNormalization(
  x: TensorLike,
  mean: TensorLike,
  variance: TensorLike,
  offset: TensorLike | null,
  scale: TensorLike | null,
  varianceEpsilon: number,
): Tensor {
  const t = floatTensor("batchNormalization", x);
  let inv = rsqrt(add(toTensor("batchNormalization", variance, t.dtype), varianceEpsilon));
  if (scale !== null && scale !== undefined) inv = multiply(inv, scale);
  const y = multiply(subtract(t, mean), inv);
  return offset !== null && offset !== undefined ? add(y, offset) : y;
}
