/**
 * Calls into the elementwise kernels with their fast paths chosen: dense operands of
 * one shape (or one side a single value) go to the flat entry points, which need no
 * shape arrays; anything else goes through the strided, broadcasting ones. Inputs here
 * are already checked and of one dtype, the output allocated; the public ops live in
 * src/ops/math.ts.
 * @module
 */
import { type DType, dtypeCode, type TypedArray } from "../../dtype.ts";
import { check, native } from "../../native/lib.ts";
import { Binary } from "../../native/codes.ts";
import { int64s } from "../../native/args.ts";
import { broadcastStrides } from "../../shape.ts";
import { host, type Operand, type StridedView } from "./operand.ts";
import { allocateOutput } from "./storage.ts";

/** out = op(x), elementwise, written as `outDtype`. */
export function unaryKernel(
  op: string,
  code: number,
  x: StridedView & { readonly contiguous: boolean },
  outDtype: DType,
  into?: TypedArray,
): TypedArray {
  const out = into ?? allocateOutput(outDtype, x.size, op);
  if (!x.contiguous) return unaryStrided(op, code, x, out);
  check(native.eager_unary_flat(code, dtypeCode(x.dtype), x.size, out, host(x), x.offset), op);
  return out;
}

/**
 * unaryKernel's walk over a strided x. NOTE: a function of its own, as is binaryStrided, to
 * keep the dense path's bytecode small: V8 inlines by bytecode size, and a chain of 100
 * one-element ops ran 10.0-12.2 us instead of 12.1-13.2 with V8's inlining budget raised
 * (--max-inlined-bytecode-size-cumulative=3000), against 9.8-11.3 before the backend seam.
 */
function unaryStrided(op: string, code: number, x: StridedView, out: TypedArray): TypedArray {
  check(
    native.eager_unary(
      code,
      dtypeCode(x.dtype),
      x.shape.length,
      int64s(0, x.shape),
      out,
      host(x),
      x.offset,
      int64s(1, x.strides),
    ),
    op,
  );
  return out;
}

/** out = op(x, y) with broadcasting, x and y of one dtype, written as `outDtype`. */
/**
 * One-element float add, subtract, multiply and divide in JS, skipping the FFI call (a
 * third of a small op's time). NOTE: the results are identical to the C kernels': JS
 * computes in double and the store to a Float32Array rounds again, and rounding a double
 * result of +, -, *, / to float is innocuous (53 >= 2 * 24 + 2 bits).
 */
const SCALAR_RULES: Partial<Record<number, (a: number, b: number) => number>> = {
  [Binary.ADD]: (a, b) => a + b,
  [Binary.SUB]: (a, b) => a - b,
  [Binary.MUL]: (a, b) => a * b,
  [Binary.DIV]: (a, b) => a / b,
};

export function binaryKernel(
  op: string,
  code: number,
  x: StridedView & { readonly contiguous: boolean },
  y: StridedView & { readonly contiguous: boolean },
  shape: readonly number[],
  n: number,
  outDtype: DType,
  into?: TypedArray,
): TypedArray {
  const out = into ?? allocateOutput(outDtype, n, op);
  // Dense operands that each span the output (the same elements in the same order: their
  // shapes differ at most by 1s) or hold one value take the flat path, without shape arrays.
  const xStep = x.size === n ? 1 : 0, yStep = y.size === n ? 1 : 0;
  if (x.contiguous && y.contiguous && (xStep || x.size === 1) && (yStep || y.size === 1)) {
    const scalar = n === 1 && outDtype === x.dtype ? SCALAR_RULES[code] : undefined;
    if (scalar && (outDtype === "float32" || outDtype === "float64")) {
      out[0] = scalar(host(x)[x.offset] as number, host(y)[y.offset] as number);
      return out;
    }
    return binaryFlat(op, code, x, y, n, out, xStep, yStep);
  }
  return binaryStrided(op, code, x, y, shape, out);
}

