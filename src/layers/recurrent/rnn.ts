/**
 * Unrolling a cell over time: `tf.nn.dynamicRnn` (TensorFlow 1's dynamic_rnn) and the
 * layers built on it, `RNN`, `LSTM` and `GRU` (Keras's).
 *
 * Inputs are [batch, time, features] (or [time, batch, features] with timeMajor). With
 * per-example `sequenceLength`, as dynamic_rnn: outputs at and past an example's length
 * are zero and its state stops changing there, so the final state is the state after its
 * last real step. Steps past the longest sequence are not computed at all.
 *
 * The input side of every step (x times the input kernel, plus the bias) is one matrix
 * product over the whole sequence (RNNCell.projectInputs); only the recurrent product
 * runs per step. Gradients flow through time by the tape, like any other ops, except for a
 * fused LSTMCell over full-length examples, whose recurrence is one recorded op
 * (src/ops/lstm.ts's lstmSequence: one product for the recurrent kernel's gradient).
 * @module
 */
import { describe, showShape } from "../../shape.ts";
import { Tensor, type TensorLike } from "../../tensor.ts";
import { toTensor } from "../../ops/convert.ts";
import { stack, unstack } from "../../ops/array.ts";
import { constant } from "../../ops/convert.ts";
import { zeros } from "../../ops/creation.ts";
import { where } from "../../ops/math.ts";
import { dropout } from "../../ops/random.ts";
import { lstmSequence } from "../../ops/lstm.ts";
import { device } from "../../device.ts";
import { isInteger } from "../../dtype.ts";
import { type ApplyInput, type ApplyOptions, withLayerName } from "../layer.ts";
import { Network } from "../network.ts";
import { type CellState, RNNCell } from "./cell.ts";
import { LSTMCell, type LSTMCellOptions } from "./lstm.ts";
import { GRUCell, type GRUCellOptions } from "./gru.ts";
import { adoptCell, StackedRNNCells } from "./stacked.ts";

/** Per-example lengths: an array, an Int32Array or an integer tensor on the CPU. */
export type SequenceLength = readonly number[] | Int32Array | Tensor;

/** Options of tf.nn.dynamicRnn. */
export interface DynamicRnnOptions {
  /** Lengths of the examples, each in [0, time]; default: all full length. */
  sequenceLength?: SequenceLength;
  /** The starting state (default: the cell's zero state). */
  initialState?: readonly TensorLike[];
  /** Inputs and outputs are [time, batch, ...] (default false: [batch, time, ...]). */
  timeMajor?: boolean;
  /** Training mode (dropout between stacked cells). */
  training?: boolean;
}

/**
 * Runs `cell` over the time steps of `inputs`; returns `[outputs, finalState]`, outputs
 * [batch, time, outputSize] (or time-major). See the module comment for sequence lengths.
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * const cell = new tf.layers.GRUCell(4);
 * const x = tf.ones([2, 5, 3]);
 * const [outputs, [h]] = tf.nn.dynamicRnn(cell, x, { sequenceLength: [5, 2] });
 * // outputs [2, 5, 4], zero for example 1 from step 2; h its state after step 1
 * ```
 */
export function dynamicRnn(
  cell: RNNCell,
  inputs: TensorLike,
  options: DynamicRnnOptions = {},
): [Tensor, Tensor[]] {
  if (!(cell instanceof RNNCell)) {
    throw new TypeError(
      `dynamicRnn: cell must be a recurrent cell (tf.layers.LSTMCell, GRUCell, StackedRNNCells), ` +
        `got ${describe(cell)}`,
    );
  }
  const run = unroll(cell, cell.name, inputs, options, true);
  return [run.outputs!, run.state];
}

interface Unrolled {
  /** All outputs, when kept. */
  outputs: Tensor | null;
  /** When outputs are not kept: each example's output at its last real step (zeros for
   * length 0). */
  last: Tensor;
  state: Tensor[];
}

