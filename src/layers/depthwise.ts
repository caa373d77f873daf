/**
 * DepthwiseConv2D and SeparableConv2D (Keras's layers), over tf.nn.depthwiseConv2d and
 * tf.nn.separableConv2d. Variables are named as tf.keras 2 and TensorFlow 1 name them
 * (`depthwise_kernel`, `pointwise_kernel`, `bias`); Keras 3 calls DepthwiseConv2D's
 * kernel `kernel`.
 * @module
 */
import { describe } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import type { Variable } from "../variable.ts";
import { depthwiseConv2d, separableConv2d } from "../ops/depthwise.ts";
import type { DataFormat } from "../ops/conv_args.ts";
import type { Initializer } from "./initializers.ts";
import { ConvLayer, type ConvLayerOptions } from "./conv_base.ts";
import { checkFilters } from "./convolutional.ts";
import { normalizeSize, type Size2D } from "./utils.ts";

/** Options of DepthwiseConv2D. */
export interface DepthwiseConv2DOptions extends ConvLayerOptions<Size2D> {
  /** Output channels per input channel (default 1). */
  depthMultiplier?: number;
  /** Default glorotUniform. */
  depthwiseInitializer?: Initializer;
}

/** Options of SeparableConv2D: DepthwiseConv2D's and the pointwise kernel's initializer. */
export interface SeparableConv2DOptions extends DepthwiseConv2DOptions {
  /** Default glorotUniform. */
  pointwiseInitializer?: Initializer;
}

/** What both layers share beyond every convolution's options: the depthwise kernel. */
abstract class DepthwiseBase extends ConvLayer<[number, number]> {
  readonly kernelSize: [number, number];
  readonly depthMultiplier: number;
  readonly depthwiseInitializer: Initializer | undefined;
  /** [kh, kw, inChannels, depthMultiplier]; created on the first apply. */
  depthwiseKernel: Variable | null = null;

  constructor(kernelSize: Size2D, options: DepthwiseConv2DOptions) {
    super(options, { rank: 4, size: normalizeSize });
    const op = this.name;
    this.kernelSize = normalizeSize(op, "kernelSize", kernelSize);
    const m = options.depthMultiplier ?? 1;
    if (!Number.isInteger(m) || m <= 0) {
      throw new TypeError(`${op}: depthMultiplier must be a positive integer, got ${describe(m)}`);
    }
    this.depthMultiplier = m;
    this.depthwiseInitializer = options.depthwiseInitializer;
  }

  /** Creates the depthwise kernel [kh, kw, channels, depthMultiplier]. */
  protected buildDepthwise(channels: number): void {
    this.depthwiseKernel = this.addWeight(
      "depthwise_kernel",
      [...this.kernelSize, channels, this.depthMultiplier],
      { initializer: this.depthwiseInitializer },
    );
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
    this.checkInput(x, this.depthwiseKernel!.shape[2]);
    const kernel = this.depthwiseKernel!.read();
    return this.finish(
      depthwiseConv2d(x, kernel, this.strides, this.opPadding, this.convOptions<DataFormat>()),
    );
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
    this.filters = checkFilters(this.name, filters);
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
    this.checkInput(x, this.depthwiseKernel!.shape[2]);
    const d = this.depthwiseKernel!.read();
    const p = this.pointwiseKernel!.read();
    return this.finish(
      separableConv2d(x, d, p, this.strides, this.opPadding, this.convOptions<DataFormat>()),
    );
  }
}
