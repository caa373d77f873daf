/**
 * Conv2D (TensorFlow 1's tf.layers.Conv2D).
 * @module
 */
import { describe, showShape } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import type { Variable } from "../variable.ts";
import type { DataFormat } from "../ops/conv_args.ts";
import { conv2d } from "../ops/conv.ts";
import { biasAdd } from "../ops/nn.ts";
import { biasActivation } from "./epilogue.ts";
import { type Initializer, zeros } from "./initializers.ts";
import { type Activation, checkActivation, Layer, type LayerOptions } from "./layer.ts";
import {
  channelAxis,
  checkBoolean,
  type LayerDataFormat,
  type LayerPadding,
  normalizeDataFormat,
  normalizePadding,
  normalizeSize,
  type Size2D,
} from "./utils.ts";

/** Options of Conv2D. */
export interface Conv2DOptions extends LayerOptions {
  /** Default 1. */
  strides?: Size2D;
  /** "valid" (default) or "same". */
  padding?: LayerPadding;
  /** "channels_last" (NHWC, default) or "channels_first" (NCHW). */
  dataFormat?: LayerDataFormat;
  /** Default 1; above 1 only with strides 1. */
  dilationRate?: Size2D;
  /** Applied to the output (default none). */
  activation?: Activation | null;
  /** Default true. */
  useBias?: boolean;
  /** Default glorotUniform. */
  kernelInitializer?: Initializer;
  /** Default zeros. */
  biasInitializer?: Initializer;
}

/**
 * 2-D convolution: `activation(conv2d(x, kernel) + bias)` with kernel
 * [kernelHeight, kernelWidth, inChannels, filters]. Variables: `kernel`, `bias`.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const conv = new tf.layers.Conv2D(32, 5, { padding: "same", activation: tf.nn.relu });
 * conv.apply(tf.zeros([8, 28, 28, 1])); // shape [8, 28, 28, 32]
 * ```
 */
export class Conv2D extends Layer {
  /** Number of output channels. */
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: "valid" | "same";
  readonly dataFormat: LayerDataFormat;
  readonly dilationRate: [number, number];
  readonly activation: Activation | null;
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer | undefined;
  readonly biasInitializer: Initializer;
  /** [kh, kw, inChannels, filters]; created on the first apply. */
  kernel: Variable | null = null;
  /** [filters], when useBias. */
  bias: Variable | null = null;
  #format: DataFormat;

  constructor(filters: number, kernelSize: Size2D, options: Conv2DOptions = {}) {
    super(options);
    const op = this.name;
    if (!Number.isInteger(filters) || filters <= 0) {
      throw new TypeError(`${op}: filters must be a positive integer, got ${describe(filters)}`);
    }
    this.filters = filters;
    this.kernelSize = normalizeSize(op, "kernelSize", kernelSize);
    this.strides = normalizeSize(op, "strides", options.strides ?? 1);
    this.padding = normalizePadding(op, options.padding) === "SAME" ? "same" : "valid";
    this.#format = normalizeDataFormat(op, options.dataFormat);
    this.dataFormat = this.#format === "NCHW" ? "channels_first" : "channels_last";
    this.dilationRate = normalizeSize(op, "dilationRate", options.dilationRate ?? 1);
    this.activation = checkActivation(op, options.activation);
    this.useBias = checkBoolean(op, "useBias", options.useBias, true);
    this.kernelInitializer = options.kernelInitializer;
    this.biasInitializer = options.biasInitializer ?? zeros;
  }

  override build(inputShape: readonly number[]): void {
    if (inputShape.length !== 4) {
      throw new RangeError(
        `${this.name}: expected a rank-4 input (${this.#format}), got shape ${
          showShape(inputShape)
        }`,
      );
    }
    const channels = inputShape[channelAxis(this.#format)];
    this.kernel = this.addWeight("kernel", [...this.kernelSize, channels, this.filters], {
      initializer: this.kernelInitializer,
    });
    if (this.useBias) {
      this.bias = this.addWeight("bias", [this.filters], { initializer: this.biasInitializer });
    }
  }

  call(x: Tensor): Tensor {
    const kernel = this.kernel!;
    const channels = kernel.shape[2];
    if (x.rank !== 4 || x.shape[channelAxis(this.#format)] !== channels) {
      throw new RangeError(
        `${this.name}: expected a rank-4 ${this.#format} input with ${channels} channels, got ` +
          `shape ${showShape(x.shape)}`,
      );
    }
    const y = conv2d(x, kernel.read(), this.strides, this.padding === "same" ? "SAME" : "VALID", {
      dataFormat: this.#format,
      dilations: this.dilationRate,
    });
    if (this.#format === "NHWC") return biasActivation(y, this.bias?.read(), this.activation);
    const z = this.bias ? biasAdd(y, this.bias.read(), this.#format) : y;
    return this.activation ? this.activation(z) : z;
  }
}
