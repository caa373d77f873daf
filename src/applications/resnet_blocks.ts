/**
 * The pieces of ResNet-50 (resnet50.ts): the bottleneck blocks as Networks (IdentityBlock,
 * and ConvBlock, whose shortcut is a strided 1x1 projection), and ZeroPadding2D.
 *
 * Decisions:
 * - Layers take Keras's names (`conv2_block1_1_conv`, ...). Each block hands its layers to
 *   its model's `register` before tracking them itself, so the model is their first parent
 *   and their variables are `<model>/conv2_block1_1_conv/kernel`, one level below the model
 *   as in Keras, not `<model>/conv2_block1/conv2_block1_1_conv/kernel`. A block is still a
 *   Network: it lists its layers and variables and can be applied on its own.
 * - Layers are registered in Keras's order: 1_conv, 1_bn, 2_conv, 2_bn, (0_conv,) 3_conv,
 *   (0_bn,) 3_bn.
 * - BatchNormalization has Keras's settings: epsilon 1.001e-5, momentum 0.99, and the
 *   biased batch variance in the moving-variance update (`fused: false`, see
 *   src/layers/normalization.ts).
 * @module
 */
import { showShape } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { add, relu } from "../ops/math.ts";
import { pad } from "../ops/array.ts";
import { Conv2D } from "../layers/convolutional.ts";
import { BatchNormalization } from "../layers/normalization.ts";
import { type AnyLayer, Layer, type LayerOptions } from "../layers/layer.ts";
import { Network } from "../layers/network.ts";
import { FoldedConvBn } from "./fold.ts";
import type { LayerDataFormat } from "../layers/utils.ts";

/** Registers a layer with the model first, so that its variables are named there. */
export type Register = <L extends AnyLayer>(layer: L) => L;

/** What a bottleneck block is built from. */
export interface BlockConfig {
  /** Keras's name of the block: `conv<stage>_block<n>`. */
  name: string;
  /** Channels of the 1x1 and 3x3 convolutions; the block outputs 4x as many. */
  filters: number;
  /** Stride of the first 1x1 convolution (and of the projection); 1 in identity blocks. */
  stride: number;
  dataFormat: LayerDataFormat;
  register: Register;
}

/** Keras ResNet's BatchNormalization settings (see the module comment). */
export function resnetBatchNorm(name: string, dataFormat: LayerDataFormat): BatchNormalization {
  return new BatchNormalization({
    name,
    axis: dataFormat === "channels_first" ? 1 : -1,
    epsilon: 1.001e-5,
    momentum: 0.99,
    fused: false,
  });
}

/**
 * A bottleneck block: relu(shortcut + bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))))
 * with 1x1 (strided), 3x3 ("same") and 1x1 convolutions of filters, filters and
 * 4 * filters channels; the shortcut is x, or bn0(conv0(x)), a strided 1x1 projection to
 * 4 * filters channels.
 */
abstract class Bottleneck extends Network {
  readonly conv1: Conv2D;
  readonly bn1: BatchNormalization;
  readonly conv2: Conv2D;
  readonly bn2: BatchNormalization;
  /** The projection (ConvBlock); null in an IdentityBlock. */
  readonly conv0: Conv2D | null = null;
  readonly bn0: BatchNormalization | null = null;
  readonly conv3: Conv2D;
  readonly bn3: BatchNormalization;

  constructor(config: BlockConfig, projection: boolean) {
    super({ name: config.name });
    const { name, filters, stride, dataFormat } = config;
    const own = <L extends AnyLayer>(layer: L) => this.trackLayer(config.register(layer));
    const conv = (suffix: string, n: number, size: number, strides: number) =>
      own(
        new Conv2D(n, size, {
          name: `${name}_${suffix}_conv`,
          strides,
          padding: size === 1 ? "valid" : "same",
          dataFormat,
        }),
      );
    const bn = (suffix: string) => own(resnetBatchNorm(`${name}_${suffix}_bn`, dataFormat));
    this.conv1 = conv("1", filters, 1, stride);
    this.bn1 = bn("1");
    this.conv2 = conv("2", filters, 3, 1);
    this.bn2 = bn("2");
    if (projection) this.conv0 = conv("0", 4 * filters, 1, stride);
    this.conv3 = conv("3", 4 * filters, 1, 1);
    if (projection) this.bn0 = bn("0");
    this.bn3 = bn("3");
  }

