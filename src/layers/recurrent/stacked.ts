/**
 * StackedRNNCells (Keras; TensorFlow 1's MultiRNNCell): cells run one above the other in
 * one time step, each feeding its output to the next, with optional dropout between
 * layers in training (TensorFlow 1's DropoutWrapper on the outputs of all but the top
 * cell; a fresh mask every step). The state is the cells' states concatenated in order.
 * @module
 */
import { describe } from "../../shape.ts";
import type { Tensor } from "../../tensor.ts";
import type { DType } from "../../dtype.ts";
import type { Variable } from "../../variable.ts";
import { dropout } from "../../ops/random.ts";
import { type AnyLayer, type LayerOptions, STATE } from "../layer.ts";
import { type CellOutput, type CellState, RNNCell } from "./cell.ts";

/** Options of StackedRNNCells. */
export interface StackedRNNCellsOptions extends LayerOptions {
  /** Dropout rate on each cell's output except the top one's, in training (default 0). */
  dropout?: number;
}

/**
 * Several cells as one. Variables are named under the stack:
 * `<rnn>/stacked_rnn_cells/lstm_cell/kernel`, `.../lstm_cell_1/kernel`, ...
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * const cells = new tf.layers.StackedRNNCells(
 *   [new tf.layers.LSTMCell(8), new tf.layers.LSTMCell(8)],
 *   { dropout: 0.5 },
 * );
 * const rnn = new tf.layers.RNN(cells, { returnSequences: true });
 * rnn.apply(tf.ones([2, 5, 3]), { training: true }); // shape [2, 5, 8]
 * ```
 */
export class StackedRNNCells extends RNNCell {
  readonly cells: readonly RNNCell[];
  readonly dropout: number;

  constructor(cells: readonly RNNCell[], options: StackedRNNCellsOptions = {}) {
    super(options);
    if (!Array.isArray(cells) || cells.length === 0 || !cells.every((c) => c instanceof RNNCell)) {
      throw new TypeError(`${this.name}: expected a non-empty array of recurrent cells`);
    }
    if (new Set(cells).size !== cells.length) {
      throw new Error(`${this.name}: a cell appears twice; each layer needs its own cell`);
    }
    const rate = options.dropout ?? 0;
    if (typeof rate !== "number" || !(rate >= 0 && rate < 1)) {
      throw new RangeError(`${this.name}: dropout must be in [0, 1), got ${describe(rate)}`);
    }
    this.cells = [...cells];
    this.dropout = rate;
    for (const cell of cells) adoptCell(this, cell);
  }

  get stateSize(): readonly number[] {
    return this.cells.flatMap((c) => c.stateSize);
  }

  get outputSize(): number {
    return this.cells[this.cells.length - 1].outputSize;
  }

  override build(inputShape: readonly number[]): void {
    const [batch] = inputShape;
    let width = inputShape[inputShape.length - 1];
    for (const cell of this.cells) {
      cell.ensureBuilt([batch, width], this.dtype as DType);
      width = cell.outputSize;
    }
  }

  projectInputs(x: Tensor): Tensor {
    return this.cells[0].projectInputs(x);
  }

  step(projected: Tensor, states: CellState, training: boolean): CellOutput {
    const next: Tensor[] = [];
    let at = 0, output = projected;
    this.cells.forEach((cell, i) => {
      const own = states.slice(at, at + cell.stateSize.length);
      at += own.length;
      const input = i === 0 ? projected : cell.projectInputs(output);
      const [out, state] = cell.step(input, own, training);
      next.push(...state);
      const last = i === this.cells.length - 1;
      output = training && !last && this.dropout > 0 ? dropout(out, this.dropout) : out;
    });
    return [output, next];
  }

  override get trainableVariables(): Variable[] {
    return [...super.trainableVariables, ...this.cells.flatMap((c) => c.trainableVariables)];
  }

  override get nonTrainableVariables(): Variable[] {
    return [...super.nonTrainableVariables, ...this.cells.flatMap((c) => c.nonTrainableVariables)];
  }
}

/**
 * Makes `parent` the owner of `cell` for naming, as Network.trackLayer does: the cell's
 * variables go under the parent's scope. A cell already named under another owner keeps
 * its names.
 */
export function adoptCell(parent: AnyLayer, cell: RNNCell): void {
  const s = cell[STATE];
  if (s.scope === null && s.parent === null) s.parent = parent;
}
