/**
 * `tf.metrics`: streaming metrics as tfe.metrics had them, each a class with
 * `update(...)`, `result()`, `reset()` and `variables`; `result()` also writes a scalar
 * summary under the metric's name when summaries are recorded.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const loss = new tf.metrics.Mean("loss");
 * loss.update([0.5, 0.25]);
 * Number(loss.result()); // 0.375
 * ```
 * @module
 */
export { Metric } from "./metric.ts";
export type { MetricOptions, ResultOptions } from "./metric.ts";
export { Mean, MeanMetric, Sum } from "./mean.ts";
export { Max, Min } from "./extrema.ts";
export { Accuracy, SparseCategoricalAccuracy } from "./accuracy.ts";
