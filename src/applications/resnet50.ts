/**
 * ResNet-50 (He et al. 2015) as a tf.Network, with the layers and variable names of
 * TensorFlow 2.21 Keras's `tf.keras.applications.ResNet50`, so that its weights, saved as
 * a checkpoint under Keras's variable paths, restore into it (see `kerasVariables`).
 *
 * Decisions:
 * - Variables are `<model name>/<Keras layer>/<weight>` (`resnet50/conv1_conv/kernel`,
 *   `resnet50/conv2_block1_0_bn/moving_mean`, ...): the Keras path under the model's
 *   scope. The blocks are Networks, but the model is their layers' first parent (see
 *   resnet_blocks.ts), so the block adds no level to the path, as in Keras.
 * - The head returns logits: `predictions` is a Dense layer without softmax (Keras's
 *   `classifier_activation=None`); apply tf.nn.softmax for probabilities. Losses such as
 *   sparseSoftmaxCrossEntropy take the logits.
 * - Keras's structure: conv1_pad (3), conv1_conv (7x7/2, with bias), conv1_bn, relu,
 *   pool1_pad (1), pool1_pool (3x3/2 max), stages conv2..conv5 of 3, 4, 6, 3 bottleneck
 *   blocks of 64, 128, 256, 512 filters (the first block of each projects its shortcut;
 *   stride 2 on its first 1x1 convolution from conv3 on), avg_pool (global average) and
 *   predictions. Every convolution has a bias, as Keras's.
 * - Inputs are images [batch, height, width, 3] (channels_last) or [batch, 3, height, width]
 *   (channels_first), height and width at least 32 (Keras's minimum).
 * @module
 */
import { describe, showShape } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import type { Variable } from "../variable.ts";
import { FoldedConvBn } from "./fold.ts";
import { reduceMax, reduceMean } from "../ops/reduce.ts";
import { tidy } from "../tidy.ts";
import { Conv2D } from "../layers/convolutional.ts";
import { Dense } from "../layers/core.ts";
import type { BatchNormalization } from "../layers/normalization.ts";
import { MaxPooling2D } from "../layers/pooling.ts";
import type { AnyLayer } from "../layers/layer.ts";
import { Network } from "../layers/network.ts";
import { checkBoolean, type LayerDataFormat } from "../layers/utils.ts";
import { ConvBlock, IdentityBlock, resnetBatchNorm, ZeroPadding2D } from "./resnet_blocks.ts";

/** Options of ResNet50. */
export interface ResNet50Options {
  /** Outputs of the `predictions` layer (default 1000, ImageNet's classes). */
  classes?: number;
  /** "channels_last" (NHWC, default) or "channels_first" (NCHW). */
  dataFormat?: LayerDataFormat;
  /** Whether to end with avg_pool and predictions (default true). */
  includeTop?: boolean;
  /**
   * Without the top: "avg" or "max" pools the last feature map globally to [batch, 2048];
   * default none (the map itself, [batch, h/32, w/32, 2048]). Ignored with the top.
   */
  pooling?: "avg" | "max" | null;
  /** The model's name, the first part of its variables' names (default "resnet50"). */
  name?: string;
}

/** Blocks per stage (conv2..conv5) and their filters. */
const STAGES = [[3, 64], [4, 128], [6, 256], [3, 512]] as const;

/** Keras's smallest input height and width for ResNet50. */
const MIN_SIZE = 32;

/**
 * ResNet-50 with Keras's layer and variable names; `apply(images, { training })` gives
 * logits [batch, classes] (no softmax). BatchNormalization uses batch statistics and
 * updates its moving averages when `training` is true, the moving averages otherwise.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const model = new tf.applications.ResNet50({ classes: 10 });
 * const logits = model.apply(tf.zeros([1, 32, 32, 3])); // shape [1, 10]
 * model.variables.length; // 320, as Keras's
 * model.variables[0].name; // "resnet50/conv1_conv/kernel"
 * ```
 */
export class ResNet50 extends Network {
  readonly classes: number;
  readonly dataFormat: LayerDataFormat;
  readonly includeTop: boolean;
  readonly pooling: "avg" | "max" | null;
  readonly conv1Pad: ZeroPadding2D;
  readonly conv1Conv: Conv2D;
  readonly conv1Bn: BatchNormalization;
  readonly pool1Pad: ZeroPadding2D;
  readonly pool1Pool: MaxPooling2D;
  /** The 16 bottleneck blocks, conv2_block1 to conv5_block3. */
  readonly blocks: (ConvBlock | IdentityBlock)[] = [];
  /** The classifier (null without the top). */
  readonly predictions: Dense | null = null;

