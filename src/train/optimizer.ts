/**
 * The base of TensorFlow 1's optimizers (`tf.train.Optimizer`): gradients in,
 * variable updates out, with per-variable slot variables created lazily and named as
 * TensorFlow 1 names them (`<variable>/<optimizer name>`, then `_1`, `_2`, ...).
 *
 * Decisions:
 * - Updates are not recorded by gradient tapes: they read values with `peek()`, run
 *   with every tape paused and replace values with `assign`.
 * - A learning rate is a number or a schedule `(step) => number`, evaluated once per
 *   applyGradients, before the updates, at the value of the `globalStep` given to it;
 *   without one, at the process global step (`getGlobalStep()`); without that, at the
 *   number of earlier applyGradients calls of this optimizer.
 * - As in TensorFlow 1: null gradients are skipped (all null is an error); a variable
 *   given twice is updated twice; `variables()` lists slots and accumulators sorted by
 *   name.
 * @module
 */
import { hostStep } from "../graph/hooks.ts";
import { isFloat } from "../dtype.ts";
import { describe, sameShape, showShape } from "../shape.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { inReleaseScope, release, ReleaseScope } from "../backend/release_scope.ts";
import { withoutRecording } from "../tape.ts";
import { Variable } from "../variable.ts";
import { GradientTape } from "../gradients.ts";
import { castTensor } from "../ops/cast.ts";
import { toTensor } from "../ops/convert.ts";
import { getGlobalStep } from "./global_step.ts";
import { withPlacement } from "../backend/registry.ts";
import { cpuBackend } from "../backend/cpu/backend.ts";

/** A learning rate: a number, or a schedule of the global step (see exponentialDecay). */
export type LearningRate = number | ((step: number) => number);

/** A gradient and the variable it belongs to (TensorFlow's grads_and_vars); null skips. */
export type GradientAndVariable = readonly [Tensor | TensorLike | null, Variable];

/** Options of applyGradients. */
export interface ApplyGradientsOptions {
  /** Incremented by 1 after the updates; schedules are evaluated at its value. */
  globalStep?: Variable;
}

/** Options of computeGradients. */
export interface ComputeGradientsOptions {
  /** The variables to differentiate (default: the trainable variables the loss reads). */
  varList?: readonly Variable[];
  /**
   * Called with each variable's gradient as soon as the backward pass has finished it,
   * while the pass goes on (GradientTape.gradient's onGradient), in that order.
   */
  onGradient?: (gradient: Tensor | null, variable: Variable) => void;
}

/** Options of minimize. */
export interface MinimizeOptions extends ApplyGradientsOptions, ComputeGradientsOptions {}

/** Options every optimizer takes. */
export interface OptimizerOptions {
  /** The name slot variables are named after (default: the optimizer's, e.g. "Adam"). */
  name?: string;
}

/** Checks a hyperparameter: a finite number within [min, max] (or (min, max) if open). */
export function checkHyper(
  owner: string,
  what: string,
  value: unknown,
  { min = -Infinity, max = Infinity, openMin = false, openMax = false } = {},
): number {
  const ok = typeof value === "number" && Number.isFinite(value) &&
    (openMin ? value > min : value >= min) && (openMax ? value < max : value <= max);
  if (!ok) {
    const lo = Number.isFinite(min) ? `${openMin ? "(" : "["}${min}` : "(-inf";
    const hi = Number.isFinite(max) ? `${max}${openMax ? ")" : "]"}` : "inf)";
    throw new RangeError(
      `${owner}: ${what} must be a number in ${lo}, ${hi}, got ${describe(value)}`,
    );
  }
  return value as number;
}

function checkLearningRate(owner: string, lr: unknown): LearningRate {
  if (typeof lr === "function") return lr as LearningRate;
  return checkHyper(owner, "learningRate", lr, { min: 0 });
}

/**
 * A variable's scalar value as a JS number (int64 included): read on the host every step, so
 * a step variable on a device read asynchronously (WebGPU) is an error naming the fix.
 */
export function scalarValue(v: Variable, owner = "optimizer"): number {
  const value = v.peek();
  if (!value.backend.readsSynchronously) {
    throw new Error(
      `${owner}: the step variable ${v.name} is on ${v.device}, which is read ` +
        'asynchronously: make it on the CPU (tf.device("/cpu:0", ...)), as ' +
        "tf.train.getOrCreateGlobalStep() does",
    );
  }
  return Number(value.dataSync()[0]);
}

/**
 * applyDense methods that only read the gradient during the call (the built-ins: each
 * is one fused update). minimize frees the gradients it computed once such a method
 * has applied them; a subclass that overrides applyDense may keep them, so not then.
 */
export const GRADIENT_READERS: WeakSet<object> = new WeakSet();

/**
 * The base class: subclasses create their slots in `createSlots` and update one variable
 * in `applyDense`; `prepare` runs once before the updates, `finish` once after them
 * (Adam's bias-corrected rate and beta powers).
 */
