/**
 * GlobalAveragePooling2D and UpSampling2D (Keras's layers), composed from reduceMean,
 * reshape and broadcastTo, so they run on every device and differentiate to any order.
 * @module
 */
import { describe, showShape } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import type { DataFormat } from "../ops/conv_args.ts";
import { reduceMean } from "../ops/reduce.ts";
import { broadcastTo, reshape, transpose } from "../ops/views.ts";
import { resize } from "../ops/image/resize.ts";
import { Layer, type LayerOptions } from "./layer.ts";
import {
  checkBoolean,
  type LayerDataFormat,
  normalizeDataFormat,
  normalizeSize,
  type Size2D,
} from "./utils.ts";

function checkRank4(name: string, x: Tensor, format: DataFormat): void {
  if (x.rank !== 4) {
    throw new RangeError(
      `${name}: expected a rank-4 input (${format}), got shape ${showShape(x.shape)}`,
    );
  }
}

/** Options of GlobalAveragePooling2D. */
export interface GlobalAveragePooling2DOptions extends LayerOptions {
  /** "channels_last" (NHWC, default) or "channels_first" (NCHW). */
  dataFormat?: LayerDataFormat;
  /** Keep the spatial dims with size 1 (default false). */
  keepdims?: boolean;
}

/**
 * The mean over the spatial dims: [N,H,W,C] -> [N,C] ([N,1,1,C] with keepdims).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * new tf.layers.GlobalAveragePooling2D().apply(tf.ones([8, 7, 7, 32])); // ones [8, 32]
 * ```
 */
export class GlobalAveragePooling2D extends Layer {
  readonly dataFormat: LayerDataFormat;
  readonly keepdims: boolean;
  #format: DataFormat;

  constructor(options: GlobalAveragePooling2DOptions = {}) {
    super(options);
    this.#format = normalizeDataFormat(this.name, options.dataFormat);
    this.dataFormat = this.#format === "NCHW" ? "channels_first" : "channels_last";
    this.keepdims = checkBoolean(this.name, "keepdims", options.keepdims, false);
  }

  call(x: Tensor): Tensor {
    checkRank4(this.name, x, this.#format);
    return reduceMean(x, this.#format === "NHWC" ? [1, 2] : [2, 3], { keepDims: this.keepdims });
  }
}

/** Options of UpSampling2D. */
export interface UpSampling2DOptions extends LayerOptions {
  /** "channels_last" (NHWC, default) or "channels_first" (NCHW). */
  dataFormat?: LayerDataFormat;
  /** "nearest" (the default: each pixel repeated), or Keras 3's resizing methods "bilinear",
   * "bicubic", "lanczos3", "lanczos5", "area" (tf.image.resize to the enlarged size). Any
   * letter case, as Keras lowercases it. */
  interpolation?: UpSamplingInterpolation;
}

/**
 * UpSampling2D's interpolations, as Keras 3.15's: its documented five, and "area", which its
 * UpSampling2D passes on to keras.ops.image.resize like the other resizing methods.
 */
export type UpSamplingInterpolation =
  | "nearest"
  | "bilinear"
  | "bicubic"
  | "lanczos3"
  | "lanczos5"
  | "area";
const INTERPOLATIONS: readonly string[] = [
  "nearest",
  "bilinear",
  "bicubic",
  "lanczos3",
  "lanczos5",
  "area",
];

function checkInterpolation(op: string, value: unknown): UpSamplingInterpolation {
  const lower = typeof value === "string" ? value.toLowerCase() : value;
  if (typeof lower !== "string" || !INTERPOLATIONS.includes(lower)) {
    throw new RangeError(
      `${op}: interpolation must be one of ${INTERPOLATIONS.join(", ")}, got ${describe(value)}`,
    );
  }
  return lower as UpSamplingInterpolation;
}

/**
 * Upsampling by whole factors: with "nearest" each row repeated size[0] times and each column
 * size[1] times; with another interpolation the image resized to that size.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * new tf.layers.UpSampling2D(2).apply(tf.zeros([1, 3, 4, 2])); // shape [1, 6, 8, 2]
 * ```
 */
export class UpSampling2D extends Layer {
  readonly size: [number, number];
  readonly dataFormat: LayerDataFormat;
  readonly interpolation: UpSamplingInterpolation;
  #format: DataFormat;

  constructor(size: Size2D = 2, options: UpSampling2DOptions = {}) {
    super(options);
    this.size = normalizeSize(this.name, "size", size);
    this.#format = normalizeDataFormat(this.name, options.dataFormat);
    this.dataFormat = this.#format === "NCHW" ? "channels_first" : "channels_last";
    this.interpolation = checkInterpolation(this.name, options.interpolation ?? "nearest");
  }

  call(x: Tensor): Tensor {
    checkRank4(this.name, x, this.#format);
    if (this.interpolation !== "nearest") return this.#resized(x);
    const [sh, sw] = this.size;
    const [n, a, b, c] = x.shape;
    // Repeat = a size-1 axis after each spatial axis, broadcast to the factor, merged back.
    if (this.#format === "NHWC") {
      const spread = broadcastTo(reshape(x, [n, a, 1, b, 1, c]), [n, a, sh, b, sw, c]);
      return reshape(spread, [n, a * sh, b * sw, c]);
    }
    const spread = broadcastTo(reshape(x, [n, a, b, 1, c, 1]), [n, a, b, sh, c, sw]);
    return reshape(spread, [n, a, b * sh, c * sw]);
  }

  /** Keras 3: tf.image.resize (antialias off) to the enlarged size, channels last. */
  #resized(x: Tensor): Tensor {
    const first = this.#format === "NCHW";
    const nhwc = first ? transpose(x, [0, 2, 3, 1]) : x;
    const [sh, sw] = this.size;
    const y = resize(nhwc, [nhwc.shape[1] * sh, nhwc.shape[2] * sw], {
      method: this.interpolation as Exclude<UpSamplingInterpolation, "nearest">,
    });
    return first ? transpose(y, [0, 3, 1, 2]) : y;
  }
}
