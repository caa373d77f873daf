/**
 * tf.random.categorical and statelessCategorical by the Gumbel-max trick: the argmax over
 * classes of logits - log(-log u), one float64 uniform per (row, sample, class). Composed of
 * ops, so it runs on every device. A NaN logit is never drawn and a row whose logits are all
 * -inf (or NaN) gives numClasses, as TensorFlow's Multinomial does. categorical draws its
 * uniforms from randomUniform with the same op seed (so it follows src/ops/random.ts's seed
 * rules and shares randomUniform's per-seed call count); statelessCategorical from the seed
 * pair's key (stateless.ts).
 * @module
 */
import type { DType } from "../../dtype.ts";
import { RandomDist } from "../../native/codes.ts";
import { showShape } from "../../shape.ts";
import type { Tensor, TensorLike } from "../../tensor.ts";
import { toTensor } from "../convert.ts";
import { add, cast, equal, isNaN, log, logicalOr, neg, where } from "../math.ts";
import { argMax, reduceAll } from "../reduce.ts";
import { expandDims } from "../views.ts";
import { randomUniform, type Seed } from "../random.ts";
import { pairKey, type SeedPair, statelessFill } from "./stateless.ts";
import { withPlacement } from "../../backend/registry.ts";
import { widestFloat } from "../../backend/backend.ts";

// ---- categorical ---------------------------------------------------------------------

/** Options of {@link categorical}. */
export interface CategoricalOptions {
  /** Op seed (see src/ops/random.ts). */
  seed?: Seed;
  /** int64 (default, as TensorFlow) or int32. */
  dtype?: DType;
}

/** Options of {@link statelessCategorical}. */
export interface StatelessCategoricalOptions {
  /** The seed pair (required). */
  seed: SeedPair;
  /** int64 (default) or int32. */
  dtype?: DType;
}

function gumbelMax(
  op: string,
  logits: TensorLike,
  numSamples: number,
  dtype: DType,
  uniform: (shape: number[], dtype: DType) => Tensor,
): Tensor {
  const t = toTensor(op, logits);
  if (t.rank !== 2) {
    throw new RangeError(
      `${op}: logits must be [batch, numClasses], got shape ${showShape(t.shape)}`,
    );
  }
  if (t.dtype === "bool") throw new TypeError(`${op}: logits must be numeric, got bool`);
  if (!Number.isInteger(numSamples) || numSamples < 0) {
    throw new RangeError(`${op}: numSamples must be an integer >= 0, got ${String(numSamples)}`);
  }
  if (dtype !== "int32" && dtype !== "int64") {
    throw new TypeError(`${op}: dtype must be int32 or int64, got ${String(dtype)}`);
  }
  const [batch, classes] = t.shape;
  if (classes === 0) throw new RangeError(`${op}: logits must have at least one class`);
  // float64 noise where the logits' device holds it, else float32 (WebGPU): the draws there
  // follow other uniforms than the CPU's.
  const precision = widestFloat(t.backend);
  // Everything made from JS values (the noise, the class count) on the logits' device.
  return withPlacement(t.backend, () => {
    const x = cast(t, precision);
    const valid = where(isNaN(x), -Infinity, x);
    const u = uniform([batch, numSamples, classes], precision);
    const gumbel = neg(log(neg(log(u))));
    const picks = cast(argMax(add(expandDims(valid, 1), gumbel), 2), dtype);
    const none = reduceAll(logicalOr(isNaN(x), equal(x, -Infinity)), 1, { keepDims: true });
    return where(none, cast(classes, dtype), picks);
  });
}

/**
 * numSamples class indices per row of `logits` [batch, numClasses], drawn with
 * probabilities softmax(logits) (tf.random.categorical): a [batch, numSamples] tensor.
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * tf.random.categorical([[Math.log(0.1), Math.log(0.9)]], 5); // e.g. [[1, 1, 0, 1, 1]]
 * ```
 */
export function categorical(
  logits: TensorLike,
  numSamples: number,
  options: CategoricalOptions = {},
): Tensor {
  const op = "categorical";
  return gumbelMax(
    op,
    logits,
    numSamples,
    options.dtype ?? "int64",
    (shape, precision) => randomUniform(shape, { dtype: precision, seed: options.seed }),
  );
}

/**
 * categorical as a pure function of its seed pair (tf.random.stateless_categorical).
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * tf.random.statelessCategorical([[0, 0, 0]], 4, { seed: [3, 4] }); // always the same draw
 * ```
 */
export function statelessCategorical(
  logits: TensorLike,
  numSamples: number,
  options: StatelessCategoricalOptions,
): Tensor {
  const op = "statelessCategorical";
  const key = pairKey(op, options?.seed);
  return gumbelMax(
    op,
    logits,
    numSamples,
    options.dtype ?? "int64",
    (shape, precision) => statelessFill(op, RandomDist.UNIFORM, shape, precision, [0, 1], key),
  );
}
