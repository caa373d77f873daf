/**
 * GRUCell with Keras's layout, gate order and variable names (TensorFlow 2's
 * `tf.keras.layers.GRUCell`): `kernel` [inputDim, 3 units], `recurrent_kernel`
 * [units, 3 units], gates in the order z (update), r (reset), h (candidate).
 *
 * resetAfter (default true, TensorFlow 2's and cuDNN's form): `bias` is [2, 3 units],
 * an input bias and a recurrent bias, and the reset gate multiplies the recurrent
 * product:  hh = tanh(x Wh + bh + r * (h Uh + bh'))
 * resetAfter false (TensorFlow 1's form): `bias` is [3 units] and
 *   hh = tanh(x Wh + bh + (r * h) Uh)
 * Both: h' = z h + (1 - z) hh.
 * @module
 */
import type { Tensor } from "../../tensor.ts";
import { add, multiply, sigmoid, subtract, tanh } from "../../ops/math.ts";
import { split } from "../../ops/array.ts";
import { reshape, slice } from "../../ops/views.ts";
import { glorotUniform, type Initializer, orthogonal, zeros } from "../initializers.ts";
import { type Activation, checkActivation, type LayerOptions } from "../layer.ts";
import { checkBoolean } from "../utils.ts";
import { type CellOutput, type CellState, denseLast, RNNCell } from "./cell.ts";
import { checkUnits } from "./lstm.ts";
import type { Variable } from "../../variable.ts";

/** Options of GRUCell. */
export interface GRUCellOptions extends LayerOptions {
  /** Applied to the candidate (default tanh). */
  activation?: Activation;
  /** Applied to the gates (default sigmoid). */
  recurrentActivation?: Activation;
  /** Whether to add `bias` (default true). */
  useBias?: boolean;
  /** Default glorotUniform. */
  kernelInitializer?: Initializer;
  /** Default orthogonal (Keras). */
  recurrentInitializer?: Initializer;
  /** Default zeros. */
  biasInitializer?: Initializer;
  /** Apply the reset gate after the recurrent product (default true; see the module). */
  resetAfter?: boolean;
}

/**
 * A gated recurrent unit. State: `[h]`, [batch, units]; output: h.
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * const cell = new tf.layers.GRUCell(8);
 * const [h, [state]] = cell.apply([tf.ones([2, 3]), cell.zeroState(2)]);
 * ```
 */
export class GRUCell extends RNNCell {
  readonly units: number;
  readonly activation: Activation;
  readonly recurrentActivation: Activation;
  readonly useBias: boolean;
  readonly resetAfter: boolean;
  /** [inputDim, 3 units]. */
  kernel: Variable | null = null;
  /** [units, 3 units]. */
  recurrentKernel: Variable | null = null;
  /** [2, 3 units] when resetAfter, else [3 units]. */
  bias: Variable | null = null;
  #options: GRUCellOptions;

  constructor(units: number, options: GRUCellOptions = {}) {
    super(options);
    this.units = checkUnits(this.name, units);
    this.activation = checkActivation(this.name, options.activation) ?? tanh;
    this.recurrentActivation = checkActivation(this.name, options.recurrentActivation) ?? sigmoid;
    this.useBias = checkBoolean(this.name, "useBias", options.useBias, true);
    this.resetAfter = checkBoolean(this.name, "resetAfter", options.resetAfter, true);
    this.#options = options;
  }

  get stateSize(): readonly number[] {
    return [this.units];
  }

  get outputSize(): number {
    return this.units;
  }

  override build(inputShape: readonly number[]): void {
    const u = this.units, o = this.#options;
    this.kernel = this.addWeight("kernel", [inputShape[inputShape.length - 1], 3 * u], {
      initializer: o.kernelInitializer ?? glorotUniform,
    });
    this.recurrentKernel = this.addWeight("recurrent_kernel", [u, 3 * u], {
      initializer: o.recurrentInitializer ?? orthogonal(),
    });
    if (this.useBias) {
      this.bias = this.addWeight("bias", this.resetAfter ? [2, 3 * u] : [3 * u], {
        initializer: o.biasInitializer ?? zeros,
      });
    }
  }

  /** x kernel + the input bias: [..., 3 units]. */
  projectInputs(x: Tensor): Tensor {
    this.checkInputDim(x, this.kernel!.shape[0]);
    const bias = this.bias?.read();
    const inputBias = bias && this.resetAfter ? reshape(slice(bias, [0, 0], [1, -1]), [-1]) : bias;
    return denseLast(x, this.kernel!.read(), inputBias);
  }

  step(projected: Tensor, [h]: CellState, _training: boolean): CellOutput {
    const u = this.units, gate = this.recurrentActivation;
    const recurrent = this.recurrentKernel!.read();
    const [xz, xr, xh] = split(projected, 3, 1);
    let hh: Tensor;
    let z: Tensor;
    if (this.resetAfter) {
      const bias = this.bias?.read();
      const recurrentBias = bias ? reshape(slice(bias, [1, 0], [1, -1]), [-1]) : undefined;
      const [hz, hr, hc] = split(denseLast(h, recurrent, recurrentBias), 3, 1);
      z = gate(add(xz, hz));
      const r = gate(add(xr, hr));
      hh = this.activation(add(xh, multiply(r, hc)));
    } else {
      const [uzr, uh] = split(recurrent, [2 * u, u], 1);
      const [hz, hr] = split(denseLast(h, uzr), 2, 1);
      z = gate(add(xz, hz));
      const r = gate(add(xr, hr));
      hh = this.activation(add(xh, denseLast(multiply(r, h), uh)));
    }
    // h' = z h + (1 - z) hh, written as hh + z (h - hh): one product fewer.
    const h2 = add(hh, multiply(z, subtract(h, hh)));
    return [h2, [h2]];
  }
}
