/**
 * 3-D convolution, composed over conv2d so that its gradients (to any order) and every
 * device come from the ops it is made of.
 *
 * With x in NDHWC and filters [KD, KH, KW, C, OC], output depth slice i is
 * sum over kd of conv2d(x[:, i * strideD + kd * dilationD], filters[kd]). The KD input
 * depth slices each output slice reads are stacked next to the channels, so one conv2d of
 * [N * outDepth, H, W, KD * C] with filters [KH, KW, KD * C, OC] computes all output depths
 * and all kd at once (a single larger GEMM instead of KD * outDepth small ones). "SAME"
 * along depth pads the depth axis explicitly (odd pad after), as TensorFlow computes it;
 * height and width padding is conv2d's.
 * @module
 */
import { describe, showShape } from "../shape.ts";
import type { Tensor, TensorLike } from "../tensor.ts";
import { pad, stack } from "./array.ts";
import { conv2d } from "./conv.ts";
import { floatInput } from "./conv_args.ts";
import { reshape, stridedSlice, transpose } from "./views.ts";

/** "NDHWC" (default): [batch, depth, height, width, channels]; "NCDHW": channels second. */
export type DataFormat3D = "NDHWC" | "NCDHW";

/** Options of conv3d. */
export interface Conv3DOptions {
  /** "NDHWC" (default) or "NCDHW". */
  dataFormat?: DataFormat3D;
  /**
   * Dilation rates (default 1): a number, [d, h, w], or TensorFlow's 5-list in data format
   * order (1 in the batch and channel places); above 1 only with strides 1.
   */
  dilations?: number | readonly number[];
}

/** [depth, height, width] from a number, a 1- or 3-list, or a 5-list in `format` order. */
function spatial3(
  op: string,
  what: string,
  value: number | readonly number[],
  format: DataFormat3D,
): [number, number, number] {
  let v: number[] | undefined;
  if (typeof value === "number") v = [value, value, value];
  else if (Array.isArray(value) && value.length === 1) v = [value[0], value[0], value[0]];
  else if (Array.isArray(value) && value.length === 3) v = [...value];
  else if (Array.isArray(value) && value.length === 5) {
    const [b, c, ...dhw] = format === "NDHWC"
      ? [value[0], value[4], value[1], value[2], value[3]]
      : value;
    if (b !== 1 || c !== 1) {
      throw new RangeError(
        `${op}: ${what} in the batch and channel dimensions must be 1, got ${describe(value)}`,
      );
    }
    v = dhw;
  }
  if (!v) {
    throw new TypeError(
      `${op}: ${what} must be a number or a list of 1, 3 or 5 numbers, got ${describe(value)}`,
    );
  }
  if (!v.every((e) => Number.isInteger(e) && e > 0)) {
    throw new RangeError(`${op}: ${what} must be positive integers, got ${describe(value)}`);
  }
  return v as [number, number, number];
}

/**
 * 3-D convolution (cross-correlation, as TensorFlow's) of input [N,D,H,W,C] (or
 * [N,C,D,H,W] with dataFormat "NCDHW") with filters [KD,KH,KW,C,OC]; float32 or float64;
 * padding "SAME" or "VALID".
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const x = tf.constant(1, "float32", { shape: [2, 6, 8, 8, 3] }); // NDHWC
 * const f = tf.constant(0.5, "float32", { shape: [3, 3, 3, 3, 4] }); // [d, h, w, in, out]
 * tf.nn.conv3d(x, f, 1, "SAME"); // shape [2, 6, 8, 8, 4]
 * tf.nn.conv3d(x, f, [1, 2, 2, 2, 1], "VALID"); // shape [2, 2, 3, 3, 4]
 * ```
 */
