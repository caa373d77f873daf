/**
 * Conv1D (TensorFlow 1's tf.layers.Conv1D), over tf.nn.conv1d. `padding: "causal"` is Keras's:
 * (kernelSize - 1) * dilationRate zeros before the steps, then a valid convolution, so
 * output[t] reads no input after t.
 * @module
 */
import { describe } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import type { Variable } from "../variable.ts";
import { conv1d, type DataFormat1D } from "../ops/conv1d.ts";
import { pad } from "../ops/array.ts";
import type { Initializer } from "./initializers.ts";
import { ConvLayer, type ConvLayerOptions } from "./conv_base.ts";
import { checkFilters } from "./convolutional.ts";
import { type LayerPadding, normalizePadding } from "./utils.ts";

/** A 1-D size: one positive integer or a list holding one. */
export type Size1D = number | readonly [number] | readonly number[];

/** Options of Conv1D. */
export interface Conv1DOptions extends Omit<ConvLayerOptions<Size1D>, "padding"> {
  /** "valid" (default), "same" or "causal" (Keras's: zeros before the steps only). */
  padding?: LayerPadding | "causal";
  /** Default glorotUniform. */
  kernelInitializer?: Initializer;
}

function conv1dPadding(op: string, padding: unknown): "valid" | "same" | "causal" {
  if (typeof padding === "string" && padding.toLowerCase() === "causal") return "causal";
  if (padding === undefined || ["valid", "same"].includes(String(padding).toLowerCase())) {
    return normalizePadding(op, padding) === "SAME" ? "same" : "valid";
  }
  throw new TypeError(
    `${op}: padding must be "valid", "same" or "causal", got ${describe(padding)}`,
  );
}

function size1(op: string, what: string, value: unknown): number {
  const v = Array.isArray(value) && value.length === 1 ? value[0] : value;
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
    throw new TypeError(
      `${op}: ${what} must be a positive integer or a list of one, got ${describe(value)}`,
    );
  }
  return v;
}

/**
 * 1-D convolution: `activation(conv1d(x, kernel) + bias)` with kernel
 * [kernelSize, inChannels, filters]. Variables: `kernel`, `bias`.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const conv = new tf.layers.Conv1D(16, 3, { padding: "same", activation: tf.nn.relu });
 * conv.apply(tf.zeros([8, 50, 4])); // shape [8, 50, 16]
 * ```
 */
export class Conv1D extends ConvLayer<number, "valid" | "same" | "causal"> {
  /** Number of output channels. */
  readonly filters: number;
  readonly kernelSize: number;
  readonly kernelInitializer: Initializer | undefined;
  /** [kernelSize, inChannels, filters]; created on the first apply. */
  kernel: Variable | null = null;

  constructor(filters: number, kernelSize: Size1D, options: Conv1DOptions = {}) {
    super(options, { rank: 3, size: size1, padding: conv1dPadding });
    this.filters = checkFilters(this.name, filters);
    this.kernelSize = size1(this.name, "kernelSize", kernelSize);
    this.kernelInitializer = options.kernelInitializer;
  }

  override build(inputShape: readonly number[]): void {
    const channels = this.inputChannels(inputShape);
    this.kernel = this.addWeight("kernel", [this.kernelSize, channels, this.filters], {
      initializer: this.kernelInitializer,
    });
    this.buildBias(this.filters);
  }

  call(x: Tensor): Tensor {
    const kernel = this.kernel!;
    this.checkInput(x, kernel.shape[1]);
    const first = this.dataFormat === "channels_first";
    if (this.padding === "causal") {
      const before = (this.kernelSize - 1) * this.dilationRate;
      const steps: [number, number] = [before, 0], none: [number, number] = [0, 0];
      x = pad(x, first ? [none, none, steps] : [none, steps, none]);
    }
    const padding = this.padding === "same" ? "SAME" : "VALID";
    return this.finish(
      conv1d(x, kernel.read(), this.strides, padding, this.convOptions<DataFormat1D>()),
    );
  }
}
