/**
 * The CPU backend's indexing kernels (csrc/kernels/index.c): gather, gatherNd, scatterNd,
 * the unsorted segment sum and oneHot. The index kernels check every index and return the
 * flat position of the first bad one, or -1; the op builds the message from it.
 * @module
 */
import { type DType, dtypeCode, type TypedArray } from "../../dtype.ts";
import { check, native } from "../../native/lib.ts";
import { int64s } from "../../native/args.ts";
import { Status } from "../../native/codes.ts";
import { host, type Operand } from "./operand.ts";

/** Where the index kernels report the first bad index. */
const firstBad = new BigInt64Array(1);

/** -1 for EAGER_OK, the bad position for EAGER_ERR_INDEX; other statuses throw. */
function badIndex(status: number, op: string): number {
  if (status === Status.ERR_INDEX) return Number(firstBad[0]);
  check(status, op);
  return -1;
}

/** out[b, o, j, :] = params[b, o, idx[b, j], :] (params [batch, outer, axisLen, inner]). */
export function gatherRows(
  op: string,
  params: Operand,
  idx: Operand,
  [batch, outer, axisLen, inner, picks]: readonly number[],
  out: TypedArray,
): number {
  const status = native.eager_gather(
    dtypeCode(params.dtype),
    dtypeCode(idx.dtype),
    batch,
    outer,
    axisLen,
    inner,
    picks,
    out,
    host(params),
    params.offset,
    host(idx),
    idx.offset,
    firstBad,
  );
  return badIndex(status, op);
}

/** out[i, :] = params[idx[i, 0..depth), ...] for index rows [rows, depth]. */
export function gatherNdRows(
  op: string,
  params: Operand,
  paramsShape: readonly number[],
  idx: Operand,
  rows: number,
  depth: number,
  out: TypedArray,
): number {
  const status = native.eager_gather_nd(
    dtypeCode(params.dtype),
    dtypeCode(idx.dtype),
    paramsShape.length,
    int64s(0, paramsShape),
    rows,
    depth,
    out,
    host(params),
    params.offset,
    host(idx),
    idx.offset,
    firstBad,
  );
  return badIndex(status, op);
}

/** out (zeroed, `outShape`) += updates[i, :] at out[idx[i, 0..depth), ...]. */
export function scatterNdRows(
  op: string,
  updates: Operand,
  idx: Operand,
  outShape: readonly number[],
  rows: number,
  depth: number,
  out: TypedArray,
): number {
  const status = native.eager_scatter_nd(
    dtypeCode(updates.dtype),
    dtypeCode(idx.dtype),
    outShape.length,
    int64s(0, outShape),
    rows,
    depth,
    out,
    host(updates),
    updates.offset,
    host(idx),
    idx.offset,
    firstBad,
  );
  return badIndex(status, op);
}

/** out[s, :] (zeroed) = the sum of data[i, :] over ids[i] == s; other ids are dropped. */
export function segmentSumRows(
  op: string,
  data: Operand,
  ids: Operand & { readonly size: number },
  inner: number,
  numSegments: number,
  out: TypedArray,
): void {
  check(
    native.eager_unsorted_segment_sum(
      dtypeCode(data.dtype),
      dtypeCode(ids.dtype),
      ids.size,
      inner,
      numSegments,
      out,
      host(data),
      data.offset,
      host(ids),
      ids.offset,
    ),
    op,
  );
}

/** out[o, d, i] = idx[o, i] == d ? on : off, out of `dtype` [outer, depth, inner]. */
export function oneHotRows(
  op: string,
  dtype: DType,
  idx: Operand,
  [outer, depth, inner]: readonly number[],
  [on, off]: readonly number[],
  out: TypedArray,
): void {
  check(
    native.eager_one_hot(
      dtypeCode(dtype),
      dtypeCode(idx.dtype),
      outer,
      depth,
      inner,
      out,
      host(idx),
      idx.offset,
      on,
      off,
    ),
    op,
  );
}
