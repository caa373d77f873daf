/**
 * tf.savedModel: SavedModels that TensorFlow loads (docs/saved_model.md).
 * @module
 */
export { save } from "../graph/saved_model/save.ts";
export type { SaveOptions, SignatureFunction, TensorSpec } from "../graph/saved_model/save.ts";
export { load } from "../graph/saved_model/load.ts";
export type { LoadedModel } from "../graph/saved_model/load.ts";
