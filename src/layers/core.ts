/**
 * Core layers (TensorFlow 1's tf.layers core.py): Dense, Dropout, Flatten, and the
 * functional forms of the two stateless ones, `flatten` and `dropout`.
 * @module
 */
import { describe, showShape } from "../shape.ts";
import type { Tensor, TensorLike } from "../tensor.ts";
import type { Variable } from "../variable.ts";
import { toTensor } from "../ops/convert.ts";
import { matmul } from "../ops/matmul.ts";
import { biasActivation } from "./epilogue.ts";
import { dropout as dropoutOp, type Seed } from "../ops/random.ts";
import { reshape, transpose } from "../ops/views.ts";
import { type Initializer, zeros } from "./initializers.ts";
import { type Activation, checkActivation, Layer, type LayerOptions } from "./layer.ts";
import { checkBoolean, type LayerDataFormat, normalizeDataFormat } from "./utils.ts";

/** Options of Dense. */
export interface DenseOptions extends LayerOptions {
  /** Applied to the output (default none: linear). */
  activation?: Activation | null;
  /** Whether to add a bias (default true). */
  useBias?: boolean;
  /** Default glorotUniform. */
  kernelInitializer?: Initializer;
  /** Default zeros. */
  biasInitializer?: Initializer;
}

/**
 * A densely connected layer: `activation(x @ kernel + bias)` with kernel
 * [inputDim, units]. Inputs of rank > 2 are multiplied along their last dimension.
 * Variables: `kernel`, `bias`.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const dense = new tf.layers.Dense(10, { activation: tf.nn.relu });
 * dense.apply(tf.zeros([32, 784])); // shape [32, 10]
 * ```
 */
export class Dense extends Layer {
  /** Output size. */
  readonly units: number;
  readonly activation: Activation | null;
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer | undefined;
  readonly biasInitializer: Initializer;
  /** [inputDim, units]; created on the first apply. */
  kernel: Variable | null = null;
  /** [units], when useBias. */
  bias: Variable | null = null;

  constructor(units: number, options: DenseOptions = {}) {
    super(options);
    if (!Number.isInteger(units) || units <= 0) {
      throw new TypeError(`${this.name}: units must be a positive integer, got ${describe(units)}`);
    }
    this.units = units;
    this.activation = checkActivation(this.name, options.activation);
    this.useBias = checkBoolean(this.name, "useBias", options.useBias, true);
    this.kernelInitializer = options.kernelInitializer;
    this.biasInitializer = options.biasInitializer ?? zeros;
  }

  override build(inputShape: readonly number[]): void {
    if (inputShape.length < 2) {
      throw new RangeError(
        `${this.name}: expected an input of rank >= 2 ([batch, ..., features]), got shape ${
          showShape(inputShape)
        }`,
      );
    }
    const inputDim = inputShape[inputShape.length - 1];
    this.kernel = this.addWeight("kernel", [inputDim, this.units], {
      initializer: this.kernelInitializer,
    });
    if (this.useBias) {
      this.bias = this.addWeight("bias", [this.units], { initializer: this.biasInitializer });
    }
  }

  call(x: Tensor): Tensor {
    const kernel = this.kernel!;
    const inputDim = kernel.shape[0];
    if (x.rank < 2 || x.shape[x.rank - 1] !== inputDim) {
      throw new RangeError(
        `${this.name}: expected inputs with last dimension ${inputDim}, got shape ${
          showShape(x.shape)
        }`,
      );
    }
    const y = x.rank === 2 ? matmul(x, kernel.read()) : reshape(
      matmul(reshape(x, [x.size / inputDim || 0, inputDim]), kernel.read()),
      [...x.shape.slice(0, -1), this.units],
    );
    return biasActivation(y, this.bias?.read(), this.activation);
  }
}

/** Options of Dropout. */
export interface DropoutOptions extends LayerOptions {
  /** Shape of the keep/drop mask, broadcast against the input (null: the input's size). */
  noiseShape?: readonly (number | null)[];
  /** Op seed (see tf.random.setSeed); each training call still draws a new mask. */
  seed?: Seed;
}

