/**
 * Conv2D (TensorFlow 1's tf.layers.Conv2D).
 * @module
 */
import { describe } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import type { Variable } from "../variable.ts";
import { conv2d } from "../ops/conv.ts";
import type { DataFormat } from "../ops/conv_args.ts";
import type { Initializer } from "./initializers.ts";
import { ConvLayer, type ConvLayerOptions } from "./conv_base.ts";
import { normalizeSize, type Size2D } from "./utils.ts";

/** Options of Conv2D. */
export interface Conv2DOptions extends ConvLayerOptions<Size2D> {
  /** Default glorotUniform. */
  kernelInitializer?: Initializer;
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
export class Conv2D extends ConvLayer<[number, number]> {
  /** Number of output channels. */
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly kernelInitializer: Initializer | undefined;
  /** [kh, kw, inChannels, filters]; created on the first apply. */
  kernel: Variable | null = null;

  constructor(filters: number, kernelSize: Size2D, options: Conv2DOptions = {}) {
    super(options, { rank: 4, size: normalizeSize });
    this.filters = checkFilters(this.name, filters);
    this.kernelSize = normalizeSize(this.name, "kernelSize", kernelSize);
    this.kernelInitializer = options.kernelInitializer;
  }

  override build(inputShape: readonly number[]): void {
    const channels = this.inputChannels(inputShape);
    this.kernel = this.addWeight("kernel", [...this.kernelSize, channels, this.filters], {
      initializer: this.kernelInitializer,
    });
    this.buildBias(this.filters);
  }

  call(x: Tensor): Tensor {
    const kernel = this.kernel!;
    this.checkInput(x, kernel.shape[2]);
    return this.finish(
      conv2d(x, kernel.read(), this.strides, this.opPadding, this.convOptions<DataFormat>()),
    );
  }
}

/** A layer's filters option: a positive integer. */
export function checkFilters(op: string, filters: number): number {
  if (!Number.isInteger(filters) || filters <= 0) {
    throw new TypeError(`${op}: filters must be a positive integer, got ${describe(filters)}`);
  }
  return filters;
}
