/**
 * Copies through the strided-copy kernel (eager_cast): dtype casts and making a
 * strided view dense. Both keep the tensor's shape.
 * @module
 */
import { type DType, isFloat } from "../dtype.ts";
import { active, record1 } from "../tape.ts";
import { Tensor } from "../tensor.ts";
import { type Backend, backendOf } from "../backend/backend.ts";
import { checkSize, denseStrides, sizeOf } from "../shape.ts";

/** Copies `x` into a new dense tensor of `dtype` (see eager_cast for the rounding rules). */
export function copyAs(x: Tensor, dtype: DType, op: string): Tensor {
  const backend = x.backend;
  const out = backend.allocateOutput(dtype, x.size, op);
  if (x.size > 0) backend.copyStrided(op, out, dtype, denseStrides(x.shape), 0, x);
  return new Tensor(out, dtype, x.shape);
}

/** `x` converted to `dtype`; `x` itself when it already is. */
export function castTensor(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  const out = copyAs(x, dtype, "cast");
  // Only float -> float casts pass a gradient (record() ignores integer outputs).
  if (active.length !== 0 && isFloat(x.dtype)) {
    record1("cast", [x], out, (dy) => [() => castTensor(dy, x.dtype)]);
  }
  return out;
}

/** `x` when dense row-major, else a dense copy. Kernels without stride support call it. */
export function contiguous(x: Tensor, op = "contiguous"): Tensor {
  return x.contiguous ? x : copyAs(x, x.dtype, op);
}

/**
 * Copies `src` (any layout) into the strided region (shape of src, `strides`, `offset`)
 * of `out`, converting to `outDtype`. Used to assemble concat, pad and tile outputs.
 */
export function copyInto(
  op: string,
  out: Tensor,
  strides: readonly number[],
  offset: number,
  src: Tensor,
): void {
  backendOf(op, out, src).copyStrided(op, out.storage, out.dtype, strides, offset, src);
}

/** Zeros of `shape` on `backend`, for an op to copy its parts into. */
export function emptyTensor(
  op: string,
  dtype: DType,
  shape: readonly number[],
  backend: Backend,
): Tensor {
  checkSize(op, shape);
  return new Tensor(backend.allocate(dtype, sizeOf(shape), op), dtype, shape);
}
