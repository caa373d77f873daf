/**
 * The autodiff entry points: TensorFlow 2's GradientTape and the seed's function
 * transformations (gradientsFunction, valueAndGradientsFunction, implicitGradients,
 * implicitValueAndGradients, customGradient), all thin layers over tape.ts.
 *
 * Decisions: GradientTape.gradient returns null for a source the target does not depend
 * on (TensorFlow's None; `unconnectedGradients: "zero"` gives zeros), while the seed's
 * functions return zeros there, so their results are always tensors (x*x has third
 * derivative 0, as the seed shows).
 * @module
 */
import { isFloat } from "./dtype.ts";
import { showShape } from "./shape.ts";
import { Tensor, type TensorLike, TO_TENSOR } from "./tensor.ts";
import { inReleaseScope, ReleaseScope } from "./backend/release_scope.ts";
import {
  active,
  CUSTOM_GRADIENT_OP,
  record,
  TapeRecord,
  withoutRecording,
  withTape,
} from "./tape.ts";
import { Variable } from "./variable.ts";
import { castTensor } from "./ops/cast.ts";
import { toTensor } from "./ops/convert.ts";
import { onesLike, zerosLike } from "./ops/creation.ts";
import { reshape } from "./ops/views.ts";
import { stack } from "./ops/array.ts";
import { oneHot } from "./ops/one_hot.ts";
import { backprop } from "./backprop.ts";

/** What a gradient can be taken with respect to. */
export type Source = Tensor | Variable;

/** Options of GradientTape. */
export interface GradientTapeOptions {
  /** Allow gradient() to be called more than once (default false). */
  persistent?: boolean;
  /** Watch trainable variables read while recording (default true). */
  watchAccessedVariables?: boolean;
}

/** Options of GradientTape.gradient. */
export interface GradientOptions {
  /** Gradients of the targets (default: ones, which sums a non-scalar target). */
  outputGradients?: TensorLike | TensorLike[];
  /** "none" (default): null for unconnected sources; "zero": zeros. */
  unconnectedGradients?: "none" | "zero";
  /**
   * Called once per source with its gradient (as gradient() returns it) as soon as the
   * backward pass can no longer add to it, in that order, while the pass goes on: for work
   * that overlaps the rest of the pass (tf.distribute's DistributedOptimizer starts reducing
   * the last layers' gradients while the first layers' are computed). `index` is the source's
   * position in `sources`.
   */
  onGradient?: (index: number, gradient: Tensor | null) => void;
}

/**
 * Records operations for automatic differentiation.
 * @example
 * ```ts
 * import * as tf from "../mod.ts";
 * const x = tf.constant(3);
 * const tape = new tf.GradientTape();
 * tape.watch(x);
 * const y = tape.record(() => x.mul(x));
 * console.log(Number(tape.gradient(y, x))); // 6
 * ```
 */
export class GradientTape {
  readonly persistent: boolean;
  #tape: TapeRecord;
  #used = false;

  constructor(options: GradientTapeOptions = {}) {
    this.persistent = options.persistent ?? false;
    this.#tape = new TapeRecord(options.watchAccessedVariables ?? true);
  }

  /** Runs fn with this tape recording (TensorFlow's `with tape:`); returns fn's result. */
  record<T>(fn: () => T): T {
    if (typeof fn !== "function") throw new TypeError("GradientTape.record: expected a function");
    this.#checkUsable("record");
    return withTape(this.#tape, fn);
  }

  /** Watches tensors or variables so operations on them are recorded. */
  watch(...xs: (Source | Source[])[]): void {
    for (const x of xs.flat()) {
      if (x instanceof Variable) this.#tape.watchVariable(x); // its reads from now on
      else if (x instanceof Tensor) {
        if (isFloat(x.dtype)) this.#tape.watchTensor(x);
      } else {
        throw new TypeError("GradientTape.watch: expected tensors or variables");
      }
    }
  }

  /** Runs fn without this tape recording. */
  stopRecording<T>(fn: () => T): T {
    const was = this.#tape.paused;
    this.#tape.paused = true;
    try {
      return fn();
    } finally {
      this.#tape.paused = was;
    }
  }