export abstract class Optimizer {
  /** TensorFlow 1's optimizer name: the suffix of slot names ("Adam", "Momentum", ...). */
  readonly name: string;
  /** The class name used in errors, e.g. "AdamOptimizer". */
  protected readonly owner: string;
  #learningRate: LearningRate;
  #slots = new Map<string, Map<Variable, Variable>>();
  #nonSlots = new Map<string, Variable>();
  #applied = 0;

  protected constructor(owner: string, learningRate: LearningRate, options: OptimizerOptions) {
    this.owner = owner;
    if (options === null || typeof options !== "object") {
      throw new TypeError(`${owner}: options must be an object, got ${describe(options)}`);
    }
    if (options.name !== undefined && (typeof options.name !== "string" || options.name === "")) {
      throw new TypeError(
        `${owner}: name must be a non-empty string, got ${describe(options.name)}`,
      );
    }
    this.name = options.name ?? owner.replace(/Optimizer$/, "");
    this.#learningRate = checkLearningRate(owner, learningRate);
  }

  /** The learning rate or schedule given to the constructor. */
  get learningRate(): LearningRate {
    return this.#learningRate;
  }

  /** Creates the slots of these variables (those it lacks), in TensorFlow 1's order. */
  protected abstract createSlots(variables: readonly Variable[]): void;

  /** Updates one variable with its gradient (of the variable's dtype and shape). */
  protected abstract applyDense(grad: Tensor, variable: Variable, lr: number): void;

  /** Runs once before the updates of an applyGradients call, after createSlots. */
  protected prepare(_lr: number): void {}

  /** Runs once after the updates of an applyGradients call. */
  protected finish(): void {}

  /** The slot `slotName` of `variable`, made from `init(value)` on first use. */
  protected slot(
    variable: Variable,
    slotName: string,
    init: (value: Tensor) => TensorLike,
  ): Variable {
    let slots = this.#slots.get(slotName);
    if (!slots) this.#slots.set(slotName, slots = new Map());
    let s = slots.get(variable);
    if (!s) {
      s = new Variable(init(variable.peek()), {
        name: `${variable.name}/${this.name}`,
        trainable: false,
        dtype: variable.dtype,
      });
      slots.set(variable, s);
    }
    return s;
  }

  /**
   * The optimizer-wide variable `name` (e.g. Adam's beta1_power), made on first use.
   * NOTE: on the CPU whatever the device: the optimizer reads it in JS before each step, and
   * a GPU can only be read asynchronously.
   */
  protected nonSlot(name: string, initial: number): Variable {
    let v = this.#nonSlots.get(name);
    if (!v) {
      const make = () => new Variable(initial, { name, trainable: false, dtype: "float32" });
      v = withPlacement(cpuBackend, make);
      this.#nonSlots.set(name, v);
    }
    return v;
  }

