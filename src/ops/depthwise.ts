/**
 * depthwiseConv2d and separableConv2d. Where the backend has the depthwise kernel (the
 * CPU: csrc/kernels/depthwise.c) the forward pass and its two gradients are ops of their
 * own (depthwiseConv2d, depthwiseConv2dBackpropInput, depthwiseConv2dBackpropFilter) whose
 * gradient rules cycle among the three, as conv2d's do (conv_grads.ts).
 * Elsewhere (WebGPU) each is composed over conv2d: the depthwise filter [KH,KW,C,M] becomes
 * the block-diagonal conv2d filter [KH,KW,C,C*M] (output channel c*M+m reads input channel c
 * only, TensorFlow's channel order), correct but C times the work.
 * @module
 */
import { backendOf } from "../backend/backend.ts";
import { sameShape, showShape, sizeOf } from "../shape.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { active } from "../tape.ts";
import { contiguous } from "./cast.ts";
import { conv2d, conv2dBackpropFilter, conv2dBackpropInput } from "./conv.ts";
import {
  checkRank4,
  type Conv2DOptions,
  convGeometry,
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
import { eye } from "./creation.ts";
import { multiply } from "./math.ts";
import { reduceSum } from "./reduce.ts";
import { expandDims, reshape } from "./views.ts";

const FILTER = "[height, width, in, multiplier]";

/** The kernel's three ops, for the gradient rules (conv_grads.ts). */
const DEPTHWISE: ConvFamily = {
  forward: depthwiseConv2d,
  inputGrad: depthwiseConv2dBackpropInput,
  filterGrad: depthwiseConv2dBackpropFilter,
};

/** The block-diagonal conv2d filter [KH,KW,C,C*M] of a depthwise filter [KH,KW,C,M]. */
function blockDiagonal(f: Tensor): Tensor {
  const [kh, kw, c, m] = f.shape;
  const mask = reshape(eye(c, c, { dtype: f.dtype }), [1, 1, c, c, 1]);
  return reshape(multiply(expandDims(f, 3), mask), [kh, kw, c, c * m]);
}

/** The depthwise part [KH,KW,C,M] of a block-diagonal conv2d filter [KH,KW,C,C*M]. */
function diagonalBlocks(full: Tensor, fs: readonly number[]): Tensor {
  const [kh, kw, c, m] = fs;
  const mask = reshape(eye(c, c, { dtype: full.dtype }), [1, 1, c, c, 1]);
  return reduceSum(multiply(reshape(full, [kh, kw, c, c, m]), mask), 2);
}

/** The checked input and filter of a depthwise convolution, and its data format. */
function operands(op: string, input: TensorLike, filter: TensorLike, opts: Conv2DOptions) {
  const format = formatOf(op, opts);
  const x = floatInput(op, "input", input);
  const f = floatInput(op, "filter", filter, x);
  checkRank4(op, "input", x.shape, layoutOf(format));
  checkRank4(op, "filter", f.shape, FILTER);
  return { format, x, f };
}

/** The NHWC input shape, output shape and eager_depthwise_conv2d geometry of a call. */
interface Plan {
  xs: number[];
  out: number[];
  dims: number[];
}

function plan(
  op: string,
  xShape: readonly number[],
  fs: readonly number[],
  strides: Spatial,
  padding: Padding,
  opts: Conv2DOptions,
  shapes: string,
): Plan {
  const xs = nhwcShape(xShape, formatOf(op, opts));
  const [kh, kw, c, m] = fs;
  if (xs[3] !== c) {
    throw new RangeError(`${op}: input has ${xs[3]} channels but filter expects ${c}: ${shapes}`);
  }
  if (kh === 0 || kw === 0) {
    throw new RangeError(`${op}: the filter's height and width must be at least 1: ${shapes}`);
  }
  const g = convGeometry(op, xs, [kh, kw, c, c * m], strides, padding, opts, shapes);
  const p = g.params;
  const dims = [...xs, m, kh, kw, g.out[1], g.out[2], p.strideH, p.strideW];
  dims.push(p.dilationH, p.dilationW, p.padTop, p.padLeft);
  return { xs, out: g.out, dims };
}

/** Checks that dy has the shape the forward pass gives. */
function checkDy(op: string, dy: Tensor, out: readonly number[], opts: Conv2DOptions): void {
  const format = formatOf(op, opts);
  if (!sameShape(nhwcShape(dy.shape, format), out)) {
    throw new RangeError(
      `${op}: dy has shape ${showShape(dy.shape)} but the depthwise convolution gives ${
        showShape(formatShape(out, format))
      }`,
    );
  }
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
  const { format, x, f } = operands(op, input, filter, opts);
  const backend = backendOf(op, x, f);
  if (backend.depthwiseConv === undefined) {
    return depthwiseConv2dComposed(x, f, strides, padding, opts);
  }
  const shapes = `${showShape(x.shape)} x ${showShape(f.shape)}`;
  const { out, dims } = plan(op, x.shape, f.shape, strides, padding, opts, shapes);
  const y = backend.allocateOutput(x.dtype, sizeOf(out), op);
  if (sizeOf(out) > 0) {
    const xn = denseNHWC(op, x, format), fn = contiguous(f, op);
    backend.depthwiseConv(op, "forward", x.dtype, dims, y, xn, fn);
  }
  const result = fromNHWC(new Tensor(y, x.dtype, out), format);
  if (active.length !== 0) {
    recordForward(op, DEPTHWISE, x, f, result, [strides, padding, opts], format);
  }
  return result;
}

/**
 * depthwiseConv2d as a conv2d with the block-diagonal filter, on any device; an internal
 * helper (the path taken where the backend lacks the kernel), exported for tests.
 * @example
 * ```ts
 * import { depthwiseConv2dComposed } from "./depthwise.ts";
 * import * as tf from "../../mod.ts";
 * const x = tf.constant(1, "float64", { shape: [1, 5, 5, 3] });
 * const f = tf.constant(0.5, "float64", { shape: [3, 3, 3, 2] });
 * depthwiseConv2dComposed(x, f, 1, "SAME"); // shape [1, 5, 5, 6]
 * ```
 */
export function depthwiseConv2dComposed(
  input: TensorLike,
  filter: TensorLike,
  strides: Spatial,
  padding: Padding,
  opts: Conv2DOptions = {},
): Tensor {
  const op = "depthwiseConv2d";
  const { format, x, f } = operands(op, input, filter, opts);
  const channels = format === "NHWC" ? x.shape[3] : x.shape[1];
  if (channels !== f.shape[2]) {
    throw new RangeError(
      `${op}: input has ${channels} channels but filter expects ${f.shape[2]}: ` +
        `${showShape(x.shape)} x ${showShape(f.shape)}`,
    );
  }
  return renamed(op, () => conv2d(x, blockDiagonal(f), strides, padding, opts));
}

/**
 * The gradient of depthwiseConv2d w.r.t. its input: given dy (the shape depthwiseConv2d
 * gives for an input of `inputShape`), returns dx of `inputShape`. TensorFlow's
 * depthwise_conv2d_backprop_input.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const f = tf.constant(1, "float32", { shape: [3, 3, 2, 2] });
 * const dy = tf.constant(1, "float32", { shape: [1, 5, 5, 4] });
 * tf.nn.depthwiseConv2dBackpropInput([1, 5, 5, 2], f, dy, 1, "SAME"); // shape [1, 5, 5, 2]
 * ```
 */
export function depthwiseConv2dBackpropInput(
  inputShape: ShapeLike,
  filter: TensorLike,
  dy: TensorLike,
  strides: Spatial,
  padding: Padding,
  opts: Conv2DOptions = {},
): Tensor {
  const op = "depthwiseConv2dBackpropInput";
  const format = formatOf(op, opts);
  const shape = shapeArg(op, "inputShape", inputShape, layoutOf(format));
  const grad = floatInput(op, "dy", dy);
  const f = floatInput(op, "filter", filter, grad);
  checkRank4(op, "dy", grad.shape, layoutOf(format));
  checkRank4(op, "filter", f.shape, FILTER);
  const shapes = `inputShape ${showShape(shape)}, filter ${showShape(f.shape)}, dy ${
    showShape(grad.shape)
  }`;
  const { xs, out, dims } = plan(op, shape, f.shape, strides, padding, opts, shapes);
  checkDy(op, grad, out, opts);
  const backend = backendOf(op, f, grad);
  if (backend.depthwiseConv === undefined) {
    return renamed(
      op,
      () => conv2dBackpropInput(shape, blockDiagonal(f), grad, strides, padding, opts),
    );
  }
  const dx = backend.allocateOutput(grad.dtype, sizeOf(xs), op);
  if (sizeOf(xs) > 0) {
    const fn = contiguous(f, op), dyn = denseNHWC(op, grad, format);
    backend.depthwiseConv(op, "inputGrad", grad.dtype, dims, dx, fn, dyn);
  }
  const result = fromNHWC(new Tensor(dx, grad.dtype, xs), format);
  if (active.length !== 0) {
    recordInputGrad(op, DEPTHWISE, f, grad, result, [strides, padding, opts]);
  }
  return result;
}

/**
 * The gradient of depthwiseConv2d w.r.t. its filter: given input and dy, returns a tensor
 * of `filterShape` [KH,KW,C,M]. TensorFlow's depthwise_conv2d_backprop_filter.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const x = tf.constant(1, "float32", { shape: [1, 5, 5, 2] });
 * const dy = tf.constant(1, "float32", { shape: [1, 5, 5, 4] });
 * tf.nn.depthwiseConv2dBackpropFilter(x, [3, 3, 2, 2], dy, 1, "SAME"); // shape [3, 3, 2, 2]
 * ```
 */
export function depthwiseConv2dBackpropFilter(
  input: TensorLike,
  filterShape: ShapeLike,
  dy: TensorLike,
  strides: Spatial,
  padding: Padding,
  opts: Conv2DOptions = {},
): Tensor {
  const op = "depthwiseConv2dBackpropFilter";
  const format = formatOf(op, opts);
  const x = floatInput(op, "input", input);
  const grad = floatInput(op, "dy", dy, x);
  const fs = shapeArg(op, "filterShape", filterShape, FILTER);
  checkRank4(op, "input", x.shape, layoutOf(format));
  checkRank4(op, "dy", grad.shape, layoutOf(format));
  const shapes = `input ${showShape(x.shape)}, filterShape ${showShape(fs)}, dy ${
    showShape(grad.shape)
  }`;
  const { out, dims } = plan(op, x.shape, fs, strides, padding, opts, shapes);
  checkDy(op, grad, out, opts);
  const backend = backendOf(op, x, grad);
  if (backend.depthwiseConv === undefined) {
    const [kh, kw, c, m] = fs;
    return renamed(op, () =>
      diagonalBlocks(
        conv2dBackpropFilter(x, [kh, kw, c, c * m], grad, strides, padding, opts),
        fs,
      ));
  }
  const df = backend.allocateOutput(x.dtype, sizeOf(fs), op);
  if (sizeOf(fs) > 0) {
    const xn = denseNHWC(op, x, format), dyn = denseNHWC(op, grad, format);
    backend.depthwiseConv(op, "filterGrad", x.dtype, dims, df, xn, dyn);
  }
  const result = new Tensor(df, x.dtype, fs);
  if (active.length !== 0) {
    recordFilterGrad(op, DEPTHWISE, x, grad, result, [strides, padding, opts]);
  }
  return result;
}

/** Runs fn, reporting the argument errors of the ops it composes as `op`'s. */
function renamed(op: string, fn: () => Tensor): Tensor {
  try {
    return fn();
  } catch (error) {
    const inner = error instanceof Error &&
      /^(conv2d|conv2dBackpropInput|conv2dBackpropFilter|depthwiseConv2d): /.exec(error.message);
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
