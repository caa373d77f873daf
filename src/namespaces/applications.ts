/**
 * `tf.applications`: ready-made models with Keras's layer and variable names
 * (tf.keras.applications), so that their checkpoints restore into ours: ResNet50.
 * @module
 */
export { kerasVariables, ResNet50 } from "../applications/resnet50.ts";
export type { ResNet50Options } from "../applications/resnet50.ts";
export { ConvBlock, IdentityBlock, ZeroPadding2D } from "../applications/resnet_blocks.ts";
export type { BlockConfig, Register, ZeroPadding2DOptions } from "../applications/resnet_blocks.ts";
