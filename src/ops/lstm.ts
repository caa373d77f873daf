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
import { active, record, TapeRecord, withTape } from "../tape.ts";
import { backprop } from "../backprop.ts";
import { contiguous } from "./cast.ts";
import { toTensor } from "./convert.ts";
import { add, multiply, sigmoid, subtract, tanh } from "./math.ts";
import { concat, split } from "./array.ts";

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
    record(op, inputs, [dz, dc], ([ddz, ddc]) => {
      // The vector-Jacobian product of the step's gradient, by a tape over its formulas.
      const tape = new TapeRecord(false);
      for (const t of inputs) tape.watchTensor(t);
      const grads = withTape(tape, () => lstmStepGradComposite(zt, ct, dht, dct, forgetBias));
      const vjp = backprop(tape.nodes, grads, [ddz, ddc], inputs.map((t) => t.id));
      return inputs.map((t) => vjp.get(t.id));
    });
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
