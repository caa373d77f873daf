/**
 * The word-level LSTM language model of Zaremba, Sutskever and Vinyals 2014 ("Recurrent
 * neural network regularization"), as TensorFlow's ptb_word_lm and the eager rnn_ptb
 * example build it: embedding, a stack of LSTM layers, a dense layer over the vocabulary;
 * dropout on the embedding, between the layers and on the top output in training. Every
 * weight starts uniform in [-initScale, initScale], and the cells are TensorFlow 1's
 * BasicLSTMCell with forget_bias 0, as ptb_word_lm has them.
 *
 * Training (PTBTrainer) is truncated backpropagation through time: each batch starts from
 * the state the previous one ended in, as a plain value (a new tape per batch records
 * nothing of the batches before it), gradients clipped by their global norm, plain SGD.
 * @module
 */
import * as tf from "../mod.ts";
import { batches } from "./ptb_data.ts";

/** The hyperparameters of a configuration. */
export interface PTBConfig {
  /** LSTM units per layer, also the embedding size. */
  hiddenSize: number;
  layers: number;
  /** Time steps per batch (the truncation of backpropagation). */
  steps: number;
  batchSize: number;
  learningRate: number;
  /** Clip the gradients' global norm to this. */
  maxGradNorm: number;
  /** Weights start uniform in [-initScale, initScale]. */
  initScale: number;
  /** Dropout keeps this fraction (1: no dropout). */
  keepProb: number;
  /** The learning rate is multiplied by lrDecay every epoch after the first decayAfter. */
  decayAfter: number;
  lrDecay: number;
  epochs: number;
}

/** small and medium are the paper's (and ptb_word_lm's); tiny is a few minutes on 2 cores. */
export const CONFIGS: Record<"tiny" | "small" | "medium", PTBConfig> = {
  tiny: {
    hiddenSize: 128,
    layers: 2,
    steps: 20,
    batchSize: 20,
    learningRate: 1,
    maxGradNorm: 5,
    initScale: 0.1,
    keepProb: 1,
    decayAfter: 2,
    lrDecay: 0.5,
    epochs: 3,
  },
  small: {
    hiddenSize: 200,
    layers: 2,
    steps: 20,
    batchSize: 20,
    learningRate: 1,
    maxGradNorm: 5,
    initScale: 0.1,
    keepProb: 1,
    decayAfter: 4,
    lrDecay: 0.5,
    epochs: 13,
  },
  medium: {
    hiddenSize: 650,
    layers: 2,
    steps: 35,
    batchSize: 20,
    learningRate: 1,
    maxGradNorm: 5,
    initScale: 0.05,
    keepProb: 0.5,
    decayAfter: 6,
    lrDecay: 0.8,
    epochs: 39,
  },
};

/** The rate of epoch `epoch` (1-based): full for decayAfter epochs, then decayed each epoch. */
export function learningRateAt(config: PTBConfig, epoch: number): number {
  return config.learningRate * config.lrDecay ** Math.max(epoch - config.decayAfter, 0);
}

/**
 * The language model. `forward(ids, state, training)` maps ids [batch, steps] and a state
 * (null: zeros) to logits [batch * steps, vocab] (row b * steps + t) and the final state.
 * @example
 * ```ts
 * import * as tf from "../mod.ts";
 * import { PTBModel } from "./ptb_model.ts";
 * const model = new PTBModel(100, { hiddenSize: 8, layers: 2, keepProb: 1, initScale: 0.1 });
 * const [logits, state] = model.forward(tf.constant([[1, 2, 3]], "int32"), null, false);
 * // logits [3, 100]; state: [h, c] of each layer, [1, 8] each
 * ```
 */
export class PTBModel extends tf.Network {
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly dropoutRate: number;
  readonly embedding: tf.layers.Embedding;
  readonly rnn: tf.layers.RNN;
  readonly softmax: tf.layers.Dense;
  #initialState: tf.Tensor[] | null = null;
  #finalState: tf.Tensor[] = [];

  constructor(
    vocabSize: number,
    config: Pick<PTBConfig, "hiddenSize" | "layers" | "keepProb" | "initScale">,
  ) {
    super({ name: "ptb_model" });
    const { hiddenSize, layers, keepProb, initScale } = config;
    const init = tf.initializers.randomUniform({ minval: -initScale, maxval: initScale });
    this.vocabSize = vocabSize;
    this.hiddenSize = hiddenSize;
    this.dropoutRate = 1 - keepProb;
    this.embedding = this.trackLayer(
      new tf.layers.Embedding(vocabSize, hiddenSize, { embeddingsInitializer: init }),
    );
    const cells = Array.from({ length: layers }, () =>
      new tf.layers.LSTMCell(hiddenSize, {
        kernelInitializer: init,
        recurrentInitializer: init,
        biasInitializer: init,
        unitForgetBias: false,
      }));
    this.rnn = this.trackLayer(
      new tf.layers.RNN(new tf.layers.StackedRNNCells(cells, { dropout: this.dropoutRate }), {
        returnSequences: true,
      }),
    );
    this.softmax = this.trackLayer(
      new tf.layers.Dense(vocabSize, { kernelInitializer: init, biasInitializer: init }),
    );
  }

