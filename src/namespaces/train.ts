/**
 * `tf.train`: TensorFlow 1's optimizers, learning-rate schedules and the global step.
 * @module
 */
export { Optimizer } from "../train/optimizer.ts";
export type {
  ApplyGradientsOptions,
  ComputeGradientsOptions,
  GradientAndVariable,
  LearningRate,
  MinimizeOptions,
  OptimizerOptions,
} from "../train/optimizer.ts";
export { GradientDescentOptimizer } from "../train/gradient_descent.ts";
export { MomentumOptimizer } from "../train/momentum.ts";
export type { MomentumOptions } from "../train/momentum.ts";
export { AdamOptimizer } from "../train/adam.ts";
export type { AdamOptions } from "../train/adam.ts";
export { RMSPropOptimizer } from "../train/rmsprop.ts";
export type { RMSPropOptions } from "../train/rmsprop.ts";
export { AdagradOptimizer } from "../train/adagrad.ts";
export type { AdagradOptions } from "../train/adagrad.ts";
export { exponentialDecay, piecewiseConstant } from "../train/schedules.ts";
export type { ExponentialDecayOptions, Schedule } from "../train/schedules.ts";
export { getGlobalStep, getOrCreateGlobalStep, resetGlobalStep } from "../train/global_step.ts";
export { latestCheckpoint, listVariables, loadCheckpoint } from "../train/checkpoint_utils.ts";
export type { CheckpointReader } from "../train/checkpoint_utils.ts";
