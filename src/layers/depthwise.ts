/**
 * DepthwiseConv2D and SeparableConv2D (Keras's layers), over tf.nn.depthwiseConv2d and
 * tf.nn.separableConv2d. Variables are named as tf.keras 2 and TensorFlow 1 name them
 * (`depthwise_kernel`, `pointwise_kernel`, `bias`); Keras 3 calls DepthwiseConv2D's
 * kernel `kernel`.
 * @module
 */
import { describe, showShape } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import type { Variable } from "../variable.ts";
import type { DataFormat } from "../ops/conv_args.ts";
import { depthwiseConv2d, separableConv2d } from "../ops/depthwise.ts";
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

/** Options of DepthwiseConv2D. */
export interface DepthwiseConv2DOptions extends LayerOptions {
  /** Default 1. */
  strides?: Size2D;
  /** "valid" (default) or "same". */
  padding?: LayerPadding;
  /** Output channels per input channel (default 1). */
  depthMultiplier?: number;
  /** "channels_last" (NHWC, default) or "channels_first" (NCHW). */
  dataFormat?: LayerDataFormat;
  /** Default 1; above 1 only with strides 1. */
  dilationRate?: Size2D;
  /** Applied to the output (default none). */
  activation?: Activation | null;
  /** Default true. */
  useBias?: boolean;
  /** Default glorotUniform. */
  depthwiseInitializer?: Initializer;
  /** Default zeros. */
  biasInitializer?: Initializer;
}

/** Options of SeparableConv2D: DepthwiseConv2D's and the pointwise kernel's initializer. */
export interface SeparableConv2DOptions extends DepthwiseConv2DOptions {
  /** Default glorotUniform. */
  pointwiseInitializer?: Initializer;
}

/** What both layers share: the checked options and the depthwise kernel and bias. */
abstract class DepthwiseBase extends Layer {
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: "valid" | "same";
  readonly depthMultiplier: number;
  readonly dataFormat: LayerDataFormat;
  readonly dilationRate: [number, number];
  readonly activation: Activation | null;
  readonly useBias: boolean;
  readonly depthwiseInitializer: Initializer | undefined;
  readonly biasInitializer: Initializer;
  /** [kh, kw, inChannels, depthMultiplier]; created on the first apply. */
  depthwiseKernel: Variable | null = null;
  /** When useBias: [inChannels * depthMultiplier] (DepthwiseConv2D) or [filters]. */
  bias: Variable | null = null;
  protected readonly format: DataFormat;

  constructor(kernelSize: Size2D, options: DepthwiseConv2DOptions) {
    super(options);
    const op = this.name;
    this.kernelSize = normalizeSize(op, "kernelSize", kernelSize);
    this.strides = normalizeSize(op, "strides", options.strides ?? 1);
    this.padding = normalizePadding(op, options.padding) === "SAME" ? "same" : "valid";
    const m = options.depthMultiplier ?? 1;
    if (!Number.isInteger(m) || m <= 0) {
      throw new TypeError(`${op}: depthMultiplier must be a positive integer, got ${describe(m)}`);
    }
    this.depthMultiplier = m;
    this.format = normalizeDataFormat(op, options.dataFormat);
    this.dataFormat = this.format === "NCHW" ? "channels_first" : "channels_last";
    this.dilationRate = normalizeSize(op, "dilationRate", options.dilationRate ?? 1);
    this.activation = checkActivation(op, options.activation);
    this.useBias = checkBoolean(op, "useBias", options.useBias, true);
    this.depthwiseInitializer = options.depthwiseInitializer;
    this.biasInitializer = options.biasInitializer ?? zeros;
  }

  /** The input channels, after checking the input is rank 4. */
  protected inputChannels(inputShape: readonly number[]): number {
    if (inputShape.length !== 4) {
      throw new RangeError(
        `${this.name}: expected a rank-4 input (${this.format}), got shape ${
          showShape(inputShape)
        }`,
      );
    }
    return inputShape[channelAxis(this.format)];
  }

  /** Creates the depthwise kernel [kh, kw, channels, depthMultiplier]. */
  protected buildDepthwise(channels: number): void {
    this.depthwiseKernel = this.addWeight(
      "depthwise_kernel",
      [...this.kernelSize, channels, this.depthMultiplier],
      { initializer: this.depthwiseInitializer },
    );
  }

  /** Creates the bias [size] when useBias. */
  protected buildBias(size: number): void {
    if (this.useBias) {
      this.bias = this.addWeight("bias", [size], { initializer: this.biasInitializer });
    }
  }

