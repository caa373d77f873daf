/**
 * The CPU backend's reductions, products, softmax, random fills, the layer epilogue and the
 * fused optimizer updates (csrc/kernels/reduce.c, matmul.c, softmax.c, random.c, bias.c,
 * optimizer.c).
 * @module
 */
import { type DType, dtypeCode, type TypedArray } from "../../dtype.ts";
import { check, native } from "../../native/lib.ts";
import { int64s } from "../../native/args.ts";
import { host, type Operand } from "./operand.ts";
import type { Backend } from "../backend.ts";

/**
 * Reduces x, walked as `shape` / `strides` (the kept dims first, `keepRank` of them, then
 * the reduced ones), into the dense `out`.
 */
export function reduceInto(
  op: string,
  code: number,
  x: Operand,
  shape: readonly number[],
  strides: readonly number[],
  keepRank: number,
  out: TypedArray,
): void {
  check(
    native.eager_reduce(
      code,
      dtypeCode(x.dtype),
      shape.length,
      int64s(0, shape),
      keepRank,
      out,
      host(x),
      x.offset,
      int64s(1, strides),
    ),
    op,
  );
}

/**
 * out [batch..., m, n] = a [batch..., m, k] . b [batch..., k, n], the batch dims walked
 * with each operand's `batchStrides`. NOTE: plain arguments, no records made per call: a
 * 64x64 product takes about 6 us in all.
 */
export const matmulInto: Backend<TypedArray>["matmul"] = (
  op,
  batch,
  m,
  n,
  k,
  a,
  aBatchStrides,
  b,
  bBatchStrides,
  out,
) => {
  check(
    native.eager_matmul(
      dtypeCode(a.t.dtype),
      batch.length,
      int64s(0, batch),
      m,
      n,
      k,
      out,
      host(a.t),
      a.t.offset,
      int64s(1, aBatchStrides),
      a.rs,
      a.cs,
      host(b.t),
      b.t.offset,
      int64s(2, bBatchStrides),
      b.rs,
      b.cs,
    ),
    op,
  );
};

/** softmax (or log-softmax) of each row of the dense [rows, cols] x into out. */
export function softmaxRows(
  op: string,
  x: Operand,
  rows: number,
  cols: number,
  log: boolean,
  out: TypedArray,
): void {
  check(
    native.eager_softmax(dtypeCode(x.dtype), rows, cols, out, host(x), x.offset, log ? 1 : 0),
    op,
  );
}

/** Fills out (`dtype`) with Philox draws of distribution `dist` (params a, b). */
export function randomFill(
  op: string,
  dist: number,
  dtype: DType,
  [key, counter]: readonly bigint[],
  [a, b]: readonly number[],
  out: TypedArray,
  n: number,
): void {
  check(native.eager_random(dist, dtypeCode(dtype), n, out, key, counter, a, b), op);
}

/** z [rows, cols] = activation(z + bias), in place (activation: an eager_activation code). */
export function biasActivationInPlace(
  op: string,
  z: Operand,
  rows: number,
  cols: number,
  bias: Operand,
  activation: number,
): void {
  check(
    native.eager_bias_activation(
      dtypeCode(z.dtype),
      rows,
      cols,
      host(z),
      host(bias),
      bias.offset,
      activation,
    ),
    op,
  );
}

/** Stands for the slots a rule does not have (the kernel reads none of them). */
const unused = new Float64Array(1);

/**
 * One fused optimizer update of `rule` over n elements: var and up to three slots, each
 * read from `slotIns` and written to `slotOuts` (the same storage for an update in place).
 */
export function fusedUpdateKernel(
  op: string,
  rule: number,
  dtype: DType,
  n: number,
  hyper: Float64Array,
  varOut: TypedArray,
  value: DenseView,
  grad: DenseView,
  slotOuts: readonly TypedArray[],
  slotIns: readonly DenseView[],
): void {
  const slotArrays = slotIns.map((s) => s.dataSync());
  check(
    native.eager_apply_update(
      rule,
      dtypeCode(dtype),
      n,
      hyper,
      varOut,
      value.dataSync(),
      grad.dataSync(),
      slotOuts[0] ?? unused,
      slotArrays[0] ?? unused,
      slotOuts[1] ?? unused,
      slotArrays[1] ?? unused,
      slotOuts[2] ?? unused,
      slotArrays[2] ?? unused,
    ),
    op,
  );
}