function unroll(
  cell: RNNCell,
  op: string,
  inputs: TensorLike,
  options: DynamicRnnOptions,
  keepOutputs: boolean,
): Unrolled {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${op}: options must be an object`);
  }
  const timeMajor = options.timeMajor ?? false;
  const x = toTensor(op, inputs);
  if (x.rank !== 3) {
    throw new RangeError(
      `${op}: expected inputs of rank 3 ([${
        timeMajor ? "time, batch" : "batch, time"
      }, features]), got shape ${showShape(x.shape)}`,
    );
  }
  const [timeAxis, batchAxis] = timeMajor ? [0, 1] as const : [1, 0] as const;
  const steps = x.shape[timeAxis], batch = x.shape[batchAxis];
  if (batch === 0) {
    throw new RangeError(`${op}: empty batch (inputs of shape ${showShape(x.shape)})`);
  }
  if (steps === 0) {
    throw new RangeError(`${op}: no time steps (inputs of shape ${showShape(x.shape)})`);
  }
  cell.ensureBuilt([batch, x.shape[2]], x.dtype);
  let state: CellState = options.initialState === undefined
    ? device(x.device, () => cell.zeroState(batch, x.dtype))
    : options.initialState.map((s) => toTensor(op, s, x.dtype));
  cell.checkState(state, batch);
  // Each layer of a stack is unrolled by this function again, which reads the lengths.
  if (cell instanceof StackedRNNCells) {
    return unrollLayers(cell, op, x, options, state, keepOutputs);
  }
  const lengths = options.sequenceLength === undefined
    ? null
    : readLengths(op, options.sequenceLength, batch, steps);
  const longest = lengths ? Math.max(...lengths) : steps;
  const shortest = lengths ? Math.min(...lengths) : steps;
  const training = options.training ?? false;

  if (wholeSequence(cell) && shortest === steps) {
    const [outputs, h, c] = lstmSequence(
      cell.projectInputs(x),
      cell.recurrentKernel!.read(),
      state[0],
      state[1],
      cell.forgetBias,
      timeAxis,
    );
    return { outputs: keepOutputs ? outputs : null, last: h, state: [h, c] };
  }
  const projected = unstack(cell.projectInputs(x), timeAxis);
  const outputs: Tensor[] = [];
  let last: Tensor | null = null;
  for (let t = 0; t < longest; t++) {
    let [out, next] = cell.step(projected[t], state, training);
    if (t >= shortest) {
      const live = stepMask(x, lengths!, t), zero = zerosFor(out);
      next = next.map((s, i) => where(live, s, state[i]));
      out = where(live, out, zero);
      if (!keepOutputs) last = where(live, out, last ?? zero);
    } else if (!keepOutputs) last = out;
    state = next;
    if (keepOutputs) outputs.push(out);
  }
  if (keepOutputs) {
    const padding = steps > longest ? zerosLikeOutput(cell, state[0]) : null;
    while (outputs.length < steps) outputs.push(padding!);
  }
  return {
    outputs: keepOutputs ? stack(outputs, timeAxis) : null,
    last: last ?? zerosLikeOutput(cell, state[0]),
    state: [...state],
  };
}

/**
 * Stacked cells run layer by layer, each over the whole sequence: one input product per
 * layer and sequence instead of one per step, and dropout between layers on whole output
 * sequences. The values are those of stepping the stack (StackedRNNCells.step), since a
 * layer's step t depends only on the layers below at steps <= t; only the order in which
 * dropout masks are drawn differs.
 */
function unrollLayers(
  stack: StackedRNNCells,
  op: string,
  x: Tensor,
  options: DynamicRnnOptions,
  state: CellState,
  keepOutputs: boolean,
): Unrolled {
  const finals: Tensor[] = [];
  let input = x, at = 0, run: Unrolled | null = null;
  stack.cells.forEach((cell, i) => {
    const own = state.slice(at, at + cell.stateSize.length);
    at += own.length;
    const top = i === stack.cells.length - 1;
    run = unroll(cell, op, input, { ...options, initialState: own }, keepOutputs || !top);
    finals.push(...run.state);
    if (!top) {
      const outputs = run.outputs!;
      input = options.training && stack.dropout > 0 ? dropout(outputs, stack.dropout) : outputs;
    }
  });
  const { outputs, last } = run!;
  return { outputs, last, state: finals };
}

/**
 * Whether the cell's recurrence runs as one op over the sequence (tf.nn's lstmSequence): a
 * fused LSTMCell whose step is LSTMCell's own, over examples of full length (masked steps
 * keep the step-by-step path).
 */
function wholeSequence(cell: RNNCell): cell is LSTMCell {
  return cell instanceof LSTMCell && cell.fused && cell.step === LSTMCell.prototype.step;
}

function zerosFor(like: Tensor): Tensor {
  return device(like.device, () => zeros(like.shape, like.dtype));
}

function zerosLikeOutput(cell: RNNCell, like: Tensor): Tensor {
  return device(like.device, () => zeros([like.shape[0], cell.outputSize], like.dtype));
}

/** [batch, 1] bool: which examples are still within their length at step t. */
function stepMask(like: Tensor, lengths: number[], t: number): Tensor {
  const live = Uint8Array.from(lengths, (n) => (t < n ? 1 : 0));
  return device(like.device, () => constant(live, "bool", { shape: [lengths.length, 1] }));
}

function readLengths(op: string, given: SequenceLength, batch: number, steps: number): number[] {
  let values: number[];
  if (given instanceof Tensor) {
    if (!isInteger(given.dtype) || given.rank !== 1) {
      throw new TypeError(
        `${op}: sequenceLength must be a rank-1 integer tensor, got ${given.dtype} of shape ${
          showShape(given.shape)
        }`,
      );
    }
    values = Array.from(given.dataSync() as ArrayLike<number | bigint>, Number);
  } else if (Array.isArray(given) || given instanceof Int32Array) {
    values = Array.from(given as ArrayLike<number>);
  } else {
    throw new TypeError(
      `${op}: sequenceLength must be an array, an Int32Array or an integer tensor, got ${
        describe(given)
      }`,
    );
  }
  if (values.length !== batch) {
    throw new RangeError(
      `${op}: sequenceLength has ${values.length} entries for a batch of ${batch}`,
    );
  }
  values.forEach((n, i) => {
    if (!Number.isInteger(n) || n < 0 || n > steps) {
      throw new RangeError(
        `${op}: sequenceLength[${i}] is ${n}, outside [0, ${steps}] (the time dimension)`,
      );
    }
  });
  return values;
}

/** Options of the RNN layer. */
export interface RNNOptions {
  /** Output the whole sequence (default false: each example's last real output). */
  returnSequences?: boolean;
  /** Inputs (and sequence outputs) are [time, batch, ...] (default false). */
  timeMajor?: boolean;
  /** The layer's name (default rnn, lstm, gru, made unique). */
  name?: string;
}

/** Options of RNN.apply. */
export interface RNNApplyOptions extends ApplyOptions {
  /** Lengths of the examples (see tf.nn.dynamicRnn). */
  sequenceLength?: SequenceLength;
  /** The starting state (default zeros). */
  initialState?: readonly TensorLike[];
}

/**
 * A recurrent layer: a cell (or a list of cells, stacked) unrolled over time, Keras's
 * RNN. `apply(x, { training, sequenceLength, initialState })` returns the outputs;
 * `applyWithState` also returns the final state (for truncated backpropagation through
 * time, feed it back as the next batch's `initialState`).
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * const rnn = new tf.layers.RNN(new tf.layers.LSTMCell(8));
 * rnn.apply(tf.ones([4, 10, 3]), { sequenceLength: [10, 3, 7, 1] }); // shape [4, 8]
 * ```
 */
export class RNN extends Network {
  readonly cell: RNNCell;
  readonly returnSequences: boolean;
  readonly timeMajor: boolean;
  #pending: RNNApplyOptions = {};
  #state: Tensor[] = [];

  constructor(cell: RNNCell | readonly RNNCell[], options: RNNOptions = {}) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`RNN: options must be an object, got ${describe(options)}`);
    }
    super(options.name === undefined ? {} : { name: options.name });
    this.cell = Array.isArray(cell) ? new StackedRNNCells(cell) : cell as RNNCell;
    this.returnSequences = options.returnSequences ?? false;
    this.timeMajor = options.timeMajor ?? false;
    this.trackLayer(this.cell);
    adoptCell(this, this.cell);
  }

  override apply(inputs: ApplyInput<Tensor>, options: RNNApplyOptions = {}): Tensor {
    return this.applyWithState(inputs, options)[0];
  }

  /** apply, returning `[output, finalState]`. */
  applyWithState(inputs: ApplyInput<Tensor>, options: RNNApplyOptions = {}): [Tensor, Tensor[]] {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`${this.cell.name}: apply options must be an object`);
    }
    const { sequenceLength, initialState, ...rest } = options;
    this.#pending = { sequenceLength, initialState };
    try {
      const out = super.apply(inputs, rest);
      return [out, this.#state];
    } finally {
      this.#pending = {};
      this.#state = [];
    }
  }

  call(x: Tensor, training: boolean): Tensor {
    let run: Unrolled;
    try {
      run = unroll(this.cell, this.name, x, {
        ...this.#pending,
        timeMajor: this.timeMajor,
        training,
      }, this.returnSequences);
    } catch (error) {
      throw withLayerName(this.name, error);
    }
    this.#state = run.state;
    return this.returnSequences ? run.outputs! : run.last;
  }
}

