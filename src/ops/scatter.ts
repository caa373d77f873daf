/**
 * oneHot and the scatter-adds behind the gradients of gather and gatherNd (scatterNd,
 * unsortedSegmentSum). As in TensorFlow, these do not raise on some bad indices: oneHot
 * gives an all-off row and unsortedSegmentSum drops the entry.
 *
 * Gradients (with recorded ops, so they differentiate again): scatterNd's w.r.t.
 * updates is gatherNd of dy; unsortedSegmentSum's w.r.t. data gathers dy at the ids,
 * with zeros for dropped ids. Indices, and oneHot (integer input), get none.
 * @module
 */
import { checkDType, type DType, dtypeCode } from "../dtype.ts";
import { check, native } from "../native/lib.ts";
import { int64s } from "../native/args.ts";
import { checkRank, checkShape, checkSize, normalizeAxis, showShape, sizeOf } from "../shape.ts";
import { allocate } from "../storage.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { active, record1 } from "../tape.ts";
import { contiguous } from "./cast.ts";
import { toTensor } from "./convert.ts";
import { zeros } from "./creation.ts";
import {
  checkNdIndices,
  checkScatterDType,
  type IndexArray,
  indexTensor,
  nonNegativeInt,
  positionTensor,
} from "./index_checks.ts";
import { gather, gatherNd } from "./indexing.ts";
import { where } from "./math.ts";
import { reshape } from "./views.ts";

// ---- oneHot ----------------------------------------------------------------------------

/** Options of {@link oneHot}. */
export interface OneHotOptions {
  /** The value at the index (converted to `dtype`). */
  onValue?: number | boolean;
  /** The value elsewhere (converted to `dtype`). */
  offValue?: number | boolean;
  /** Where the new depth dim goes in the output; -1 (default) appends it. */
  axis?: number;
  /** Output dtype. */
  dtype?: DType;
}

/**
 * One-hot encoding (tf.one_hot): a new dim of size `depth` holding `onValue` at each
 * index and `offValue` elsewhere. An index outside [0, depth) gives an all-off row, as
 * in TensorFlow.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.oneHot([0, 2], 3); // [[1, 0, 0], [0, 0, 1]]
 * tf.oneHot([0, 2], 3, { axis: 0, dtype: "int32" }); // [[1, 0], [0, 0], [0, 1]]
 * ```
 */
export function oneHot(indices: TensorLike, depth: number, options: OneHotOptions = {}): Tensor {
  const op = "oneHot";
  const idx = indexTensor(op, indices);
  nonNegativeInt(op, depth, "depth");
  const dtype = checkDType(op, options.dtype ?? "float32");
  const onValue = Number(options.onValue ?? 1), offValue = Number(options.offValue ?? 0);
  const axis = normalizeAxis(op, options.axis ?? -1, idx.rank + 1);
  const shape = [...idx.shape.slice(0, axis), depth, ...idx.shape.slice(axis)];
  checkRank(op, shape.length);
  checkSize(op, shape);
  const out = allocate(dtype, sizeOf(shape), op);
  if (out.length > 0) {
    check(
      native.eager_one_hot(
        dtypeCode(dtype),
        dtypeCode(idx.dtype),
        sizeOf(idx.shape.slice(0, axis)),
        depth,
        sizeOf(idx.shape.slice(axis)),
        out,
        idx.data,
        idx.offset,
        onValue,
        offValue,
      ),
      op,
    );
  }
  return new Tensor(out, dtype, shape);
}

// ---- scatter-adds ----------------------------------------------------------------------

/**
 * A zero tensor of `shape` with `updates` added at `indices` (tf.scatter_nd): each row
 * `indices[..., :]` of length depth addresses a slice `out[i0, ..., i(depth-1)]`, and
 * `updates` has shape `indices.shape[:-1] + shape[depth:]`. Duplicate indices add up.
 * Float32, float64, int32 and int64; the result does not depend on the thread count.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.scatterNd([[1], [3], [1]], [9, 10, 11], [4]); // [0, 20, 0, 10]
 * ```
 */
