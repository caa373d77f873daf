/**
 * The process-wide global step (TensorFlow 1's `tf.train.get_or_create_global_step`): an
 * int64, non-trainable Variable named exactly `global_step`, counting training steps, on the
 * CPU.
 * @module
 */
import { Variable } from "../variable.ts";
import { withPlacement } from "../backend/registry.ts";
import { cpuBackend } from "../backend/cpu/backend.ts";

let globalStep: Variable | null = null;

/**
 * The global step, created (0) on the first call.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const step = tf.train.getOrCreateGlobalStep();
 * console.log(step.name, step.dtype); // global_step int64
 * ```
 */
export function getOrCreateGlobalStep(): Variable {
  // On the CPU whatever the default device, as TensorFlow places it in eager mode: schedules
  // read it in JS every step, which a device read asynchronously (WebGPU) cannot serve.
  return globalStep ??= withPlacement(cpuBackend, () =>
    new Variable(0, {
      name: "global_step",
      dtype: "int64",
      trainable: false,
      exactName: true,
    }));
}

/**
 * The global step, or null when none was created.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.train.getGlobalStep(); // null until getOrCreateGlobalStep()
 * ```
 */
export function getGlobalStep(): Variable | null {
  return globalStep;
}

/**
 * Forgets the global step, so the next getOrCreateGlobalStep makes a new one (as a new
 * TensorFlow 1 graph would); for tests and for starting over.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.train.resetGlobalStep();
 * ```
 */
export function resetGlobalStep(): void {
  globalStep = null;
}