/** A CPU tensor's elements, dense (a view of its storage when it is dense, else a copy). */
interface DenseView {
  dataSync(): TypedArray;
}

/** The typed array of a dense operand from its first element. */
function from(x: Operand): TypedArray {
  const array = host(x);
  return x.offset === 0 ? array : array.subarray(x.offset);
}

/** One LSTM step over dense rows (csrc/kernels/lstm.c). */
export function lstmStepRows(
  op: string,
  rows: number,
  units: number,
  forgetBias: number,
  z: Operand,
  c: Operand,
  hOut: TypedArray,
  cOut: TypedArray,
): void {
  const dtype = dtypeCode(z.dtype);
  check(native.eager_lstm_step(dtype, rows, units, from(z), from(c), forgetBias, hOut, cOut), op);
}

/** The LSTM step's gradient over dense rows (csrc/kernels/lstm.c). */
export function lstmStepGradRows(
  op: string,
  rows: number,
  units: number,
  forgetBias: number,
  [z, c, dh, dcNext]: readonly [Operand, Operand, Operand, Operand],
  dzOut: TypedArray,
  dcOut: TypedArray,
): void {
  check(
    native.eager_lstm_step_grad(
      dtypeCode(z.dtype),
      rows,
      units,
      from(z),
      from(c),
      from(dh),
      from(dcNext),
      forgetBias,
      dzOut,
      dcOut,
    ),
    op,
  );
}

/** Sparse softmax cross-entropy's gradient over dense rows (csrc/kernels/softmax.c). */
export function sparseXentGradRows(
  op: string,
  rows: number,
  cols: number,
  logp: Operand,
  labels: Operand,
  dy: Operand,
  out: TypedArray,
): void {
  check(
    native.eager_sparse_xent_grad(
      dtypeCode(logp.dtype),
      dtypeCode(labels.dtype),
      rows,
      cols,
      from(logp),
      from(labels),
      from(dy),
      out,
    ),
    op,
  );
}

/** Batch normalisation over dense [outer, channels, inner] (csrc/kernels/batch_norm.c). */
export function batchNormRows(
  op: string,
  [outer, channels, inner]: readonly [number, number, number],
  epsilon: number,
  relu: boolean,
  [x, scale, offset]: readonly [Operand, Operand | null, Operand | null],
  [given, meanOut, varianceOut]: readonly [
    readonly [Operand, Operand] | null,
    TypedArray,
    TypedArray,
  ],
  yOut: TypedArray,
): void {
  const training = given === null;
  const mean = given ? from(given[0]) : meanOut;
  const variance = given ? from(given[1]) : varianceOut;
  check(
    native.eager_batch_norm(
      dtypeCode(x.dtype),
      outer,
      channels,
      inner,
      from(x),
      scale && from(scale),
      offset && from(offset),
      epsilon,
      training ? 1 : 0,
      relu ? 1 : 0,
      mean,
      variance,
      yOut,
    ),
    op,
  );
}

/** batchNormRows's gradient (csrc/kernels/batch_norm.c). */
export function batchNormGradRows(
  op: string,
  [outer, channels, inner]: readonly [number, number, number],
  epsilon: number,
  training: boolean,
  [x, dy, scale, mean, variance, y]: readonly [
    Operand,
    Operand,
    Operand | null,
    Operand,
    Operand,
    Operand | null,
  ],
  [dx, dscale, doffset]: readonly [TypedArray, TypedArray, TypedArray],
): void {
  check(
    native.eager_batch_norm_grad(
      dtypeCode(x.dtype),
      outer,
      channels,
      inner,
      from(x),
      from(dy),
      scale && from(scale),
      from(mean),
      from(variance),
      y && from(y),
      epsilon,
      training ? 1 : 0,
      dx,
      dscale,
      doffset,
    ),
    op,
  );
}
