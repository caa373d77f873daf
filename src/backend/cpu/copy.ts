/**
 * The CPU backend's strided copies (the strided cast kernel): a view's elements as a dense
 * row-major array (tensor.ts's dataSync, ops/cast.ts's copyAs) and a view copied into a
 * strided region of another array (concat, pad, tile). No Tensor here, so that tensor.ts
 * can use it.
 * @module
 */
import { type DType, dtypeCode, type TypedArray } from "../../dtype.ts";
import { check, native } from "../../native/lib.ts";
import { int64s } from "../../native/args.ts";
import { allocateOutput } from "./storage.ts";
import { host, type StridedView } from "./operand.ts";

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
        host(view),
        view.offset,
        int64s(1, view.strides),
      ),
      op,
    );
  }
  return out;
}

/**
 * Copies `src` (any layout) into the strided region (src's shape, `strides`, `offset`) of
 * `out`, converting to `outDtype`.
 */
export function copyStrided(
  op: string,
  out: TypedArray,
  outDtype: DType,
  strides: readonly number[],
  offset: number,
  src: StridedView,
): void {
  if (src.size === 0) return;
  check(
    native.eager_cast(
      dtypeCode(src.dtype),
      dtypeCode(outDtype),
      src.shape.length,
      int64s(0, src.shape),
      out,
      offset,
      int64s(1, strides),
      host(src),
      src.offset,
      int64s(2, src.strides),
    ),
    op,
  );
}
