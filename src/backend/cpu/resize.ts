/**
 * The CPU backend's image resampling (csrc/kernels/resize.c): one separable weighted-sum
 * kernel behind every resize method and its gradient.
 * @module
 */
import { type DType, dtypeCode, type TypedArray } from "../../dtype.ts";
import { check, native } from "../../native/lib.ts";
import { int64s } from "../../native/args.ts";
import type { ResampleTaps } from "../backend.ts";
import { type DenseOperand, host } from "./operand.ts";

/** out [batch, outH, outW, c] = the separable resampling of dense x by the row / column taps. */
export function resample2dRows(
  op: string,
  dtype: DType,
  dims: readonly number[],
  rows: ResampleTaps,
  cols: ResampleTaps,
  x: DenseOperand,
  out: TypedArray,
): void {
  check(
    native.eager_resample2d(
      dtypeCode(dtype),
      int64s(0, dims),
      rows.start,
      rows.index,
      rows.weight,
      cols.start,
      cols.index,
      cols.weight,
      out,
      host(x),
      x.offset,
    ),
    op,
  );
}
