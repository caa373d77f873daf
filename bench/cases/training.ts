/**
 * Full training steps: the seed's MNIST model (examples/mnist.ts): forward with dropout,
 * softmax cross-entropy, backward, Adam over the 3.3 million weights, batch 100; and the
 * PTB language model (examples/ptb_model.ts) in the paper's small configuration: 2x200
 * LSTM over 20 steps of a batch of 20, vocabulary 10,000, gradients clipped, SGD, the state
 * carried from step to step. Batches are fixed random data: a step costs the same as with
 * real text or digits.
 * @module
 */
import * as tf from "../../mod.ts";
import { MNISTModel } from "../../examples/mnist.ts";
import { CONFIGS, PTBTrainer } from "../../examples/ptb_model.ts";
import type { Case } from "../harness.ts";

/**
 * A step function over a fresh model and optimizer; returns the loss as a number. With
 * `freshBatches` each step draws a new batch, as a training loop reading data does.
 */
export function mnistStep(
  batch: number,
  learningRate: number,
  freshBatches = false,
  graph = false,
): () => number {
  const model = new MNISTModel();
  const optimizer = new tf.train.AdamOptimizer(learningRate);
  const draw = (): [tf.Tensor, tf.Tensor] => [
    tf.randomUniform([batch, 784]),
    tf.randomUniform([batch], { dtype: "int32", maxval: 10 }),
  ];
  const step = (images: tf.Tensor, labels: tf.Tensor) =>
    optimizer.minimize(() => {
      const logits = model.apply(images, { training: true });
      return tf.losses.sparseSoftmaxCrossEntropy(labels, logits);
    });
  const run = graph ? tf.function(step) : step;
  let [images, labels] = draw();
  return () => {
    if (freshBatches) [images, labels] = draw();
    return Number(run(images, labels));
  };
}

/** The parameters of the LSTM language-model cases (the PTB small configuration). */
export const LSTM_LM = {
  batch: 20,
  steps: 20,
  hidden: 200,
  layers: 2,
  vocab: 10_000,
  learningRate: 1,
  clip: 5,
} as const;

/**
 * A training step of the PTB model over a fresh trainer; returns the loss as a number.
 * With `freshBatches` each step draws new ids, as reading text does.
 */
export function lstmLmStep(p: typeof LSTM_LM, freshBatches = false): () => number {
  const trainer = new PTBTrainer(p.vocab, {
    ...CONFIGS.small,
    batchSize: p.batch,
    steps: p.steps,
    hiddenSize: p.hidden,
    layers: p.layers,
    learningRate: p.learningRate,
    maxGradNorm: p.clip,
  });
  const draw = (): [tf.Tensor, tf.Tensor] => [
    tf.randomUniform([p.batch, p.steps], { dtype: "int32", maxval: p.vocab }),
    tf.randomUniform([p.batch * p.steps], { dtype: "int32", maxval: p.vocab }),
  ];
  let [ids, targets] = draw();
  let state: tf.Tensor[] | null = null;
  return () => {
    if (freshBatches) [ids, targets] = draw();
    const [loss, next] = trainer.trainStep(ids, targets, state);
    state = next;
    return loss;
  };
}

/** The training cases. */
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
  {
    id: "mnist_step_traced",
    label: "MNIST training step, batch 100, Adam; ours as tf.function",
    group: "training",
    kind: "mnist_step",
    params: { batch: 100, learningRate: 1e-4 },
    skip: { numpy: "no autodiff", "tfjs-cpu": "about 150 s a step" },
    ours: ({ batch, learningRate }) => ({
      fn: mnistStep(batch as number, learningRate as number, false, true),
    }),
    targets: [
      { column: "tf.function", atLeast: 1.5, text: "traced MNIST step >= 1.5x TF tf.function" },
    ],
  },
  {
    id: "lstm_lm_step",
    label: "LSTM language-model step, PTB small (2x200, 20x20, vocab 10k), SGD",
    group: "training",
    kind: "lstm_lm_step",
    params: LSTM_LM,
    ours: (p) => ({ fn: lstmLmStep(p as typeof LSTM_LM) }),
    targets: [
      { column: "tensorflow", atLeast: 1.5, text: "LSTM LM step >= 1.5x TF eager" },
      { column: "tf.function", atLeast: 1, text: "LSTM LM step >= 1.0x TF tf.function" },
    ],
  },
];
