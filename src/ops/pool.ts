/**
 * Pooling over 4-D tensors: maxPool, avgPool and their gradients (maxPoolGrad,
 * avgPoolGrad; MaxPoolGradGrad stays private, as in TensorFlow). NHWC kernels, NCHW
 * through one transpose, geometry from conv_args.ts, as in conv.ts.
 *
 * Gradients: avgPool and avgPoolGrad are adjoint; maxPool's gradient maxPoolGrad is
 * linear in dy and its rule is MaxPoolGradGrad (dy gathered at each window's argmax),
 * whose rule is maxPoolGrad again. The argmax is piecewise constant, so x and y get zero
 * gradients there. Ties go to the first maximum, as TensorFlow.
 * @module
 */
import { backendOf, type Storage } from "../backend/backend.ts";
import type { PoolParams } from "../native/codes.ts";
import { sameShape, showShape, sizeOf } from "../shape.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { active, record1 } from "../tape.ts";
import { zerosLike } from "./creation.ts";
import {
  checkRank4,
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

export type { DataFormat, Padding, PoolOptions, Spatial };

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
  const out = input.backend.allocateOutput(input.dtype, sizeOf(g.out), op);
  if (sizeOf(g.out) > 0) {
    const xn = denseNHWC(op, input, format);
    input.backend.pool(op, op === "maxPool", input.dtype, [xs, g], out, xn);
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
  g: Geometry<PoolParams>,
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
  const dx = input.backend.allocateOutput(input.dtype, input.size, op);
  if (input.size > 0) maxPoolGradKernel(op, false, a, dx);
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
  const out = input.backend.allocateOutput(input.dtype, sizeOf(g.out), op);
  if (sizeOf(g.out) > 0) maxPoolGradKernel(op, true, a, out);
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

/** Runs max pooling's gradient or its second-order gradient (secondOrder) into result. */
function maxPoolGradKernel(
  op: string,
  secondOrder: boolean,
  { format, input, grad, xs, g }: ReturnType<typeof maxPoolGradArgs>,
  result: Storage,
): void {
  const xn = denseNHWC(op, input, format), gn = denseNHWC(op, grad, format);
  backendOf(op, xn, gn).maxPoolGrad(op, secondOrder, input.dtype, [xs, g], result, xn, gn);
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
  const dx = grad.backend.allocateOutput(grad.dtype, sizeOf(xs), op);
  if (sizeOf(xs) > 0) {
    const dyn = denseNHWC(op, grad, format);
    grad.backend.avgPoolGrad(op, grad.dtype, [xs, g], dx, dyn);
  }
  const result = fromNHWC(new Tensor(dx, grad.dtype, xs), format);
  if (active.length !== 0) {
    record1(op, [grad], result, (ddx) => [
      () => avgPool(ddx, ksize, strides, padding, opts),
    ]);
  }
  return result;
}
