/**
 * tf.image's geometric and value transforms, composed from views and elementwise ops, so
 * they run on every device and differentiate through those ops: cropToBoundingBox (a
 * slice), flipLeftRight / flipUpDown (reverse), rot90 (reverse and transpose),
 * perImageStandardization and convertImageDtype (TensorFlow 2.21's formulas). Images are
 * NHWC: [batch, h, w, c] or one [h, w, c] image.
 * @module
 */
import { type DType, isFloat } from "../../dtype.ts";
import { showShape } from "../../shape.ts";
import type { Tensor, TensorLike } from "../../tensor.ts";
import { toTensor } from "../convert.ts";
import { cast, clipByValue, divide, floorDiv, maximum, multiply, sqrt, subtract } from "../math.ts";
import { reduceMean, reduceVariance } from "../reduce.ts";
import { reverse, slice, transpose } from "../views.ts";
import { constant } from "../convert.ts";

/** images as a tensor of rank 3 or 4 (`minRank` 3: at least 3), or an Error naming op. */
export function imageTensor(op: string, images: TensorLike, minRank = false): Tensor {
  const t = toTensor(op, images);
  if (minRank ? t.rank < 3 : t.rank !== 3 && t.rank !== 4) {
    throw new RangeError(
      `${op}: image must be ${
        minRank ? "at least 3-D" : "[batch, height, width, channels] or [height, width, channels]"
      }, got shape ${showShape(t.shape)}`,
    );
  }
  return t;
}

function checkInt(op: string, name: string, v: unknown, min: number): number {
  if (!Number.isInteger(v) || (v as number) < min) {
    throw new RangeError(`${op}: ${name} must be an integer >= ${min}, got ${String(v)}`);
  }
  return v as number;
}

/**
 * The [targetHeight, targetWidth] window of the image(s) whose top-left corner is at
 * (offsetHeight, offsetWidth) (tf.image.crop_to_bounding_box). The window must lie inside.
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * const img = tf.reshape(tf.range(0, 16), [4, 4, 1]);
 * tf.image.cropToBoundingBox(img, 1, 1, 2, 2); // [[[5], [6]], [[9], [10]]]
 * ```
 */
export function cropToBoundingBox(
  image: TensorLike,
  offsetHeight: number,
  offsetWidth: number,
  targetHeight: number,
  targetWidth: number,
): Tensor {
  const op = "cropToBoundingBox";
  const t = imageTensor(op, image);
  const oh = checkInt(op, "offsetHeight", offsetHeight, 0);
  const ow = checkInt(op, "offsetWidth", offsetWidth, 0);
  const th = checkInt(op, "targetHeight", targetHeight, 1);
  const tw = checkInt(op, "targetWidth", targetWidth, 1);
  const h = t.shape[t.rank - 3], w = t.shape[t.rank - 2];
  if (oh + th > h || ow + tw > w) {
    throw new RangeError(
      `${op}: the box [${oh}, ${ow}] + [${th}, ${tw}] does not fit in an image of ` +
        `height ${h} and width ${w}`,
    );
  }
  const lead = t.rank === 4 ? [0] : [];
  const keep = t.rank === 4 ? [-1] : [];
  return slice(t, [...lead, oh, ow, 0], [...keep, th, tw, -1]);
}

/**
 * The image(s) mirrored horizontally: the width axis reversed (tf.image.flip_left_right).
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * tf.image.flipLeftRight([[[1], [2], [3]]]); // [[[3], [2], [1]]]
 * ```
 */
export function flipLeftRight(image: TensorLike): Tensor {
  const t = imageTensor("flipLeftRight", image);
  return reverse(t, t.rank - 2);
}

/**
 * The image(s) mirrored vertically: the height axis reversed (tf.image.flip_up_down).
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * tf.image.flipUpDown([[[1]], [[2]]]); // [[[2]], [[1]]]
 * ```
 */
export function flipUpDown(image: TensorLike): Tensor {
  const t = imageTensor("flipUpDown", image);
  return reverse(t, t.rank - 3);
}

/**
 * The image(s) rotated counter-clockwise by k quarter turns (tf.image.rot90; k may be
 * negative or above 3: it counts modulo 4).
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * tf.image.rot90([[[1], [2]], [[3], [4]]]); // [[[2], [4]], [[1], [3]]]
 * ```
 */
export function rot90(image: TensorLike, k = 1): Tensor {
  const op = "rot90";
  const t = imageTensor(op, image);
  if (!Number.isInteger(k)) throw new TypeError(`${op}: k must be an integer, got ${String(k)}`);
  const h = t.rank - 3, w = t.rank - 2;
  const swap = t.rank === 4 ? [0, 2, 1, 3] : [1, 0, 2];
  switch (((k % 4) + 4) % 4) {
    case 1:
      return transpose(reverse(t, w), swap);
    case 2:
      return reverse(t, [h, w]);
    case 3:
      return reverse(transpose(t, swap), w);
    default:
      return t;
  }
}