  /** The names of this optimizer's slots (TensorFlow 1's: "m", "v", "momentum", ...). */
  getSlotNames(): string[] {
    return [...this.#slots.keys()].sort();
  }

  /** The slot `slotName` of `variable`, or null before its first update. */
  getSlot(variable: Variable, slotName: string): Variable | null {
    return this.#slots.get(slotName)?.get(variable) ?? null;
  }

  /**
   * Every variable this optimizer made (slots and accumulators such as Adam's
   * beta1_power), sorted by name as TensorFlow 1 does, so a checkpoint can hold them.
   */
  variables(): Variable[] {
    const all = [...this.#nonSlots.values()];
    for (const slots of this.#slots.values()) all.push(...slots.values());
    return all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The gradients of `lossFn()` as `[gradient | null, variable]` pairs, and the loss. */
  #lossAndGradients(
    lossFn: () => Tensor | Variable,
    varList: readonly Variable[] | undefined,
    what: string,
    scope?: ReleaseScope,
    onGradient?: ComputeGradientsOptions["onGradient"],
  ): [Tensor, [Tensor | null, Variable][]] {
    if (typeof lossFn !== "function") {
      throw new TypeError(`${this.owner}.${what}: the loss must be a function returning a tensor`);
    }
    if (varList !== undefined) {
      if (!Array.isArray(varList) || !varList.every((v) => v instanceof Variable)) {
        throw new TypeError(`${this.owner}.${what}: varList must be an array of Variables`);
      }
    }
    const tape = new GradientTape({ watchAccessedVariables: varList === undefined });
    if (varList) tape.watch([...varList]);
    const out = tape.record(lossFn);
    const loss = out instanceof Variable ? out.read() : out;
    if (!(loss instanceof Tensor) || !isFloat(loss.dtype)) {
      throw new TypeError(
        `${this.owner}.${what}: the loss function must return a float tensor, got ${
          loss instanceof Tensor ? loss.dtype : describe(loss)
        }`,
      );
    }
    const variables = varList ?? tape.watchedVariables().filter((v) => v.trainable);
    if (variables.length === 0) {
      throw new Error(`${this.owner}.${what}: the loss read no trainable variable`);
    }
    const options = onGradient
      ? { onGradient: (i: number, g: Tensor | null) => onGradient(g, variables[i]) }
      : {};
    const grads = scope
      ? inReleaseScope(scope, () => tape.gradient(loss, [...variables], options))
      : tape.gradient(loss, [...variables], options);
    return [loss, variables.map((v, i) => [grads[i], v])];
  }

  /**
   * TensorFlow 1's compute_gradients: `[gradient | null, variable]` pairs of the loss
   * with respect to `varList` (default: the trainable variables it reads).
   * @example
   * ```ts
   * import * as tf from "../../mod.ts";
   * const w = new tf.Variable(3);
   * const pairs = new tf.train.GradientDescentOptimizer(0.1).computeGradients(() => w.square());
   * ```
   */
  computeGradients(
    lossFn: () => Tensor | Variable,
    options: ComputeGradientsOptions = {},
  ): [Tensor | null, Variable][] {
    return this.#lossAndGradients(
      lossFn,
      options.varList,
      "computeGradients",
      undefined,
      options.onGradient,
    )[1];
  }

  /**
   * Applies `[gradient, variable]` pairs (null gradients are skipped) and increments
   * `globalStep` by 1 when given.
   * @example
   * ```ts
   * import * as tf from "../../mod.ts";
   * const w = new tf.Variable([1, 2]);
   * new tf.train.GradientDescentOptimizer(0.5).applyGradients([[tf.constant([1, 1]), w]]);
   * console.log(w.numpy()); // [0.5, 1.5]
   * ```
   */
  applyGradients(
    pairs: readonly GradientAndVariable[],
    options: ApplyGradientsOptions = {},
  ): void {
    const what = `${this.owner}.applyGradients`;
    if (!Array.isArray(pairs)) {
      throw new TypeError(`${what}: expected an array of [gradient, variable] pairs`);
    }
    const globalStep = options.globalStep;
    if (globalStep !== undefined && !(globalStep instanceof Variable)) {
      throw new TypeError(`${what}: globalStep must be a Variable, got ${describe(globalStep)}`);
    }
    const updates: [Tensor, Variable][] = [];
    for (const [i, pair] of pairs.entries()) {
      if (!Array.isArray(pair) || pair.length !== 2 || !(pair[1] instanceof Variable)) {
        throw new TypeError(`${what}: pair ${i} is not a [gradient, variable] pair`);
      }
      const [g, v] = pair as [TensorLike | null, Variable];
      if (!isFloat(v.dtype)) {
        throw new TypeError(
          `${what}: variable ${v.name} is ${v.dtype}; optimizers update float32 or float64 variables`,
        );
      }
      if (g === null || g === undefined) continue;
      const grad = toTensor(what, g, v.dtype);
      if (!isFloat(grad.dtype)) {
        throw new TypeError(
          `${what}: the gradient of ${v.name} is ${grad.dtype}, not floating point`,
        );
      }
      if (!sameShape(grad.shape, v.shape)) {
        throw new RangeError(
          `${what}: the gradient of ${v.name} has shape ${showShape(grad.shape)} but the ` +
            `variable has shape ${showShape(v.shape)}`,
        );
      }
      updates.push([castTensor(grad, v.dtype), v]);
    }
    if (updates.length === 0) {
      throw new Error(
        `${what}: no gradients provided for any variable: [${
          pairs.map((p) => p[1].name).join(", ")
        }]`,
      );
    }
    // In a traced function the updates run again at each call (a host step): the learning
    // rate, the step count and whether a slot is updated in place are decided then.
    const variables = updates.map(([, v]) => v);
    hostStep(what, updates.map(([grad]) => grad), (grads) => {
      const lr = this.#currentLearningRate(globalStep);
      withoutRecording(() => {
        this.createSlots([...new Set(variables)]);
        this.prepare(lr);
        for (const [i, grad] of grads.entries()) this.applyDense(grad, variables[i], lr);
        this.finish();
        globalStep?.assignAdd(1);
      });
      this.#applied++;
      return [];
    }, { retainsInputs: !GRADIENT_READERS.has(this.applyDense) });
  }

  /**
   * Computes the gradients of `lossFn()` (see computeGradients), applies them and
   * returns the loss.
   * @example
   * ```ts
   * import * as tf from "../../mod.ts";
   * const w = new tf.Variable(3);
   * const opt = new tf.train.GradientDescentOptimizer(0.1);
   * for (let i = 0; i < 50; i++) opt.minimize(() => w.square());
   * ```
   */
  minimize(lossFn: () => Tensor | Variable, options: MinimizeOptions = {}): Tensor {
    const scope = GRADIENT_READERS.has(this.applyDense) ? new ReleaseScope() : undefined;
    const [loss, pairs] = this.#lossAndGradients(lossFn, options.varList, "minimize", scope);
    this.applyGradients(pairs, { globalStep: options.globalStep });
    // NOTE: the gradients were born in `scope` and never left this call (see GRADIENT_READERS).
    if (scope) { for (const [grad] of pairs) if (grad) release(scope, grad); }
    return loss;
  }

  #currentLearningRate(globalStep: Variable | undefined): number {
    const lr = this.#learningRate;
    if (typeof lr === "number") return lr;
    const stepVar = globalStep ?? getGlobalStep();
    const step = stepVar ? scalarValue(stepVar, this.owner) : this.#applied;
    return checkHyper(this.owner, `learningRate(${step})`, lr(step), { min: 0 });
  }
}
