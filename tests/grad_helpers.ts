/**
 * Gradient checks in the spirit of tinygrad's helper_test_op: one call per case.
 *
 * `checkGradients(f, inputs)` reduces f's output to a scalar with fixed random weights
 * (so every output element matters), takes the tape's gradients with
 * `tf.gradientsFunction` and compares each with central finite differences
 * (L(x + h) - L(x - h)) / 2h taken element by element in float64.
 * `checkSecondDerivative(f, x)` does the same for the derivative of the first derivative
 * (nested gradientsFunction) against finite differences of the first derivative.
 * @module
 */
import { AssertionError } from "node:assert";
import * as tf from "../mod.ts";
import type { NestedArray } from "../src/tensor.ts";
import { assertClose, ON_WEBGPU, randomValues } from "./helpers.ts";

/** A function of float64 tensors whose gradients are checked. */
export type Fn = (...xs: tf.Tensor[]) => tf.Tensor;
/** An input: a tensor, or nested numbers made float64. */
export type Input = tf.Tensor | NestedArray;

/** Options of the checks. */
export interface CheckOptions {
  /** The finite-difference step (default 1e-6). */
  h?: number;
  /** Relative tolerance (default 1e-5). */
  rtol?: number;
  /** Absolute tolerance (default 1e-7). */
  atol?: number;
  /** Seed of the output weights (default 7). */
  seed?: number;
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** A float64 tensor of `shape` with values from a seeded uniform [lo, hi). */
export function rand(shape: readonly number[], seed = 1, lo = -1, hi = 1): tf.Tensor {
  return tf.constant(randomValues(sizeOf(shape), seed, lo, hi), "float64", { shape: [...shape] });
}

/**
 * Like rand, but every value has magnitude in [gap, 1] with a random sign: away from the
 * kinks at 0 of relu, abs, sign, maximum(x, 0), ...
 */
export function randAway(shape: readonly number[], seed = 1, gap = 0.1): tf.Tensor {
  const values = randomValues(sizeOf(shape), seed, -1, 1).map((v) =>
    Math.sign(v || 1) * (gap + (1 - gap) * Math.abs(v))
  );
  return tf.constant(values, "float64", { shape: [...shape] });
}

function toInput(x: Input): tf.Tensor {
  return x instanceof tf.Tensor ? x : tf.constant(x, "float64");
}

function weightsFor(t: tf.Tensor, seed: number): tf.Tensor {
  return tf.constant(randomValues(t.size, seed), t.dtype, { shape: [...t.shape] });
}

/** sum(w * y) in float64, outside any tape. */
function weightedSum(y: tf.Tensor, w: Float64Array): number {
  const values = y.dataSync();
  let total = 0;
  for (let i = 0; i < w.length; i++) total += Number(values[i]) * w[i];
  return total;
}

/** The weighted scalar L(xs) = sum(w * f(xs)) as a function of tensors, and as numbers. */
function weighted(f: Fn, xs: readonly tf.Tensor[], seed: number) {
  const y0 = f(...xs);
  if (!(y0 instanceof tf.Tensor)) throw new TypeError("checkGradients: f must return a tensor");
  const w = weightsFor(y0, seed);
  const w64 = Float64Array.from(w.dataSync() as ArrayLike<number>);
  const loss: Fn = (...ts) => tf.reduceSum(tf.multiply(f(...ts), w));
  const value = (...ts: tf.Tensor[]) => {
    const y = f(...ts);
    if (y.size !== w64.length) {
      throw new AssertionError({ message: `f's output size changed: ${y.size} vs ${w64.length}` });
    }
    return weightedSum(y, w64);
  };
  return { loss, value, w };
}

/** Central differences of the scalar `value` in every element of every input. */
function numericGradients(
  value: (...ts: tf.Tensor[]) => number,
  xs: readonly tf.Tensor[],
  h: number,
): tf.Tensor[] {
  return xs.map((x, k) => {
    const base = Array.from(x.dataSync() as ArrayLike<number>, Number);
    const moved = (i: number, d: number) => {
      const t = tf.constant(base.with(i, base[i] + d), x.dtype, { shape: [...x.shape] });
      return value(...xs.with(k, t));
    };
    const numeric = base.map((_, i) => (moved(i, h) - moved(i, -h)) / (2 * h));
    return tf.constant(numeric, "float64", { shape: [...x.shape] });
  });
}

function compare(
  what: string,
  grads: readonly tf.Tensor[],
  numeric: readonly tf.Tensor[],
  xs: readonly tf.Tensor[],
  rtol: number,
  atol: number,
): void {
  grads.forEach((g, k) => {
    if (g.dtype !== xs[k].dtype) {
      throw new AssertionError({
        message: `${what} of input ${k} is ${g.dtype}, the input ${xs[k].dtype}`,
      });
    }
    assertClose(g, numeric[k], { rtol, atol, message: `${what} of input ${k}` });
  });
}

/**
 * Checks the tape's gradients of sum(w * f(inputs)) (w: fixed random weights of f's
 * output shape) against central differences in every element of every input. Returns
 * the tape's gradients.
 * @example
 * ```ts
 * checkGradients((a, b) => tf.multiply(a, b), [rand([3, 4]), rand([4], 2)]);
 * ```
 */
export function checkGradients(
  f: Fn,
  inputs: readonly Input[],
  { h = 1e-6, rtol = 1e-5, atol = 1e-7, seed = 7 }: CheckOptions = {},
): tf.Tensor[] {
  const xs = inputs.map(toInput);
  if (ON_WEBGPU) return againstCpu("gradient", f, xs, seed, 1);
  const { loss, value } = weighted(f, xs, seed);
  const grads = tf.gradientsFunction(loss)(...xs);
  compare("gradient", grads, numericGradients(value, xs, h), xs, rtol, atol);
  return grads;
}

/**
 * Checks second derivatives: with g(x) = d/dx sum(w * f(x)) from the tape, compares the
 * tape's gradient of sum(v * g(x)) (v: fixed random weights; a nested gradientsFunction)
 * with central differences of sum(v * g(x)). With several inputs, g holds the gradient of
 * each input, so mixed partials are checked too. Returns the second-order gradients.
 * @example
 * ```ts
 * checkSecondDerivative((x) => tf.tanh(x), rand([2, 3]));
 * ```
 */
export function checkSecondDerivative(
  f: Fn,
  x: tf.Tensor | readonly Input[],
  { h = 1e-5, rtol = 1e-5, atol = 1e-7, seed = 7 }: CheckOptions = {},
): tf.Tensor[] {
  const xs = (x instanceof tf.Tensor ? [x] : x).map(toInput);
  if (ON_WEBGPU) return againstCpu("second derivative", f, xs, seed, 2);
  const { loss } = weighted(f, xs, seed);
  const first = tf.gradientsFunction(loss);
  const vs = xs.map((t, k) => weightsFor(t, seed + 1 + k));
  const vs64 = vs.map((v) => Float64Array.from(v.dataSync() as ArrayLike<number>));
  const secondLoss: Fn = (...ts) =>
    tf.addN(first(...ts).map((g, k) => tf.reduceSum(tf.multiply(g, vs[k]))));
  const value = (...ts: tf.Tensor[]) =>
    first(...ts).reduce((total, g, k) => total + weightedSum(g, vs64[k]), 0);
  const grads = tf.gradientsFunction(secondLoss)(...xs);
  compare("second derivative", grads, numericGradients(value, xs, h), xs, rtol, atol);
  return grads;
}

/** The first (order 1) or second (order 2) derivatives of sum(w * f(xs)), as checkGradients
 * and checkSecondDerivative take them (v: the second's weights). */
function derivatives(f: Fn, xs: readonly tf.Tensor[], w: tf.Tensor, vs: tf.Tensor[], order: 1 | 2) {
  const first = tf.gradientsFunction((...ts: tf.Tensor[]) =>
    tf.reduceSum(tf.multiply(f(...ts), w))
  );
  if (order === 1) return first(...xs);
  return tf.gradientsFunction((...ts: tf.Tensor[]) =>
    tf.addN(first(...ts).map((g, k) => tf.reduceSum(tf.multiply(g, vs[k]))))
  )(...xs);
}

/**
 * The WebGPU run's check, since the device holds no float64 for finite differences: the
 * tape's float32 derivatives on the device against its float64 ones on the CPU, which the
 * CPU run checks against finite differences. A tensor f captures must be on the device it
 * runs on: see perDevice.
 */
function againstCpu(
  what: string,
  f: Fn,
  xs: readonly tf.Tensor[],
  seed: number,
  order: 1 | 2,
): tf.Tensor[] {
  const { w, vs, want } = tf.device("/cpu:0", () => {
    const { w } = weighted(f, xs, seed);
    const vs = xs.map((t, k) => weightsFor(t, seed + 1 + k));
    return { w, vs, want: derivatives(f, xs, w, vs, order) };
  });
  const onDevice = (t: tf.Tensor) => tf.cast(t, "float32").gpu();
  const got = derivatives(f, xs.map(onDevice), onDevice(w), vs.map(onDevice), order);
  got.forEach((g, k) =>
    assertClose(g, want[k], { rtol: 1e-3, atol: 1e-4, message: `${what} of input ${k}` })
  );
  return got;
}