/**
 * Each image scaled to mean 0 and variance 1 over its pixels and channels:
 * (x - mean) / max(stddev, 1 / sqrt(h * w * c)), in float32 whatever the input dtype
 * (tf.image.per_image_standardization). Works on any rank >= 3: the last three axes are
 * one image.
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * tf.image.perImageStandardization([[[0], [2]], [[4], [6]]]); // mean 0, variance 1
 * ```
 */
export function perImageStandardization(image: TensorLike): Tensor {
  const op = "perImageStandardization";
  const t = imageTensor(op, image, true);
  if (t.dtype === "bool") throw new TypeError(`${op}: image must be numeric, got bool`);
  const x = cast(t, "float32");
  const axes = [-1, -2, -3];
  const pixels = t.shape.slice(-3).reduce((a, b) => a * b, 1);
  const mean = reduceMean(x, axes, { keepDims: true });
  // max(std, 1 / sqrt(n)) as sqrt(max(variance, 1 / n)): equal, and a uniform image's zero
  // variance then passes no gradient through sqrt at 0 (which would be NaN).
  const std = sqrt(maximum(reduceVariance(x, axes, { keepDims: true }), 1 / pixels));
  return divide(subtract(x, mean), std);
}

/** Options of {@link convertImageDtype}. */
export interface ConvertImageDtypeOptions {
  /** Clip to the target range before an integer cast, so it cannot wrap (default false). */
  saturate?: boolean;
}

/** The largest value of an integer dtype, as TensorFlow's dtype.max. */
const INT_MAX: Partial<Record<DType, bigint>> = {
  uint8: 255n,
  int32: 2n ** 31n - 1n,
  int64: 2n ** 63n - 1n,
};

/** saturate's clip range of a target dtype; int64 has no wider type to clip in. */
function saturated(x: Tensor, dtype: DType): Tensor {
  if (dtype === "uint8") return clipByValue(x, 0, 255);
  if (dtype === "int32") return clipByValue(x, -(2 ** 31), 2 ** 31 - 1);
  return x;
}

/**
 * The image(s) converted to `dtype`, rescaling values as TensorFlow does
 * (tf.image.convert_image_dtype): floats are in [0, 1], integers in [0, dtype max]. Integer
 * to float multiplies by 1 / max; float to integer multiplies by max + 0.5 and casts
 * (truncating; with `saturate` clipped to the uint8 or int32 range first); integer to integer shifts by the ratio of
 * the ranges; float to float is a cast (and carries the gradient).
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * tf.image.convertImageDtype(tf.constant([0, 128, 255], "uint8"), "float32");
 * // [0, 0.50196, 1]
 * tf.image.convertImageDtype([0, 0.5, 1], "uint8"); // [0, 127, 255]
 * ```
 */
export function convertImageDtype(
  image: TensorLike,
  dtype: DType,
  options: ConvertImageDtypeOptions = {},
): Tensor {
  const op = "convertImageDtype";
  const t = toTensor(op, image);
  if (dtype === "bool" || !(isFloat(dtype) || dtype in INT_MAX)) {
    throw new TypeError(`${op}: dtype must be a float or integer dtype, got ${String(dtype)}`);
  }
  if (t.dtype === "bool") throw new TypeError(`${op}: image dtype must be numeric, got bool`);
  if (t.dtype === dtype) return t;
  const saturate = options.saturate ?? false;
  const inFloat = isFloat(t.dtype), outFloat = isFloat(dtype);
  if (inFloat && outFloat) return cast(t, dtype);
  if (!inFloat && outFloat) return multiply(cast(t, dtype), 1 / Number(INT_MAX[t.dtype]!));
  const maxOut = INT_MAX[dtype]!;
  if (inFloat) {
    const scaled = multiply(t, Number(maxOut) + 0.5);
    return cast(saturate ? saturated(scaled, dtype) : scaled, dtype);
  }
  const maxIn = INT_MAX[t.dtype]!;
  if (maxIn > maxOut) {
    const scaled = floorDiv(t, scalarOf((maxIn + 1n) / (maxOut + 1n), t.dtype));
    return cast(saturate ? saturated(scaled, dtype) : scaled, dtype);
  }
  const widened = cast(saturate ? saturated(t, dtype) : t, dtype);
  return multiply(widened, scalarOf((maxOut + 1n) / (maxIn + 1n), dtype));
}

/** An integer scalar of dtype (a bigint for int64). */
function scalarOf(v: bigint, dtype: DType): Tensor {
  return constant(dtype === "int64" ? v : Number(v), dtype);
}
