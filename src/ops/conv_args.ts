/**
 * Argument handling shared by the convolution and pooling ops (conv.ts): data formats,
 * strides/dilations/ksize in TensorFlow's spellings, padding, and the output geometry
 * as TensorFlow computes it. "SAME" gives ceil(in / stride) outputs and puts the odd
 * pad at the bottom and right; "VALID" and explicit pads give
 * floor((in + pads - window) / stride) + 1, where window is the dilated filter size.
 * @module
 */
import { isFloat } from "../dtype.ts";
import type { ConvParams, PoolParams } from "../native/codes.ts";
import { checkSize, describe, showShape } from "../shape.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { contiguous } from "./cast.ts";
import { toTensor } from "./convert.ts";

/** Where the channels are: last (NHWC, the default) or second (NCHW). */
export type DataFormat = "NHWC" | "NCHW";
/** "SAME", "VALID", or explicit [before, after] pads for each of the 4 dims, in data format order. */
export type Padding = "SAME" | "VALID" | readonly (readonly number[])[];
/** A spatial size: one number for both dims, [h, w], or TensorFlow's 4-list in data format order. */
export type Spatial = number | readonly number[];
/** A shape argument: a list of integers or a 1-D tensor. */
export type ShapeLike = readonly number[] | Tensor;

/** Options of conv2d and its backprops. */
export interface Conv2DOptions {
  /** "NHWC" (default) or "NCHW". */
  dataFormat?: DataFormat;
  /** Dilation rates (default 1); above 1 only with stride 1, as in TensorFlow. */
  dilations?: Spatial;
}

/** Options of the pooling ops. */
export interface PoolOptions {
  /** "NHWC" (default) or "NCHW". */
  dataFormat?: DataFormat;
}

const TO_NHWC = [0, 2, 3, 1];
const TO_NCHW = [0, 3, 1, 2];

const permuteShape = (shape: readonly number[], perm: readonly number[]) =>
  perm.map((p) => shape[p]);

/** A view of x with its dims reordered (no copy). */
function permute(x: Tensor, perm: readonly number[]): Tensor {
  const strides = x.strides;
  return new Tensor(
    x.storage,
    x.dtype,
    permuteShape(x.shape, perm),
    permuteShape(strides, perm),
    x.offset,
  );
}

/** The dataFormat option, checked. */
export function formatOf(op: string, opts: { dataFormat?: DataFormat }): DataFormat {
  const format = opts.dataFormat ?? "NHWC";
  if (format !== "NHWC" && format !== "NCHW") {
    throw new TypeError(
      `${op}: dataFormat must be "NHWC" or "NCHW", got ${describe(format)}`,
    );
  }
  return format;
}

/** A shape in `format` order, reordered to NHWC. */
export const nhwcShape = (shape: readonly number[], format: DataFormat) =>
  format === "NHWC" ? shape.slice() : permuteShape(shape, TO_NHWC);
/** An NHWC shape reordered to `format`. */
export const formatShape = (shape: readonly number[], format: DataFormat) =>
  format === "NHWC" ? shape.slice() : permuteShape(shape, TO_NCHW);

/** x as a dense NHWC tensor. */
export function denseNHWC(op: string, x: Tensor, format: DataFormat): Tensor {
  return contiguous(format === "NHWC" ? x : permute(x, TO_NHWC), op);
}

/** An NHWC kernel result in the caller's format. */
export function fromNHWC(out: Tensor, format: DataFormat): Tensor {
  return format === "NHWC" ? out : permute(out, TO_NCHW);
}

/** A float32/float64 tensor argument; with `hint`, of hint's dtype. */
export function floatInput(op: string, what: string, value: TensorLike, hint?: Tensor): Tensor {
  const t = toTensor(op, value, hint?.dtype, hint?.backend);
  if (!isFloat(t.dtype)) {
    throw new TypeError(
      `${op}: ${what} must be float32 or float64 (cast integers first), got ${t.dtype}`,
    );
  }
  if (hint && t.dtype !== hint.dtype) {
    throw new TypeError(`${op}: ${what} is ${t.dtype} but the other operand is ${hint.dtype}`);
  }
  return t;
}

