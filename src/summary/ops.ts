/**
 * The summary ops: scalar, histogram, image, text, in the form TensorBoard 2 reads
 * natively (a tensor plus the plugin's name in the value's metadata):
 *
 *     scalar     plugin "scalars"     float32 tensor, shape []
 *     histogram  plugin "histograms"  float64 tensor [k, 3] of (left, right, count)
 *     image      plugin "images"      string tensor [2 + n]: width, height, n PNGs
 *     text       plugin "text"        string tensor of the strings' shape
 *
 * Each returns true when it wrote a summary and false when none was recorded. The name
 * is checked first; the value, the options and the step only when the summary is
 * recorded, so an unrecorded summary costs a few comparisons.
 * Tags are the names as given (no name-scope prefix).
 * @module
 */
import { describe, showShape } from "../shape.ts";
import type { Tensor, TensorLike } from "../tensor.ts";
import { toTensor } from "../ops/convert.ts";
import { Variable } from "../variable.ts";
import { defaultStep, recordingWriter, type SummaryWriter, WRITE } from "./writer.ts";
import { DataType } from "./protos.ts";
import { histogramBuckets } from "./buckets.ts";
import { encodePng } from "./png.ts";

/** A summary's step: an integer, or a scalar integer tensor or Variable. */
export type Step = number | bigint | Tensor | Variable;

/** Options of every summary op. */
export interface SummaryOptions {
  /** The step (default: the recording policy's step variable, else the global step, else 0). */
  step?: Step;
}

/** Options of histogram. */
export interface HistogramOptions extends SummaryOptions {
  /** Number of buckets (default 30, as TensorFlow 2). */
  buckets?: number;
}

/** Options of image. */
export interface ImageOptions extends SummaryOptions {
  /** Most images written from the batch (default 3, as TensorFlow 2). */
  maxImages?: number;
}

const encoder = new TextEncoder();

function parseStep(op: string, step: Step): bigint {
  if (typeof step === "bigint") return BigInt.asIntN(64, step);
  if (typeof step === "number") {
    if (!Number.isSafeInteger(step)) {
      throw new RangeError(`${op}: step must be an integer, got ${describe(step)}`);
    }
    return BigInt(step);
  }
  if (step instanceof Variable || (typeof step === "object" && step !== null)) {
    const t = toTensor(op, step as TensorLike);
    if (t.size !== 1 || !["int32", "int64", "uint8"].includes(t.dtype)) {
      throw new TypeError(
        `${op}: step must be an integer scalar, got a ${t.dtype} tensor of shape ` +
          showShape(t.shape),
      );
    }
    const x = t.dataSync()[0];
    return typeof x === "bigint" ? x : BigInt(x);
  }
  throw new TypeError(`${op}: step must be an integer, got ${describe(step)}`);
}

/** The writer and step of a summary to record, or null (after checking only the name). */
function begin(op: string, name: unknown, options: unknown): [SummaryWriter, bigint] | null {
  if (typeof name !== "string" || name === "") {
    throw new TypeError(`${op}: name must be a non-empty string, got ${describe(name)}`);
  }
  const writer = recordingWriter();
  if (writer === null) return null;
  if (options === null || typeof options !== "object") {
    throw new TypeError(`${op}: options must be an object, got ${describe(options)}`);
  }
  const step = (options as SummaryOptions).step;
  return [writer, step === undefined ? defaultStep(op) : parseStep(op, step)];
}

/** The elements of a tensor argument as float64 numbers. */
function numbers(op: string, value: TensorLike): [Tensor, Float64Array] {
  const t = toTensor(op, value);
  const data = t.dataSync();
  return [
    t,
    data instanceof BigInt64Array ? Float64Array.from(data, Number) : Float64Array.from(data),
  ];
}

/**
 * Writes a scalar (a number, or a tensor with one element) under `name`.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.summary.scalar("loss", 0.25, { step: 10 }); // false: no writer is active
 * ```
 */
export function scalar(name: string, value: TensorLike, options: SummaryOptions = {}): boolean {
  const op = "scalar";
  const started = begin(op, name, options);
  if (started === null) return false;
  const [t, data] = numbers(op, value);
  if (t.size !== 1) {
    throw new RangeError(`${op}: value must have one element, got shape ${showShape(t.shape)}`);
  }
  const [writer, step] = started;
  writer[WRITE](op, step, {
    tag: name,
    pluginName: "scalars",
    tensor: { dtype: DataType.FLOAT, shape: [], values: [data[0]] },
  });
  return true;
}

/**
 * Writes a histogram of all elements of `values` under `name`.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.summary.histogram("weights", tf.randomNormal([100]), { buckets: 20 });
 * ```
 */
