/**
 * Adam (TensorFlow 1's `tf.train.AdamOptimizer`, ApplyAdam), with TensorFlow 1's
 * bias correction folded into the learning rate:
 *
 *     lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
 *     m = m + (g - m) * (1 - beta1)          (= beta1 * m + (1 - beta1) * g)
 *     v = v + (g * g - v) * (1 - beta2)
 *     variable -= lr_t * m / (sqrt(v) + epsilon)
 *
 * beta1^t and beta2^t live in the float32 variables `beta1_power` and `beta2_power`
 * (starting at beta1 and beta2, multiplied by them after each applyGradients), as in
 * TensorFlow 1, so a checkpoint restores the step count.
 * @module
 */
import type { Tensor } from "../tensor.ts";
import type { Variable } from "../variable.ts";
import { multiply } from "../ops/math.ts";
import { applyUpdate, UpdateRule } from "./fused_update.ts";
import { zerosLike } from "../ops/creation.ts";
import {
  checkHyper,
  GRADIENT_READERS,
  type LearningRate,
  Optimizer,
  type OptimizerOptions,
  scalarValue,
} from "./optimizer.ts";

/** Options of AdamOptimizer. */
export interface AdamOptions extends OptimizerOptions {
  /** Decay of the first-moment estimate (default 0.9). */
  beta1?: number;
  /** Decay of the second-moment estimate (default 0.999). */
  beta2?: number;
  /** TensorFlow 1's "epsilon hat" (default 1e-8). */
  epsilon?: number;
}

/**
 * Adam; slots "m" (`<variable>/Adam`) and "v" (`<variable>/Adam_1`), and the accumulators
 * `beta1_power`, `beta2_power`.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const opt = new tf.train.AdamOptimizer(1e-4);
 * ```
 */
export class AdamOptimizer extends Optimizer {
  static {
    GRADIENT_READERS.add(this.prototype.applyDense);
  }

  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  #alpha = 0;

  constructor(learningRate: LearningRate = 0.001, options: AdamOptions = {}) {
    super("AdamOptimizer", learningRate, options);
    this.beta1 = checkHyper(this.owner, "beta1", options.beta1 ?? 0.9, {
      min: 0,
      max: 1,
      openMax: true,
    });
    this.beta2 = checkHyper(this.owner, "beta2", options.beta2 ?? 0.999, {
      min: 0,
      max: 1,
      openMax: true,
    });
    this.epsilon = checkHyper(this.owner, "epsilon", options.epsilon ?? 1e-8, { min: 0 });
  }

  protected createSlots(variables: readonly Variable[]): void {
    this.nonSlot("beta1_power", this.beta1);
    this.nonSlot("beta2_power", this.beta2);
    for (const v of variables) {
      this.slot(v, "m", zerosLike);
      this.slot(v, "v", zerosLike);
    }
  }

  protected override prepare(lr: number): void {
    const b1 = scalarValue(this.nonSlot("beta1_power", this.beta1));
    const b2 = scalarValue(this.nonSlot("beta2_power", this.beta2));
    this.#alpha = lr * Math.sqrt(1 - b2) / (1 - b1);
  }

  protected applyDense(grad: Tensor, variable: Variable): void {
    const slots = [this.getSlot(variable, "m")!, this.getSlot(variable, "v")!];
    const hyper = [this.#alpha, this.beta1, this.beta2, this.epsilon];
    applyUpdate(this.owner, UpdateRule.ADAM, hyper, variable, grad, slots);
  }

  protected override finish(): void {
    const b1 = this.nonSlot("beta1_power", this.beta1);
    const b2 = this.nonSlot("beta2_power", this.beta2);
    b1.assign(multiply(b1.peek(), this.beta1));
    b2.assign(multiply(b2.peek(), this.beta2));
  }
}