/** Rejects shapes that are not rank 4, naming the expected layout. */
export function checkRank4(
  op: string,
  what: string,
  shape: readonly number[],
  layout: string,
): void {
  if (shape.length !== 4) {
    throw new RangeError(
      `${op}: ${what} must be rank 4 (${layout}), got shape ${showShape(shape)}`,
    );
  }
}

/**
 * A rank-4 shape argument given as a list or a 1-D tensor. A shape is host data (as in
 * TensorFlow, where such arguments live in host memory): a tensor on a device read only
 * asynchronously is an error naming the argument.
 */
export function shapeArg(op: string, what: string, value: ShapeLike, layout: string): number[] {
  if (value instanceof Tensor && !value.backend.readsSynchronously) {
    throw new TypeError(
      `${op}: ${what} is a tensor on ${value.device}, which is read asynchronously: ` +
        "give the shape as a list of numbers or a CPU tensor",
    );
  }
  const dims = value instanceof Tensor
    ? Array.from(value.dataSync() as ArrayLike<number | bigint>, Number)
    : value;
  if (!Array.isArray(dims) || dims.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new TypeError(
      `${op}: ${what} must be a list of non-negative integers, got ${describe(dims)}`,
    );
  }
  checkRank4(op, what, dims, layout);
  checkSize(op, dims);
  return dims.slice();
}

/** Two spatial values from a number, [h, w] or TensorFlow's 4-list in `format` order. */
function spatial(op: string, what: string, value: Spatial, format: DataFormat): [number, number] {
  let pair: number[] | undefined;
  if (typeof value === "number") pair = [value, value];
  else if (Array.isArray(value) && value.length <= 2 && value.length > 0) {
    pair = value.length === 1 ? [value[0], value[0]] : [value[0], value[1]];
  } else if (Array.isArray(value) && value.length === 4) {
    const [b, c, h, w] = format === "NHWC" ? [value[0], value[3], value[1], value[2]] : value;
    if (b !== 1 || c !== 1) {
      throw new RangeError(
        `${op}: ${what} in the batch and channel dimensions must be 1, got ${describe(value)}`,
      );
    }
    pair = [h, w];
  }
  if (!pair) {
    throw new TypeError(
      `${op}: ${what} must be a number or a list of 1, 2 or 4 numbers, got ${describe(value)}`,
    );
  }
  if (!pair.every((v) => Number.isInteger(v) && v > 0)) {
    throw new RangeError(`${op}: ${what} must be positive integers, got ${describe(value)}`);
  }
  return pair as [number, number];
}

type DimPadding = "SAME" | "VALID" | readonly [number, number];

/** The height and width padding modes. */
function paddingOf(op: string, padding: Padding, format: DataFormat): [DimPadding, DimPadding] {
  if (padding === "SAME" || padding === "VALID") return [padding, padding];
  const pairs = padding as readonly (readonly number[])[];
  const ok = Array.isArray(pairs) && pairs.length === 4 &&
    pairs.every((p) =>
      Array.isArray(p) && p.length === 2 && p.every((v) => Number.isInteger(v) && v >= 0)
    );
  if (!ok) {
    throw new TypeError(
      `${op}: padding must be "SAME", "VALID" or 4 [before, after] pairs of non-negative integers, got ${
        describe(padding)
      }`,
    );
  }
  const [b, c, h, w] = format === "NHWC" ? [pairs[0], pairs[3], pairs[1], pairs[2]] : pairs;
  if (b[0] || b[1] || c[0] || c[1]) {
    throw new RangeError(
      `${op}: padding in the batch and channel dimensions must be 0, got ${describe(padding)}`,
    );
  }
  return [[h[0], h[1]], [w[0], w[1]]];
}

/** [pad before, pad after, output size] of one spatial dim, as TensorFlow computes them. */
function padDim(
  op: string,
  mode: DimPadding,
  size: number,
  window: number,
  stride: number,
  describe: () => string,
): [number, number, number] {
  if (mode === "SAME") {
    const out = Math.ceil(size / stride);
    const total = Math.max((out - 1) * stride + window - size, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2), out];
  }
  const [before, after] = mode === "VALID" ? [0, 0] : mode;
  if (size + before + after < window) {
    throw new RangeError(`${op}: ${describe()} (${size} + ${before + after} padding)`);
  }
  return [before, after, Math.floor((size + before + after - window) / stride) + 1];
}

