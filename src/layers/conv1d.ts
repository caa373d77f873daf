/**
 * Conv1D (TensorFlow 1's tf.layers.Conv1D), over tf.nn.conv1d. `padding: "causal"` is Keras's:
 * (kernelSize - 1) * dilationRate zeros before the steps, then a valid convolution, so
 * output[t] reads no input after t.
 * @module
 */
import { describe, showShape } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import type { Variable } from "../variable.ts";
import { conv1d, type DataFormat1D } from "../ops/conv1d.ts";
import { biasAdd } from "../ops/nn.ts";
import { pad } from "../ops/array.ts";
import { biasActivation } from "./epilogue.ts";
import { type Initializer, zeros } from "./initializers.ts";
import { type Activation, checkActivation, Layer, type LayerOptions } from "./layer.ts";
import {
  checkBoolean,
  type LayerDataFormat,
  type LayerPadding,
  normalizeDataFormat,
  normalizePadding,
} from "./utils.ts";

/** A 1-D size: one positive integer or a list holding one. */
export type Size1D = number | readonly [number] | readonly number[];

/** Options of Conv1D. */
export interface Conv1DOptions extends LayerOptions {
  /** Default 1. */
  strides?: Size1D;
  /** "valid" (default), "same" or "causal" (Keras's: zeros before the steps only). */
  padding?: LayerPadding | "causal";
  /** "channels_last" (NWC, default) or "channels_first" (NCW). */
  dataFormat?: LayerDataFormat;
  /** Default 1; above 1 only with strides 1. */
  dilationRate?: Size1D;
  /** Applied to the output (default none). */
  activation?: Activation | null;
  /** Default true. */
  useBias?: boolean;
  /** Default glorotUniform. */
  kernelInitializer?: Initializer;
  /** Default zeros. */
  biasInitializer?: Initializer;
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
export class Conv1D extends Layer {
  /** Number of output channels. */
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  readonly padding: "valid" | "same" | "causal";
  readonly dataFormat: LayerDataFormat;
  readonly dilationRate: number;
  readonly activation: Activation | null;
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer | undefined;
  readonly biasInitializer: Initializer;
  /** [kernelSize, inChannels, filters]; created on the first apply. */
  kernel: Variable | null = null;
  /** [filters], when useBias. */
  bias: Variable | null = null;
  #format: DataFormat1D;

  constructor(filters: number, kernelSize: Size1D, options: Conv1DOptions = {}) {
    super(options);
    const op = this.name;
    if (!Number.isInteger(filters) || filters <= 0) {
      throw new TypeError(`${op}: filters must be a positive integer, got ${describe(filters)}`);
    }
    this.filters = filters;
    this.kernelSize = size1(op, "kernelSize", kernelSize);
    this.strides = size1(op, "strides", options.strides ?? 1);
    this.padding = conv1dPadding(op, options.padding);
    this.#format = normalizeDataFormat(op, options.dataFormat) === "NCHW" ? "NCW" : "NWC";
    this.dataFormat = this.#format === "NCW" ? "channels_first" : "channels_last";
    this.dilationRate = size1(op, "dilationRate", options.dilationRate ?? 1);
    this.activation = checkActivation(op, options.activation);
    this.useBias = checkBoolean(op, "useBias", options.useBias, true);
    this.kernelInitializer = options.kernelInitializer;
    this.biasInitializer = options.biasInitializer ?? zeros;
  }

  #channelAxis(): number {
    return this.#format === "NCW" ? 1 : 2;
  }

  override build(inputShape: readonly number[]): void {
    if (inputShape.length !== 3) {
      throw new RangeError(
        `${this.name}: expected a rank-3 input (${this.#format}), got shape ${
          showShape(inputShape)
        }`,
      );
    }
    const channels = inputShape[this.#channelAxis()];
    this.kernel = this.addWeight("kernel", [this.kernelSize, channels, this.filters], {
      initializer: this.kernelInitializer,
    });
    if (this.useBias) {
      this.bias = this.addWeight("bias", [this.filters], { initializer: this.biasInitializer });
    }
  }

  call(x: Tensor): Tensor {
    const kernel = this.kernel!;
    const channels = kernel.shape[1];
    if (x.rank !== 3 || x.shape[this.#channelAxis()] !== channels) {
      throw new RangeError(
        `${this.name}: expected a rank-3 ${this.#format} input with ${channels} channels, got ` +
          `shape ${showShape(x.shape)}`,
      );
    }
    if (this.padding === "causal") {
      const before = (this.kernelSize - 1) * this.dilationRate;
      const steps: [number, number] = [before, 0], none: [number, number] = [0, 0];
      x = pad(x, this.#format === "NWC" ? [none, steps, none] : [none, none, steps]);
    }
    const y = conv1d(x, kernel.read(), this.strides, this.padding === "same" ? "SAME" : "VALID", {
      dataFormat: this.#format,
      dilations: this.dilationRate,
    });
    if (this.#format === "NWC") return biasActivation(y, this.bias?.read(), this.activation);
    // biasAdd's "NCHW" adds along axis 1, which is NCW's channel axis.
    const z = this.bias ? biasAdd(y, this.bias.read(), "NCHW") : y;
    return this.activation ? this.activation(z) : z;
  }
}