/** binaryKernel's call for dense operands (each spanning the output, or one value). */
function binaryFlat(
  op: string,
  code: number,
  x: Operand,
  y: Operand,
  n: number,
  out: TypedArray,
  xStep: number,
  yStep: number,
): TypedArray {
  check(
    native.eager_binary_flat(
      code,
      dtypeCode(x.dtype),
      n,
      out,
      host(x),
      x.offset,
      xStep,
      host(y),
      y.offset,
      yStep,
    ),
    op,
  );
  return out;
}

/** binaryKernel's walk over strided or broadcast operands. */
function binaryStrided(
  op: string,
  code: number,
  x: StridedView,
  y: StridedView,
  shape: readonly number[],
  out: TypedArray,
): TypedArray {
  check(
    native.eager_binary(
      code,
      dtypeCode(x.dtype),
      shape.length,
      int64s(0, shape),
      out,
      host(x),
      x.offset,
      int64s(1, broadcastStrides(x.shape, x.strides, shape)),
      host(y),
      y.offset,
      int64s(2, broadcastStrides(y.shape, y.strides, shape)),
    ),
    op,
  );
  return out;
}

/** out = cond ? a : b with three-way broadcasting; a and b of one dtype. */
export function whereKernel(
  op: string,
  cond: StridedView,
  a: StridedView,
  b: StridedView,
  shape: readonly number[],
  out: TypedArray,
): void {
  check(
    native.eager_where(
      dtypeCode(a.dtype),
      shape.length,
      int64s(0, shape),
      out,
      host(cond),
      cond.offset,
      int64s(1, broadcastStrides(cond.shape, cond.strides, shape)),
      host(a),
      a.offset,
      int64s(2, broadcastStrides(a.shape, a.strides, shape)),
      host(b),
      b.offset,
      int64s(3, broadcastStrides(b.shape, b.strides, shape)),
    ),
    op,
  );
}

/** The address of a typed array's first element, cached per array (graphs reuse theirs). */
const addresses = new WeakMap<ArrayBufferView, bigint>();

function addressOf(array: TypedArray): bigint {
  let a = addresses.get(array);
  if (a === undefined) {
    a = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(array as BufferSource)));
    addresses.set(array, a);
  }
  return a;
}

/**
 * A chain of elementwise steps in one pass (eager_fused_elementwise): `program` as eager.h
 * lays it out, `inputs` dense operands of n elements or of one (repeated), `outputs` the
 * storage each output slot writes (n elements each).
 */
export function fusedElementwiseKernel(
  op: string,
  dtype: DType,
  n: number,
  program: Int32Array,
  inputs: readonly (StridedView & { readonly contiguous: boolean })[],
  outputs: readonly TypedArray[],
  outputSlots: Int32Array,
): void {
  // NOTE: the address arrays are made once per program (a graph calls it again and again).
  let scratch = fusedScratch.get(program);
  if (scratch === undefined) {
    scratch = {
      inputs: new BigUint64Array(inputs.length),
      steps: new Int32Array(inputs.length),
      outputs: new BigUint64Array(outputs.length),
    };
    fusedScratch.set(program, scratch);
  }
  const size = host(inputs[0]).BYTES_PER_ELEMENT;
  for (let i = 0; i < inputs.length; i++) {
    const x = inputs[i];
    const base = addressOf(host(x));
    scratch.inputs[i] = x.offset === 0 ? base : base + BigInt(x.offset * size);
    scratch.steps[i] = x.size === 1 && n !== 1 ? 0 : 1;
  }
  for (let k = 0; k < outputs.length; k++) scratch.outputs[k] = addressOf(outputs[k]);
  check(
    native.eager_fused_elementwise(
      dtypeCode(dtype),
      n,
      program.length / 4,
      program,
      inputs.length,
      scratch.inputs,
      scratch.steps,
      scratch.outputs,
      outputSlots,
    ),
    op,
  );
}

const fusedScratch = new WeakMap<
  Int32Array,
  { inputs: BigUint64Array; steps: Int32Array; outputs: BigUint64Array }
>();