  /** The variables this tape watches, in creation order. */
  watchedVariables(): Variable[] {
    return [...this.#tape.variables.keys()].sort((a, b) => a.serial - b.serial) as Variable[];
  }

  #checkUsable(what: string): void {
    if (this.#used && !this.persistent) {
      throw new Error(
        `GradientTape.${what}: a non-persistent tape can only be used once; ` +
          "create it with { persistent: true } to call gradient() more than once",
      );
    }
  }

  /** The gradient of `target` (or the sum of several) with respect to each source. */
  gradient(target: Tensor | Tensor[], sources: Source, options?: GradientOptions): Tensor | null;
  gradient(
    target: Tensor | Tensor[],
    sources: Source[],
    options?: GradientOptions,
  ): (Tensor | null)[];
  gradient(
    target: Tensor | Tensor[],
    sources: Source | Source[],
    options: GradientOptions = {},
  ): Tensor | null | (Tensor | null)[] {
    this.#checkUsable("gradient");
    const targets = Array.isArray(target) ? target : [target];
    if (targets.length === 0 || !targets.every((t) => t instanceof Tensor)) {
      throw new TypeError("GradientTape.gradient: target must be a tensor or a list of tensors");
    }
    const list = Array.isArray(sources) ? sources : [sources];
    const given = options.outputGradients === undefined
      ? undefined
      : Array.isArray(options.outputGradients) && targets.length > 1
      ? options.outputGradients
      : [options.outputGradients as TensorLike];
    const seeds = targets.map((t, i) => {
      if (!given) return onesLike(t);
      const dy = castTensor(toTensor("GradientTape.gradient", given[i], t.dtype), t.dtype);
      if (dy.shape.join() !== t.shape.join()) {
        throw new RangeError(
          `GradientTape.gradient: outputGradients[${i}] has shape ${
            showShape(dy.shape)
          } but the target has ${showShape(t.shape)}`,
        );
      }
      return dy;
    });
    const grads = this.#compute(
      targets,
      seeds,
      list,
      options.unconnectedGradients ?? "none",
      options.onGradient,
    );
    if (!this.persistent) {
      this.#used = true;
      this.#tape.nodes = [];
      this.#tape.watched.clear();
      this.#tape.variables.clear();
    }
    return Array.isArray(sources) ? grads : grads[0];
  }

