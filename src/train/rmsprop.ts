/**
 * RMSProp (TensorFlow 1's `tf.train.RMSPropOptimizer`, ApplyRMSProp and
 * ApplyCenteredRMSProp):
 *
 *     ms = ms + (g * g - ms) * (1 - decay)
 *     mg = mg + (g - mg) * (1 - decay)                       (centered only)
 *     mom = momentum * mom + lr * g / sqrt(ms - mg^2 + epsilon)   (mg = 0 unless centered)
 *     variable -= mom
 *
 * `ms` starts at ones, `mg` and `mom` at zeros, as in TensorFlow 1.
 * @module
 */
import type { Tensor } from "../tensor.ts";
import type { Variable } from "../variable.ts";
import { applyUpdate, UpdateRule } from "./fused_update.ts";
import { onesLike, zerosLike } from "../ops/creation.ts";
import {
  checkHyper,
  GRADIENT_READERS,
  type LearningRate,
  Optimizer,
  type OptimizerOptions,
} from "./optimizer.ts";

/** Options of RMSPropOptimizer. */
export interface RMSPropOptions extends OptimizerOptions {
  /** Discount of the moving averages (default 0.9). */
  decay?: number;
  /** Momentum (default 0). */
  momentum?: number;
  /** Added under the square root (default 1e-10). */
  epsilon?: number;
  /** Normalise by the estimated variance instead of the second moment (default false). */
  centered?: boolean;
}

/**
 * RMSProp; slots "rms" (`<variable>/RMSProp`), "mg" when centered (`RMSProp_1`) and
 * "momentum" (`RMSProp_1`, or `RMSProp_2` when centered), created in that order as in
 * TensorFlow 1.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const opt = new tf.train.RMSPropOptimizer(0.01, { momentum: 0.9, centered: true });
 * ```
 */
export class RMSPropOptimizer extends Optimizer {
  static {
    GRADIENT_READERS.add(this.prototype.applyDense);
  }

  readonly decay: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly centered: boolean;

  constructor(learningRate: LearningRate, options: RMSPropOptions = {}) {
    super("RMSPropOptimizer", learningRate, options);
    this.decay = checkHyper(this.owner, "decay", options.decay ?? 0.9, { min: 0, max: 1 });
    this.momentum = checkHyper(this.owner, "momentum", options.momentum ?? 0, { min: 0 });
    this.epsilon = checkHyper(this.owner, "epsilon", options.epsilon ?? 1e-10, { min: 0 });
    this.centered = options.centered ?? false;
  }

  protected createSlots(variables: readonly Variable[]): void {
    for (const v of variables) {
      this.slot(v, "rms", onesLike);
      if (this.centered) this.slot(v, "mg", zerosLike);
      this.slot(v, "momentum", zerosLike);
    }
  }

  protected applyDense(grad: Tensor, variable: Variable, lr: number): void {
    const slots = [this.getSlot(variable, "rms")!, this.getSlot(variable, "momentum")!];
    if (this.centered) slots.push(this.getSlot(variable, "mg")!);
    const rule = this.centered ? UpdateRule.CENTERED_RMSPROP : UpdateRule.RMSPROP;
    const hyper = [lr, this.decay, this.momentum, this.epsilon];
    applyUpdate(this.owner, rule, hyper, variable, grad, slots);
  }
}
