/**
 * Learning-rate schedules with TensorFlow 1's signatures (`tf.train.exponential_decay`,
 * `tf.train.piecewise_constant`), adapted: they return a function of the step, usable as
 * an optimizer's learning rate. The optimizer calls it with its step (see optimizer.ts);
 * called with no argument it reads the `globalStep` it was made with, as TensorFlow 1's
 * eager callables do. `globalStep` may be a Variable, a number or null (then a step must
 * be passed).
 * @module
 */
import { describe } from "../shape.ts";
import { Variable } from "../variable.ts";
import { checkHyper, scalarValue } from "./optimizer.ts";

/** A learning rate as a function of the step; without a step, of the bound global step. */
export type Schedule = (step?: number) => number;

/** Options of exponentialDecay. */
export interface ExponentialDecayOptions {
  /** Decay in whole steps of decaySteps (floor(step / decaySteps)); default false. */
  staircase?: boolean;
}

type StepSource = Variable | number | null | undefined;

function stepReader(owner: string, globalStep: StepSource): (step?: number) => number {
  if (
    globalStep !== null && globalStep !== undefined && !(globalStep instanceof Variable) &&
    typeof globalStep !== "number"
  ) {
    throw new TypeError(
      `${owner}: globalStep must be a Variable, a number or null, got ${describe(globalStep)}`,
    );
  }
  return (step) => {
    if (step !== undefined) return checkHyper(owner, "step", step);
    if (globalStep instanceof Variable) return scalarValue(globalStep, owner);
    if (typeof globalStep === "number") return globalStep;
    throw new Error(`${owner}: no step given and no globalStep to read`);
  };
}

/**
 * `learningRate * decayRate ^ (step / decaySteps)` (the exponent floored when
 * `staircase`).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const step = tf.train.getOrCreateGlobalStep();
 * const lr = tf.train.exponentialDecay(0.1, step, 1000, 0.96, { staircase: true });
 * const opt = new tf.train.GradientDescentOptimizer(lr);
 * console.log(lr(2000)); // 0.1 * 0.96^2
 * ```
 */
export function exponentialDecay(
  learningRate: number,
  globalStep: StepSource,
  decaySteps: number,
  decayRate: number,
  options: ExponentialDecayOptions = {},
): Schedule {
  const owner = "exponentialDecay";
  checkHyper(owner, "learningRate", learningRate);
  checkHyper(owner, "decaySteps", decaySteps, { min: 0, openMin: true });
  checkHyper(owner, "decayRate", decayRate);
  const staircase = options.staircase ?? false;
  const read = stepReader(owner, globalStep);
  return (step) => {
    const p = read(step) / decaySteps;
    return learningRate * decayRate ** (staircase ? Math.floor(p) : p);
  };
}

/**
 * `values[0]` for step <= boundaries[0], `values[i]` for boundaries[i-1] < step <=
 * boundaries[i], the last value after the last boundary.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const lr = tf.train.piecewiseConstant(null, [100000, 110000], [1.0, 0.5, 0.1]);
 * console.log(lr(105000)); // 0.5
 * ```
 */
export function piecewiseConstant(
  globalStep: StepSource,
  boundaries: readonly number[],
  values: readonly number[],
): Schedule {
  const owner = "piecewiseConstant";
  if (!Array.isArray(boundaries) || !Array.isArray(values)) {
    throw new TypeError(`${owner}: boundaries and values must be arrays of numbers`);
  }
  if (values.length !== boundaries.length + 1) {
    throw new RangeError(
      `${owner}: values must have one more element than boundaries, got ${values.length} ` +
        `values and ${boundaries.length} boundaries`,
    );
  }
  boundaries.forEach((b, i) => {
    checkHyper(owner, `boundaries[${i}]`, b);
    if (i > 0 && b <= boundaries[i - 1]) {
      throw new RangeError(`${owner}: boundaries must increase, got [${boundaries.join(", ")}]`);
    }
  });
  values.forEach((v, i) => checkHyper(owner, `values[${i}]`, v));
  const read = stepReader(owner, globalStep);
  return (step) => {
    const s = read(step);
    const i = boundaries.findIndex((b) => s <= b);
    return values[i === -1 ? values.length - 1 : i];
  };
}
