/**
 * The fused LSTM step (TensorFlow's LSTMBlockCell, in Keras's gate order i, f, c, o):
 * `lstmStep(z, c)` -> `[h, c']` from the pre-activations z [batch, 4 units] and the cell
 * state c [batch, units], one kernel instead of nine elementwise ops; its gradient is the
 * op `lstmStepGrad` (one kernel instead of about twenty), whose own gradient is written
 * with ops over the step's formulas, so higher derivatives work.
 *
 *   c' = sigmoid(z_f + forgetBias) c + sigmoid(z_i) tanh(z_c);  h = sigmoid(z_o) tanh(c')
 *
 * The forward values equal the same ops run one by one (lstmStepComposite) bit for bit on
 * the CPU; the gradient agrees to rounding (tested).
 * @module
 */
import { isFloat } from "../dtype.ts";
import { describe, showShape } from "../shape.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { backendOf, backendOfAll } from "../backend/backend.ts";
import { active, record, TapeRecord, withoutRecording, withTape } from "../tape.ts";
import { backprop } from "../backprop.ts";
import { contiguous } from "./cast.ts";
import { toTensor } from "./convert.ts";
import { add, multiply, sigmoid, subtract, tanh } from "./math.ts";
import { concat, split, stack, unstack } from "./array.ts";
import { matmul } from "./matmul.ts";
import { reshape } from "./views.ts";

/** The forget bias, checked to be a finite number. */
function checkForgetBias(op: string, forgetBias: unknown): number {
  if (typeof forgetBias !== "number" || !Number.isFinite(forgetBias)) {
    throw new TypeError(`${op}: forgetBias must be a finite number, got ${describe(forgetBias)}`);
  }
  return forgetBias;
}

/** Checks z [batch, 4 units] and c [batch, units] of one float dtype; returns [batch, units]. */
function checkStep(op: string, z: Tensor, c: Tensor): [number, number] {
  if (!isFloat(z.dtype) || z.dtype !== c.dtype) {
    throw new TypeError(
      `${op}: z and c must be float tensors of one dtype, got ${z.dtype}, ${c.dtype}`,
    );
  }
  const [rows, width] = z.shape, units = width / 4;
  if (
    z.rank !== 2 || c.rank !== 2 || !Number.isInteger(units) || c.shape[0] !== rows ||
    c.shape[1] !== units
  ) {
    throw new RangeError(
      `${op}: expected z [batch, 4 units] and c [batch, units], got ${showShape(z.shape)} and ${
        showShape(c.shape)
      }`,
    );
  }
  return [rows, units];
}

/**
 * One LSTM step: `[h, c']` (see the module comment).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const [h, c] = tf.nn.lstmStep(tf.zeros([2, 12]), tf.ones([2, 3])); // h 0.5 tanh(0.5)
 * ```
 */
export function lstmStep(z: TensorLike, c: TensorLike, forgetBias = 0): [Tensor, Tensor] {
  const op = "lstmStep";
  checkForgetBias(op, forgetBias);
  const zt = toTensor(op, z), ct = toTensor(op, c, zt.dtype);
  const [rows, units] = checkStep(op, zt, ct);
  const backend = backendOf(op, zt, ct);
  const zd = contiguous(zt, op), cd = contiguous(ct, op);
  const n = rows * units;
  const hOut = backend.allocateOutput(zt.dtype, n, op);
  const cOut = backend.allocateOutput(zt.dtype, n, op);
  backend.lstmStep(op, rows, units, forgetBias, zd, cd, hOut, cOut);
  const h = new Tensor(hOut, zt.dtype, [rows, units]);
  const c2 = new Tensor(cOut, zt.dtype, [rows, units]);
  if (active.length !== 0) {
    record(op, [zt, ct], [h, c2], ([dh, dc], needs) => {
      if (!needs[0] && !needs[1]) return [undefined, undefined];
      return lstmStepGrad(zt, ct, dh, dc, forgetBias);
    });
  }
  return [h, c2];
}

/**
 * The gradient of lstmStep: `[dz, dc]` from the upstream `dh` and `dcNext`.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const [dz, dc] = tf.nn.lstmStepGrad(tf.zeros([1, 4]), tf.ones([1, 1]), tf.ones([1, 1]), tf.ones([1, 1]));
 * ```
 */