  /** Rejects an input whose rank or channel count differs from the built one. */
  protected checkInput(x: Tensor): void {
    const channels = this.depthwiseKernel!.shape[2];
    if (x.rank !== 4 || x.shape[channelAxis(this.format)] !== channels) {
      throw new RangeError(
        `${this.name}: expected a rank-4 ${this.format} input with ${channels} channels, got ` +
          `shape ${showShape(x.shape)}`,
      );
    }
  }

  /** `activation(y + bias)`; y must be the convolution's fresh output (see biasActivation). */
  protected finish(y: Tensor): Tensor {
    if (this.format === "NHWC") return biasActivation(y, this.bias?.read(), this.activation);
    const z = this.bias ? biasAdd(y, this.bias.read(), this.format) : y;
    return this.activation ? this.activation(z) : z;
  }

  /** The op options of this layer's format and dilation. */
  protected convOptions(): { dataFormat: DataFormat; dilations: [number, number] } {
    return { dataFormat: this.format, dilations: this.dilationRate };
  }
}

/**
 * Depthwise 2-D convolution: `activation(depthwiseConv2d(x, depthwiseKernel) + bias)`,
 * each input channel convolved with its own depthMultiplier filters (output channel
 * c*depthMultiplier+m from input channel c). Variables: `depthwise_kernel`
 * [kh, kw, inChannels, depthMultiplier], `bias` [inChannels * depthMultiplier].
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const conv = new tf.layers.DepthwiseConv2D(3, { depthMultiplier: 2, padding: "same" });
 * conv.apply(tf.zeros([8, 28, 28, 3])); // shape [8, 28, 28, 6]
 * ```
 */
export class DepthwiseConv2D extends DepthwiseBase {
  constructor(kernelSize: Size2D, options: DepthwiseConv2DOptions = {}) {
    super(kernelSize, options);
  }

  override build(inputShape: readonly number[]): void {
    const channels = this.inputChannels(inputShape);
    this.buildDepthwise(channels);
    this.buildBias(channels * this.depthMultiplier);
  }

  call(x: Tensor): Tensor {
    this.checkInput(x);
    const padding = this.padding === "same" ? "SAME" : "VALID";
    const kernel = this.depthwiseKernel!.read();
    return this.finish(depthwiseConv2d(x, kernel, this.strides, padding, this.convOptions()));
  }
}

/**
 * Separable 2-D convolution: a depthwise convolution (strides, padding and dilation apply
 * here) then a 1x1 convolution mixing the channels, then `activation(. + bias)`.
 * Variables: `depthwise_kernel` [kh, kw, inChannels, depthMultiplier], `pointwise_kernel`
 * [1, 1, inChannels * depthMultiplier, filters], `bias` [filters].
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const conv = new tf.layers.SeparableConv2D(16, 3, { padding: "same", activation: tf.nn.relu });
 * conv.apply(tf.zeros([8, 28, 28, 3])); // shape [8, 28, 28, 16]
 * ```
 */
export class SeparableConv2D extends DepthwiseBase {
  /** Number of output channels. */
  readonly filters: number;
  readonly pointwiseInitializer: Initializer | undefined;
  /** [1, 1, inChannels * depthMultiplier, filters]; created on the first apply. */
  pointwiseKernel: Variable | null = null;

  constructor(filters: number, kernelSize: Size2D, options: SeparableConv2DOptions = {}) {
    super(kernelSize, options);
    if (!Number.isInteger(filters) || filters <= 0) {
      throw new TypeError(
        `${this.name}: filters must be a positive integer, got ${describe(filters)}`,
      );
    }
    this.filters = filters;
    this.pointwiseInitializer = options.pointwiseInitializer;
  }

  override build(inputShape: readonly number[]): void {
    const channels = this.inputChannels(inputShape);
    this.buildDepthwise(channels);
    this.pointwiseKernel = this.addWeight(
      "pointwise_kernel",
      [1, 1, channels * this.depthMultiplier, this.filters],
      { initializer: this.pointwiseInitializer },
    );
    this.buildBias(this.filters);
  }

  call(x: Tensor): Tensor {
    this.checkInput(x);
    const padding = this.padding === "same" ? "SAME" : "VALID";
    const d = this.depthwiseKernel!.read();
    const p = this.pointwiseKernel!.read();
    return this.finish(separableConv2d(x, d, p, this.strides, padding, this.convOptions()));
  }
}
