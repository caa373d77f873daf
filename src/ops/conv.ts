/**
 * Convolution over 4-D tensors: conv2d and its backprops (conv2dTranspose is the
 * backprop w.r.t. the input); pooling is in pool.ts. Argument parsing and the output
 * geometry live in conv_args.ts.
 *
 * The kernels (csrc/kernels/conv.c) work in NHWC. NCHW input is transposed to NHWC (one strided
 * copy) and the result is returned as an NCHW view of the NHWC output, so a chain of
 * NCHW ops copies once per op, not twice. Filters are HWIO, [KH, KW, in, out], in both
 * formats, as in TensorFlow. "SAME" and "VALID" become explicit pads exactly as
 * TensorFlow computes them.
 *
 * Gradients are TensorFlow's (nn_grad.py), written with these same ops and the caller's
 * strides, padding, dilations and dataFormat, so every op here is differentiable to any
 * order: conv2d, conv2dBackpropInput (= conv2dTranspose) and conv2dBackpropFilter are
 * each linear in both operands and their rules cycle among the three (conv_grads.ts).
 * @module
 */
import { backendOf } from "../backend/backend.ts";
import { sameShape, showShape, sizeOf } from "../shape.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { active } from "../tape.ts";
import { contiguous } from "./cast.ts";
import {
  checkRank4,
  type Conv2DOptions,
  convGeometry,
  type DataFormat,
  denseNHWC,
  floatInput,
  formatOf,
  formatShape,
  fromNHWC,
  layoutOf,
  nhwcShape,
  type Padding,
  shapeArg,
  type ShapeLike,
  type Spatial,
} from "./conv_args.ts";
import { type ConvFamily, recordFilterGrad, recordForward, recordInputGrad } from "./conv_grads.ts";

export type { Conv2DOptions, DataFormat, Padding, ShapeLike, Spatial };

// ---- convolution -------------------------------------------------------------------

/** conv2d and its backprops, for the gradient rules (conv_grads.ts). */
const CONV2D: ConvFamily = {
  forward: conv2d,
  inputGrad: conv2dBackpropInput,
  filterGrad: conv2dBackpropFilter,
};

/**
 * 2-D convolution (cross-correlation, as TensorFlow's) of x [N,H,W,C] (or [N,C,H,W]
 * with dataFormat "NCHW") with filters [KH,KW,C,OC]; float32 or float64.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const x = tf.constant(1, "float32", { shape: [1, 5, 5, 3] }); // NHWC
 * const f = tf.constant(0.5, "float32", { shape: [3, 3, 3, 8] }); // HWIO
 * tf.nn.conv2d(x, f, 1, "SAME"); // shape [1, 5, 5, 8]
 * tf.nn.conv2d(x, f, [2, 2], [[0, 0], [1, 1], [1, 1], [0, 0]]); // shape [1, 3, 3, 8]
 * ```
 */
export function conv2d(
  x: TensorLike,
  filters: TensorLike,
  strides: Spatial,
  padding: Padding,
  opts: Conv2DOptions = {},
): Tensor {
  const op = "conv2d";
  const format = formatOf(op, opts);
  const input = floatInput(op, "x", x);
  const f = floatInput(op, "filters", filters, input);
  checkRank4(op, "x", input.shape, layoutOf(format));
  checkRank4(op, "filters", f.shape, "HWIO: [height, width, in, out]");
  const xs = nhwcShape(input.shape, format);
  const g = convGeometry(
    op,
    xs,
    f.shape,
    strides,
    padding,
    opts,
    `${showShape(input.shape)} x ${showShape(f.shape)}`,
  );
  const backend = backendOf(op, input, f);
  const out = backend.allocateOutput(input.dtype, sizeOf(g.out), op);
  if (sizeOf(g.out) > 0) {
    const xn = denseNHWC(op, input, format), fn = contiguous(f, op);
    backend.conv(op, "forward", input.dtype, [xs, f.shape, g], out, xn, fn);
  }
  const y = fromNHWC(new Tensor(out, input.dtype, g.out), format);
  if (active.length !== 0) recordForward(op, CONV2D, input, f, y, [strides, padding, opts], format);
  return y;
}

function backpropInput(
  op: string,
  what: string,
  inputShape: ShapeLike,
  filters: TensorLike,
  dy: TensorLike,
  strides: Spatial,
  padding: Padding,
  opts: Conv2DOptions,
): Tensor {
  const format = formatOf(op, opts);
  const dyName = op === "conv2dTranspose" ? "x" : "dy";
  const shape = shapeArg(op, what, inputShape, layoutOf(format));
  const grad = floatInput(op, dyName, dy);
  const f = floatInput(op, "filters", filters, grad);
  checkRank4(op, dyName, grad.shape, layoutOf(format));
  checkRank4(op, "filters", f.shape, "HWIO: [height, width, in, out]");
  const xs = nhwcShape(shape, format);
  const gs = nhwcShape(grad.shape, format);
  const shapes = `${showShape(shape)}, filters ${showShape(f.shape)}, ${dyName} ${
    showShape(grad.shape)
  }`;
  if (gs[3] !== f.shape[3]) {
    throw new RangeError(
      `${op}: ${dyName} has ${gs[3]} channels but filters have ${f.shape[3]} outputs: ${shapes}`,
    );
  }
  const g = convGeometry(op, xs, f.shape, strides, padding, opts, `${what} ${shapes}`);
  if (!sameShape(gs, g.out)) {
    throw new RangeError(
      `${op}: ${dyName} has shape ${showShape(grad.shape)} but a conv2d of ${
        showShape(shape)
      } with filters ${showShape(f.shape)} gives ${showShape(formatShape(g.out, format))}`,
    );
  }
  const backend = backendOf(op, f, grad);
  const dx = backend.allocateOutput(grad.dtype, sizeOf(xs), op);
  if (sizeOf(xs) > 0) {
    const dyn = denseNHWC(op, grad, format), fn = contiguous(f, op);
    backend.conv(op, "inputGrad", grad.dtype, [xs, f.shape, g], dx, fn, dyn);
  }
  const result = fromNHWC(new Tensor(dx, grad.dtype, xs), format);
  if (active.length !== 0) recordInputGrad(op, CONV2D, f, grad, result, [strides, padding, opts]);
  return result;
}

