/**
 * gather and gatherNd, and the scatter-adds behind their gradients (scatterNd,
 * unsortedSegmentSum), in one module because each pair differentiates into the other:
 * gather's gradient is a segment sum of dy, the segment sum's a gather of dy; gatherNd's a
 * scatter, the scatter's a gatherNd. The rules use recorded ops only, so higher derivatives
 * exist. Index tensors are int32 or int64; JS arrays become int32, and float indices are an
 * error (see index_checks.ts). Gradients flow to `params` / `updates` / `data`; indices get
 * none, duplicate indices add up.
 *
 * As in TensorFlow, the scatter-adds do not raise on some bad indices: unsortedSegmentSum
 * drops an out-of-range entry, and its gradient gives zeros for dropped ids.
 * @module
 */
import { backendOf } from "../backend/backend.ts";
import { checkRank, checkShape, checkSize, normalizeAxis, showShape, sizeOf } from "../shape.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { active, record1 } from "../tape.ts";
import { castTensor, contiguous } from "./cast.ts";
import { toTensor } from "./convert.ts";
import { range, zeros, zerosLike } from "./creation.ts";
import { concat } from "./array.ts";
import {
  checkScatterDType,
  gatherIndexError,
  indexTensor,
  ndIndexError,
  nonNegativeInt,
} from "./index_checks.ts";
import { add, greaterEqual, less, logicalAnd, multiply, where } from "./math.ts";
import { broadcastTo, reshape, transpose } from "./views.ts";

// ---- gather ----------------------------------------------------------------------------

/** Options of {@link gather}. */
export interface GatherOptions {
  /** The params axis to index (negative counts from the end); defaults to `batchDims`. */
  axis?: number;
  /** Leading dims shared by params and indices (negative counts from indices' rank). */
  batchDims?: number;
}

/**
 * Slices of `params` along `axis` picked by `indices` (tf.gather). The result has shape
 * `params.shape[:axis] + indices.shape[batchDims:] + params.shape[axis + 1:]`. With
 * `batchDims = b` the first b dims of params and indices are matched pairwise, as in
 * TensorFlow. An index outside [0, params.shape[axis]) is an error.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.gather([10, 20, 30], [2, 0]); // [30, 10]
 * tf.gather([[1, 2], [3, 4]], [1], { axis: -1 }); // [[2], [4]]
 * tf.gather([[1, 2], [3, 4]], [[1], [0]], { batchDims: 1 }); // [[2], [3]]
 * ```
 */
export function gather(
  params: TensorLike,
  indices: TensorLike,
  options: GatherOptions = {},
): Tensor {
  return gatherAs("gather", "indices", params, indices, options);
}

/**
 * gather for an op built on it: errors name `op` and call the indices `what`
 * (sparseSoftmaxCrossEntropyWithLogits's "labels").
 */
export function gatherAs(
  op: string,
  what: string,
  params: TensorLike,
  indices: TensorLike,
  options: GatherOptions = {},
): Tensor {
  const source = toTensor(op, params);
  const p = contiguous(source, op);
  const idx = indexTensor(op, indices, what, p.backend);
  let batchDims = options.batchDims ?? 0;
  if (!Number.isInteger(batchDims)) {
    throw new TypeError(`${op}: batchDims must be an integer, got ${String(batchDims)}`);
  }
  if (batchDims < 0) batchDims += idx.rank;
  if (batchDims < 0 || batchDims > idx.rank) {
    throw new RangeError(
      `${op}: batchDims ${options.batchDims} is out of range for indices of rank ${idx.rank}`,
    );
  }
  if (p.rank === 0) throw new RangeError(`${op}: params must have rank >= 1, got a scalar`);
  const axis = normalizeAxis(op, options.axis ?? batchDims, p.rank);
  if (batchDims > axis) {
    throw new RangeError(`${op}: batchDims (${batchDims}) must be <= axis (${axis})`);
  }
  for (let d = 0; d < batchDims; d++) {
    if (p.shape[d] !== idx.shape[d]) {
      throw new RangeError(
        `${op}: params.shape[${d}] = ${p.shape[d]} must equal indices.shape[${d}] = ` +
          `${idx.shape[d]} (batchDims ${batchDims}): params ${showShape(p.shape)}, indices ` +
          showShape(idx.shape),
      );
    }
  }
  const shape = [
    ...p.shape.slice(0, axis),
    ...idx.shape.slice(batchDims),
    ...p.shape.slice(axis + 1),
  ];
  checkRank(op, shape.length);
  checkSize(op, shape);
  const axisLen = p.shape[axis];
  const backend = backendOf(op, p, idx);
  const out = backend.allocate(p.dtype, sizeOf(shape), op);
  // Called for an empty output too: the kernel checks every index all the same.
  const bad = backend.gather(op, p, idx, [
    sizeOf(p.shape.slice(0, batchDims)),
    sizeOf(p.shape.slice(batchDims, axis)),
    axisLen,
    sizeOf(p.shape.slice(axis + 1)),
    sizeOf(idx.shape.slice(batchDims)),
  ], out);
  if (bad >= 0) throw gatherIndexError(op, what, idx, bad, axisLen);
  const result = new Tensor(out, p.dtype, shape);
  if (active.length !== 0) {
    record1(op, [source, idx], result, (dy) => [
      () => gatherGrad(dy, source.shape, idx, batchDims, axis),
      undefined,
    ]);
  }
  return result;
}

