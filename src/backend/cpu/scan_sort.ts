/**
 * The CPU backend's scan, sort and segment kernels (csrc/kernels/scan.c, sort.c,
 * segment.c). Operands are dense from their offsets; the ops checked every shape.
 * @module
 */
import { type DType, dtypeCode, type TypedArray } from "../../dtype.ts";
import { check, native } from "../../native/lib.ts";
import { host, type Operand } from "./operand.ts";

/** out [outer, n, inner] = the scan `code` (eager_scan_op) of dense x along n. */
export function scanInto(
  op: string,
  code: number,
  x: Operand,
  [outer, n, inner]: readonly number[],
  [exclusive, reverse]: readonly boolean[],
  out: TypedArray,
): void {
  check(
    native.eager_scan(
      code,
      dtypeCode(x.dtype),
      outer,
      n,
      inner,
      exclusive ? 1 : 0,
      reverse ? 1 : 0,
      out,
      host(x),
      x.offset,
    ),
    op,
  );
}

/** A stable sort of each row of dense x [rows, n] into values and / or int32 indices. */
export function sortRows(
  op: string,
  x: Operand,
  [rows, n]: readonly number[],
  descending: boolean,
  values: TypedArray | null,
  indices: TypedArray | null,
): void {
  check(
    native.eager_sort(
      dtypeCode(x.dtype),
      rows,
      n,
      descending ? 1 : 0,
      values,
      indices,
      host(x),
      x.offset,
    ),
    op,
  );
}

/** The k largest of each row of dense x [rows, n], largest first, and their positions. */
export function topKRows(
  op: string,
  x: Operand,
  [rows, n, k]: readonly number[],
  values: TypedArray,
  indices: TypedArray,
): void {
  check(
    native.eager_top_k(dtypeCode(x.dtype), rows, n, k, values, indices, host(x), x.offset),
    op,
  );
}

/** out [rows, m] = insertion points of values [rows, m] in the sorted rows [rows, n]. */
export function searchSortedRows(
  op: string,
  sorted: Operand,
  values: Operand,
  [rows, n, m]: readonly number[],
  right: boolean,
  outDtype: DType,
  out: TypedArray,
): void {
  check(
    native.eager_search_sorted(
      dtypeCode(sorted.dtype),
      dtypeCode(outDtype),
      rows,
      n,
      m,
      right ? 1 : 0,
      out,
      host(sorted),
      sorted.offset,
      host(values),
      values.offset,
    ),
    op,
  );
}

/** out [numSegments, inner] = the max, min or product (an eager_reduce_op) per segment id. */
export function segmentReduceRows(
  op: string,
  code: number,
  data: Operand,
  ids: Operand,
  [n, inner, numSegments]: readonly number[],
  emptyZero: boolean,
  out: TypedArray,
): void {
  check(
    native.eager_segment_reduce(
      code,
      dtypeCode(data.dtype),
      dtypeCode(ids.dtype),
      n,
      inner,
      numSegments,
      emptyZero ? 1 : 0,
      out,
      host(data),
      data.offset,
      host(ids),
      ids.offset,
    ),
    op,
  );
}
