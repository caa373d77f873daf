/**
 * Min and Max: the extreme value seen by update(). Weights act as a mask: values whose
 * weight is 0 are ignored. Before any value the result is the identity of the reduction
 * (+Infinity for Min, -Infinity for Max), as tf.reduceMin of an empty tensor. A NaN value
 * makes the result NaN (until reset), so it is not hidden.
 * @module
 */
import { constant } from "../ops/convert.ts";
import type { TensorLike } from "../tensor.ts";
import type { Variable } from "../variable.ts";
import { elements, Metric, type MetricOptions, read, weightsFor } from "./metric.ts";

abstract class Extremum extends Metric {
  readonly extremum: Variable;
  #kind: string;
  #better: (a: number, b: number) => number;

  constructor(kind: "Min" | "Max", name: string | undefined, options: MetricOptions) {
    const isMin = kind === "Min";
    super(kind, isMin ? "min" : "max", name, options);
    this.#kind = kind;
    this.#better = isMin ? Math.min : Math.max;
    this.extremum = this.addVariable(isMin ? "min" : "max", isMin ? Infinity : -Infinity);
  }

  /** Takes the values (any shape) whose weight (broadcast, default 1) is not 0. */
  update(values: TensorLike, weights?: TensorLike): this {
    const op = `${this.#kind}.update`;
    const [v, shape] = elements(op, values, "values");
    const w = weightsFor(op, weights, shape);
    let best = read(this.extremum);
    for (let i = 0; i < v.length; i++) if (w[i] !== 0) best = this.#better(best, v[i]);
    this.extremum.assign(constant(best, this.dtype));
    return this;
  }

  protected compute(): number {
    return read(this.extremum);
  }
}

/**
 * The smallest value seen. Variable `<name>/min`.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const m = new tf.metrics.Min("lowest_loss");
 * m.update([3, 1, 2]);
 * Number(m.result()); // 1
 * ```
 */
export class Min extends Extremum {
  constructor(name?: string, options: MetricOptions = {}) {
    super("Min", name, options);
  }
}

/**
 * The largest value seen. Variable `<name>/max`.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const m = new tf.metrics.Max("highest_loss");
 * m.update([3, 1, 2]);
 * Number(m.result()); // 3
 * ```
 */
export class Max extends Extremum {
  constructor(name?: string, options: MetricOptions = {}) {
    super("Max", name, options);
  }
}
