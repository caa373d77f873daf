/**
 * What the convolution layers share (Conv1D, Conv2D, DepthwiseConv2D, SeparableConv2D): the
 * options every one takes, checked once, the bias, and the input checks and the bias +
 * activation epilogue, for rank-3 (one spatial dim) and rank-4 (two) inputs. Each layer adds
 * its own kernel(s) and the options that differ (filters, kernelSize, depthMultiplier,
 * initializers).
 * @module
 */
import { showShape } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import type { Variable } from "../variable.ts";
import { biasAdd } from "../ops/nn.ts";
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

/** The options of every convolution layer; `S` is the type its sizes are given in. */
export interface ConvLayerOptions<S> extends LayerOptions {
  /** Default 1. */
  strides?: S;
  /** "valid" (default) or "same". */
  padding?: LayerPadding;
  /** "channels_last" (default) or "channels_first". */
  dataFormat?: LayerDataFormat;
  /** Default 1; above 1 only with strides 1. */
  dilationRate?: S;
  /** Applied to the output (default none). */
  activation?: Activation | null;
  /** Default true. */
  useBias?: boolean;
  /** Default zeros. */
  biasInitializer?: Initializer;
}

/** How a layer reads its sizes and its padding; the padding defaults to valid / same. */
export interface ConvLayerSpec<S, P extends string> {
  /** 3 (batch, steps, channels) or 4 (batch, height, width, channels). */
  rank: 3 | 4;
  /** Checks one size option (strides, dilationRate). */
  size: (op: string, what: string, value: unknown) => S;
  /** Checks the padding option, when the layer takes more than "valid" and "same". */
  padding?: (op: string, value: unknown) => P;
}

/** A convolution layer's shared options, bias and checks. */
export abstract class ConvLayer<S, P extends string = "valid" | "same"> extends Layer {
  readonly strides: S;
  readonly padding: P;
  readonly dataFormat: LayerDataFormat;
  readonly dilationRate: S;
  readonly activation: Activation | null;
  readonly useBias: boolean;
  readonly biasInitializer: Initializer;
  /** [output channels], when useBias; created on the first apply. */
  bias: Variable | null = null;
  readonly #rank: 3 | 4;
  /** The layout's name in messages: NWC / NCW (rank 3), NHWC / NCHW (rank 4). */
  protected readonly layout: string;

  constructor(
    options: Omit<ConvLayerOptions<unknown>, "padding"> & { padding?: unknown },
    spec: ConvLayerSpec<S, P>,
  ) {
    super(options);
    const op = this.name;
    this.#rank = spec.rank;
    this.strides = spec.size(op, "strides", options.strides ?? 1);
    this.padding = spec.padding
      ? spec.padding(op, options.padding)
      : (normalizePadding(op, options.padding) === "SAME" ? "same" : "valid") as P;
    const first = normalizeDataFormat(op, options.dataFormat) === "NCHW";
    this.dataFormat = first ? "channels_first" : "channels_last";
    this.layout = spec.rank === 3 ? (first ? "NCW" : "NWC") : (first ? "NCHW" : "NHWC");
    this.dilationRate = spec.size(op, "dilationRate", options.dilationRate ?? 1);
    this.activation = checkActivation(op, options.activation);
    this.useBias = checkBoolean(op, "useBias", options.useBias, true);
    this.biasInitializer = options.biasInitializer ?? zeros;
  }

  /** The channel axis of this layer's inputs. */
  protected get channelAxis(): number {
    return this.dataFormat === "channels_first" ? 1 : this.#rank - 1;
  }

  /** The input channels, after checking the input's rank. */
  protected inputChannels(inputShape: readonly number[]): number {
    if (inputShape.length !== this.#rank) {
      throw new RangeError(
        `${this.name}: expected a rank-${this.#rank} input (${this.layout}), got shape ${
          showShape(inputShape)
        }`,
      );
    }
    return inputShape[this.channelAxis];
  }

  /** Creates the bias [size] when useBias. */
  protected buildBias(size: number): void {
    if (this.useBias) {
      this.bias = this.addWeight("bias", [size], { initializer: this.biasInitializer });
    }
  }

  /** Rejects an input whose rank or channel count differs from the built `channels`. */
  protected checkInput(x: Tensor, channels: number): void {
    if (x.rank !== this.#rank || x.shape[this.channelAxis] !== channels) {
      throw new RangeError(
        `${this.name}: expected a rank-${this.#rank} ${this.layout} input with ${channels} ` +
          `channels, got shape ${showShape(x.shape)}`,
      );
    }
  }

  /** `activation(y + bias)`; y must be the convolution's fresh output (see biasActivation). */
  protected finish(y: Tensor): Tensor {
    if (this.dataFormat === "channels_last") {
      return biasActivation(y, this.bias?.read(), this.activation);
    }
    // biasAdd's "NCHW" adds along axis 1: the channel axis of NCW too.
    const z = this.bias ? biasAdd(y, this.bias.read(), "NCHW") : y;
    return this.activation ? this.activation(z) : z;
  }

  /** The op's dataFormat and dilations options (L: the op's names of the layouts). */
  protected convOptions<L extends string>(): { dataFormat: L; dilations: S } {
    return { dataFormat: this.layout as L, dilations: this.dilationRate };
  }

  /** The op's padding argument for "valid" / "same". */
  protected get opPadding(): "SAME" | "VALID" {
    return this.padding === "same" ? "SAME" : "VALID";
  }
}
