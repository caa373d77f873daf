/**
 * Calls into the elementwise kernels with their fast paths chosen: dense operands of
 * one shape (or one side a single value) go to the flat entry points, which need no
 * shape arrays; anything else goes through the strided, broadcasting ones. Inputs here
 * are already checked and of one dtype; the public ops live in math.ts.
 * @module
 */
import { type DType, dtypeCode } from "../../dtype.ts";
import { check, native } from "../../native/lib.ts";
import { Binary } from "../../native/codes.ts";
import { int64s } from "../../native/args.ts";
import { broadcastShapes, broadcastStrides, checkSize, sameShape, sizeOf } from "../../shape.ts";
import { allocateOutput } from "./storage.ts";
import { Tensor } from "../../tensor.ts";

/** out = op(x), elementwise, written as `outDtype`. */
export function unaryKernel(op: string, code: number, x: Tensor, outDtype: DType): Tensor {
  const out = allocateOutput(outDtype, x.size, op);
  const dtype = dtypeCode(x.dtype);
  const status = x.contiguous
    ? native.eager_unary_flat(code, dtype, x.size, out, x.data, x.offset)
    : native.eager_unary(
      code,
      dtype,
      x.rank,
      int64s(0, x.shape),
      out,
      x.data,
      x.offset,
      int64s(1, x.strides),
    );
  check(status, op);
  return new Tensor(out, outDtype, x.shape);
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
  x: Tensor,
  y: Tensor,
  outDtype: DType,
): Tensor {
  const dtype = dtypeCode(x.dtype);
  if (x.contiguous && y.contiguous) {
    let shape: readonly number[] | undefined;
    let xStep = 1, yStep = 1;
    if (sameShape(x.shape, y.shape)) shape = x.shape;
    else if (y.size === 1 && y.rank <= x.rank) (shape = x.shape), (yStep = 0);
    else if (x.size === 1 && x.rank <= y.rank) (shape = y.shape), (xStep = 0);
    if (shape) {
      const n = xStep ? x.size : y.size;
      const out = allocateOutput(outDtype, n, op);
      const scalar = n === 1 && outDtype === x.dtype ? SCALAR_RULES[code] : undefined;
      if (scalar && (outDtype === "float32" || outDtype === "float64")) {
        out[0] = scalar(x.data[x.offset] as number, y.data[y.offset] as number);
        return new Tensor(out, outDtype, shape);
      }
      check(
        native.eager_binary_flat(
          code,
          dtype,
          n,
          out,
          x.data,
          x.offset,
          xStep,
          y.data,
          y.offset,
          yStep,
        ),
        op,
      );
      return new Tensor(out, outDtype, shape);
    }
  }
  const shape = broadcastShapes(op, x.shape, y.shape);
  checkSize(op, shape);
  const out = allocateOutput(outDtype, sizeOf(shape), op);
  check(
    native.eager_binary(
      code,
      dtype,
      shape.length,
      int64s(0, shape),
      out,
      x.data,
      x.offset,
      int64s(1, broadcastStrides(x.shape, x.strides, shape)),
      y.data,
      y.offset,
      int64s(2, broadcastStrides(y.shape, y.strides, shape)),
    ),
    op,
  );
  return new Tensor(out, outDtype, shape);
}

/** out = cond ? a : b with three-way broadcasting; a and b of one dtype. */
export function whereKernel(op: string, cond: Tensor, a: Tensor, b: Tensor): Tensor {
  const shape = broadcastShapes(op, broadcastShapes(op, cond.shape, a.shape), b.shape);
  checkSize(op, shape);
  const out = allocateOutput(a.dtype, sizeOf(shape), op);
  check(
    native.eager_where(
      dtypeCode(a.dtype),
      shape.length,
      int64s(0, shape),
      out,
      cond.data,
      cond.offset,
      int64s(1, broadcastStrides(cond.shape, cond.strides, shape)),
      a.data,
      a.offset,
      int64s(2, broadcastStrides(a.shape, a.strides, shape)),
      b.data,
      b.offset,
      int64s(3, broadcastStrides(b.shape, b.strides, shape)),
    ),
    op,
  );
  return new Tensor(out, a.dtype, shape);
}