/** Output shape and the kernel's parameters (eager_conv_params or eager_pool_params). */
export interface Geometry<P> {
  /** The NHWC output shape. */
  out: number[];
  params: P;
}

/** Output shape and kernel params of a conv of x (NHWC shape) with filters (HWIO). */
export function convGeometry(
  op: string,
  x: readonly number[],
  filters: readonly number[],
  strides: Spatial,
  padding: Padding,
  opts: Conv2DOptions,
  shapes: string,
): Geometry<ConvParams> {
  const format = formatOf(op, opts);
  const [sh, sw] = spatial(op, "strides", strides, format);
  const [dh, dw] = spatial(op, "dilations", opts.dilations ?? 1, format);
  if ((sh > 1 || sw > 1) && (dh > 1 || dw > 1)) {
    throw new RangeError(
      `${op}: strides > 1 together with dilations > 1 are not supported (strides [${sh},${sw}], dilations [${dh},${dw}])`,
    );
  }
  const [n, h, w, c] = x;
  const [kh, kw, fc, oc] = filters;
  if (fc !== c) {
    throw new RangeError(`${op}: input has ${c} channels but filters expect ${fc}: ${shapes}`);
  }
  const [ph, pw] = paddingOf(op, padding, format);
  const [ekh, ekw] = [(kh - 1) * dh + 1, (kw - 1) * dw + 1];
  const tooLarge = (dim: string, k: number, ek: number, size: number) => () =>
    `the filter ${dim} ${k}${
      ek !== k ? ` (dilated to ${ek})` : ""
    } is larger than the padded input ${dim} ${size}: ${shapes}`;
  const [pt, pb, oh] = padDim(op, ph, h, ekh, sh, tooLarge("height", kh, ekh, h));
  const [pl, pr, ow] = padDim(op, pw, w, ekw, sw, tooLarge("width", kw, ekw, w));
  const out = [n, oh, ow, oc];
  checkSize(op, out);
  const params = { strideH: sh, strideW: sw, dilationH: dh, dilationW: dw };
  return { out, params: { ...params, padTop: pt, padBottom: pb, padLeft: pl, padRight: pr } };
}

/** Output shape and kernel params of a pooling of x (NHWC shape). */
export function poolGeometry(
  op: string,
  x: readonly number[],
  ksize: Spatial,
  strides: Spatial,
  padding: Padding,
  format: DataFormat,
  shape: readonly number[],
): Geometry<PoolParams> {
  const [kh, kw] = spatial(op, "ksize", ksize, format);
  const [sh, sw] = spatial(op, "strides", strides, format);
  const [ph, pw] = paddingOf(op, padding, format);
  for (const [mode, k, dim] of [[ph, kh, "height"], [pw, kw, "width"]] as const) {
    if (Array.isArray(mode) && (mode[0] >= k || mode[1] >= k)) {
      throw new RangeError(
        `${op}: padding ${describe(mode)} must be smaller than the window ${dim} ${k}`,
      );
    }
  }
  const [n, h, w, c] = x;
  const tooLarge = (dim: string, k: number, size: number) => () =>
    `the window ${dim} ${k} is larger than the padded input ${dim} ${size}: ${showShape(shape)}`;
  const [pt, pb, oh] = padDim(op, ph, h, kh, sh, tooLarge("height", kh, h));
  const [pl, pr, ow] = padDim(op, pw, w, kw, sw, tooLarge("width", kw, w));
  const out = [n, oh, ow, c];
  checkSize(op, out);
  const params = { windowH: kh, windowW: kw, strideH: sh, strideW: sw };
  return { out, params: { ...params, padTop: pt, padBottom: pb, padLeft: pl, padRight: pr } };
}

/** The layout of `format`, spelled out for error messages. */
export function layoutOf(format: DataFormat): string {
  return format === "NHWC"
    ? "NHWC: [batch, height, width, channels]"
    : "NCHW: [batch, channels, height, width]";
}
