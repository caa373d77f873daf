/**
 * Fused batch normalisation (TensorFlow's tf.compat.v1.nn.fused_batch_norm, FusedBatchNormV3):
 * normalises over every axis but the channel axis in one kernel pass (plus two for the
 * batch statistics in training), and its gradient in two, instead of about ten tensors of
 * x's size, two of them kept for the gradient.
 *
 * Backends without the kernels (WebGPU today) run the op-by-op form (moments and
 * batchNormalization), as does the gradient while an outer tape records it (higher
 * derivatives go through those ops). As TensorFlow's fused op, the given mean and variance
 * of inference are constants: no gradient flows to them.
 * @module
 */
import { isFloat } from "../dtype.ts";
import { describe, normalizeAxis, showShape, sizeOf } from "../shape.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { active, record, TapeRecord, withoutRecording, withTape } from "../tape.ts";
import { backprop } from "../backprop.ts";
import { contiguous } from "./cast.ts";
import { toTensor } from "./convert.ts";
import { batchNormalization, moments } from "./nn.ts";
import { relu as reluOp } from "./math.ts";
import { reshape } from "./views.ts";

/** Options of fusedBatchNorm. */
export interface FusedBatchNormOptions {
  /** The channel axis (default -1: channels last). */
  axis?: number;
  /** Added to the variance (default 1e-3, as TensorFlow's op). */
  epsilon?: number;
  /** Normalise with the batch's statistics (default true) or with `mean` and `variance`. */
  isTraining?: boolean;
  /** The statistics of inference ([channels]); required when isTraining is false. */
  mean?: TensorLike;
  /** See mean. */
  variance?: TensorLike;
  /** Apply relu to the result in the same pass (default false; TensorFlow's _FusedBatchNormEx). */
  relu?: boolean;
}

type Dims = [number, number, number];

function channelVector(
  op: string,
  what: string,
  v: TensorLike | null | undefined,
  x: Tensor,
  c: number,
) {
  if (v === null || v === undefined) return null;
  const t = toTensor(op, v, x.dtype);
  if (t.dtype !== x.dtype || t.size !== c || t.rank > 1) {
    throw new RangeError(
      `${op}: ${what} must be ${x.dtype} [${c}] (one value per channel), got ${t.dtype} ${
        showShape(t.shape)
      }`,
    );
  }
  return reshape(t, [c]);
}

/**
 * `[y, mean, variance]`: y normalised per channel, and the statistics used (the batch's
 * biased mean and variance in training; the given ones otherwise).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const [y, mean, variance] = tf.nn.fusedBatchNorm(tf.randomNormal([8, 4, 4, 3]), null, null);
 * ```
 */
