/**
 * `tf.losses`: TensorFlow 1's weighted losses and their reductions.
 * @module
 */
export {
  absoluteDifference,
  computeWeightedLoss,
  huberLoss,
  meanSquaredError,
  Reduction,
  sigmoidCrossEntropy,
  softmaxCrossEntropy,
  sparseSoftmaxCrossEntropy,
} from "../losses.ts";
export type {
  CrossEntropyLossOptions,
  HuberLossOptions,
  LossOptions,
  ReductionName,
} from "../losses.ts";