  #compute(
    targets: readonly Tensor[],
    seeds: readonly Tensor[],
    sources: readonly Source[],
    unconnected: "none" | "zero",
    onGradient?: (index: number, gradient: Tensor | null) => void,
  ): (Tensor | null)[] {
    const ids = (s: Source): number[] => {
      if (s instanceof Variable) return (this.#tape.variables.get(s) ?? []).map((t) => t.id);
      if (s instanceof Tensor) return [s.id];
      throw new TypeError("GradientTape.gradient: sources must be tensors or variables");
    };
    const sourceIds = sources.map(ids);
    const results: (Tensor | null | undefined)[] = new Array(sources.length);
    let grads = new Map<number, Tensor>();
    const total = (i: number): Tensor | null => {
      let sum: Tensor | null = null;
      for (const id of sourceIds[i]) {
        const g = grads.get(id);
        if (g) sum = sum ? sum.add(g) : g;
      }
      if (sum || unconnected === "none") return sum;
      const s = sources[i];
      return zerosLike(s instanceof Variable ? s.peek() : s);
    };
    const finish = (i: number) => {
      results[i] = total(i);
      onGradient?.(i, results[i]!);
    };
    // With onGradient, a source is finished when backprop reports its last id final.
    let report: ((id: number, g: Tensor | undefined) => void) | undefined;
    if (onGradient) {
      const pending = sourceIds.map((list) => new Set(list));
      const owners = new Map<number, number[]>();
      sourceIds.forEach((list, i) =>
        list.forEach((id) => owners.set(id, [...(owners.get(id) ?? []), i]))
      );
      report = (id, g) => {
        if (g) grads.set(id, g);
        for (const i of owners.get(id) ?? []) {
          pending[i].delete(id);
          if (pending[i].size === 0 && results[i] === undefined) finish(i);
        }
      };
    }
    // NOTE: this tape is paused while it differentiates, so its own backward ops are not
    // appended to it; outer tapes keep recording them (higher-order derivatives).
    const scope = new ReleaseScope();
    grads = this.stopRecording(() =>
      inReleaseScope(
        scope,
        () => backprop(this.#tape.nodes, targets, seeds, sourceIds.flat(), scope, report),
      )
    );
    // The rest (all of them without onGradient; else those no node reads) finish here.
    sources.forEach((_, i) => results[i] === undefined && finish(i));
    return results as (Tensor | null)[];
  }

  /**
   * d target[i...] / d source[j...], shaped target.shape + source.shape (zeros where
   * unconnected). Needs no persistent tape when called once.
   */
  jacobian(target: Tensor, source: Source): Tensor {
    this.#checkUsable("jacobian");
    const value = source instanceof Variable ? source.peek() : source;
    const rows: Tensor[] = [];
    for (let i = 0; i < target.size; i++) {
      const seed = reshape(oneHot([i], target.size, { dtype: target.dtype }), target.shape);
      rows.push(this.#compute([target], [seed], [source], "zero")[0]!);
    }
    this.#used = true;
    if (rows.length === 0) return zerosLike(reshape(value, [0, ...value.shape]));
    return reshape(stack(rows), [...target.shape, ...value.shape]);
  }

  /**
   * For target [b, ...] and source [b, ...] whose rows are independent: d target[k, i...]
   * / d source[k, j...], shaped [b, ...target dims, ...source dims].
   */
  batchJacobian(target: Tensor, source: Tensor): Tensor {
    this.#checkUsable("batchJacobian");
    if (target.rank < 1 || source.rank < 1 || target.shape[0] !== source.shape[0]) {
      throw new RangeError(
        `GradientTape.batchJacobian: target ${showShape(target.shape)} and source ${
          showShape(source.shape)
        } need the same first (batch) dimension`,
      );
    }
    const batch = target.shape[0], inner = target.size / Math.max(batch, 1);
    const columns: Tensor[] = [];
    for (let j = 0; j < inner; j++) {
      const hot = oneHot(Array(batch).fill(j), inner, { dtype: target.dtype });
      columns.push(this.#compute([target], [reshape(hot, target.shape)], [source], "zero")[0]!);
    }
    this.#used = true;
    const rest = source.shape.slice(1);
    if (columns.length === 0) {
      return zerosLike(reshape(source, [batch, ...target.shape.slice(1), ...rest]));
    }
    const stacked = stack(columns, 1); // [b, inner, ...rest]
    return reshape(stacked, [batch, ...target.shape.slice(1), ...rest]);
  }
}

// ---- the seed's function transformations ---------------------------------------------

/** The upstream gradient a seed function may receive as its last argument. */
export interface UpstreamGradient {
  dy: TensorLike;
}

function splitArgs(fn: string, args: unknown[]): { xs: Tensor[]; dy?: TensorLike } {
  const last = args[args.length - 1];
  const hasDy = typeof last === "object" && last !== null && !Array.isArray(last) &&
    !(last instanceof Tensor) && !ArrayBuffer.isView(last) && !(TO_TENSOR in last) &&
    "dy" in last;
  const plain = hasDy ? args.slice(0, -1) : args;
  const xs = plain.map((a, i) => {
    const t = toTensor(fn, a as TensorLike);
    if (!isFloat(t.dtype)) {
      throw new TypeError(`${fn}: argument ${i} is ${t.dtype}, not floating point`);
    }
    return t;
  });
  return { xs, dy: hasDy ? (last as UpstreamGradient).dy : undefined };
}

function checkTarget(fn: string, y: unknown): Tensor {
  const t = y instanceof Variable ? y.read() : y;
  if (!(t instanceof Tensor)) {
    throw new TypeError(`${fn}: the function must return a tensor, got ${typeof y}`);
  }
  if (!isFloat(t.dtype)) {
    throw new TypeError(`${fn}: the function returned a ${t.dtype} tensor, not floating point`);
  }
  return t;
}

function selected(fn: string, count: number, params?: number[]): number[] {
  const all = Array.from({ length: count }, (_, i) => i);
  if (!params) return all;
  for (const p of params) {
    if (!Number.isInteger(p) || p < 0 || p >= count) {
      throw new RangeError(`${fn}: params index ${p} is out of range for ${count} arguments`);
    }
  }
  return params;
}

function valueAndGrads(
  fn: string,
  f: (...xs: Tensor[]) => Tensor,
  params: number[] | undefined,
  args: unknown[],
): [Tensor, Tensor[]] {
  if (typeof f !== "function") throw new TypeError(`${fn}: expected a function`);
  const { xs, dy } = splitArgs(fn, args);
  const tape = new GradientTape();
  const which = selected(fn, xs.length, params);
  for (const i of which) tape.watch(xs[i]);
  const y = checkTarget(fn, tape.record(() => f(...xs)));
  const grads = tape.gradient(y, which.map((i) => xs[i]), {
    outputGradients: dy,
    unconnectedGradients: "zero",
  }) as Tensor[];
  return [y, grads];
}

/**
 * f's gradients with respect to its arguments (those listed in `params`, default all).
 * The returned function takes f's arguments, optionally followed by `{ dy }`.
 * @example
 * ```ts
 * import * as tf from "../mod.ts";
 * const df = tf.gradientsFunction((x: tf.Tensor) => x.mul(x));
 * console.log(Number(df(3)[0])); // 6
 * ```
 */
export function gradientsFunction<A extends Tensor[]>(
  f: (...xs: A) => Tensor,
  params?: number[],
): (...args: (TensorLike | UpstreamGradient)[]) => Tensor[] {
  return (...args) =>
    valueAndGrads("gradientsFunction", f as (...xs: Tensor[]) => Tensor, params, args)[1];
}

/**
 * Like gradientsFunction, also returning f's value: `[value, grads]`.
 * @example
 * ```ts
 * import * as tf from "../mod.ts";
 * const [value, [grad]] = tf.valueAndGradientsFunction((x: tf.Tensor) => x.square())(3);
 * ```
 */
export function valueAndGradientsFunction<A extends Tensor[]>(
  f: (...xs: A) => Tensor,
  params?: number[],
): (...args: (TensorLike | UpstreamGradient)[]) => [Tensor, Tensor[]] {
  return (...args) =>
    valueAndGrads("valueAndGradientsFunction", f as (...xs: Tensor[]) => Tensor, params, args);
}

function implicit(
  fn: string,
  f: (...args: unknown[]) => unknown,
  args: unknown[],
): [Tensor, [Tensor, Variable][]] {
  if (typeof f !== "function") throw new TypeError(`${fn}: expected a function`);
  const last = args[args.length - 1];
  const hasDy = typeof last === "object" && last !== null && !Array.isArray(last) &&
    !(last instanceof Tensor) && !(last instanceof Variable) && !ArrayBuffer.isView(last) &&
    "dy" in last;
  const plain = hasDy ? args.slice(0, -1) : args;
  const tape = new GradientTape({ watchAccessedVariables: true });
  const y = checkTarget(fn, tape.record(() => f(...plain)));
  const variables = tape.watchedVariables().filter((v) => v.trainable);
  if (variables.length === 0) {
    throw new Error(`${fn}: the function read no trainable variable`);
  }
  const grads = tape.gradient(y, variables, {
    outputGradients: hasDy ? (last as UpstreamGradient).dy : undefined,
    unconnectedGradients: "zero",
  }) as Tensor[];
  return [y, variables.map((v, i) => [grads[i], v])];
}

/**
 * Gradients of f with respect to every trainable variable f read, as
 * `[gradient, variable]` pairs in creation order.
 * @example
 * ```ts
 * import * as tf from "../mod.ts";
 * const w = new tf.Variable(2);
 * const grads = tf.implicitGradients((x: number) => w.mul(x))(3); // [[3, w]]
 * ```
 */
export function implicitGradients<A extends unknown[]>(
  f: (...args: A) => Tensor | Variable,
): (...args: unknown[]) => [Tensor, Variable][] {
  return (...args) => implicit("implicitGradients", f as (...args: unknown[]) => unknown, args)[1];
}

/**
 * Like implicitGradients, also returning f's value: `[value, [gradient, variable][]]`.
 * @example
 * ```ts
 * import * as tf from "../mod.ts";
 * const w = new tf.Variable(2);
 * const [loss, grads] = tf.implicitValueAndGradients(() => w.square())();
 * ```
 */
export function implicitValueAndGradients<A extends unknown[]>(
  f: (...args: A) => Tensor | Variable,
): (...args: unknown[]) => [Tensor, [Tensor, Variable][]] {
  return (...args) =>
    implicit("implicitValueAndGradients", f as (...args: unknown[]) => unknown, args);
}

/** What a custom gradient function receives besides the upstream gradient. */
export interface CustomGradientContext {
  /** Variables the forward function read (in creation order). */
  variables: Variable[];
}

/**
 * The result of a custom gradient function: one gradient per input, or, when the
 * forward function read variables, `[inputGradients, variableGradients]`.
 */
export type CustomGradResult = Tensor | Tensor[] | [Tensor[], Tensor[]];

/**
 * Gives f a hand-written gradient: f returns `[y, gradFn]`, gradFn maps dy (and the
 * variables f read) to the gradients of f's inputs. gradFn is written with ordinary ops,
 * so higher derivatives still work.
 * @example
 * ```ts
 * import * as tf from "../mod.ts";
 * const log1pexp = tf.customGradient((x: tf.Tensor) => {
 *   const e = tf.exp(x);
 *   return [tf.log(e.add(1)), (dy: tf.Tensor) => dy.mul(tf.subtract(1, tf.divide(1, e.add(1))))];
 * });
 * ```
 */
export function customGradient<A extends Tensor[]>(
  f: (...xs: A) => [Tensor, (dy: Tensor, context: CustomGradientContext) => CustomGradResult],
): (...xs: TensorLike[]) => Tensor {
  const fn = CUSTOM_GRADIENT_OP;
  if (typeof f !== "function") throw new TypeError(`${fn}: expected a function`);
  return (...args: TensorLike[]) => {
    const xs = args.map((a) => toTensor(fn, a));
    // f runs unrecorded; a private tape only notes which variables it reads.
    const reads = new TapeRecord(true);
    const [y, gradFn] = withoutRecording(() =>
      withTape(reads, () => {
        const out = (f as (...x: Tensor[]) => unknown)(...xs);
        if (!Array.isArray(out) || out.length !== 2 || typeof out[1] !== "function") {
          throw new TypeError(`${fn}: the function must return [y, gradFn]`);
        }
        return out as [Tensor, (dy: Tensor, c: CustomGradientContext) => CustomGradResult];
      })
    );
    const target = checkTarget(fn, y);
    const variables = [...reads.variables.keys()].sort((a, b) => a.serial - b.serial) as Variable[];
    const values = variables.map((v) => v.read());
    if (active.length === 0) return target;
    const inputs = [...xs, ...values];
    record(fn, inputs, [target], ([dy]) => {
      const result = gradFn(dy, { variables });
      let dxs: Tensor[], dvs: Tensor[] = [];
      if (variables.length > 0) {
        if (!Array.isArray(result) || result.length !== 2 || !Array.isArray(result[0])) {
          throw new TypeError(
            `${fn}: f read variables, so gradFn must return [inputGradients, variableGradients]`,
          );
        }
        [dxs, dvs] = result as [Tensor[], Tensor[]];
      } else {
        dxs = Array.isArray(result) ? result as Tensor[] : [result as Tensor];
      }
      if (dxs.length !== xs.length || dvs.length !== variables.length) {
        throw new RangeError(
          `${fn}: gradFn returned ${dxs.length} input gradients for ${xs.length} inputs` +
            (variables.length ? ` and ${dvs.length} for ${variables.length} variables` : ""),
        );
      }
      return [...dxs, ...dvs].map((g, i) => g && castTensor(toTensor(fn, g), inputs[i].dtype));
    });
    return target;
  };
}