export function scatterNd(indices: TensorLike, updates: TensorLike, shape: number[]): Tensor {
  const op = "scatterNd";
  const idx = indexTensor(op, indices);
  if (idx.rank < 1) throw new RangeError(`${op}: indices must have rank >= 1, got a scalar`);
  const outShape = checkShape(op, shape);
  const source = toTensor(op, updates);
  const u = contiguous(source, op);
  checkScatterDType(op, "updates", u.dtype);
  const depth = idx.shape[idx.rank - 1];
  if (depth > outShape.length) {
    throw new RangeError(
      `${op}: indices' last dim (${depth}) exceeds the rank of shape ${showShape(outShape)}`,
    );
  }
  const want = [...idx.shape.slice(0, -1), ...outShape.slice(depth)];
  if (want.length !== u.rank || want.some((d, i) => d !== u.shape[i])) {
    throw new RangeError(
      `${op}: updates shape ${showShape(u.shape)} must be ${showShape(want)} ` +
        `(indices.shape[:-1] + shape[${depth}:]) for indices ${showShape(idx.shape)} and ` +
        `shape ${showShape(outShape)}`,
    );
  }
  checkNdIndices(op, idx, outShape, "shape");
  const out = allocate(u.dtype, sizeOf(outShape), op);
  if (out.length > 0 && u.size > 0) {
    check(
      native.eager_scatter_nd(
        dtypeCode(u.dtype),
        dtypeCode(idx.dtype),
        outShape.length,
        int64s(0, outShape),
        sizeOf(idx.shape.slice(0, -1)),
        depth,
        out,
        u.data,
        u.offset,
        idx.data,
        idx.offset,
      ),
      op,
    );
  }
  const result = new Tensor(out, u.dtype, outShape);
  if (active.length !== 0) {
    record1(op, [idx, source], result, (dy) => [undefined, () => gatherNd(dy, idx)]);
  }
  return result;
}

/**
 * Sums of the slices of `data` that share a segment id (tf.math.unsorted_segment_sum):
 * `out[s, ...] = sum of data[i..., ...] where segmentIds[i...] == s`. `segmentIds`'
 * shape is a prefix of `data`'s; the result has shape
 * `[numSegments] + data.shape[segmentIds.rank:]`. Ids outside [0, numSegments) are
 * dropped (TensorFlow drops negative ids; its CPU kernel rejects ids >= numSegments).
 * Float32, float64, int32 and int64; the result does not depend on the thread count.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.unsortedSegmentSum([1, 2, 3, 4], [0, 1, 0, 1], 2); // [4, 6]
 * ```
 */
export function unsortedSegmentSum(
  data: TensorLike,
  segmentIds: TensorLike,
  numSegments: number,
): Tensor {
  const op = "unsortedSegmentSum";
  const source = toTensor(op, data);
  const d = contiguous(source, op);
  checkScatterDType(op, "data", d.dtype);
  const ids = indexTensor(op, segmentIds, "segmentIds");
  nonNegativeInt(op, numSegments, "numSegments");
  if (ids.rank > d.rank || ids.shape.some((n, i) => n !== d.shape[i])) {
    throw new RangeError(
      `${op}: segmentIds shape ${showShape(ids.shape)} must be a prefix of data shape ` +
        showShape(d.shape),
    );
  }
  const shape = [numSegments, ...d.shape.slice(ids.rank)];
  checkRank(op, shape.length);
  checkSize(op, shape);
  const out = allocate(d.dtype, sizeOf(shape), op);
  if (out.length > 0 && d.size > 0) {
    check(
      native.eager_unsorted_segment_sum(
        dtypeCode(d.dtype),
        dtypeCode(ids.dtype),
        ids.size,
        sizeOf(d.shape.slice(ids.rank)),
        numSegments,
        out,
        d.data,
        d.offset,
        ids.data,
        ids.offset,
      ),
      op,
    );
  }
  const result = new Tensor(out, d.dtype, shape);
  if (active.length !== 0) {
    record1(op, [source, ids], result, (dy) => [
      () => gatherSegments(dy, ids, source.shape),
      undefined,
    ]);
  }
  return result;
}

/**
 * dy (shape [numSegments, ...]) gathered at each segment id, with zeros where the id
 * was dropped (outside [0, numSegments)): the gradient of unsortedSegmentSum.
 */
function gatherSegments(dy: Tensor, ids: Tensor, dataShape: readonly number[]): Tensor {
  const numSegments = dy.shape[0];
  if (numSegments === 0) return zeros(dataShape, dy.dtype);
  const src = ids.dataSync() as IndexArray;
  const kept = new Uint8Array(src.length);
  const clipped = new Array<number>(src.length);
  let dropped = false;
  for (let i = 0; i < src.length; i++) {
    const id = Number(src[i]);
    kept[i] = id >= 0 && id < numSegments ? 1 : 0;
    clipped[i] = kept[i] ? id : 0;
    if (!kept[i]) dropped = true;
  }
  if (!dropped) return gather(dy, ids);
  const picked = gather(dy, reshape(positionTensor(clipped, numSegments), ids.shape));
  const ones = new Array<number>(dataShape.length - ids.rank).fill(1);
  return where(new Tensor(kept, "bool", [...ids.shape, ...ones]), picked, 0);
}