function checkRate(op: string, rate: unknown): number {
  if (typeof rate !== "number" || !(rate >= 0 && rate < 1)) {
    throw new RangeError(`${op}: rate must be a number in [0, 1), got ${describe(rate)}`);
  }
  return rate;
}

/**
 * Dropout: in training, each element is zeroed with probability `rate` and the others
 * scaled by 1 / (1 - rate); in inference (the default) the input passes unchanged.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const drop = new tf.layers.Dropout(0.5);
 * drop.apply(tf.ones([2, 4]), { training: true }); // e.g. [[2, 0, 2, 2], [0, 0, 2, 0]]
 * drop.apply(tf.ones([2, 4])); // ones
 * ```
 */
export class Dropout extends Layer {
  /** Fraction of elements dropped in training. */
  readonly rate: number;
  readonly noiseShape: readonly (number | null)[] | undefined;
  readonly seed: Seed | undefined;

  constructor(rate = 0.5, options: DropoutOptions = {}) {
    super(options);
    this.rate = checkRate(this.name, rate);
    this.noiseShape = options.noiseShape;
    this.seed = options.seed;
  }

  call(x: Tensor, training: boolean): Tensor {
    if (!training || this.rate === 0) return x;
    return dropoutOp(x, this.rate, { noiseShape: this.noiseShape, seed: this.seed });
  }
}

/** Options of Flatten. */
export interface FlattenOptions extends LayerOptions {
  /**
   * Layout of the input: "channels_first" inputs are moved to channels last before
   * flattening, so the result matches a channels_last model's (default channels_last).
   */
  dataFormat?: LayerDataFormat;
}

function flattenTensor(op: string, x: Tensor, channelsFirst: boolean): Tensor {
  if (x.rank === 0) throw new RangeError(`${op}: expected an input of rank >= 1, got a scalar`);
  let t = x;
  if (channelsFirst && t.rank >= 3) {
    t = transpose(t, [0, ...Array.from({ length: t.rank - 2 }, (_, i) => i + 2), 1]);
  }
  const rest = t.shape.slice(1).reduce((a, b) => a * b, 1);
  return reshape(t, [t.shape[0], rest]);
}

/**
 * Flattens each example: [batch, d1, d2, ...] -> [batch, d1 * d2 * ...].
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * new tf.layers.Flatten().apply(tf.zeros([8, 7, 7, 64])); // shape [8, 3136]
 * ```
 */
export class Flatten extends Layer {
  readonly dataFormat: LayerDataFormat;

  constructor(options: FlattenOptions = {}) {
    super(options);
    this.dataFormat = normalizeDataFormat(this.name, options.dataFormat) === "NCHW"
      ? "channels_first"
      : "channels_last";
  }

  call(x: Tensor): Tensor {
    return flattenTensor(this.name, x, this.dataFormat === "channels_first");
  }
}

/**
 * Functional Flatten: [batch, ...] -> [batch, product of the rest].
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.layers.flatten(tf.zeros([2, 3, 4])); // shape [2, 12]
 * ```
 */
export function flatten(x: TensorLike, options: { dataFormat?: LayerDataFormat } = {}): Tensor {
  const format = normalizeDataFormat("flatten", options.dataFormat);
  return flattenTensor("flatten", toTensor("flatten", x), format === "NCHW");
}

/** Options of the functional dropout. */
export interface DropoutFnOptions {
  /** Fraction dropped (default 0.5). */
  rate?: number;
  /** Whether to drop (default false: the input is returned). */
  training?: boolean;
  noiseShape?: readonly (number | null)[];
  seed?: Seed;
}

/**
 * Functional Dropout (tf.layers.dropout): drops only when `training` is true.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.layers.dropout(tf.ones([4]), { rate: 0.25, training: true });
 * ```
 */
export function dropout(x: TensorLike, options: DropoutFnOptions = {}): Tensor {
  const t = toTensor("dropout", x);
  const rate = checkRate("dropout", options.rate ?? 0.5);
  if (!options.training || rate === 0) return t;
  return dropoutOp(t, rate, { noiseShape: options.noiseShape, seed: options.seed });
}
