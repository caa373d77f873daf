/**
 * LSTMCell with Keras's layout, gate order and variable names, so TensorFlow 2
 * checkpoints of `tf.keras.layers.LSTMCell`/`LSTM` load by name:
 * `kernel` [inputDim, 4 units], `recurrent_kernel` [units, 4 units], `bias` [4 units],
 * gates in the order i (input), f (forget), c (candidate), o (output).
 *
 *   z = x kernel + h recurrent_kernel + bias;  i, f, g, o = split(z, 4)
 *   c' = sigmoid(f + forgetBias) c + sigmoid(i) tanh(g);  h' = sigmoid(o) tanh(c')
 *
 * NOTE: two forget-bias conventions exist. Keras initialises the forget part of `bias`
 * to 1 (`unitForgetBias`, default true) and adds nothing at run time; TensorFlow 1's
 * BasicLSTMCell adds `forget_bias` (1.0) at run time to a zero-initialised bias. Both
 * are here: `forgetBias` (default 0, Keras's behaviour) is the run-time constant, so
 * `{ forgetBias: 1, unitForgetBias: false }` is TensorFlow 1's cell.
 * @module
 */
import { describe } from "../../shape.ts";
import type { Tensor } from "../../tensor.ts";
import { add, sigmoid, tanh } from "../../ops/math.ts";
import { concat } from "../../ops/array.ts";
import { lstmStep, lstmStepComposite } from "../../ops/lstm.ts";
import { fill } from "../../ops/creation.ts";
import { type Initializer, orthogonal, zeros } from "../initializers.ts";
import { type Activation, checkActivation, type LayerOptions } from "../layer.ts";
import { checkBoolean } from "../utils.ts";
import { type CellOutput, type CellState, denseLast, RNNCell } from "./cell.ts";
import type { Variable } from "../../variable.ts";

/** Options of LSTMCell. */
export interface LSTMCellOptions extends LayerOptions {
  /** Applied to the candidate and the cell state (default tanh). */
  activation?: Activation;
  /** Applied to the gates (default sigmoid). */
  recurrentActivation?: Activation;
  /** Whether to add `bias` (default true). */
  useBias?: boolean;
  /** Default glorotUniform. */
  kernelInitializer?: Initializer;
  /** Default orthogonal (Keras). */
  recurrentInitializer?: Initializer;
  /** Default zeros (with the forget part set to 1 when unitForgetBias). */
  biasInitializer?: Initializer;
  /** Initialise the forget gate's bias to 1, as Keras (default true). */
  unitForgetBias?: boolean;
  /** Added to the forget gate's pre-activation at every step, as TensorFlow 1 (default 0). */
  forgetBias?: number;
  /**
   * Run a step's gate arithmetic as one kernel (tf.nn.lstmStep) rather than nine ops
   * (default: whenever the activations are tanh and sigmoid; true otherwise is an error).
   */
  fused?: boolean;
}

/**
 * A long short-term memory cell. State: `[h, c]`, each [batch, units]; output: h.
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * const cell = new tf.layers.LSTMCell(8);
 * const [h, state] = cell.apply([tf.ones([2, 3]), cell.zeroState(2)]);
 * ```
 */
export class LSTMCell extends RNNCell {
  readonly units: number;
  readonly activation: Activation;
  readonly recurrentActivation: Activation;
  readonly useBias: boolean;
  readonly unitForgetBias: boolean;
  readonly forgetBias: number;
  /** Whether steps run as one kernel (see LSTMCellOptions.fused). */
  readonly fused: boolean;
  /** [inputDim, 4 units]. */
  kernel: Variable | null = null;
  /** [units, 4 units]. */
  recurrentKernel: Variable | null = null;
  /** [4 units]. */
  bias: Variable | null = null;
  #options: LSTMCellOptions;

  constructor(units: number, options: LSTMCellOptions = {}) {
    super(options);
    this.units = checkUnits(this.name, units);
    this.activation = checkActivation(this.name, options.activation) ?? tanh;
    this.recurrentActivation = checkActivation(this.name, options.recurrentActivation) ?? sigmoid;
    this.useBias = checkBoolean(this.name, "useBias", options.useBias, true);
    this.unitForgetBias = checkBoolean(this.name, "unitForgetBias", options.unitForgetBias, true);
    const forgetBias = options.forgetBias ?? 0;
    if (typeof forgetBias !== "number" || !Number.isFinite(forgetBias)) {
      throw new TypeError(
        `${this.name}: forgetBias must be a finite number, got ${describe(forgetBias)}`,
      );
    }
    this.forgetBias = forgetBias;
    const fusable = this.activation === tanh && this.recurrentActivation === sigmoid;
    const fused = options.fused ?? fusable;
    if (typeof fused !== "boolean" || (fused && !fusable)) {
      throw new TypeError(
        `${this.name}: fused must be a boolean, and true only with the default activations ` +
          `(tanh, sigmoid)`,
      );
    }
    this.fused = fused;
    this.#options = options;
  }

  get stateSize(): readonly number[] {
    return [this.units, this.units];
  }

  get outputSize(): number {
    return this.units;
  }

  override build(inputShape: readonly number[]): void {
    const u = this.units, o = this.#options;
    this.kernel = this.addWeight("kernel", [inputShape[inputShape.length - 1], 4 * u], {
      initializer: o.kernelInitializer,
    });
    this.recurrentKernel = this.addWeight("recurrent_kernel", [u, 4 * u], {
      initializer: o.recurrentInitializer ?? orthogonal(),
    });
    if (this.useBias) {
      const init = o.biasInitializer ?? zeros;
      const biasInit: Initializer = this.unitForgetBias
        ? (_shape, dtype) =>
          concat([init([u], dtype), fill([u], 1, dtype), init([2 * u], dtype)], 0)
        : init;
      this.bias = this.addWeight("bias", [4 * u], { initializer: biasInit });
    }
  }

  projectInputs(x: Tensor): Tensor {
    this.checkInputDim(x, this.kernel!.shape[0]);
    return denseLast(x, this.kernel!.read(), this.bias?.read());
  }

  step(projected: Tensor, [h, c]: CellState, _training: boolean): CellOutput {
    const z = add(projected, denseLast(h, this.recurrentKernel!.read()));
    const [h2, c2] = this.fused
      ? lstmStep(z, c, this.forgetBias)
      : lstmStepComposite(z, c, this.forgetBias, this.activation, this.recurrentActivation);
    return [h2, [h2, c2]];
  }
}

/** A positive integer unit count, checked. */
export function checkUnits(op: string, units: unknown): number {
  if (!Number.isInteger(units) || (units as number) <= 0) {
    throw new TypeError(`${op}: units must be a positive integer, got ${describe(units)}`);
  }
  return units as number;
}
