/**
 * 2-D pooling layers (TensorFlow 1's tf.layers.MaxPooling2D and AveragePooling2D) and
 * their functional forms.
 * @module
 */
import { showShape } from "../shape.ts";
import type { Tensor, TensorLike } from "../tensor.ts";
import type { DataFormat } from "../ops/conv_args.ts";
import { toTensor } from "../ops/convert.ts";
import { avgPool, maxPool } from "../ops/pool.ts";
import { Layer, type LayerOptions } from "./layer.ts";
import {
  type LayerDataFormat,
  type LayerPadding,
  normalizeDataFormat,
  normalizePadding,
  normalizeSize,
  type Size2D,
} from "./utils.ts";

/** Options of the pooling layers. */
export interface Pooling2DOptions extends LayerOptions {
  /** "valid" (default) or "same". */
  padding?: LayerPadding;
  /** "channels_last" (NHWC, default) or "channels_first" (NCHW). */
  dataFormat?: LayerDataFormat;
}

interface PoolArgs {
  poolSize: [number, number];
  strides: [number, number];
  padding: "VALID" | "SAME";
  format: DataFormat;
}

function poolArgs(
  op: string,
  poolSize: Size2D,
  strides: Size2D | undefined,
  options: Pooling2DOptions,
): PoolArgs {
  const size = normalizeSize(op, "poolSize", poolSize);
  return {
    poolSize: size,
    strides: strides === undefined ? size : normalizeSize(op, "strides", strides),
    padding: normalizePadding(op, options.padding),
    format: normalizeDataFormat(op, options.dataFormat),
  };
}

function pool(op: string, kind: "max" | "avg", x: Tensor, args: PoolArgs): Tensor {
  if (x.rank !== 4) {
    throw new RangeError(
      `${op}: expected a rank-4 input (${args.format}), got shape ${showShape(x.shape)}`,
    );
  }
  const f = kind === "max" ? maxPool : avgPool;
  return f(x, args.poolSize, args.strides, args.padding, { dataFormat: args.format });
}

abstract class Pooling2D extends Layer {
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly padding: "valid" | "same";
  readonly dataFormat: LayerDataFormat;
  #args: PoolArgs;

  constructor(
    readonly kind: "max" | "avg",
    poolSize: Size2D,
    strides: Size2D | undefined,
    options: Pooling2DOptions,
  ) {
    super(options);
    this.#args = poolArgs(this.name, poolSize, strides, options);
    this.poolSize = this.#args.poolSize;
    this.strides = this.#args.strides;
    this.padding = this.#args.padding === "SAME" ? "same" : "valid";
    this.dataFormat = this.#args.format === "NCHW" ? "channels_first" : "channels_last";
  }

  call(x: Tensor): Tensor {
    return pool(this.name, this.kind, x, this.#args);
  }
}

/**
 * Max pooling over poolSize windows moved by strides (default: poolSize).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const pool = new tf.layers.MaxPooling2D(2, 2, { padding: "same" });
 * pool.apply(tf.zeros([8, 28, 28, 32])); // shape [8, 14, 14, 32]
 * ```
 */
export class MaxPooling2D extends Pooling2D {
  constructor(poolSize: Size2D, strides?: Size2D, options: Pooling2DOptions = {}) {
    super("max", poolSize, strides, options);
  }
}

/**
 * Average pooling over poolSize windows moved by strides (default: poolSize); with
 * "same" padding each window averages its in-bounds elements only.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * new tf.layers.AveragePooling2D(2, 2).apply(tf.ones([1, 4, 4, 3])); // ones [1, 2, 2, 3]
 * ```
 */
export class AveragePooling2D extends Pooling2D {
  constructor(poolSize: Size2D, strides?: Size2D, options: Pooling2DOptions = {}) {
    super("avg", poolSize, strides, options);
  }
}

/**
 * Functional MaxPooling2D (tf.layers.max_pooling2d).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.layers.maxPooling2d(tf.zeros([1, 4, 4, 1]), 2, 2); // shape [1, 2, 2, 1]
 * ```
 */
export function maxPooling2d(
  x: TensorLike,
  poolSize: Size2D,
  strides: Size2D,
  options: Omit<Pooling2DOptions, keyof LayerOptions> = {},
): Tensor {
  const op = "maxPooling2d";
  return pool(op, "max", toTensor(op, x), poolArgs(op, poolSize, strides, options));
}

/**
 * Functional AveragePooling2D (tf.layers.average_pooling2d).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.layers.averagePooling2d(tf.ones([1, 4, 4, 1]), 2, 2); // ones [1, 2, 2, 1]
 * ```
 */
export function averagePooling2d(
  x: TensorLike,
  poolSize: Size2D,
  strides: Size2D,
  options: Omit<Pooling2DOptions, keyof LayerOptions> = {},
): Tensor {
  const op = "averagePooling2d";
  return pool(op, "avg", toTensor(op, x), poolArgs(op, poolSize, strides, options));
}
