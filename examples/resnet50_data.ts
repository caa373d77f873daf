/**
 * The ResNet-50 example's batches: synthetic ImageNet-shaped ones (uniform random images
 * and labels, as TensorFlow's ResNet-50 benchmark draws them), or Fashion-MNIST's real
 * 28x28 grey images zero-padded to 32x32 (ResNet50's smallest input) with the grey channel
 * copied to three, standardised by the training split's mean and deviation.
 * @module
 */
import * as tf from "../mod.ts";
import { shuffledIndices } from "./shuffle.ts";
import type { Dataset, Split } from "./mnist_data.ts";

/** "channels_last" (NHWC) or "channels_first" (NCHW). */
export type Format = "channels_last" | "channels_first";

/** A batch: images [n, h, w, 3] or [n, 3, h, w] and int32 labels [n]. */
export type Batch = [tf.Tensor, tf.Tensor];

/** The side of the padded Fashion-MNIST images. */
export const PADDED_SIZE = 32;
const SOURCE = 28, OFFSET = (PADDED_SIZE - SOURCE) / 2;

/**
 * A synthetic batch: images uniform in [0, 1), labels uniform over `classes`.
 * @example
 * ```ts
 * const [images, labels] = syntheticBatch(8, 224, 1000, "channels_last");
 * ```
 */
export function syntheticBatch(n: number, size: number, classes: number, format: Format): Batch {
  const shape = format === "channels_first" ? [n, 3, size, size] : [n, size, size, 3];
  return [
    tf.randomUniform(shape),
    tf.randomUniform([n], { dtype: "int32", maxval: classes }),
  ];
}

/** Mean and standard deviation of a split's pixels (the padding is not counted). */
export function pixelStats(split: Split): [number, number] {
  let sum = 0, squares = 0;
  for (const v of split.images) {
    sum += v;
    squares += v * v;
  }
  const n = split.images.length, mean = sum / n;
  return [mean, Math.sqrt(Math.max(squares / n - mean * mean, 1e-12))];
}

/**
 * Images `indices` of a split as a padded 3-channel batch, standardised by [mean, std]
 * (the padding becomes the standardised black, -mean / std).
 */
export function fashionBatch(
  split: Split,
  indices: ArrayLike<number>,
  [mean, std]: [number, number],
  format: Format,
): Batch {
  const n = indices.length, size = PADDED_SIZE, plane = size * size;
  const out = new Float32Array(n * 3 * plane).fill(-mean / std);
  const labels = new Int32Array(n);
  for (let b = 0; b < n; b++) {
    const k = indices[b];
    labels[b] = split.labels[k];
    const source = split.images.subarray(k * SOURCE * SOURCE, (k + 1) * SOURCE * SOURCE);
    for (let y = 0; y < SOURCE; y++) {
      for (let x = 0; x < SOURCE; x++) {
        const v = (source[y * SOURCE + x] - mean) / std;
        const pixel = (y + OFFSET) * size + x + OFFSET;
        for (let c = 0; c < 3; c++) {
          const at = format === "channels_first"
            ? (b * 3 + c) * plane + pixel
            : (b * plane + pixel) * 3 + c;
          out[at] = v;
        }
      }
    }
  }
  const shape = format === "channels_first" ? [n, 3, size, size] : [n, size, size, 3];
  return [tf.constant(out, "float32", { shape }), tf.constant(labels)];
}

/** Training batches of Fashion-MNIST, reshuffled every epoch. */
export class FashionBatches {
  readonly stats: [number, number];
  #order: Int32Array;
  #next = 0;
  #epoch = 0;

  constructor(
    readonly data: Dataset,
    readonly batchSize: number,
    readonly format: Format,
    readonly seed: number,
  ) {
    this.stats = pixelStats(data.train);
    this.#order = shuffledIndices(data.train.count, seed);
  }

  /** The next batch of the training split. */
  take(): Batch {
    const indices = new Int32Array(this.batchSize);
    for (let i = 0; i < this.batchSize; i++) {
      if (this.#next === this.#order.length) {
        this.#order = shuffledIndices(this.#order.length, this.seed + ++this.#epoch);
        this.#next = 0;
      }
      indices[i] = this.#order[this.#next++];
    }
    return fashionBatch(this.data.train, indices, this.stats, this.format);
  }
}
