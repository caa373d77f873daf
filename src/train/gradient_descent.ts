/**
 * Plain gradient descent (TensorFlow 1's `tf.train.GradientDescentOptimizer`):
 * `variable -= learningRate * gradient`.
 * @module
 */
import type { Tensor } from "../tensor.ts";
import type { Variable } from "../variable.ts";
import { applyUpdate, UpdateRule } from "./fused_update.ts";
import {
  GRADIENT_READERS,
  type LearningRate,
  Optimizer,
  type OptimizerOptions,
} from "./optimizer.ts";

/**
 * Gradient descent; no slots.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const w = new tf.Variable(3);
 * const opt = new tf.train.GradientDescentOptimizer(0.1);
 * opt.minimize(() => w.square()); // w: 3 - 0.1 * 6 = 2.4
 * ```
 */
export class GradientDescentOptimizer extends Optimizer {
  static {
    GRADIENT_READERS.add(this.prototype.applyDense);
  }

  constructor(learningRate: LearningRate, options: OptimizerOptions = {}) {
    super("GradientDescentOptimizer", learningRate, options);
  }

  protected createSlots(): void {}

  protected applyDense(grad: Tensor, variable: Variable, lr: number): void {
    applyUpdate(this.owner, UpdateRule.SGD, [lr], variable, grad, []);
  }
}
