/**
 * Mean and Sum: the (weighted) mean and sum of every value given to update().
 * @module
 */
import type { TensorLike } from "../tensor.ts";
import type { Variable } from "../variable.ts";
import { elements, Metric, type MetricOptions, read, weightsFor } from "./metric.ts";

/**
 * The base of the mean metrics: a weighted mean of numbers, in `<name>/total` and
 * `<name>/count`; 0 before any weight.
 */
export abstract class MeanMetric extends Metric {
  readonly total: Variable;
  readonly count: Variable;

  constructor(kind: string, defaultName: string, name?: string, options: MetricOptions = {}) {
    super(kind, defaultName, name, options);
    this.total = this.addVariable("total", 0);
    this.count = this.addVariable("count", 0);
  }

  /** Adds values with weights broadcast to `shape` (default 1). */
  protected accumulate(
    op: string,
    v: Float64Array,
    shape: number[],
    weights: TensorLike | undefined,
  ): void {
    const w = weightsFor(op, weights, shape);
    let total = 0, count = 0;
    for (let i = 0; i < v.length; i++) {
      total += v[i] * w[i];
      count += w[i];
    }
    this.add(this.total, total);
    this.add(this.count, count);
  }

  protected compute(): number {
    const count = read(this.count);
    // NOTE: 0 before any weight, as Keras' divide_no_nan (tfe gave NaN).
    return count === 0 ? 0 : read(this.total) / count;
  }
}

/**
 * The weighted mean of the values: sum(values * weights) / sum(weights), 0 before any
 * weight. Variables `<name>/total` and `<name>/count`.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const m = new tf.metrics.Mean("loss");
 * m.update([1, 2, 3]).update(6);
 * Number(m.result()); // 3
 * ```
 */
export class Mean extends MeanMetric {
  constructor(name?: string, options: MetricOptions = {}) {
    super("Mean", "mean", name, options);
  }

  /** Adds values (any shape) with weights broadcast to their shape (default 1). */
  update(values: TensorLike, weights?: TensorLike): this {
    const op = "Mean.update";
    const [v, shape] = elements(op, values, "values");
    this.accumulate(op, v, shape, weights);
    return this;
  }
}

/**
 * The weighted sum of the values. Variable `<name>/total`.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const s = new tf.metrics.Sum("examples");
 * s.update([1, 2], [1, 0.5]);
 * Number(s.result()); // 2
 * ```
 */
export class Sum extends Metric {
  readonly total: Variable;

  constructor(name?: string, options: MetricOptions = {}) {
    super("Sum", "sum", name, options);
    this.total = this.addVariable("total", 0);
  }

  /** Adds sum(values * weights) (weights broadcast to the values' shape, default 1). */
  update(values: TensorLike, weights?: TensorLike): this {
    const op = "Sum.update";
    const [v, shape] = elements(op, values, "values");
    const w = weightsFor(op, weights, shape);
    let total = 0;
    for (let i = 0; i < v.length; i++) total += v[i] * w[i];
    this.add(this.total, total);
    return this;
  }

  protected compute(): number {
    return read(this.total);
  }
}
