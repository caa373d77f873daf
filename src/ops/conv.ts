/**
 * Convolution and pooling over 4-D tensors: conv2d, its backprops (conv2dTranspose is
 * the backprop w.r.t. the input), maxPool, avgPool and their gradients. Argument
 * parsing and the output geometry live in conv_args.ts.
 *
 * The kernels (csrc/conv.c) work in NHWC. NCHW input is transposed to NHWC (one strided
 * copy) and the result is returned as an NCHW view of the NHWC output, so a chain of
 * NCHW ops copies once per op, not twice. Filters are HWIO, [KH, KW, in, out], in both
 * formats, as in TensorFlow. "SAME" and "VALID" become explicit pads exactly as
 * TensorFlow computes them.
 *
 * Gradients are TensorFlow's (nn_grad.py), written with these same ops and the caller's
 * strides, padding, dilations and dataFormat, so every op here is differentiable to any
 * order: conv2d, conv2dBackpropInput (= conv2dTranspose) and conv2dBackpropFilter are
 * each linear in both operands and their rules cycle among the three; avgPool and
 * avgPoolGrad are adjoint; maxPool's gradient maxPoolGrad is linear in dy and its rule
 * is MaxPoolGradGrad (dy gathered at each window's argmax), whose rule is maxPoolGrad
 * again. The argmax is piecewise constant, so x and y get zero gradients there.
 * @module
 */
import { type DType, dtypeCode, type TypedArray } from "../dtype.ts";
import { check, native } from "../native/lib.ts";
import { int64s } from "../native/args.ts";
import { sameShape, showShape, sizeOf } from "../shape.ts";
import { allocate } from "../storage.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { active, record1 } from "../tape.ts";
import { contiguous } from "./cast.ts";
import { zerosLike } from "./creation.ts";
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
  type Geometry,
  layoutOf,
  nhwcShape,
  type Padding,
  poolGeometry,
  type PoolOptions,
  shapeArg,
  type ShapeLike,
  type Spatial,
} from "./conv_args.ts";

export type { Conv2DOptions, DataFormat, Padding, PoolOptions, ShapeLike, Spatial };

// ---- convolution -------------------------------------------------------------------

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
  const out = allocate(input.dtype, sizeOf(g.out), op);
  if (out.length > 0) {
    const xn = denseNHWC(op, input, format), fn = contiguous(f, op);
    convKernel(op, native.eager_conv2d, input.dtype, [xs, f.shape, g], out, xn, fn);
  }
  const y = fromNHWC(new Tensor(out, input.dtype, g.out), format);
  if (active.length !== 0) {
    record1(op, [input, f], y, (dy) => [
      () => conv2dBackpropInput(input.shape, f, dy, strides, padding, opts),
      () => conv2dBackpropFilter(input, f.shape, dy, strides, padding, opts),
    ]);
  }
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
  const dx = allocate(grad.dtype, sizeOf(xs), op);
  if (dx.length > 0) {
    const dyn = denseNHWC(op, grad, format), fn = contiguous(f, op);
    convKernel(op, native.eager_conv2d_backprop_input, grad.dtype, [xs, f.shape, g], dx, fn, dyn);
  }
  const result = fromNHWC(new Tensor(dx, grad.dtype, xs), format);
  if (active.length !== 0) {
    // TensorFlow's _Conv2DBackpropInputGrad: ddx is shaped like conv2d's input.
    record1(op, [f, grad], result, (ddx) => [
      () => conv2dBackpropFilter(ddx, f.shape, grad, strides, padding, opts),
      () => conv2d(ddx, f, strides, padding, opts),
    ]);
  }
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
  const df = allocate(input.dtype, sizeOf(fs), op);
  if (df.length > 0) {
    const xn = denseNHWC(op, input, format), dyn = denseNHWC(op, grad, format);
    convKernel(op, native.eager_conv2d_backprop_filter, input.dtype, [xs, fs, g], df, xn, dyn);
  }
  const result = new Tensor(df, input.dtype, fs);
  if (active.length !== 0) {
    // TensorFlow's _Conv2DBackpropFilterGrad: ddf is shaped like the filters.
    record1(op, [input, grad], result, (ddf) => [
      () => conv2dBackpropInput(input.shape, ddf, grad, strides, padding, opts),
      () => conv2d(input, ddf, strides, padding, opts),
    ]);
  }
  return result;
}

/** Calls one of the three conv kernels: (dtype, x shape, filter shape, out shape, params,
 * result, first operand, second operand), all NHWC / HWIO and dense. */
function convKernel(
  op: string,
  kernel: typeof native.eager_conv2d,
  dtype: DType,
  [xs, fs, g]: [readonly number[], readonly number[], { out: number[]; params: number[] }],
  result: TypedArray,
  a: Tensor,
  b: Tensor,
): void {
  check(
    kernel(
      dtypeCode(dtype),
      int64s(0, xs),
      int64s(1, fs),
      int64s(2, g.out),
      int64s(3, g.params),
      result,
      a.data,
      a.offset,
      b.data,
      b.offset,
    ),
    op,
  );
}