/**
 * The gradient of gather w.r.t. params (TensorFlow's GatherV2 gradient): dy, seen as
 * [batch, outer, picks, inner], is segment-summed over its (batch, pick) rows into the
 * (batch, index) rows of params seen as [batch, outer, n, inner].
 */
function gatherGrad(
  dy: Tensor,
  shape: readonly number[],
  idx: Tensor,
  batchDims: number,
  axis: number,
): Tensor {
  const batch = sizeOf(shape.slice(0, batchDims));
  const outer = sizeOf(shape.slice(batchDims, axis));
  const n = shape[axis];
  const inner = sizeOf(shape.slice(axis + 1));
  const picks = sizeOf(idx.shape.slice(batchDims));
  let rows = reshape(dy, [batch, outer, picks, inner]);
  if (outer !== 1) rows = transpose(rows, [0, 2, 1, 3]);
  const summed = unsortedSegmentSum(
    reshape(rows, [batch * picks, outer * inner]),
    batchSegmentIds(idx, batch, n),
    batch * n,
  );
  let grad = reshape(summed, [batch, n, outer, inner]);
  if (outer !== 1) grad = transpose(grad, [0, 2, 1, 3]);
  return reshape(grad, shape);
}

/** Flat ids `b * n + indices[b, j]` of the rows of params seen as [batch * n, ...]. */
function batchSegmentIds(idx: Tensor, batch: number, n: number): Tensor {
  if (batch === 1) return reshape(idx, [idx.size]);
  const t = batch * n > 2 ** 31 - 1 ? castTensor(idx, "int64") : idx;
  const firsts = reshape(multiply(range(0, batch, 1, t.dtype), n), [batch, 1]); // never read here
  return reshape(add(reshape(t, [batch, t.size / batch]), firsts), [t.size]);
}

// ---- gatherNd --------------------------------------------------------------------------

/** Options of {@link gatherNd}. */
export interface GatherNdOptions {
  /** Leading dims shared by params and indices. */
  batchDims?: number;
}

/**
 * Slices of `params` addressed by the last dim of `indices` (tf.gather_nd): each row
 * `indices[..., :]` of length depth picks `params[i0, ..., i(depth-1)]`, so the result
 * has shape `indices.shape[:-1] + params.shape[batchDims + depth:]`. With
 * `batchDims = b` the first b dims of params and indices are matched pairwise.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.gatherNd([[1, 2], [3, 4]], [[1, 0], [0, 1]]); // [3, 2]
 * tf.gatherNd([[1, 2], [3, 4]], [[1]]); // [[3, 4]]
 * tf.gatherNd([[1, 2], [3, 4]], [[1], [0]], { batchDims: 1 }); // [2, 3]
 * ```
 */
