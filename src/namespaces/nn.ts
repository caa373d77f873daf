/**
 * `tf.nn`: activations, losses, normalisation, convolution and pooling, as in
 * TensorFlow's tf.nn namespace.
 * @module
 */
export { elu, relu, relu6, sigmoid, softplus, tanh } from "../ops/math.ts";
export {
  batchNormalization,
  biasAdd,
  l2Loss,
  logSoftmax,
  moments,
  sigmoidCrossEntropyWithLogits,
  softmax,
  softmaxCrossEntropyWithLogits,
  sparseSoftmaxCrossEntropyWithLogits,
} from "../ops/nn.ts";
export { conv2d, conv2dBackpropFilter, conv2dBackpropInput, conv2dTranspose } from "../ops/conv.ts";
export { avgPool, avgPoolGrad, maxPool, maxPoolGrad } from "../ops/pool.ts";
export { dropout } from "../ops/random.ts";
export { dynamicRnn } from "../layers/recurrent/rnn.ts";
export type { DynamicRnnOptions } from "../layers/recurrent/rnn.ts";
export { lstmStep, lstmStepGrad } from "../ops/lstm.ts";
export { fusedBatchNorm } from "../ops/batch_norm.ts";
export type { FusedBatchNormOptions } from "../ops/batch_norm.ts";
// activations, l2Normalize, embeddingLookup
export {
  embeddingLookup,
  gelu,
  hardSigmoid,
  l2Normalize,
  leakyRelu,
  selu,
  silu,
  softsign,
  swish,
} from "../ops/activations.ts";
export type {
  EmbeddingLookupOptions,
  GeluOptions,
  L2NormalizeOptions,
  LeakyReluOptions,
  SiluOptions,
} from "../ops/activations.ts";
// convolutions
export { conv1d } from "../ops/conv1d.ts";
export type { Conv1DOptions, DataFormat1D } from "../ops/conv1d.ts";
export {
  depthwiseConv2d,
  depthwiseConv2dBackpropFilter,
  depthwiseConv2dBackpropInput,
  separableConv2d,
} from "../ops/depthwise.ts";
// topK
export { topK } from "../ops/sort.ts";
export { conv3d } from "../ops/conv3d.ts";
export type { Conv3DOptions, DataFormat3D } from "../ops/conv3d.ts";
