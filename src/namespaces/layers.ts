/**
 * `tf.layers`: TensorFlow 1's layer classes (Dense, Conv2D, pooling, Dropout, Flatten,
 * BatchNormalization, Embedding), Keras's recurrent layers and cells (RNN, LSTM, GRU,
 * LSTMCell, GRUCell, StackedRNNCells), the Layer base class for custom layers, and the
 * functional forms of the stateless layers.
 * @module
 */
export { Layer } from "../layers/layer.ts";
export type {
  Activation,
  AddWeightOptions,
  AnyLayer,
  ApplyInput,
  ApplyOptions,
  LayerOptions,
} from "../layers/layer.ts";
export { Dense, Dropout, dropout, Flatten, flatten } from "../layers/core.ts";
export type {
  DenseOptions,
  DropoutFnOptions,
  DropoutOptions,
  FlattenOptions,
} from "../layers/core.ts";
export { Conv2D } from "../layers/convolutional.ts";
export type { Conv2DOptions } from "../layers/convolutional.ts";
export {
  AveragePooling2D,
  averagePooling2d,
  MaxPooling2D,
  maxPooling2d,
} from "../layers/pooling.ts";
export type { Pooling2DOptions } from "../layers/pooling.ts";
export { BatchNormalization } from "../layers/normalization.ts";
export type { BatchNormalizationOptions } from "../layers/normalization.ts";
export { Embedding } from "../layers/embedding.ts";
export type { EmbeddingOptions } from "../layers/embedding.ts";
export type { LayerDataFormat, LayerPadding, Size2D } from "../layers/utils.ts";
export { withNameScope } from "../layers/scope.ts";
export { RNNCell } from "../layers/recurrent/cell.ts";
export type { CellInput, CellInputLike, CellOutput, CellState } from "../layers/recurrent/cell.ts";
export { LSTMCell } from "../layers/recurrent/lstm.ts";
export type { LSTMCellOptions } from "../layers/recurrent/lstm.ts";
export { GRUCell } from "../layers/recurrent/gru.ts";
export type { GRUCellOptions } from "../layers/recurrent/gru.ts";
export { StackedRNNCells, StackedRNNCells as MultiRNNCell } from "../layers/recurrent/stacked.ts";
export type { StackedRNNCellsOptions } from "../layers/recurrent/stacked.ts";
export { GRU, LSTM, RNN } from "../layers/recurrent/rnn.ts";
export type {
  GRUOptions,
  LSTMOptions,
  RNNApplyOptions,
  RNNOptions,
  SequenceLength,
} from "../layers/recurrent/rnn.ts";
// convolutions
export { Conv1D } from "../layers/conv1d.ts";
export type { Conv1DOptions, Size1D } from "../layers/conv1d.ts";
export { GlobalAveragePooling2D, UpSampling2D } from "../layers/reshaping.ts";
export type { GlobalAveragePooling2DOptions, UpSampling2DOptions } from "../layers/reshaping.ts";
export { DepthwiseConv2D, SeparableConv2D } from "../layers/depthwise.ts";
export type { DepthwiseConv2DOptions, SeparableConv2DOptions } from "../layers/depthwise.ts";