  constructor(options: ResNet50Options = {}) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`ResNet50: options must be an object, got ${describe(options)}`);
    }
    super({ name: options.name ?? "resnet50" });
    const op = this.name;
    const classes = options.classes ?? 1000;
    if (!Number.isInteger(classes) || classes <= 0) {
      throw new TypeError(`${op}: classes must be a positive integer, got ${describe(classes)}`);
    }
    const dataFormat = options.dataFormat ?? "channels_last";
    if (dataFormat !== "channels_last" && dataFormat !== "channels_first") {
      throw new TypeError(
        `${op}: dataFormat must be "channels_last" or "channels_first", got ${
          describe(dataFormat)
        }`,
      );
    }
    const pooling = options.pooling ?? null;
    if (pooling !== null && pooling !== "avg" && pooling !== "max") {
      throw new TypeError(`${op}: pooling must be "avg", "max" or null, got ${describe(pooling)}`);
    }
    this.classes = classes;
    this.dataFormat = dataFormat;
    this.includeTop = checkBoolean(op, "includeTop", options.includeTop, true);
    this.pooling = pooling;

    const track = <L extends AnyLayer>(layer: L) => this.trackLayer(layer);
    this.conv1Pad = track(new ZeroPadding2D(3, { name: "conv1_pad", dataFormat }));
    this.conv1Conv = track(new Conv2D(64, 7, { name: "conv1_conv", strides: 2, dataFormat }));
    this.conv1Bn = track(resnetBatchNorm("conv1_bn", dataFormat));
    this.pool1Pad = track(new ZeroPadding2D(1, { name: "pool1_pad", dataFormat }));
    this.pool1Pool = track(new MaxPooling2D(3, 2, { name: "pool1_pool", dataFormat }));
    STAGES.forEach(([count, filters], s) => {
      for (let b = 1; b <= count; b++) {
        const config = { name: `conv${s + 2}_block${b}`, filters, dataFormat, register: track };
        const block = b === 1
          ? new ConvBlock({ ...config, stride: s === 0 ? 1 : 2 })
          : new IdentityBlock(config);
        this.blocks.push(track(block));
      }
    });
    if (this.includeTop) {
      this.predictions = track(new Dense(classes, { name: "predictions" }));
    }
  }

  #stem: FoldedConvBn | null = null;

  /** Logits [batch, classes] with the top; else the features (see ResNet50Options.pooling). */
  call(images: Tensor, training: boolean): Tensor {
    this.#checkInput(images);
    const o = { training };
    // Each stage of the stem and each block in its own tidy scope: in inference its
    // temporaries are freed as soon as it returns, so the peak memory is one block's
    // working set, not the whole pass's (1.9 GiB at batch 8, 224x224, without). While a
    // GradientTape records, tidy frees nothing (the tape needs them): training is unchanged.
    this.#stem ??= new FoldedConvBn(this.conv1Conv, this.conv1Bn);
    let x = tidy(() => {
      const y = this.#stem!.apply(this.conv1Pad.apply(images), training, true);
      return this.pool1Pool.apply(this.pool1Pad.apply(y));
    });
    for (const block of this.blocks) {
      const input = x;
      x = tidy(() => block.apply(input, o));
    }
    const spatial = this.dataFormat === "channels_first" ? [2, 3] : [1, 2];
    if (this.predictions) return this.predictions.apply(reduceMean(x, spatial)); // avg_pool
    if (this.pooling === "avg") return reduceMean(x, spatial);
    if (this.pooling === "max") return reduceMax(x, spatial);
    return x;
  }

  #checkInput(x: Tensor): void {
    const first = this.dataFormat === "channels_first";
    const [c, h, w] = first ? [1, 2, 3] : [3, 1, 2];
    const layout = first ? "[batch, 3, height, width]" : "[batch, height, width, 3]";
    if (x.rank !== 4 || x.shape[c] !== 3) {
      throw new RangeError(
        `${this.name}: expected ${this.dataFormat} images ${layout}, got shape ${
          showShape(x.shape)
        }`,
      );
    }
    if (x.shape[h] < MIN_SIZE || x.shape[w] < MIN_SIZE) {
      throw new RangeError(
        `${this.name}: images must be at least ${MIN_SIZE}x${MIN_SIZE} (Keras's minimum), got ${
          x.shape[h]
        }x${x.shape[w]}`,
      );
    }
    if (x.dtype !== "float32" && x.dtype !== "float64") {
      throw new TypeError(`${this.name}: images must be float32 or float64, got ${x.dtype}`);
    }
  }
}

/**
 * The model's variables keyed by their Keras paths (`conv1_conv/kernel`,
 * `conv2_block1_0_bn/moving_mean`, `predictions/bias`): its names without the model's
 * scope. Give it to tf.Saver to restore a checkpoint written under Keras's paths (or to
 * write one). The model must have been applied once (variables are made on the first call).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const model = new tf.applications.ResNet50({ classes: 10 });
 * model.apply(tf.zeros([1, 32, 32, 3]));
 * const byPath = tf.applications.kerasVariables(model);
 * Object.keys(byPath)[0]; // "conv1_conv/kernel"
 * // new tf.Saver(byPath).restore("/path/to/keras_ckpt");
 * ```
 */
export function kerasVariables(model: ResNet50): Record<string, Variable> {
  const op = "kerasVariables";
  if (!(model instanceof ResNet50)) {
    throw new TypeError(`${op}: expected a tf.applications.ResNet50, got ${describe(model)}`);
  }
  if (!model.built) {
    throw new Error(`${op}: ${model.name} has no variables yet: apply it to a batch first`);
  }
  const prefix = `${model.scopeName}/`;
  const byPath: Record<string, Variable> = {};
  for (const v of model.variables) {
    if (!v.name.startsWith(prefix)) {
      throw new Error(`${op}: variable ${v.name} is outside the model's scope ${prefix}`);
    }
    byPath[v.name.slice(prefix.length)] = v;
  }
  return byPath;
}
