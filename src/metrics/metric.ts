/**
 * The base of `tf.metrics`: a metric accumulates statistics over many `update` calls in
 * non-trainable Variables named `<metric name>/<statistic>` (`loss/total`,
 * `loss/count`), so a Saver can checkpoint them; `result()` reads the value and, when a
 * summary writer and a recording policy are active, writes it as a scalar summary tagged
 * with the metric's name (as tfe.metrics did).
 * Decisions: statistics are accumulated in float64 by default (tfe.metrics' default
 * dtype), in JS over the inputs' elements, so updates are never recorded by gradient
 * tapes.
 * @module
 */
import { checkDType, type DType } from "../dtype.ts";
import { describe, showShape } from "../shape.ts";
import { constant, toTensor } from "../ops/convert.ts";
import { broadcastTo } from "../ops/views.ts";
import type { Tensor, TensorLike } from "../tensor.ts";
import { Variable } from "../variable.ts";
import { scalar } from "../summary/ops.ts";

/** Options of every metric. */
export interface MetricOptions {
  /** dtype of the statistics and the result: "float64" (default, as tfe) or "float32". */
  dtype?: DType;
}

/** Options of result(). */
export interface ResultOptions {
  /** Write the result as a scalar summary when summaries are recorded (default true). */
  writeSummary?: boolean;
}

/** A metric: statistics accumulated by update(), read by result(), cleared by reset(). */
export abstract class Metric {
  /** The metric's name: the summary tag and the prefix of its variables' names. */
  readonly name: string;
  /** dtype of the statistics and of result(). */
  readonly dtype: DType;
  #variables: [Variable, number][] = [];

  constructor(kind: string, defaultName: string, name?: string, options: MetricOptions = {}) {
    const n = name ?? defaultName;
    if (typeof n !== "string" || n === "") {
      throw new TypeError(`${kind}: name must be a non-empty string, got ${describe(name)}`);
    }
    if (options === null || typeof options !== "object") {
      throw new TypeError(`${kind}: options must be an object, got ${describe(options)}`);
    }
    const dtype = checkDType(kind, options.dtype ?? "float64");
    if (dtype !== "float32" && dtype !== "float64") {
      throw new TypeError(`${kind}: dtype must be float32 or float64, got ${dtype}`);
    }
    this.name = n;
    this.dtype = dtype;
  }

  /** A statistic `<name>/<suffix>` starting (and reset) at `initial`. */
  protected addVariable(suffix: string, initial: number): Variable {
    const v = new Variable(constant(initial, this.dtype), {
      name: `${this.name}/${suffix}`,
      trainable: false,
    });
    this.#variables.push([v, initial]);
    return v;
  }

  /** The metric's variables (non-trainable), in creation order. */
  get variables(): Variable[] {
    return this.#variables.map(([v]) => v);
  }

  /** Sets every statistic back to its initial value. */
  reset(): void {
    for (const [v, initial] of this.#variables) v.assign(constant(initial, this.dtype));
  }

  /** The value of the metric now (a scalar tensor). */
  protected abstract compute(): number;

  /** The value as a scalar tensor; also written as a summary when summaries are recorded. */
  result(options: ResultOptions = {}): Tensor {
    if (options === null || typeof options !== "object") {
      throw new TypeError(`result: options must be an object, got ${describe(options)}`);
    }
    const value = constant(this.compute(), this.dtype);
    if (options.writeSummary !== false) scalar(this.name, value);
    return value;
  }

  /** Adds `delta` to a statistic. */
  protected add(v: Variable, delta: number): void {
    v.assign(constant(read(v) + delta, this.dtype));
  }
}

/** A statistic's value as a JS number. */
export function read(v: Variable): number {
  return Number(v.peek().dataSync()[0]);
}

/** The elements of a tensor argument as float64 numbers, and its shape. */
export function elements(op: string, value: TensorLike, what: string): [Float64Array, number[]] {
  let t: Tensor;
  try {
    t = toTensor(op, value);
  } catch (error) {
    const message = (error as Error).message.replace(`${op}: `, "");
    throw new TypeError(`${op}: ${what}: ${message}`, { cause: error });
  }
  const data = t.dataSync();
  const out = data instanceof BigInt64Array
    ? Float64Array.from(data, Number)
    : Float64Array.from(data as ArrayLike<number>);
  return [out, [...t.shape]];
}

let onesCache = new Float64Array(0);

/** n ones (for small n a shared, read-only array). */
function ones(n: number): Float64Array {
  if (n > 1 << 16) return new Float64Array(n).fill(1);
  if (onesCache.length < n) onesCache = new Float64Array(n).fill(1);
  return onesCache.subarray(0, n);
}

/** Weights broadcast to `shape` (all ones when absent), as float64 numbers. */
export function weightsFor(
  op: string,
  weights: TensorLike | undefined,
  shape: number[],
): Float64Array {
  const size = shape.reduce((a, b) => a * b, 1);
  if (weights === undefined) return ones(size);
  const [w, wShape] = elements(op, weights, "weights");
  if (w.length === size && wShape.join() === shape.join()) return w;
  try {
    return elements(
      op,
      broadcastTo(constant(w, "float64", { shape: wShape }), shape),
      "weights",
    )[0];
  } catch (error) {
    throw new RangeError(
      `${op}: weights of shape ${showShape(wShape)} do not broadcast to the values' shape ` +
        showShape(shape),
      { cause: error },
    );
  }
}