  /** Logits [batch * steps, vocab] and the final state; see the class comment. */
  forward(ids: tf.Tensor, state: tf.Tensor[] | null, training: boolean): [tf.Tensor, tf.Tensor[]] {
    this.#initialState = state;
    try {
      const logits = this.apply(ids, { training });
      return [logits, this.#finalState];
    } finally {
      this.#initialState = null;
      this.#finalState = [];
    }
  }

  call(ids: tf.Tensor, training: boolean): tf.Tensor {
    const drop = (x: tf.Tensor) =>
      training && this.dropoutRate > 0 ? tf.nn.dropout(x, this.dropoutRate) : x;
    const x = drop(this.embedding.apply(ids));
    const [out, state] = this.rnn.applyWithState(x, {
      training,
      ...(this.#initialState ? { initialState: this.#initialState } : {}),
    });
    this.#finalState = state;
    return this.softmax.apply(drop(out).reshape([-1, this.hiddenSize]));
  }
}

/** What an epoch measured. */
export interface EpochResult {
  perplexity: number;
  /** Words (inputs) per second. */
  wordsPerSecond: number;
  seconds: number;
}

/** Trains and evaluates a PTBModel with a configuration's batching, clipping and rates. */
export class PTBTrainer {
  readonly model: PTBModel;
  readonly config: PTBConfig;
  /** The rate of the next updates; set per epoch (learningRateAt). */
  learningRate: number;
  readonly optimizer: tf.train.GradientDescentOptimizer;

  constructor(vocabSize: number, config: PTBConfig) {
    this.model = new PTBModel(vocabSize, config);
    this.config = config;
    this.learningRate = config.learningRate;
    this.optimizer = new tf.train.GradientDescentOptimizer(() => this.learningRate);
  }

  /**
   * One update; returns the step's mean loss (nats a word) and the final state. NOTE: the
   * gradient is of the loss summed over time and averaged over the batch, ptb_word_lm's
   * cost, so the paper's learning rate 1 and clip norm 5 mean what they meant there; the
   * reported loss is the mean over time as well. The step runs inside tf.tidy: its tensors'
   * memory (and the previous values of the variables) goes back for the next step's outputs
   * at once, instead of a garbage collection starting every step or two (docs/design.md).
   */
  trainStep(
    inputs: tf.Tensor,
    targets: tf.Tensor,
    state: tf.Tensor[] | null,
  ): [number, tf.Tensor[]] {
    const { model, config } = this;
    const [loss, ...finalState] = tf.tidy(() => {
      const tape = new tf.GradientTape();
      let finalState: tf.Tensor[] = [];
      let loss: tf.Tensor | undefined;
      const cost = tape.record(() => {
        const [logits, next] = model.forward(inputs, state, true);
        finalState = next;
        loss = tf.losses.sparseSoftmaxCrossEntropy(targets, logits);
        return tf.multiply(loss, config.steps);
      });
      const variables = model.trainableVariables;
      const grads = tape.gradient(cost, variables);
      const [clipped] = tf.clipByGlobalNorm(grads, config.maxGradNorm);
      this.optimizer.applyGradients(variables.map((v, i) => [clipped[i], v] as const));
      return [loss!, ...finalState];
    });
    const value = loss.dataSync()[0] as number;
    loss.dispose();
    return [value, finalState];
  }

  /** One epoch over `data`, training or not; the state runs on from batch to batch. */
  runEpoch(
    data: Int32Array,
    train: boolean,
    onStep?: (step: number, steps: number, loss: number) => void,
  ): EpochResult {
    const { batchSize, steps } = this.config;
    const start = performance.now();
    let state: tf.Tensor[] | null = null, total = 0, count = 0;
    const all = [...batches(data, batchSize, steps, train ? "the training split" : "held-out")];
    for (const { inputs, targets } of all) {
      const x = tf.constant(inputs, "int32", { shape: [batchSize, steps] });
      const y = tf.constant(targets, "int32", { shape: [batchSize * steps] });
      let loss: number;
      if (train) [loss, state] = this.trainStep(x, y, state);
      else {
        const [logits, next] = this.model.forward(x, state, false);
        loss = tf.losses.sparseSoftmaxCrossEntropy(y, logits).dataSync()[0] as number;
        state = next;
      }
      if (!Number.isFinite(loss)) throw new Error(`rnn_ptb: the loss is ${loss}`);
      total += loss;
      count++;
      onStep?.(count, all.length, loss);
    }
    const seconds = (performance.now() - start) / 1000;
    return {
      perplexity: Math.exp(total / count),
      wordsPerSecond: (count * batchSize * steps) / seconds,
      seconds,
    };
  }
}
