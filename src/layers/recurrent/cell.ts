/**
 * The recurrent-cell base class: a layer that maps one time step `[x, states]` to
 * `[output, newStates]`, as Keras's cells and TensorFlow 1's tf.nn.rnn_cell do.
 *
 * A step is split in two so an RNN can batch the input side over all time steps:
 * `projectInputs(x)` (a product with the input kernel, done once for the whole sequence)
 * and `step(projected, states)` (the recurrent part, once per step). `call` is both.
 * @module
 */
import { describe, showShape } from "../../shape.ts";
import type { Tensor, TensorLike } from "../../tensor.ts";
import type { DType } from "../../dtype.ts";
import { toTensor } from "../../ops/convert.ts";
import { zeros } from "../../ops/creation.ts";
import { add } from "../../ops/math.ts";
import { matmul } from "../../ops/matmul.ts";
import { reshape } from "../../ops/views.ts";
import { type ApplyInput, Layer } from "../layer.ts";

/** A cell's state: one tensor per entry of stateSize ([h, c] for LSTM, [h] for GRU). */
export type CellState = readonly Tensor[];

/** A cell's input: the step's input [batch, features] and the state. */
export type CellInput = readonly [Tensor, CellState];

/** A cell's result: the step's output [batch, outputSize] and the new state. */
export type CellOutput = [Tensor, Tensor[]];

/** What a cell's apply accepts: tensor-likes for the input and each state tensor. */
export type CellInputLike = readonly [TensorLike, readonly TensorLike[]];

/**
 * Base class of recurrent cells. Subclasses give `stateSize` and `outputSize`, create
 * their weights in `build([batch, inputDim])`, and implement `projectInputs` and `step`.
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * const cell = new tf.layers.LSTMCell(4);
 * const x = tf.ones([2, 3]);
 * const [output, [h, c]] = cell.apply([x, cell.zeroState(2)]);
 * ```
 */
export abstract class RNNCell extends Layer<CellInput, CellOutput> {
  /** Width of each state tensor, in order. */
  abstract get stateSize(): readonly number[];

  /** Width of the output. */
  abstract get outputSize(): number;

  /**
   * The input side of a step for inputs [..., inputDim], any number of leading dims:
   * computed once for all time steps by an RNN. Call after the cell is built.
   */
  abstract projectInputs(x: Tensor): Tensor;

  /** One step from projected inputs [batch, *] and the state. */
  abstract step(projected: Tensor, states: CellState, training: boolean): CellOutput;

  call([x, states]: CellInput, training: boolean): CellOutput {
    this.checkState(states, x.shape[0]);
    return this.step(this.projectInputs(x), states, training);
  }

  /** Builds the cell for step inputs of this shape ([batch, inputDim]) unless built. */
  ensureBuilt(inputShape: readonly number[], dtype: DType): void {
    this.buildFor(inputShape, dtype);
  }

  /** A zero state for `batchSize` examples, on the device of the current tf.device scope. */
  zeroState(batchSize: number, dtype: DType = this.dtype ?? "float32"): Tensor[] {
    if (!Number.isInteger(batchSize) || batchSize < 0) {
      throw new TypeError(
        `${this.name}: batchSize must be a non-negative integer, got ${describe(batchSize)}`,
      );
    }
    return this.stateSize.map((width) => zeros([batchSize, width], dtype));
  }

  /** Throws a clear error unless `states` fits this cell for `batch` examples. */
  checkState(states: CellState, batch: number): void {
    const sizes = this.stateSize;
    if (!Array.isArray(states) || states.length !== sizes.length) {
      throw new TypeError(
        `${this.name}: expected a state of ${sizes.length} tensor(s) of widths ${
          showShape(sizes)
        }, got ${Array.isArray(states) ? `${states.length} tensor(s)` : describe(states)}`,
      );
    }
    states.forEach((s, i) => {
      if (s.rank !== 2 || s.shape[0] !== batch || s.shape[1] !== sizes[i]) {
        throw new RangeError(
          `${this.name}: state ${i} must have shape ${showShape([batch, sizes[i]])}, got ${
            showShape(s.shape)
          }`,
        );
      }
    });
  }

  protected override prepareInputs(inputs: ApplyInput<CellInput>): [CellInput, Tensor] {
    const op = this.name;
    if (!Array.isArray(inputs) || inputs.length !== 2 || !Array.isArray(inputs[1])) {
      throw new TypeError(`${op}: apply expects [inputs, states] with states an array`);
    }
    const x = toTensor(op, inputs[0] as TensorLike);
    if (x.rank !== 2) {
      throw new RangeError(
        `${op}: a cell's input must be [batch, features], got shape ${showShape(x.shape)}`,
      );
    }
    const states = (inputs[1] as readonly TensorLike[]).map((s) => toTensor(op, s, x.dtype));
    return [[x, states], x];
  }

  /** The input dimension the cell was built for, checked against x. */
  protected checkInputDim(x: Tensor, inputDim: number): void {
    if (x.shape[x.rank - 1] !== inputDim) {
      throw new RangeError(
        `${this.name}: expected inputs with last dimension ${inputDim}, got shape ${
          showShape(x.shape)
        }`,
      );
    }
  }
}

/** x [..., k] times w [k, n] for any number of leading dims, plus an optional bias [n]. */
export function denseLast(x: Tensor, w: Tensor, bias?: Tensor): Tensor {
  const k = w.shape[0], n = w.shape[1];
  const flat = x.rank === 2 ? x : reshape(x, [x.size / k || 0, k]);
  const y = bias === undefined ? matmul(flat, w) : add(matmul(flat, w), bias);
  return x.rank === 2 ? y : reshape(y, [...x.shape.slice(0, -1), n]);
}
