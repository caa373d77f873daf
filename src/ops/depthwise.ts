/**
 * depthwiseConv2d and separableConv2d, composed over conv2d: the depthwise filter
 * [KH,KW,C,M] becomes the block-diagonal conv2d filter [KH,KW,C,C*M] (output channel
 * c*M+m reads input channel c only, TensorFlow's channel order). Correct on every device
 * with gradients of any order from conv2d's, but C times the work of a direct kernel:
 * a C kernel is the planned replacement behind the same signature.
 * @module
 */
import { showShape } from "../shape.ts";
import type { Tensor, TensorLike } from "../tensor.ts";
import { conv2d } from "./conv.ts";
import {
  checkRank4,
  type Conv2DOptions,
  floatInput,
  formatOf,
  layoutOf,
  type Padding,
  type Spatial,
} from "./conv_args.ts";
import { eye } from "./creation.ts";
import { multiply } from "./math.ts";
import { expandDims, reshape } from "./views.ts";

/** The block-diagonal conv2d filter [KH,KW,C,C*M] of a depthwise filter [KH,KW,C,M]. */
function blockDiagonal(f: Tensor): Tensor {
  const [kh, kw, c, m] = f.shape;
  const mask = reshape(eye(c, c, { dtype: f.dtype }), [1, 1, c, c, 1]);
  return reshape(multiply(expandDims(f, 3), mask), [kh, kw, c, c * m]);
}

/**
 * Depthwise 2-D convolution of input [N,H,W,C] (or [N,C,H,W] with dataFormat "NCHW")
 * with filter [KH,KW,C,M]: each input channel is convolved with its own M filters,
 * giving C*M output channels (channel c*M+m from input channel c); float32 or float64.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const x = tf.constant(1, "float32", { shape: [1, 5, 5, 3] });
 * const f = tf.constant(0.5, "float32", { shape: [3, 3, 3, 2] });
 * tf.nn.depthwiseConv2d(x, f, [1, 1, 1, 1], "SAME"); // shape [1, 5, 5, 6]
 * ```
 */
export function depthwiseConv2d(
  input: TensorLike,
  filter: TensorLike,
  strides: Spatial,
  padding: Padding,
  opts: Conv2DOptions = {},
): Tensor {
  const op = "depthwiseConv2d";
  const format = formatOf(op, opts);
  const x = floatInput(op, "input", input);
  const f = floatInput(op, "filter", filter, x);
  checkRank4(op, "input", x.shape, layoutOf(format));
  checkRank4(op, "filter", f.shape, "[height, width, in, multiplier]");
  const channels = format === "NHWC" ? x.shape[3] : x.shape[1];
  if (channels !== f.shape[2]) {
    throw new RangeError(
      `${op}: input has ${channels} channels but filter expects ${f.shape[2]}: ` +
        `${showShape(x.shape)} x ${showShape(f.shape)}`,
    );
  }
  return renamed(op, () => conv2d(x, blockDiagonal(f), strides, padding, opts));
}

/** Runs fn, reporting the argument errors of the ops it composes as `op`'s. */
function renamed(op: string, fn: () => Tensor): Tensor {
  try {
    return fn();
  } catch (error) {
    const inner = error instanceof Error && /^(conv2d|depthwiseConv2d): /.exec(error.message);
    if (inner) error.message = `${op}: ${error.message.slice(inner[0].length)}`;
    throw error;
  }
}

/**
 * Depthwise convolution with depthwiseFilter [KH,KW,C,M] then a 1x1 convolution with
 * pointwiseFilter [1,1,C*M,OC]; strides and padding apply to the depthwise step.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const x = tf.constant(1, "float32", { shape: [1, 5, 5, 3] });
 * const d = tf.constant(0.5, "float32", { shape: [3, 3, 3, 2] });
 * const p = tf.constant(0.5, "float32", { shape: [1, 1, 6, 4] });
 * tf.nn.separableConv2d(x, d, p, [1, 1, 1, 1], "SAME"); // shape [1, 5, 5, 4]
 * ```
 */
export function separableConv2d(
  input: TensorLike,
  depthwiseFilter: TensorLike,
  pointwiseFilter: TensorLike,
  strides: Spatial,
  padding: Padding,
  opts: Conv2DOptions = {},
): Tensor {
  const op = "separableConv2d";
  const x = floatInput(op, "input", input);
  const d = floatInput(op, "depthwiseFilter", depthwiseFilter, x);
  const p = floatInput(op, "pointwiseFilter", pointwiseFilter, x);
  checkRank4(op, "pointwiseFilter", p.shape, "[1, 1, in * multiplier, out]");
  if (
    p.shape[0] !== 1 || p.shape[1] !== 1 || (d.rank === 4 && p.shape[2] !== d.shape[2] * d.shape[3])
  ) {
    throw new RangeError(
      `${op}: pointwiseFilter must be [1, 1, ${
        d.rank === 4 ? d.shape[2] * d.shape[3] : "in * multiplier"
      }, out], ` +
        `got ${showShape(p.shape)}`,
    );
  }
  const y = renamed(op, () => depthwiseConv2d(x, d, strides, padding, opts));
  return conv2d(y, p, 1, "VALID", { dataFormat: opts.dataFormat });
}