export function gatherNd(
  params: TensorLike,
  indices: TensorLike,
  options: GatherNdOptions = {},
): Tensor {
  const op = "gatherNd";
  const source = toTensor(op, params);
  const p = contiguous(source, op);
  let idx = indexTensor(op, indices, undefined, p.backend);
  if (idx.rank < 1) throw new RangeError(`${op}: indices must have rank >= 1, got a scalar`);
  const batchDims = options.batchDims ?? 0;
  if (!Number.isInteger(batchDims) || batchDims < 0 || batchDims >= idx.rank) {
    throw new RangeError(
      `${op}: batchDims ${String(batchDims)} must be an integer in [0, ${idx.rank}) ` +
        `(indices rank ${idx.rank})`,
    );
  }
  const depth = idx.shape[idx.rank - 1];
  if (batchDims + depth > p.rank) {
    throw new RangeError(
      `${op}: indices' last dim (${depth}) plus batchDims (${batchDims}) exceeds the rank of ` +
        `params ${showShape(p.shape)}`,
    );
  }
  for (let d = 0; d < batchDims; d++) {
    if (p.shape[d] !== idx.shape[d]) {
      throw new RangeError(
        `${op}: params.shape[${d}] = ${p.shape[d]} must equal indices.shape[${d}] = ` +
          `${idx.shape[d]} (batchDims ${batchDims})`,
      );
    }
  }
  const shape = [...idx.shape.slice(0, -1), ...p.shape.slice(batchDims + depth)];
  checkRank(op, shape.length);
  checkSize(op, shape);
  const backend = backendOf(op, p, idx);
  const out = backend.allocate(p.dtype, sizeOf(shape), op);
  const original = idx;
  // Batch dims become a leading index column over params seen as [batch, ...rest].
  let paramsShape: readonly number[] = p.shape;
  if (batchDims > 0) {
    const batch = sizeOf(p.shape.slice(0, batchDims));
    paramsShape = [batch, ...p.shape.slice(batchDims)];
    idx = withBatchColumn(idx, batch, depth);
  }
  const rows = sizeOf(idx.shape.slice(0, -1));
  const width = idx.shape[idx.rank - 1];
  // Called for an empty output too: the kernel checks every index all the same.
  const bad = backend.gatherNd(op, p, paramsShape, idx, rows, width, out);
  if (bad >= 0) {
    throw ndIndexError(
      op,
      original,
      Math.floor(bad / width),
      p.shape.slice(batchDims),
      "param shape",
    );
  }
  const result = new Tensor(out, p.dtype, shape);
  if (active.length !== 0) {
    // scatterNd over the same (batch-prefixed) index rows, with dy reshaped to match.
    const rowIdx = idx, updates = [...idx.shape.slice(0, -1), ...paramsShape.slice(width)];
    record1(op, [source, rowIdx], result, (dy) => [
      () => reshape(scatterNd(rowIdx, reshape(dy, updates), [...paramsShape]), source.shape),
      undefined,
    ]);
  }
  return result;
}

/** [rows, depth] index rows prefixed with their batch number: [rows, depth + 1]. */
function withBatchColumn(idx: Tensor, batch: number, depth: number): Tensor {
  const rows = sizeOf(idx.shape.slice(0, -1));
  const dtype = idx.dtype === "int64" || batch > 2 ** 31 - 1 ? "int64" : "int32";
  const numbers = reshape(range(0, batch, 1, dtype), [batch, 1]);
  const column = reshape(broadcastTo(numbers, [batch, rows / batch]), [rows, 1]);
  return concat([column, castTensor(reshape(idx, [rows, depth]), dtype)], 1);
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
  const source = toTensor(op, updates, undefined, idx.backend);
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
  const backend = backendOf(op, u, idx);
  const out = backend.allocate(u.dtype, sizeOf(outShape), op);
  // Called for empty operands too: the kernel checks every index all the same.
  const rows = sizeOf(idx.shape.slice(0, -1));
  const bad = backend.scatterNd(op, u, idx, outShape, rows, depth, out);
  if (bad >= 0) throw ndIndexError(op, idx, Math.floor(bad / depth), outShape, "shape");
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
  const ids = indexTensor(op, segmentIds, "segmentIds", d.backend);
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
  const backend = backendOf(op, d, ids);
  const out = backend.allocate(d.dtype, sizeOf(shape), op);
  if (sizeOf(shape) > 0 && d.size > 0) {
    backend.segmentSum(op, d, ids, sizeOf(d.shape.slice(ids.rank)), numSegments, out);
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
  // With ops, not by reading the ids: kept where 0 <= id < numSegments, else 0.
  const kept = logicalAnd(greaterEqual(ids, 0), less(ids, numSegments));
  const picked = gather(dy, where(kept, ids, zerosLike(ids)));
  const ones = new Array<number>(dataShape.length - ids.rank).fill(1);
  return where(reshape(kept, [...ids.shape, ...ones]), picked, 0);
}