/**
 * The gradient of conv2d w.r.t. its input: given dy (the shape conv2d gives for an
 * input of `inputShape`), returns dx of `inputShape`. TensorFlow's Conv2DBackpropInput.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const f = tf.constant(1, "float32", { shape: [3, 3, 2, 4] });
 * const dy = tf.constant(1, "float32", { shape: [1, 5, 5, 4] });
 * tf.nn.conv2dBackpropInput([1, 5, 5, 2], f, dy, 1, "SAME"); // shape [1, 5, 5, 2]
 * ```
 */
export function conv2dBackpropInput(
  inputShape: ShapeLike,
  filters: TensorLike,
  dy: TensorLike,
  strides: Spatial,
  padding: Padding,
  opts: Conv2DOptions = {},
): Tensor {
  return backpropInput(
    "conv2dBackpropInput",
    "inputShape",
    inputShape,
    filters,
    dy,
    strides,
    padding,
    opts,
  );
}

/**
 * Transposed convolution ("deconvolution"), TensorFlow's conv2d_transpose: x has
 * `filters.shape[3]` channels, filters are [KH, KW, out channels, in channels], and the
 * result has `outputShape` (the input shape of the conv2d this transposes).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const x = tf.constant(1, "float32", { shape: [1, 4, 4, 4] });
 * const f = tf.constant(1, "float32", { shape: [3, 3, 2, 4] });
 * tf.nn.conv2dTranspose(x, f, [1, 8, 8, 2], 2, "SAME"); // shape [1, 8, 8, 2]
 * ```
 */
export function conv2dTranspose(
  x: TensorLike,
  filters: TensorLike,
  outputShape: ShapeLike,
  strides: Spatial,
  padding: Padding,
  opts: Conv2DOptions = {},
): Tensor {
  return backpropInput(
    "conv2dTranspose",
    "outputShape",
    outputShape,
    filters,
    x,
    strides,
    padding,
    opts,
  );
}

/**
 * The gradient of conv2d w.r.t. its filters: given x and dy, returns a tensor of
 * `filterShape` [KH, KW, C, OC]. TensorFlow's Conv2DBackpropFilter.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const x = tf.constant(1, "float32", { shape: [1, 5, 5, 2] });
 * const dy = tf.constant(1, "float32", { shape: [1, 5, 5, 4] });
 * tf.nn.conv2dBackpropFilter(x, [3, 3, 2, 4], dy, 1, "SAME"); // shape [3, 3, 2, 4]
 * ```
 */
export function conv2dBackpropFilter(
  x: TensorLike,
  filterShape: ShapeLike,
  dy: TensorLike,
  strides: Spatial,
  padding: Padding,
  opts: Conv2DOptions = {},
): Tensor {
  const op = "conv2dBackpropFilter";
  const format = formatOf(op, opts);
  const input = floatInput(op, "x", x);
  const grad = floatInput(op, "dy", dy, input);
  const fs = shapeArg(op, "filterShape", filterShape, "HWIO: [height, width, in, out]");
  checkRank4(op, "x", input.shape, layoutOf(format));
  checkRank4(op, "dy", grad.shape, layoutOf(format));
  const xs = nhwcShape(input.shape, format);
  const shapes = `x ${showShape(input.shape)}, filterShape ${showShape(fs)}, dy ${
    showShape(grad.shape)
  }`;
  const g = convGeometry(op, xs, fs, strides, padding, opts, shapes);
  if (!sameShape(nhwcShape(grad.shape, format), g.out)) {
    throw new RangeError(
      `${op}: dy has shape ${showShape(grad.shape)} but a conv2d of ${
        showShape(input.shape)
      } with filters ${showShape(fs)} gives ${showShape(formatShape(g.out, format))}`,
    );
  }
  const backend = backendOf(op, input, grad);
  const df = backend.allocateOutput(input.dtype, sizeOf(fs), op);
  if (sizeOf(fs) > 0) {
    const xn = denseNHWC(op, input, format), dyn = denseNHWC(op, grad, format);
    backend.conv(op, "filterGrad", input.dtype, [xs, fs, g], df, xn, dyn);
  }
  const result = new Tensor(df, input.dtype, fs);
  if (active.length !== 0) {
    recordFilterGrad(op, CONV2D, input, grad, result, [strides, padding, opts]);
  }
  return result;
}
