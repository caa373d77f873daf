/**
 * One full training step of the seed's MNIST model (examples/mnist.ts): forward with
 * dropout, softmax cross-entropy, backward, Adam over the 3.3 million weights; batch 100.
 * The batch is fixed random data: the step costs the same as with real digits.
 * @module
 */
import * as tf from "../../mod.ts";
import { MNISTModel } from "../../examples/mnist.ts";
import type { Case } from "../harness.ts";

/**
 * A step function over a fresh model and optimizer; returns the loss as a number. With
 * `freshBatches` each step draws a new batch, as a training loop reading data does.
 */
export function mnistStep(batch: number, learningRate: number, freshBatches = false): () => number {
  const model = new MNISTModel();
  const optimizer = new tf.train.AdamOptimizer(learningRate);
  const draw = (): [tf.Tensor, tf.Tensor] => [
    tf.randomUniform([batch, 784]),
    tf.randomUniform([batch], { dtype: "int32", maxval: 10 }),
  ];
  let [images, labels] = draw();
  return () => {
    if (freshBatches) [images, labels] = draw();
    return Number(optimizer.minimize(() => {
      const logits = model.apply(images, { training: true });
      return tf.losses.sparseSoftmaxCrossEntropy(labels, logits);
    }));
  };
}

/** The training case. */
export const trainingCases: Case[] = [
  {
    id: "mnist_step",
    label: "MNIST training step, batch 100, Adam",
    group: "training",
    kind: "mnist_step",
    params: { batch: 100, learningRate: 1e-4 },
    // Measured once: 153 s a step in tfjs's cpu backend (plain-JS conv gradients).
    skip: { numpy: "no autodiff", "tfjs-cpu": "about 150 s a step" },
    ours: ({ batch, learningRate }) => ({
      fn: mnistStep(batch as number, learningRate as number),
    }),
    targets: [
      { column: "tensorflow", atLeast: 1.5, text: "MNIST step >= 1.5x TF eager" },
      { column: "tf.function", atLeast: 1, text: "MNIST step >= 1.0x TF tf.function" },
    ],
  },
];