/** Options of the LSTM layer: the cell's and the RNN's. */
export interface LSTMOptions extends Omit<LSTMCellOptions, "name">, RNNOptions {}

/**
 * Keras's LSTM layer: an RNN of one LSTMCell, variables `lstm/lstm_cell/kernel`, ...
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * new tf.layers.LSTM(16, { returnSequences: true }).apply(tf.ones([2, 5, 3])); // [2, 5, 16]
 * ```
 */
export class LSTM extends RNN {
  constructor(units: number, options: LSTMOptions = {}) {
    const { name, returnSequences, timeMajor, ...cell } = options;
    super(new LSTMCell(units, { ...cell, name: "lstm_cell" }), {
      name,
      returnSequences,
      timeMajor,
    });
  }
}

/** Options of the GRU layer: the cell's and the RNN's. */
export interface GRUOptions extends Omit<GRUCellOptions, "name">, RNNOptions {}

/**
 * Keras's GRU layer: an RNN of one GRUCell, variables `gru/gru_cell/kernel`, ...
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * new tf.layers.GRU(16).apply(tf.ones([2, 5, 3])); // [2, 16]
 * ```
 */
export class GRU extends RNN {
  constructor(units: number, options: GRUOptions = {}) {
    const { name, returnSequences, timeMajor, ...cell } = options;
    super(new GRUCell(units, { ...cell, name: "gru_cell" }), {
      name,
      returnSequences,
      timeMajor,
    });
  }
}