export function lstmStepGrad(
  z: TensorLike,
  c: TensorLike,
  dh: TensorLike,
  dcNext: TensorLike,
  forgetBias = 0,
): [Tensor, Tensor] {
  const op = "lstmStepGrad";
  checkForgetBias(op, forgetBias);
  const zt = toTensor(op, z), ct = toTensor(op, c, zt.dtype);
  const dht = toTensor(op, dh, zt.dtype), dct = toTensor(op, dcNext, zt.dtype);
  const [rows, units] = checkStep(op, zt, ct);
  for (const [name, t] of [["dh", dht], ["dcNext", dct]] as const) {
    if (t.dtype !== zt.dtype || t.rank !== 2 || t.shape[0] !== rows || t.shape[1] !== units) {
      throw new RangeError(
        `${op}: ${name} must be ${zt.dtype} [${rows}, ${units}], got ${t.dtype} ${
          showShape(t.shape)
        }`,
      );
    }
  }
  const backend = backendOfAll(op, [zt, ct, dht, dct]);
  const dense = [zt, ct, dht, dct].map((t) => contiguous(t, op)) as [
    Tensor,
    Tensor,
    Tensor,
    Tensor,
  ];
  const dzOut = backend.allocateOutput(zt.dtype, rows * units * 4, op);
  const dcOut = backend.allocateOutput(zt.dtype, rows * units, op);
  backend.lstmStepGrad(op, rows, units, forgetBias, dense, dzOut, dcOut);
  const dz = new Tensor(dzOut, zt.dtype, [rows, 4 * units]);
  const dc = new Tensor(dcOut, zt.dtype, [rows, units]);
  if (active.length !== 0) {
    const inputs = [zt, ct, dht, dct];
    // The vector-Jacobian product of the step's gradient, by a tape over its formulas.
    record(
      op,
      inputs,
      [dz, dc],
      (ddys) =>
        recordedVjp(inputs, ddys, () => lstmStepGradComposite(zt, ct, dht, dct, forgetBias)),
    );
  }
  return [dz, dc];
}

/** lstmStep as nine elementwise ops (custom activations, and the reference in tests). */
export function lstmStepComposite(
  z: Tensor,
  c: Tensor,
  forgetBias = 0,
  activation: (x: Tensor) => Tensor = tanh,
  gate: (x: Tensor) => Tensor = sigmoid,
): [Tensor, Tensor] {
  const [zi, zf, zg, zo] = split(z, 4, 1);
  const f = gate(forgetBias === 0 ? zf : add(zf, forgetBias));
  const c2 = add(multiply(f, c), multiply(gate(zi), activation(zg)));
  return [multiply(gate(zo), activation(c2)), c2];
}

/** lstmStepGrad's formulas as ops (its own gradient is taken through these). */
function lstmStepGradComposite(
  z: Tensor,
  c: Tensor,
  dh: Tensor,
  dcNext: Tensor,
  forgetBias: number,
): [Tensor, Tensor] {
  const [zi, zf, zg, zo] = split(z, 4, 1);
  const i = sigmoid(zi), f = sigmoid(add(zf, forgetBias)), g = tanh(zg), o = sigmoid(zo);
  const tc = tanh(add(multiply(f, c), multiply(i, g)));
  const dcell = add(dcNext, multiply(multiply(dh, o), subtract(1, multiply(tc, tc))));
  const sigmoidGrad = (y: Tensor) => multiply(y, subtract(1, y));
  const dz = [
    multiply(multiply(dcell, g), sigmoidGrad(i)),
    multiply(multiply(dcell, c), sigmoidGrad(f)),
    multiply(multiply(dcell, i), subtract(1, multiply(g, g))),
    multiply(multiply(dh, tc), sigmoidGrad(o)),
  ];
  return [concat(dz, 1), multiply(dcell, f)];
}

/**
 * An LSTM layer's recurrence over a whole sequence, recorded as one op (the recurrent
 * layers' path for a fused LSTMCell when every example has the same length):
 * `[outputs, h, c]` from `projected` (each step's x kernel + bias, [time, batch, 4 units],
 * or [batch, time, 4 units] when `timeAxis` is 1), the recurrent kernel [units, 4 units] and
 * the starting state h0, c0 [batch, units]. The forward values are those of stepping the
 * cell (the same ops in the same order, bit for bit).
 *
 * The backward pass walks time backwards with one product per step (dz W^T) and then forms
 * the recurrent kernel's gradient as one product over all steps (H^T dZ, [units, time x
 * batch] by [time x batch, 4 units]) instead of one small product per step summed on the
 * tape: at batch 20 and 200 units a step's h^T dz is a 3.2M multiply-add product that
 * threads poorly. Its sums therefore differ from the step-by-step tape's in rounding.
 *
 * NOTE: the forward's intermediates are made without recording, so when a tape records
 * the backward pass itself (a gradient of a gradient) the backward recomputes the steps as
 * recorded ops and differentiates those instead, as lstmStepGrad does.
 */
