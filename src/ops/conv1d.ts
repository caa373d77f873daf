/**
 * 1-D convolution, composed over conv2d with a height of 1 as TensorFlow does, so its
 * gradients (to any order) and every device come from conv2d.
 * @module
 */
import { showShape } from "../shape.ts";
import type { Tensor, TensorLike } from "../tensor.ts";
import { conv2d } from "./conv.ts";
import { floatInput } from "./conv_args.ts";
import { expandDims, squeeze } from "./views.ts";

/** "NWC" (default): [batch, width, channels]; "NCW": [batch, channels, width]. */
export type DataFormat1D = "NWC" | "NCW";

/** Options of conv1d. */
export interface Conv1DOptions {
  /** "NWC" (default) or "NCW". */
  dataFormat?: DataFormat1D;
  /** Dilation rate (default 1): a number or a list of 1 or 3 numbers; above 1 only with stride 1. */
  dilations?: number | readonly number[];
}

const describe = (v: unknown) => JSON.stringify(v);

/** One positive integer from a number, [n] or TensorFlow's 3-list in `format` order. */
function rate(op: string, what: string, value: number | readonly number[], format: DataFormat1D) {
  let v: number | undefined;
  if (typeof value === "number") v = value;
  else if (Array.isArray(value) && value.length === 1) v = value[0];
  else if (Array.isArray(value) && value.length === 3) {
    const [b, c, w] = format === "NWC" ? [value[0], value[2], value[1]] : value;
    if (b !== 1 || c !== 1) {
      throw new RangeError(
        `${op}: ${what} in the batch and channel dimensions must be 1, got ${describe(value)}`,
      );
    }
    v = w;
  }
  if (v === undefined) {
    throw new TypeError(
      `${op}: ${what} must be a number or a list of 1 or 3 numbers, got ${describe(value)}`,
    );
  }
  if (!Number.isInteger(v) || v <= 0) {
    throw new RangeError(`${op}: ${what} must be positive integers, got ${describe(value)}`);
  }
  return v;
}

/**
 * 1-D convolution (cross-correlation) of input [N,W,C] (or [N,C,W] with dataFormat
 * "NCW") with filters [KW,C,OC]; float32 or float64; padding "SAME" or "VALID".
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const x = tf.constant(1, "float32", { shape: [2, 10, 3] }); // NWC
 * const f = tf.constant(0.5, "float32", { shape: [3, 3, 4] }); // [width, in, out]
 * tf.nn.conv1d(x, f, 1, "SAME"); // shape [2, 10, 4]
 * tf.nn.conv1d(x, f, 2, "VALID"); // shape [2, 4, 4]
 * ```
 */
export function conv1d(
  input: TensorLike,
  filters: TensorLike,
  stride: number | readonly number[],
  padding: "SAME" | "VALID",
  opts: Conv1DOptions = {},
): Tensor {
  const op = "conv1d";
  const format = opts.dataFormat ?? "NWC";
  if (format !== "NWC" && format !== "NCW") {
    throw new RangeError(`${op}: dataFormat must be "NWC" or "NCW", got ${describe(format)}`);
  }
  if (padding !== "SAME" && padding !== "VALID") {
    throw new RangeError(`${op}: padding must be "SAME" or "VALID", got ${describe(padding)}`);
  }
  const x = floatInput(op, "input", input);
  const f = floatInput(op, "filters", filters, x);
  const layout = format === "NWC" ? "[batch, width, channels]" : "[batch, channels, width]";
  if (x.rank !== 3) {
    throw new RangeError(`${op}: input must be 3-D ${layout}, got shape ${showShape(x.shape)}`);
  }
  if (f.rank !== 3) {
    throw new RangeError(
      `${op}: filters must be 3-D [width, in, out], got shape ${showShape(f.shape)}`,
    );
  }
  const channels = format === "NWC" ? x.shape[2] : x.shape[1];
  if (channels !== f.shape[1]) {
    throw new RangeError(
      `${op}: input has ${channels} channels but filters expect ${f.shape[1]}: ` +
        `${showShape(x.shape)} x ${showShape(f.shape)}`,
    );
  }
  const s = rate(op, "stride", stride, format);
  const d = rate(op, "dilations", opts.dilations ?? 1, format);
  if (s > 1 && d > 1) {
    throw new RangeError(
      `${op}: stride > 1 together with dilations > 1 is not supported (stride ${s}, dilations ${d})`,
    );
  }
  const width = format === "NWC" ? x.shape[1] : x.shape[2];
  if (padding === "VALID" && width < (f.shape[0] - 1) * d + 1) {
    throw new RangeError(
      `${op}: the dilated filter width ${(f.shape[0] - 1) * d + 1} exceeds the input width ` +
        `${width} with "VALID" padding`,
    );
  }
  // NWC -> NHWC with H = 1 (axis 1); NCW -> NCHW with H = 1 (axis 2).
  const hAxis = format === "NWC" ? 1 : 2;
  const y = conv2d(expandDims(x, hAxis), expandDims(f, 0), [1, s], padding, {
    dataFormat: format === "NWC" ? "NHWC" : "NCHW",
    dilations: [1, d],
  });
  return squeeze(y, hAxis);
}