// ---- pooling -----------------------------------------------------------------------

function pool(
  op: "maxPool" | "avgPool",
  x: TensorLike,
  ksize: Spatial,
  strides: Spatial,
  padding: Padding,
  opts: PoolOptions,
): Tensor {
  const format = formatOf(op, opts);
  const input = floatInput(op, "x", x);
  checkRank4(op, "x", input.shape, layoutOf(format));
  const xs = nhwcShape(input.shape, format);
  const g = poolGeometry(op, xs, ksize, strides, padding, format, input.shape);
  const out = allocate(input.dtype, sizeOf(g.out), op);
  if (out.length > 0) {
    const xn = denseNHWC(op, input, format);
    const kernel = op === "maxPool" ? native.eager_max_pool2d : native.eager_avg_pool2d;
    check(
      kernel(
        dtypeCode(input.dtype),
        int64s(0, xs),
        int64s(1, g.out),
        int64s(2, g.params),
        out,
        xn.data,
        xn.offset,
      ),
      op,
    );
  }
  const y = fromNHWC(new Tensor(out, input.dtype, g.out), format);
  if (active.length !== 0) {
    record1(op, [input], y, (dy) => [
      op === "maxPool"
        ? () => maxPoolGrad(input, y, dy, ksize, strides, padding, opts)
        : () => avgPoolGrad(input.shape, dy, ksize, strides, padding, opts),
    ]);
  }
  return y;
}

/**
 * Max pooling over [ksize] windows of x [N,H,W,C] (or NCHW); padding never wins.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const x = tf.constant([1, 2, 3, 4], "float32", { shape: [1, 2, 2, 1] });
 * tf.nn.maxPool(x, 2, 2, "VALID"); // [[[[4]]]]
 * ```
 */
export function maxPool(
  x: TensorLike,
  ksize: Spatial,
  strides: Spatial,
  padding: Padding,
  opts: PoolOptions = {},
): Tensor {
  return pool("maxPool", x, ksize, strides, padding, opts);
}

/**
 * Average pooling over [ksize] windows of x [N,H,W,C] (or NCHW); each window averages
 * only its in-bounds elements, as TensorFlow's SAME avg pool does.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const x = tf.constant([1, 2, 3, 4], "float32", { shape: [1, 2, 2, 1] });
 * tf.nn.avgPool(x, 2, 2, "VALID"); // [[[[2.5]]]]
 * ```
 */
export function avgPool(
  x: TensorLike,
  ksize: Spatial,
  strides: Spatial,
  padding: Padding,
  opts: PoolOptions = {},
): Tensor {
  return pool("avgPool", x, ksize, strides, padding, opts);
}

function checkPoolOutput(
  op: string,
  what: string,
  t: Tensor,
  g: Geometry,
  format: DataFormat,
  input: string,
): void {
  if (!sameShape(nhwcShape(t.shape, format), g.out)) {
    throw new RangeError(
      `${op}: ${what} has shape ${showShape(t.shape)} but pooling ${input} gives ${
        showShape(formatShape(g.out, format))
      }`,
    );
  }
}

/**
 * The gradient of maxPool: each element of dy goes to the maximum of its window in x
 * (the first one when several tie, as TensorFlow's MaxPoolGrad). y is maxPool's output.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const x = tf.constant([1, 4, 3, 2], "float32", { shape: [1, 2, 2, 1] });
 * const y = tf.nn.maxPool(x, 2, 2, "VALID");
 * tf.nn.maxPoolGrad(x, y, [[[[1]]]], 2, 2, "VALID"); // [[[[0], [1]], [[0], [0]]]]
 * ```
 */
export function maxPoolGrad(
  x: TensorLike,
  y: TensorLike,
  dy: TensorLike,
  ksize: Spatial,
  strides: Spatial,
  padding: Padding,
  opts: PoolOptions = {},
): Tensor {
  const op = "maxPoolGrad";
  const a = maxPoolGradArgs(op, x, y, dy, "dy", [ksize, strides, padding], opts);
  const { input, output, grad, xs } = a;
  const dx = allocate(input.dtype, input.size, op);
  if (dx.length > 0) maxPoolGradKernel(op, native.eager_max_pool2d_grad, a, dx);
  const result = fromNHWC(new Tensor(dx, input.dtype, xs), a.format);
  if (active.length !== 0) {
    record1(op, [input, output, grad], result, (ddx) => [
      () => zerosLike(input),
      () => zerosLike(output),
      () => maxPoolGradGrad(input, output, ddx, ksize, strides, padding, opts),
    ]);
  }
  return result;
}