  #folds: FoldedConvBn[] | null = null;

  call(x: Tensor, training: boolean): Tensor {
    // Each conv + bn (+ relu) pair: folded into one convolution in inference (fold.ts).
    this.#folds ??= [[this.conv1, this.bn1], [this.conv2, this.bn2], [this.conv3, this.bn3]]
      .concat(this.conv0 ? [[this.conv0, this.bn0!]] : [])
      .map(([conv, bn]) => new FoldedConvBn(conv as Conv2D, bn as BatchNormalization));
    const [f1, f2, f3, f0] = this.#folds;
    let y = f1.apply(x, training, true);
    y = f2.apply(y, training, true);
    y = f3.apply(y, training, false);
    const shortcut = f0 ? f0.apply(x, training, false) : x;
    return relu(add(shortcut, y));
  }
}

/**
 * A bottleneck block whose shortcut is its input (Keras's `identity_block`); the input
 * must have 4 * filters channels. Stride 1.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * import { IdentityBlock } from "./resnet_blocks.ts";
 * const block = new IdentityBlock({
 *   name: "conv2_block2", filters: 4, dataFormat: "channels_last", register: (l) => l,
 * });
 * block.apply(tf.zeros([1, 8, 8, 16]), { training: true }); // shape [1, 8, 8, 16]
 * ```
 */
export class IdentityBlock extends Bottleneck {
  constructor(config: Omit<BlockConfig, "stride">) {
    super({ ...config, stride: 1 }, false);
  }
}

/**
 * A bottleneck block with a projection shortcut (Keras's `conv_block`): each stage starts
 * with one; its stride (2 from stage 3 on) is on conv1 and on the projection conv0.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * import { ConvBlock } from "./resnet_blocks.ts";
 * const block = new ConvBlock({
 *   name: "conv3_block1", filters: 4, stride: 2, dataFormat: "channels_last", register: (l) => l,
 * });
 * block.apply(tf.zeros([1, 8, 8, 16])); // shape [1, 4, 4, 16]
 * ```
 */
export class ConvBlock extends Bottleneck {
  constructor(config: BlockConfig) {
    super(config, true);
  }
}

/** Options of ZeroPadding2D. */
export interface ZeroPadding2DOptions extends LayerOptions {
  dataFormat?: LayerDataFormat;
}

/**
 * Pads height and width with `padding` zeros on each side (Keras's ZeroPadding2D with a
 * symmetric integer padding). No weights.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * import { ZeroPadding2D } from "./resnet_blocks.ts";
 * new ZeroPadding2D(3).apply(tf.zeros([1, 4, 4, 3])); // shape [1, 10, 10, 3]
 * ```
 */
export class ZeroPadding2D extends Layer {
  readonly padding: number;
  readonly dataFormat: LayerDataFormat;

  constructor(padding: number, options: ZeroPadding2DOptions = {}) {
    super(options);
    if (!Number.isInteger(padding) || padding < 0) {
      throw new RangeError(`${this.name}: padding must be a non-negative integer`);
    }
    this.padding = padding;
    this.dataFormat = options.dataFormat ?? "channels_last";
  }

  call(x: Tensor): Tensor {
    if (x.rank !== 4) {
      throw new RangeError(
        `${this.name}: expected a rank-4 input, got shape ${showShape(x.shape)}`,
      );
    }
    const p = [this.padding, this.padding] as const, none = [0, 0] as const;
    return pad(x, this.dataFormat === "channels_first" ? [none, none, p, p] : [none, p, p, none]);
  }
}
