/**
 * Momentum (TensorFlow 1's `tf.train.MomentumOptimizer`, ApplyMomentum):
 * `accumulation = momentum * accumulation + gradient`, then
 * `variable -= learningRate * accumulation`, or with Nesterov
 * `variable -= learningRate * (gradient + momentum * accumulation)`.
 * @module
 */
import type { Tensor } from "../tensor.ts";
import type { Variable } from "../variable.ts";
import { applyUpdate, UpdateRule } from "./fused_update.ts";
import { zerosLike } from "../ops/creation.ts";
import {
  checkHyper,
  GRADIENT_READERS,
  type LearningRate,
  Optimizer,
  type OptimizerOptions,
} from "./optimizer.ts";

/** Options of MomentumOptimizer. */
export interface MomentumOptions extends OptimizerOptions {
  /** Nesterov momentum (default false). */
  useNesterov?: boolean;
}

/**
 * Gradient descent with momentum; slot "momentum" (`<variable>/Momentum`), zeros at first.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const opt = new tf.train.MomentumOptimizer(0.01, 0.9, { useNesterov: true });
 * ```
 */
export class MomentumOptimizer extends Optimizer {
  static {
    GRADIENT_READERS.add(this.prototype.applyDense);
  }

  readonly momentum: number;
  readonly useNesterov: boolean;

  constructor(learningRate: LearningRate, momentum: number, options: MomentumOptions = {}) {
    super("MomentumOptimizer", learningRate, options);
    this.momentum = checkHyper(this.owner, "momentum", momentum, { min: 0 });
    this.useNesterov = options.useNesterov ?? false;
  }

  protected createSlots(variables: readonly Variable[]): void {
    for (const v of variables) this.slot(v, "momentum", zerosLike);
  }

  protected applyDense(grad: Tensor, variable: Variable, lr: number): void {
    const rule = this.useNesterov ? UpdateRule.NESTEROV : UpdateRule.MOMENTUM;
    const accum = this.getSlot(variable, "momentum")!;
    applyUpdate(this.owner, rule, [lr, this.momentum], variable, grad, [accum]);
  }
}
