/**
 * The elements of a strided view as a dense row-major array: the strided cast kernel,
 * without a Tensor, so that tensor.ts (dataSync) and ops/cast.ts (copyAs) share it and
 * tensor.ts imports no op module.
 * @module
 */
import { type DType, dtypeCode, type TypedArray } from "../dtype.ts";
import { check, native } from "../native/lib.ts";
import { int64s } from "../native/args.ts";
import { allocateOutput } from "../storage.ts";

/** A strided view of storage, as a Tensor is one. */
export interface StridedView {
  readonly data: TypedArray;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly size: number;
}

/** The elements of `view`, dense row-major, converted to `dtype`. */
export function denseElements(view: StridedView, dtype: DType, op: string): TypedArray {
  const out = allocateOutput(dtype, view.size, op);
  if (view.size > 0) {
    check(
      native.eager_cast(
        dtypeCode(view.dtype),
        dtypeCode(dtype),
        view.shape.length,
        int64s(0, view.shape),
        out,
        0,
        null,
        view.data,
        view.offset,
        int64s(1, view.strides),
      ),
      op,
    );
  }
  return out;
}