export function fusedBatchNorm(
  x: TensorLike,
  scale: TensorLike | null,
  offset: TensorLike | null,
  options: FusedBatchNormOptions = {},
): [Tensor, Tensor, Tensor] {
  const op = "fusedBatchNorm";
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${op}: options must be an object, got ${describe(options)}`);
  }
  const t = toTensor(op, x);
  if (!isFloat(t.dtype)) throw new TypeError(`${op}: x must be float32 or float64, got ${t.dtype}`);
  if (t.rank === 0) throw new RangeError(`${op}: x must have a channel axis, got a scalar`);
  const axis = normalizeAxis(op, options.axis ?? -1, t.rank);
  const epsilon = options.epsilon ?? 1e-3;
  if (typeof epsilon !== "number" || !(epsilon >= 0)) {
    throw new RangeError(`${op}: epsilon must be a number >= 0, got ${describe(epsilon)}`);
  }
  const training = options.isTraining ?? true;
  const relu = options.relu ?? false;
  if (typeof relu !== "boolean") throw new TypeError(`${op}: relu must be a boolean`);
  const c = t.shape[axis];
  const dims: Dims = [sizeOf(t.shape.slice(0, axis)), c, sizeOf(t.shape.slice(axis + 1))];
  const g = channelVector(op, "scale", scale, t, c), b = channelVector(op, "offset", offset, t, c);
  let given: [Tensor, Tensor] | null = null;
  if (!training) {
    const mean = channelVector(op, "mean", options.mean, t, c);
    const variance = channelVector(op, "variance", options.variance, t, c);
    if (!mean || !variance) {
      throw new TypeError(`${op}: mean and variance are required when isTraining is false`);
    }
    given = [mean, variance];
  }
  const backend = t.backend;
  if (!backend.batchNorm) return composite(t, g, b, given, axis, epsilon, relu);
  const xd = contiguous(t, op);
  const stats = given?.map((s) => contiguous(s, op)) as [Tensor, Tensor] | undefined;
  const meanOut = backend.allocateOutput(t.dtype, c, op);
  const varianceOut = backend.allocateOutput(t.dtype, c, op);
  const yOut = backend.allocateOutput(t.dtype, t.size, op);
  const outs = [stats ?? null, meanOut, varianceOut] as const;
  backend.batchNorm(op, dims, epsilon, relu, [xd, g, b], outs, yOut);
  const y = new Tensor(yOut, t.dtype, t.shape);
  const [mean, variance] = given ?? [
    new Tensor(meanOut, t.dtype, [c]),
    new Tensor(varianceOut, t.dtype, [c]),
  ];
  if (active.length !== 0) {
    const inputs = [t, ...(g ? [g] : []), ...(b ? [b] : [])];
    record(op, inputs, [y], ([dy]) => {
      if (active.length !== 0) {
        // Recorded by an outer tape: the gradient of the op-by-op form, itself made of ops.
        const tape = new TapeRecord(false);
        for (const i of inputs) tape.watchTensor(i);
        const [again] = withTape(tape, () => composite(t, g, b, given, axis, epsilon, relu));
        const grads = backprop(tape.nodes, [again], [dy], inputs.map((i) => i.id));
        return inputs.map((i) => grads.get(i.id));
      }
      const stats: [Tensor, Tensor, Tensor | null] = [mean, variance, relu ? y : null];
      const [dx, dscale, doffset] = batchNormGrad(t, dy, g, stats, dims, { epsilon, training });
      return [dx, ...(g ? [dscale] : []), ...(b ? [doffset] : [])];
    });
  }
  return [y, mean, variance];
}

/** The fused gradient: dx, dscale, doffset. */
function batchNormGrad(
  x: Tensor,
  dy: Tensor,
  scale: Tensor | null,
  [mean, variance, reluOutput]: [Tensor, Tensor, Tensor | null],
  dims: Dims,
  { epsilon, training }: { epsilon: number; training: boolean },
): [Tensor, Tensor, Tensor] {
  const op = "fusedBatchNormGrad";
  const backend = x.backend;
  const c = dims[1];
  const outs = [
    backend.allocateOutput(x.dtype, x.size, op),
    backend.allocateOutput(x.dtype, c, op),
    backend.allocateOutput(x.dtype, c, op),
  ] as const;
  const dense = [x, dy, scale, mean, variance, reluOutput].map((v) => v && contiguous(v, op));
  backend.batchNormGrad!(
    op,
    dims,
    epsilon,
    training,
    dense as [Tensor, Tensor, Tensor | null, Tensor, Tensor, Tensor | null],
    outs,
  );
  return [
    new Tensor(outs[0], x.dtype, x.shape),
    new Tensor(outs[1], x.dtype, [c]),
    new Tensor(outs[2], x.dtype, [c]),
  ];
}

/** The op-by-op form: moments (training) and batchNormalization, broadcast along `axis`. */
function composite(
  x: Tensor,
  scale: Tensor | null,
  offset: Tensor | null,
  given: [Tensor, Tensor] | null,
  axis: number,
  epsilon: number,
  relu = false,
): [Tensor, Tensor, Tensor] {
  const c = x.shape[axis];
  const along = x.shape.map((_, i) => (i === axis ? c : 1));
  const b = (v: Tensor) => reshape(v, along);
  const reduction = x.shape.map((_, i) => i).filter((i) => i !== axis);
  const [mean, variance] = given ??
    moments(x, reduction).map((s) => reshape(s, [c])) as [Tensor, Tensor];
  const stats = given ? withoutRecording(() => [b(mean), b(variance)]) : [b(mean), b(variance)];
  const y = batchNormalization(
    x,
    stats[0],
    stats[1],
    offset && b(offset),
    scale && b(scale),
    epsilon,
  );
  return [relu ? reluOp(y) : y, mean, variance];
}
