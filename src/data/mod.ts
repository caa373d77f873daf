/**
 * `tf.data`: input pipelines (docs/data.md).
 * @module
 */
export { AUTOTUNE, Dataset } from "./dataset.ts";
export type {
  BatchOptions,
  GeneratorOptions,
  InterleaveOptions,
  MapOptions,
  PaddedBatchOptions,
  ShuffleOptions,
} from "./dataset.ts";
export { TensorSpec } from "./sources.ts";
export { OutOfRangeError } from "./iterator.ts";
export type { Element, Leaf } from "./structure.ts";
export { TextLineDataset, TFRecordDataset } from "./files.ts";
export type { FileDatasetOptions } from "./files.ts";
