/**
 * Activations TensorFlow 2 users reach for after relu: leakyRelu, selu, gelu, silu/swish,
 * softsign, hardSigmoid, logSigmoid, plus l2Normalize and embeddingLookup. Each is a
 * composition of elementwise ops, so gradients of any order come from those ops and every
 * device runs them. Float dtypes only, as TensorFlow (leakyRelu casts integers to float32,
 * as tf.nn.leaky_relu does).
 * @module
 */
import { isFloat } from "../dtype.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { concat } from "./array.ts";
import { showShape } from "../shape.ts";
import { clipByNorm } from "./clip.ts";
import { toTensor } from "./convert.ts";
import { castTensor } from "./cast.ts";
import { gatherAs } from "./gather_scatter.ts";
import {
  abs,
  add,
  divide,
  elu,
  erf,
  greater,
  maximum,
  multiply,
  neg,
  relu6,
  rsqrt,
  sigmoid,
  softplus,
  square,
  tanh,
  where,
} from "./math.ts";
import { type Axis, reduceSum } from "./reduce.ts";

/** x as a floating-point tensor, or a TypeError naming op. */
function floatArg(op: string, x: TensorLike): Tensor {
  const t = toTensor(op, x);
  if (!isFloat(t.dtype)) {
    throw new TypeError(
      `${op}: expected a floating-point tensor (cast integers first), got ${t.dtype}`,
    );
  }
  return t;
}

/** Options of leakyRelu. */
export interface LeakyReluOptions {
  /** Slope for x <= 0 (default 0.2, as tf.nn.leaky_relu). */
  alpha?: number;
}

/**
 * x for x > 0, alpha * x otherwise (the gradient at 0 is alpha, as TensorFlow's).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.nn.leakyRelu([-1, 2]); // [-0.2, 2]
 * ```
 */
export function leakyRelu(x: TensorLike, options: LeakyReluOptions = {}): Tensor {
  const op = "leakyRelu";
  let t = toTensor(op, x);
  if (t.dtype === "bool") throw new TypeError(`${op}: expected a numeric tensor, got bool`);
  if (!isFloat(t.dtype)) t = castTensor(t, "float32");
  const alpha = options.alpha ?? 0.2;
  if (typeof alpha !== "number") throw new TypeError(`${op}: alpha must be a number`);
  return where(greater(t, 0), t, multiply(t, alpha));
}

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/**
 * Scaled ELU: scale * (x > 0 ? x : alpha * (e^x - 1)), with Klambauer et al.'s constants.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.nn.selu([1]); // [1.0507009]
 * ```
 */
export function selu(x: TensorLike): Tensor {
  const t = floatArg("selu", x);
  return multiply(where(greater(t, 0), t, multiply(elu(t), SELU_ALPHA)), SELU_SCALE);
}

/** Options of gelu. */
export interface GeluOptions {
  /** Use the tanh approximation instead of erf (default false). */
  approximate?: boolean;
}

/**
 * Gaussian error linear unit: x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)); with
 * `approximate`, 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.nn.gelu([1]); // [0.8413447]
 * ```
 */
export function gelu(x: TensorLike, options: GeluOptions = {}): Tensor {
  const t = floatArg("gelu", x);
  if (options.approximate) {
    const inner = multiply(
      add(t, multiply(multiply(t, square(t)), 0.044715)),
      Math.sqrt(2 / Math.PI),
    );
    return multiply(multiply(t, 0.5), add(tanh(inner), 1));
  }
  return multiply(multiply(t, 0.5), add(erf(multiply(t, Math.SQRT1_2)), 1));
}

/** Options of silu. */
export interface SiluOptions {
  /** Multiplies x inside the sigmoid (default 1). */
  beta?: number;
}

/**
 * Sigmoid linear unit (swish): x * sigmoid(beta * x).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.nn.silu([0, 1]); // [0, 0.7310586]
 * ```
 */
export function silu(x: TensorLike, options: SiluOptions = {}): Tensor {
  const t = floatArg("silu", x);
  const beta = options.beta ?? 1;
  return multiply(t, sigmoid(beta === 1 ? t : multiply(t, beta)));
}

/**
 * The same as {@link silu} (tf.nn.swish).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.nn.swish([1]); // [0.7310586]
 * ```
 */
export const swish: (x: TensorLike, options?: SiluOptions) => Tensor = silu;

/**
 * x / (1 + |x|).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.nn.softsign([1, -3]); // [0.5, -0.75]
 * ```
 */
export function softsign(x: TensorLike): Tensor {
  const t = floatArg("softsign", x);
  return divide(t, add(abs(t), 1));
}

/**
 * Keras 3's hard sigmoid (TensorFlow 2.21's tf.keras.activations.hard_sigmoid):
 * relu6(x + 3) / 6, i.e. 0 below -3, 1 above 3, x / 6 + 0.5 between.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.nn.hardSigmoid([-4, 0, 4]); // [0, 0.5, 1]
 * ```
 */
export function hardSigmoid(x: TensorLike): Tensor {
  const t = floatArg("hardSigmoid", x);
  return divide(relu6(add(t, 3)), 6);
}

