/**
 * tf.image's color and framing helpers, composed of ops with TensorFlow 2.21's formulas:
 * rgbToGrayscale / grayscaleToRgb, adjustBrightness / adjustContrast (computed in float32,
 * integer images on the [0, 1] scale, then converted back to the input dtype with saturation,
 * as TensorFlow does), centralCrop and padToBoundingBox. They run on every device and
 * differentiate through their ops (float inputs).
 * @module
 */
import type { DType } from "../../dtype.ts";
import { showShape } from "../../shape.ts";
import type { Tensor, TensorLike } from "../../tensor.ts";
import { toTensor } from "../convert.ts";
import { add, multiply, subtract } from "../math.ts";
import { reduceMean, reduceSum } from "../reduce.ts";
import { concat, pad } from "../array.ts";
import { constant } from "../convert.ts";
import { slice } from "../views.ts";
import { convertImageDtype, imageTensor } from "./transforms.ts";

function lastDim(op: string, t: Tensor, want: number): void {
  if (t.rank === 0 || t.shape[t.rank - 1] !== want) {
    throw new RangeError(
      `${op}: the last dimension must be ${want}, got shape ${showShape(t.shape)}`,
    );
  }
}

/**
 * Gray images [..., 1] from RGB images [..., 3]: 0.2989 R + 0.587 G + 0.114 B, computed in
 * float32 and converted back to the input dtype (tf.image.rgb_to_grayscale).
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * tf.image.rgbToGrayscale([[[1, 0, 0]]]); // [[[0.2989]]]
 * ```
 */
export function rgbToGrayscale(images: TensorLike): Tensor {
  const op = "rgbToGrayscale";
  const t = toTensor(op, images);
  lastDim(op, t, 3);
  const x = convertImageDtype(t, "float32");
  const gray = reduceSum(multiply(x, constant([0.2989, 0.587, 0.114], "float32")), -1, {
    keepDims: true,
  });
  return convertImageDtype(gray, t.dtype);
}

/**
 * RGB images [..., 3] from gray images [..., 1], the channel repeated
 * (tf.image.grayscale_to_rgb).
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * tf.image.grayscaleToRgb([[[0.5]]]); // [[[0.5, 0.5, 0.5]]]
 * ```
 */
export function grayscaleToRgb(images: TensorLike): Tensor {
  const op = "grayscaleToRgb";
  const t = toTensor(op, images);
  lastDim(op, t, 1);
  return concat([t, t, t], -1);
}

/** image in the float dtype TensorFlow's adjust_* compute in: float32 unless it is float32. */
function working(t: Tensor): Tensor {
  return t.dtype === "float32" ? t : convertImageDtype(t, "float32");
}

function imageOf(op: string, image: TensorLike): Tensor {
  const t = toTensor(op, image);
  if (t.dtype === "bool") throw new TypeError(`${op}: image must be numeric, got bool`);
  return t;
}

/**
 * image + delta, in float32 ([0, 1] scale for integer images) and converted back with
 * saturation (tf.image.adjust_brightness).
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * tf.image.adjustBrightness(tf.constant([0, 100, 250], "uint8"), 0.1); // [25, 125, 255]
 * ```
 */
export function adjustBrightness(image: TensorLike, delta: number): Tensor {
  const op = "adjustBrightness";
  const t = imageOf(op, image);
  if (typeof delta !== "number") throw new TypeError(`${op}: delta must be a number`);
  return convertImageDtype(add(working(t), delta), t.dtype as DType, { saturate: true });
}

/**
 * Each channel of each image moved away from (factor > 1) or toward (factor < 1) its mean
 * over height and width: (x - mean) * factor + mean, in float32 and converted back with
 * saturation (tf.image.adjust_contrast). images: [..., height, width, channels].
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * tf.image.adjustContrast([[[0], [1]], [[2], [3]]], 2); // [[[-1.5], [0.5]], [[2.5], [4.5]]]
 * ```
 */
export function adjustContrast(images: TensorLike, contrastFactor: number): Tensor {
  const op = "adjustContrast";
  const t = imageOf(op, images);
  if (t.rank < 3) {
    throw new RangeError(`${op}: images must be at least 3-D, got shape ${showShape(t.shape)}`);
  }
  if (typeof contrastFactor !== "number") {
    throw new TypeError(`${op}: contrastFactor must be a number`);
  }
  const x = working(t);
  const mean = reduceMean(x, [-3, -2], { keepDims: true });
  const adjusted = add(multiply(subtract(x, mean), contrastFactor), mean);
  return convertImageDtype(adjusted, t.dtype as DType, { saturate: true });
}

/**
 * The central `fraction` of the image(s) in height and width (tf.image.central_crop):
 * a margin of floor((size - size * fraction) / 2) is cut from each side. fraction in (0, 1].
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * tf.image.centralCrop(tf.zeros([10, 10, 3]), 0.5); // shape [6, 6, 3]
 * ```
 */
export function centralCrop(image: TensorLike, centralFraction: number): Tensor {
  const op = "centralCrop";
  const t = imageTensor(op, image);
  if (typeof centralFraction !== "number" || !(centralFraction > 0 && centralFraction <= 1)) {
    throw new RangeError(
      `${op}: centralFraction must be in (0, 1], got ${String(centralFraction)}`,
    );
  }
  if (centralFraction === 1) return t;
  const [h, w] = t.shape.slice(t.rank - 3, t.rank - 1);
  const top = Math.trunc((h - h * centralFraction) / 2);
  const left = Math.trunc((w - w * centralFraction) / 2);
  const lead = t.rank === 4 ? [0] : [], all = t.rank === 4 ? [-1] : [];
  return slice(t, [...lead, top, left, 0], [...all, h - 2 * top, w - 2 * left, -1]);
}

/**
 * The image(s) placed at (offsetHeight, offsetWidth) on a zero canvas of
 * targetHeight x targetWidth (tf.image.pad_to_bounding_box).
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * tf.image.padToBoundingBox(tf.ones([2, 2, 1]), 1, 0, 4, 3); // shape [4, 3, 1]
 * ```
 */
export function padToBoundingBox(
  image: TensorLike,
  offsetHeight: number,
  offsetWidth: number,
  targetHeight: number,
  targetWidth: number,
): Tensor {
  const op = "padToBoundingBox";
  const t = imageTensor(op, image);
  const args = { offsetHeight, offsetWidth, targetHeight, targetWidth };
  for (const [name, v] of Object.entries(args)) {
    if (!Number.isInteger(v) || v < 0) {
      throw new RangeError(`${op}: ${name} must be an integer >= 0, got ${String(v)}`);
    }
  }
  const [h, w] = t.shape.slice(t.rank - 3, t.rank - 1);
  const bottom = targetHeight - offsetHeight - h, right = targetWidth - offsetWidth - w;
  if (bottom < 0 || right < 0) {
    throw new RangeError(
      `${op}: an image of height ${h} and width ${w} at [${offsetHeight}, ${offsetWidth}] ` +
        `does not fit in [${targetHeight}, ${targetWidth}]`,
    );
  }
  const paddings: [number, number][] = [
    [offsetHeight, bottom],
    [offsetWidth, right],
    [0, 0],
  ];
  return pad(t, t.rank === 4 ? [[0, 0], ...paddings] : paddings);
}