export function conv3d(
  input: TensorLike,
  filters: TensorLike,
  strides: number | readonly number[],
  padding: "SAME" | "VALID",
  opts: Conv3DOptions = {},
): Tensor {
  const op = "conv3d";
  const format = opts.dataFormat ?? "NDHWC";
  if (format !== "NDHWC" && format !== "NCDHW") {
    throw new TypeError(`${op}: dataFormat must be "NDHWC" or "NCDHW", got ${describe(format)}`);
  }
  if (padding !== "SAME" && padding !== "VALID") {
    throw new RangeError(`${op}: padding must be "SAME" or "VALID", got ${describe(padding)}`);
  }
  const x0 = floatInput(op, "input", input);
  const f = floatInput(op, "filters", filters, x0);
  const layout = format === "NDHWC"
    ? "NDHWC: [batch, depth, height, width, channels]"
    : "NCDHW: [batch, channels, depth, height, width]";
  if (x0.rank !== 5) {
    throw new RangeError(
      `${op}: input must be rank 5 (${layout}), got shape ${showShape(x0.shape)}`,
    );
  }
  if (f.rank !== 5) {
    throw new RangeError(
      `${op}: filters must be rank 5 [depth, height, width, in, out], got shape ${
        showShape(f.shape)
      }`,
    );
  }
  const shapes = `${showShape(x0.shape)} x ${showShape(f.shape)}`;
  const x = format === "NDHWC" ? x0 : transpose(x0, [0, 2, 3, 4, 1]);
  const [n, depth, h, w, c] = x.shape;
  const [kd, kh, kw, fc, oc] = f.shape;
  if (fc !== c) {
    throw new RangeError(`${op}: input has ${c} channels but filters expect ${fc}: ${shapes}`);
  }
  if (kd === 0 || kh === 0 || kw === 0) {
    throw new RangeError(`${op}: the filter depth, height and width must be positive: ${shapes}`);
  }
  const [sd, sh, sw] = spatial3(op, "strides", strides, format);
  const [dd, dh, dw] = spatial3(op, "dilations", opts.dilations ?? 1, format);
  if (Math.max(sd, sh, sw) > 1 && Math.max(dd, dh, dw) > 1) {
    throw new RangeError(
      `${op}: strides > 1 together with dilations > 1 are not supported (strides [${sd},${sh},${sw}], dilations [${dd},${dh},${dw}])`,
    );
  }
  const window = (kd - 1) * dd + 1;
  if (padding === "VALID") {
    const dims = [["depth", kd, dd, depth], ["height", kh, dh, h], ["width", kw, dw, w]] as const;
    for (const [dim, k, d, size] of dims) {
      const ek = (k - 1) * d + 1;
      if (size < ek) {
        throw new RangeError(
          `${op}: the filter ${dim} ${k}${
            ek !== k ? ` (dilated to ${ek})` : ""
          } is larger than the input ${dim} ${size} with "VALID" padding: ${shapes}`,
        );
      }
    }
  }
  let xp = x, outDepth: number;
  if (padding === "SAME") {
    outDepth = Math.ceil(depth / sd);
    const total = Math.max((outDepth - 1) * sd + window - depth, 0);
    const before = Math.floor(total / 2);
    if (total > 0) xp = pad(x, [[0, 0], [before, total - before], [0, 0], [0, 0], [0, 0]]);
  } else {
    outDepth = Math.floor((depth - window) / sd) + 1;
  }
  // taps[k]: [N, outDepth, H, W, C], input depth i * sd + k * dd for output depth i.
  const taps: Tensor[] = [];
  for (let k = 0; k < kd; k++) {
    const begin = k * dd, end = begin + (outDepth - 1) * sd + 1;
    taps.push(stridedSlice(xp, [0, begin, 0, 0, 0], [n, end, h, w, c], [1, sd, 1, 1, 1]));
  }
  const stacked = kd === 1 ? taps[0] : stack(taps, 4); // [N, outDepth, H, W, KD, C]
  const x2 = reshape(stacked, [n * outDepth, h, w, kd * c]);
  const f2 = reshape(transpose(f, [1, 2, 0, 3, 4]), [kh, kw, kd * c, oc]);
  const y2 = conv2d(x2, f2, [sh, sw], padding, { dilations: [dh, dw] });
  const y = reshape(y2, [n, outDepth, y2.shape[1], y2.shape[2], oc]);
  return format === "NDHWC" ? y : transpose(y, [0, 4, 1, 2, 3]);
}
