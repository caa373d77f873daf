/**
 * `tf.layers`: TensorFlow 1's layer classes (Dense, Conv2D, pooling, Dropout, Flatten,
 * BatchNormalization, Embedding), the Layer base class for custom layers, and the
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