/**
 * log(sigmoid(x)) = -softplus(-x), without overflow.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.math.logSigmoid([0]); // [-0.6931472]
 * ```
 */
export function logSigmoid(x: TensorLike): Tensor {
  const t = floatArg("logSigmoid", x);
  return neg(softplus(neg(t)));
}

/** Options of l2Normalize. */
export interface L2NormalizeOptions {
  /** Axes to normalise over (default all). */
  axis?: Axis;
  /** Lower bound on the squared norm (default 1e-12). */
  epsilon?: number;
}

/**
 * x / sqrt(max(sum(x^2, axis), epsilon)), as tf.math.l2_normalize.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.nn.l2Normalize([3, 4]); // [0.6, 0.8]
 * ```
 */
export function l2Normalize(x: TensorLike, options: L2NormalizeOptions = {}): Tensor {
  const t = floatArg("l2Normalize", x);
  const epsilon = options.epsilon ?? 1e-12;
  if (typeof epsilon !== "number") throw new TypeError("l2Normalize: epsilon must be a number");
  const axes = options.axis === undefined || options.axis === null
    ? []
    : typeof options.axis === "number"
    ? [options.axis]
    : options.axis;
  for (const a of axes) {
    if (!Number.isInteger(a) || a < -t.rank || a >= t.rank) {
      throw new RangeError(`l2Normalize: axis ${a} is out of range for a tensor of rank ${t.rank}`);
    }
  }
  const sumSq = reduceSum(square(t), options.axis, { keepDims: true });
  return multiply(t, rsqrt(maximum(sumSq, epsilon)));
}

/** Options of {@link embeddingLookup}. */
export interface EmbeddingLookupOptions {
  /** Each looked-up embedding (the dims after ids') with an L2 norm above this is scaled
   * down to it (tf.clipByNorm), as TensorFlow's max_norm. */
  maxNorm?: number;
}

/**
 * Rows of `params` picked by `ids` (any shape), as tf.nn.embedding_lookup: the result is
 * ids.shape + params.shape[1:]. `params` is one tensor, or an array of Tensors holding the
 * table's rows split by TensorFlow 2's "div" strategy: contiguous blocks in order, the first
 * (N mod P) shards one row longer than the rest (N rows over P shards). A nested JS array is one
 * table, as before; only an array of Tensor objects is a list of shards.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.nn.embeddingLookup([[1, 2], [3, 4], [5, 6]], tf.constant([[2], [0]], "int32")); // [[[5, 6]], [[1, 2]]]
 * const shards = [tf.constant([[1, 2], [3, 4]]), tf.constant([[5, 6]])];
 * tf.nn.embeddingLookup(shards, tf.constant([2, 0], "int32")); // [[5, 6], [1, 2]]
 * ```
 */
export function embeddingLookup(
  params: TensorLike | readonly Tensor[],
  ids: TensorLike,
  options: EmbeddingLookupOptions = {},
): Tensor {
  const op = "embeddingLookup";
  const table = isShardList(params) ? divShards(op, params) : toTensor(op, params);
  if (table.rank < 1) throw new RangeError(`${op}: params needs rank >= 1, got a scalar`);
  const rows = gatherAs(op, "ids", table, ids, { axis: 0 });
  if (options.maxNorm === undefined) return rows;
  const idsRank = rows.rank - (table.rank - 1);
  const axes = Array.from({ length: table.rank - 1 }, (_, i) => idsRank + i);
  return clipByNorm(rows, options.maxNorm, axes.length === 0 ? undefined : axes);
}

function isShardList(params: unknown): params is readonly Tensor[] {
  return Array.isArray(params) && params.length > 0 && params.every((p) => p instanceof Tensor);
}

/** The whole table from shards of a "div" partition, after checking their row counts. */
function divShards(op: string, shards: readonly Tensor[]): Tensor {
  if (shards.length === 1) return shards[0];
  if (shards.some((s) => s.rank < 1)) {
    throw new RangeError(`${op}: every params shard needs rank >= 1, got a scalar`);
  }
  const [first] = shards;
  const misfit = shards.find((s) =>
    s.dtype !== first.dtype || s.rank !== first.rank ||
    s.shape.some((d, i) => i > 0 && d !== first.shape[i])
  );
  if (misfit) {
    throw new RangeError(
      `${op}: params shards must share dtype and row shape: ${first.dtype} ${
        showShape(first.shape)
      } and ${misfit.dtype} ${showShape(misfit.shape)}`,
    );
  }
  const total = shards.reduce((n, s) => n + s.shape[0], 0), p = shards.length;
  const want = shards.map((_, i) => Math.floor(total / p) + (i < total % p ? 1 : 0));
  if (shards.some((s, i) => s.shape[0] !== want[i])) {
    throw new RangeError(
      `${op}: params shards must split their ${total} rows by the "div" strategy (rows ${
        want.join(", ")
      }), got rows ${shards.map((s) => s.shape[0]).join(", ")}`,
    );
  }
  return concat(shards, 0);
}