/**
 * TensorFlow's MaxPoolGradGrad, the gradient of maxPoolGrad w.r.t. dy: ddx (shaped like
 * x) read at each window's argmax in x, giving a tensor shaped like y. It is maxPoolGrad's
 * adjoint, so its own gradient is maxPoolGrad.
 */
function maxPoolGradGrad(
  x: Tensor,
  y: Tensor,
  ddx: Tensor,
  ksize: Spatial,
  strides: Spatial,
  padding: Padding,
  opts: PoolOptions,
): Tensor {
  const op = "maxPoolGradGrad";
  const a = maxPoolGradArgs(op, x, y, ddx, "ddx", [ksize, strides, padding], opts);
  const { input, output, grad, g } = a;
  const out = allocate(input.dtype, sizeOf(g.out), op);
  if (out.length > 0) maxPoolGradKernel(op, native.eager_max_pool2d_grad_grad, a, out);
  const result = fromNHWC(new Tensor(out, input.dtype, g.out), a.format);
  if (active.length !== 0) {
    record1(op, [input, output, grad], result, (dy) => [
      () => zerosLike(input),
      () => zerosLike(output),
      () => maxPoolGrad(input, output, dy, ksize, strides, padding, opts),
    ]);
  }
  return result;
}

/** The checked operands of maxPoolGrad (grad is dy, shaped like y) and maxPoolGradGrad
 * (grad is ddx, shaped like x). */
function maxPoolGradArgs(
  op: string,
  x: TensorLike,
  y: TensorLike,
  t: TensorLike,
  what: "dy" | "ddx",
  [ksize, strides, padding]: [Spatial, Spatial, Padding],
  opts: PoolOptions,
) {
  const format = formatOf(op, opts);
  const input = floatInput(op, "x", x);
  const output = floatInput(op, "y", y, input);
  const grad = floatInput(op, what, t, input);
  checkRank4(op, "x", input.shape, layoutOf(format));
  const xs = nhwcShape(input.shape, format);
  const g = poolGeometry(op, xs, ksize, strides, padding, format, input.shape);
  checkPoolOutput(op, "y", output, g, format, showShape(input.shape));
  if (what === "dy") checkPoolOutput(op, "dy", grad, g, format, showShape(input.shape));
  else if (!sameShape(grad.shape, input.shape)) {
    throw new RangeError(
      `${op}: ddx has shape ${showShape(grad.shape)} but x has ${showShape(input.shape)}`,
    );
  }
  return { format, input, output, grad, xs, g };
}

/** Calls eager_max_pool2d_grad or eager_max_pool2d_grad_grad (same signature). */
function maxPoolGradKernel(
  op: string,
  kernel: typeof native.eager_max_pool2d_grad,
  { format, input, grad, xs, g }: ReturnType<typeof maxPoolGradArgs>,
  result: TypedArray,
): void {
  const xn = denseNHWC(op, input, format), gn = denseNHWC(op, grad, format);
  check(
    kernel(
      dtypeCode(input.dtype),
      int64s(0, xs),
      int64s(1, g.out),
      int64s(2, g.params),
      result,
      xn.data,
      xn.offset,
      gn.data,
      gn.offset,
    ),
    op,
  );
}

/**
 * The gradient of avgPool: each element of dy is spread evenly over the in-bounds
 * elements of its window. Returns a tensor of `inputShape`.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.nn.avgPoolGrad([1, 2, 2, 1], [[[[1]]]], 2, 2, "VALID"); // every element 0.25
 * ```
 */
export function avgPoolGrad(
  inputShape: ShapeLike,
  dy: TensorLike,
  ksize: Spatial,
  strides: Spatial,
  padding: Padding,
  opts: PoolOptions = {},
): Tensor {
  const op = "avgPoolGrad";
  const format = formatOf(op, opts);
  const shape = shapeArg(op, "inputShape", inputShape, layoutOf(format));
  const grad = floatInput(op, "dy", dy);
  const xs = nhwcShape(shape, format);
  const g = poolGeometry(op, xs, ksize, strides, padding, format, shape);
  checkPoolOutput(op, "dy", grad, g, format, showShape(shape));
  const dx = allocate(grad.dtype, sizeOf(xs), op);
  if (dx.length > 0) {
    const dyn = denseNHWC(op, grad, format);
    check(
      native.eager_avg_pool2d_grad(
        dtypeCode(grad.dtype),
        int64s(0, xs),
        int64s(1, g.out),
        int64s(2, g.params),
        dx,
        dyn.data,
        dyn.offset,
      ),
      op,
    );
  }
  const result = fromNHWC(new Tensor(dx, grad.dtype, xs), format);
  if (active.length !== 0) {
    record1(op, [grad], result, (ddx) => [
      () => avgPool(ddx, ksize, strides, padding, opts),
    ]);
  }
  return result;
}