export function lstmSequence(
  projected: Tensor,
  recurrentKernel: Tensor,
  h0: Tensor,
  c0: Tensor,
  forgetBias: number,
  timeAxis: 0 | 1,
): [Tensor, Tensor, Tensor] {
  const inputs = [projected, recurrentKernel, h0, c0];
  const steps = () => lstmSequenceSteps(projected, recurrentKernel, h0, c0, forgetBias, timeAxis);
  const run = withoutRecording(steps);
  const results = sequenceResults(run, timeAxis);
  if (active.length !== 0) {
    record("lstmSequence", inputs, results, (dys, needs) => {
      if (active.length !== 0) {
        return recordedVjp(inputs, dys, () => sequenceResults(steps(), timeAxis));
      }
      return lstmSequenceGrad(run, recurrentKernel, dys, needs, forgetBias, timeAxis);
    });
  }
  return results;
}

/** What the backward pass of lstmSequence needs: every step's z, and the states around it. */
interface SequenceRun {
  zs: Tensor[];
  /** h0 then each step's h. */
  hs: Tensor[];
  /** c0 then each step's c. */
  cs: Tensor[];
}

/** lstmSequence's results from a run: every step's h stacked along time, the last h and c. */
function sequenceResults(run: SequenceRun, timeAxis: 0 | 1): [Tensor, Tensor, Tensor] {
  return [stack(run.hs.slice(1), timeAxis), run.hs.at(-1)!, run.cs.at(-1)!];
}

function lstmSequenceSteps(
  projected: Tensor,
  kernel: Tensor,
  h0: Tensor,
  c0: Tensor,
  forgetBias: number,
  timeAxis: 0 | 1,
): SequenceRun {
  const run: SequenceRun = { zs: [], hs: [h0], cs: [c0] };
  let h = h0, c = c0;
  for (const x of unstack(projected, timeAxis)) {
    const z = add(x, matmul(h, kernel));
    [h, c] = lstmStep(z, c, forgetBias);
    run.zs.push(z);
    run.hs.push(h);
    run.cs.push(c);
  }
  return run;
}

function lstmSequenceGrad(
  run: SequenceRun,
  kernel: Tensor,
  [dOutputs, dhLast, dcLast]: readonly Tensor[],
  needs: readonly boolean[],
  forgetBias: number,
  timeAxis: 0 | 1,
): (Tensor | undefined)[] {
  const steps = run.zs.length, units = kernel.shape[0];
  const dOut = unstack(dOutputs, timeAxis);
  const dzs: Tensor[] = new Array(steps);
  let dh = dhLast, dc = dcLast;
  for (let t = steps - 1; t >= 0; t--) {
    [dzs[t], dc] = lstmStepGrad(run.zs[t], run.cs[t], add(dOut[t], dh), dc, forgetBias);
    if (t > 0 || needs[2]) dh = matmul(dzs[t], kernel, { transposeB: true });
  }
  const dZ = stack(dzs, timeAxis);
  const dKernel = needs[1]
    ? matmul(
      reshape(stack(run.hs.slice(0, steps), timeAxis), [-1, units]),
      reshape(dZ, [-1, 4 * units]),
      { transposeA: true },
    )
    : undefined;
  return [needs[0] ? dZ : undefined, dKernel, needs[2] ? dh : undefined, needs[3] ? dc : undefined];
}

/**
 * The vector-Jacobian product of `inputs` -> `fn(inputs)` for the upstream `dys`, by a
 * private tape over fn's recorded ops (the active tapes record them too, so higher
 * derivatives follow).
 */
function recordedVjp(
  inputs: readonly Tensor[],
  dys: readonly Tensor[],
  fn: () => Tensor[],
): (Tensor | undefined)[] {
  const tape = new TapeRecord(false);
  for (const t of inputs) tape.watchTensor(t);
  const outputs = withTape(tape, fn);
  const vjp = backprop(tape.nodes, outputs, dys, inputs.map((t) => t.id));
  return inputs.map((t) => vjp.get(t.id));
}
