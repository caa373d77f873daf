/**
 * The gradient rules of a convolution family: a forward op and its two backprops (conv2d,
 * conv2dBackpropInput, conv2dBackpropFilter in conv.ts; the depthwise three in
 * depthwise.ts), each linear in both operands, whose rules cycle among the three as
 * TensorFlow's _Conv2DGrad, _Conv2DBackpropInputGrad and _Conv2DBackpropFilterGrad do, so
 * every order of derivative works. The rules call the ops with the caller's strides,
 * padding, dilations and dataFormat.
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { record1 } from "../tape.ts";
import { contiguous } from "./cast.ts";
import type { Conv2DOptions, DataFormat, Padding, ShapeLike, Spatial } from "./conv_args.ts";

/** A call's strides, padding and options, passed on unchanged to the ops of the rules. */
export type ConvArgs = [strides: Spatial, padding: Padding, opts: Conv2DOptions];

/** The three ops of a family, with conv2d's argument order. */
export interface ConvFamily {
  forward(x: Tensor, f: Tensor, ...args: ConvArgs): Tensor;
  inputGrad(inputShape: ShapeLike, f: Tensor, dy: Tensor, ...args: ConvArgs): Tensor;
  filterGrad(x: Tensor, filterShape: ShapeLike, dy: Tensor, ...args: ConvArgs): Tensor;
}

/**
 * Records y = forward(x, f). Both gradients read dy; a broadcast dy (reduceSum's) is made
 * dense once for the two of them, not once in each (NCHW dy is transposed by each anyway).
 */
export function recordForward(
  op: string,
  family: ConvFamily,
  x: Tensor,
  f: Tensor,
  y: Tensor,
  args: ConvArgs,
  format: DataFormat,
): void {
  record1(op, [x, f], y, (dy) => {
    let dense: Tensor | undefined;
    const once = () => dense ??= format === "NHWC" ? contiguous(dy, op) : dy;
    return [
      () => family.inputGrad(x.shape, f, once(), ...args),
      () => family.filterGrad(x, f.shape, once(), ...args),
    ];
  });
}

/** Records dx = inputGrad(x.shape, f, dy): ddx is shaped like the forward op's input. */
export function recordInputGrad(
  op: string,
  family: ConvFamily,
  f: Tensor,
  dy: Tensor,
  dx: Tensor,
  args: ConvArgs,
): void {
  record1(op, [f, dy], dx, (ddx) => [
    () => family.filterGrad(ddx, f.shape, dy, ...args),
    () => family.forward(ddx, f, ...args),
  ]);
}

/** Records df = filterGrad(x, f.shape, dy): ddf is shaped like the filter. */
export function recordFilterGrad(
  op: string,
  family: ConvFamily,
  x: Tensor,
  dy: Tensor,
  df: Tensor,
  args: ConvArgs,
): void {
  record1(op, [x, dy], df, (ddf) => [
    () => family.inputGrad(x.shape, ddf, dy, ...args),
    () => family.forward(x, ddf, ...args),
  ]);
}
