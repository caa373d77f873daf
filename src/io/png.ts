/**
 * `tf.io.encodePng`: a uint8 image tensor [height, width, channels] (1 to 4 channels) as
 * the bytes of a PNG file, as TensorFlow's tf.io.encode_png (compression aside). The
 * encoder is the image summaries' (src/summary/png.ts).
 * @module
 */
import { showShape } from "../shape.ts";
import type { TensorLike } from "../tensor.ts";
import { toTensor } from "../ops/convert.ts";
import { encodePng as encodePixels } from "../summary/png.ts";

/**
 * The PNG file of `image`, a uint8 tensor [height, width, channels].
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const red = tf.io.encodePng(tf.constant([[[255, 0, 0]]], "uint8")); // a 1x1 PNG
 * ```
 */
export function encodePng(image: TensorLike): Uint8Array {
  const op = "encodePng";
  const t = toTensor(op, image, "uint8");
  if (t.dtype !== "uint8" || t.rank !== 3 || t.shape[2] < 1 || t.shape[2] > 4) {
    throw new TypeError(
      `${op}: expected a uint8 image [height, width, 1 to 4 channels], got ${t.dtype} ${
        showShape(t.shape)
      }`,
    );
  }
  const [height, width, channels] = t.shape;
  return encodePixels(t.dataSync() as Uint8Array, height, width, channels);
}