export function histogram(
  name: string,
  values: TensorLike,
  options: HistogramOptions = {},
): boolean {
  const op = "histogram";
  const started = begin(op, name, options);
  if (started === null) return false;
  const k = options.buckets ?? 30;
  if (!Number.isInteger(k) || k < 0 || k > 1_000_000) {
    throw new RangeError(`${op}: buckets must be an integer in [0, 1e6], got ${describe(k)}`);
  }
  const [, data] = numbers(op, values);
  const [writer, step] = started;
  writer[WRITE](op, step, {
    tag: name,
    pluginName: "histograms",
    tensor: { dtype: DataType.DOUBLE, shape: [k, 3], values: [...histogramBuckets(data, k)] },
  });
  return true;
}

/** uint8 pixels of an image batch; floats in [0, 1] map as tf.image.convert_image_dtype. */
function pixels(op: string, t: Tensor): Uint8Array {
  const data = t.dataSync();
  if (t.dtype === "uint8") return data as Uint8Array;
  if (t.dtype !== "float32" && t.dtype !== "float64") {
    throw new TypeError(`${op}: images must be uint8 or float (in [0, 1]), got ${t.dtype}`);
  }
  // NOTE: x * 255.5, saturated to [0, 255], truncated: TensorFlow's float -> uint8 rule.
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = (data[i] as number) * 255.5;
    out[i] = v >= 255 ? 255 : v > 0 ? v : 0;
  }
  return out;
}

/**
 * Writes up to `maxImages` images of a [k, height, width, channels] batch (channels 1, 2,
 * 3 or 4; uint8, or float in [0, 1]) as PNGs under `name`.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.summary.image("samples", tf.randomUniform([4, 28, 28, 1]), { maxImages: 2 });
 * ```
 */
export function image(name: string, images: TensorLike, options: ImageOptions = {}): boolean {
  const op = "image";
  const started = begin(op, name, options);
  if (started === null) return false;
  const max = options.maxImages ?? 3;
  if (!Number.isInteger(max) || max < 1) {
    throw new RangeError(`${op}: maxImages must be a positive integer, got ${describe(max)}`);
  }
  const t = toTensor(op, images);
  const [k, height, width, channels] = t.shape;
  if (t.rank !== 4 || channels < 1 || channels > 4 || height < 1 || width < 1) {
    throw new RangeError(
      `${op}: images must have shape [k, height, width, channels] with channels 1 to 4 and ` +
        `a non-empty image, got ${showShape(t.shape)}`,
    );
  }
  const data = pixels(op, t);
  const n = Math.min(k, max), each = height * width * channels;
  const values: Uint8Array[] = [encoder.encode(String(width)), encoder.encode(String(height))];
  for (let i = 0; i < n; i++) {
    values.push(encodePng(data.subarray(i * each, (i + 1) * each), height, width, channels));
  }
  const [writer, step] = started;
  writer[WRITE](op, step, {
    tag: name,
    pluginName: "images",
    tensor: { dtype: DataType.STRING, shape: [values.length], values },
  });
  return true;
}

/** Nested string arrays: a string, or arrays of them. */
export type NestedStrings = string | readonly NestedStrings[];

function flattenStrings(op: string, data: unknown): [number[], Uint8Array[]] {
  if (typeof data === "string") return [[], [encoder.encode(data)]];
  if (!Array.isArray(data)) {
    throw new TypeError(
      `${op}: data must be a string or nested arrays of strings, got ` +
        describe(data),
    );
  }
  const shape: number[] = [];
  for (let level: unknown = data; Array.isArray(level); level = level[0]) {
    shape.push(level.length);
    if (level.length === 0 || shape.length > 8) break;
  }
  const out: Uint8Array[] = [];
  const walk = (node: unknown, depth: number): void => {
    if (depth === shape.length) {
      if (typeof node !== "string") {
        throw new TypeError(`${op}: every element must be a string, got ${describe(node)}`);
      }
      out.push(encoder.encode(node));
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[depth]) {
      throw new RangeError(
        `${op}: the nested arrays are not rectangular (shape ${showShape(shape)})`,
      );
    }
    for (const child of node) walk(child, depth + 1);
  };
  walk(data, 0);
  return [shape, out];
}

/**
 * Writes text (a string, or nested arrays of strings, shown as a table) under `name`;
 * TensorBoard renders it as Markdown.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.summary.text("config", "learning rate **0.01**");
 * ```
 */
export function text(name: string, data: NestedStrings, options: SummaryOptions = {}): boolean {
  const op = "text";
  const started = begin(op, name, options);
  if (started === null) return false;
  const [shape, values] = flattenStrings(op, data);
  const [writer, step] = started;
  writer[WRITE](op, step, {
    tag: name,
    pluginName: "text",
    tensor: { dtype: DataType.STRING, shape, values },
  });
  return true;
}
