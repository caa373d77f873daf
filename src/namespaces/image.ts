/**
 * `tf.image`: resizing, cropping, flips and rotations, standardisation, dtype conversion and
 * PNG coding of images in NHWC layout, as TensorFlow 2's namespace.
 * @module
 */
export { resize } from "../ops/image/resize.ts";
export type { ResizeMethod, ResizeOptions } from "../ops/image/resize.ts";
export {
  convertImageDtype,
  cropToBoundingBox,
  flipLeftRight,
  flipUpDown,
  perImageStandardization,
  rot90,
} from "../ops/image/transforms.ts";
export type { ConvertImageDtypeOptions } from "../ops/image/transforms.ts";
export {
  adjustBrightness,
  adjustContrast,
  centralCrop,
  grayscaleToRgb,
  padToBoundingBox,
  rgbToGrayscale,
} from "../ops/image/adjust.ts";
export { decodePng, encodePng } from "../ops/image/png.ts";
export type { DecodePngOptions } from "../ops/image/png.ts";
