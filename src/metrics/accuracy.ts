/**
 * Accuracy metrics: the weighted mean of matches (1 where a prediction equals its
 * label, else 0), in `<name>/total` and `<name>/count`.
 * Decision: labels and predictions must have the same shape (TensorFlow's `equal` would
 * broadcast [n] against [n, 1] into an [n, n] comparison, a classic silent bug).
 * @module
 */
import { showShape } from "../shape.ts";
import type { TensorLike } from "../tensor.ts";
import type { MetricOptions } from "./metric.ts";
import { elements } from "./metric.ts";
import { MeanMetric } from "./mean.ts";

/**
 * How often predictions equal labels.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const acc = new tf.metrics.Accuracy();
 * acc.update([1, 2, 3, 4], [1, 2, 0, 4]);
 * Number(acc.result()); // 0.75
 * ```
 */
export class Accuracy extends MeanMetric {
  constructor(name?: string, options: MetricOptions = {}) {
    super("Accuracy", "accuracy", name, options);
  }

  /** Adds the matches of `predictions` against `labels` (same shape), weighted. */
  update(labels: TensorLike, predictions: TensorLike, weights?: TensorLike): this {
    const op = "Accuracy.update";
    const [y, yShape] = elements(op, labels, "labels");
    const [p, pShape] = elements(op, predictions, "predictions");
    if (yShape.join() !== pShape.join()) {
      throw new RangeError(
        `${op}: labels of shape ${showShape(yShape)} and predictions of shape ` +
          `${showShape(pShape)} differ`,
      );
    }
    this.accumulate(op, y.map((v, i) => (v === p[i] ? 1 : 0)), yShape, weights);
    return this;
  }
}

/**
 * How often the arg-max of `logits` (or probabilities) [..., classes] equals the integer
 * label [...] (a trailing label dimension of 1 is allowed, as Keras allows it). Ties go
 * to the first class, as tf.argMax.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const acc = new tf.metrics.SparseCategoricalAccuracy();
 * acc.update([0, 2], [[0.9, 0.1, 0], [0.5, 0.3, 0.2]]);
 * Number(acc.result()); // 0.5
 * ```
 */
export class SparseCategoricalAccuracy extends MeanMetric {
  constructor(name?: string, options: MetricOptions = {}) {
    super("SparseCategoricalAccuracy", "sparse_categorical_accuracy", name, options);
  }

  /** Adds the matches of argMax(logits, -1) against `labels`, weighted. */
  update(labels: TensorLike, logits: TensorLike, weights?: TensorLike): this {
    const op = "SparseCategoricalAccuracy.update";
    let [y, yShape] = elements(op, labels, "labels");
    const [z, zShape] = elements(op, logits, "logits");
    const classes = zShape[zShape.length - 1];
    const batch = zShape.slice(0, -1);
    if (yShape.length === batch.length + 1 && yShape[yShape.length - 1] === 1) {
      yShape = yShape.slice(0, -1);
    }
    if (zShape.length < 1 || classes < 1 || yShape.join() !== batch.join()) {
      throw new RangeError(
        `${op}: labels [...] and logits [..., classes] must agree, got labels of shape ` +
          `${showShape(yShape)} and logits of shape ${showShape(zShape)}`,
      );
    }
    if (!y.every((v) => Number.isInteger(v))) {
      throw new TypeError(`${op}: labels must be integer class indices`);
    }
    const matches = new Float64Array(y.length);
    for (let i = 0; i < y.length; i++) {
      let best = 0;
      for (let c = 1; c < classes; c++) {
        if (z[i * classes + c] > z[i * classes + best]) best = c;
      }
      matches[i] = y[i] === best ? 1 : 0;
    }
    this.accumulate(op, matches, yShape, weights);
    return this;
  }
}
