/**
 * Adagrad (TensorFlow 1's `tf.train.AdagradOptimizer`, ApplyAdagrad):
 * `accumulator += g * g`, then `variable -= lr * g / sqrt(accumulator)`; the accumulator
 * starts at `initialAccumulatorValue`.
 * @module
 */
import type { Tensor } from "../tensor.ts";
import type { Variable } from "../variable.ts";
import { applyUpdate, UpdateRule } from "./fused_update.ts";
import { fill } from "../ops/creation.ts";
import {
  checkHyper,
  GRADIENT_READERS,
  type LearningRate,
  Optimizer,
  type OptimizerOptions,
} from "./optimizer.ts";

/** Options of AdagradOptimizer. */
export interface AdagradOptions extends OptimizerOptions {
  /** The accumulators' starting value, positive (default 0.1). */
  initialAccumulatorValue?: number;
}

/**
 * Adagrad; slot "accumulator" (`<variable>/Adagrad`).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const opt = new tf.train.AdagradOptimizer(0.1, { initialAccumulatorValue: 0.1 });
 * ```
 */
export class AdagradOptimizer extends Optimizer {
  static {
    GRADIENT_READERS.add(this.prototype.applyDense);
  }

  readonly initialAccumulatorValue: number;

  constructor(learningRate: LearningRate, options: AdagradOptions = {}) {
    super("AdagradOptimizer", learningRate, options);
    this.initialAccumulatorValue = checkHyper(
      this.owner,
      "initialAccumulatorValue",
      options.initialAccumulatorValue ?? 0.1,
      { min: 0, openMin: true },
    );
  }

  protected createSlots(variables: readonly Variable[]): void {
    const init = this.initialAccumulatorValue;
    for (const v of variables) this.slot(v, "accumulator", (x) => fill(x.shape, init, x.dtype));
  }

  protected applyDense(grad: Tensor, variable: Variable, lr: number): void {
    const accumulator = this.getSlot(variable, "accumulator")!;
    applyUpdate(this.owner, UpdateRule.ADAGRAD, [lr], variable, grad, [accumulator]);
  }
}
