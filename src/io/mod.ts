/**
 * `tf.io`: record files, tf.train.Example, NumPy and IDX arrays (docs/data.md), PNG images.
 * @module
 */
export {
  decodeExample,
  FixedLenFeature,
  parseExample,
  parseSingleExample,
  serializeExample,
  sparseToDense,
  VarLenFeature,
} from "./example.ts";
export type {
  FeatureDType,
  FeatureSpec,
  FeatureValue,
  FixedLenFeatureSpec,
  ParsedFeature,
  SparseTensor,
  VarLenFeatureSpec,
} from "./example.ts";
export { readTFRecords, readTFRecordsSync, TFRecordWriter } from "./tfrecord_stream.ts";
export type { TFRecordReadOptions, TFRecordWriterOptions } from "./tfrecord_stream.ts";
export { TFRecordError } from "./tfrecord.ts";
export { decodeNpy, encodeNpy, loadNpy, NpyError, saveNpy } from "./npy.ts";
export type { NpyOptions } from "./npy.ts";
export { decodeNpz, encodeNpz, loadNpz, saveNpz } from "./npz.ts";
export { ZipError } from "./zip.ts";
export { decodeIdx, IdxError, loadIdx } from "./idx.ts";
export type { Compression } from "./chunks.ts";
export { encodePng } from "./png.ts";
