/**
 * Gathering: gather, gatherNd, booleanMask and whereIndices (TF2's one-argument
 * tf.where). Index tensors are int32 or int64; JS arrays become int32, and float indices
 * are an error (see index_checks.ts).
 *
 * Gradients flow to `params` (gather, gatherNd, booleanMask through gather) as
 * TensorFlow computes them: segment sums (gather) and scatters (gatherNd) of dy, so
 * duplicate indices add up; indices get none. The rules use recorded ops only, so
 * their own gradients (gather and unsortedSegmentSum, gatherNd and scatterNd) exist.
 * @module
 */
import { dtypeCode } from "../dtype.ts";
import { check, native } from "../native/lib.ts";
import { int64s } from "../native/args.ts";
import { checkRank, checkSize, normalizeAxis, showShape, sizeOf } from "../shape.ts";
import { allocate } from "../storage.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { active, record1 } from "../tape.ts";
import { contiguous } from "./cast.ts";
import { toTensor } from "./convert.ts";
import { scatterNd, unsortedSegmentSum } from "./scatter.ts";
import { reshape, transpose } from "./views.ts";
import {
  at,
  checkNdIndices,
  firstBadIndex,
  type IndexArray,
  indexTensor,
  nonZeroPositions,
  positionTensor,
} from "./index_checks.ts";

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
  const op = "gather";
  const source = toTensor(op, params);
  const p = contiguous(source, op);
  const idx = indexTensor(op, indices);
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
  const data = idx.dataSync() as IndexArray;
  const bad = firstBadIndex(data, [axisLen]);
  if (bad >= 0) {
    throw new RangeError(
      `${op}: ${at("indices", idx.shape, bad)} = ${data[bad]} is not in [0, ${axisLen})`,
    );
  }
  const out = allocate(p.dtype, sizeOf(shape), op);
  if (out.length > 0) {
    check(
      native.eager_gather(
        dtypeCode(p.dtype),
        dtypeCode(idx.dtype),
        sizeOf(p.shape.slice(0, batchDims)),
        sizeOf(p.shape.slice(batchDims, axis)),
        axisLen,
        sizeOf(p.shape.slice(axis + 1)),
        sizeOf(idx.shape.slice(batchDims)),
        out,
        p.data,
        p.offset,
        idx.data,
        idx.offset,
      ),
      op,
    );
  }
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
  const data = idx.dataSync() as IndexArray;
  const perBatch = data.length / batch;
  const ids = new Array<number>(data.length);
  for (let r = 0; r < data.length; r++) ids[r] = Math.floor(r / perBatch) * n + Number(data[r]);
  return positionTensor(ids, batch * n);
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
  let idx = indexTensor(op, indices);
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
  checkNdIndices(op, idx, p.shape.slice(batchDims), "param shape");
  const out = allocate(p.dtype, sizeOf(shape), op);
  // Batch dims become a leading index column over params seen as [batch, ...rest].
  let paramsShape: readonly number[] = p.shape;
  if (batchDims > 0) {
    const batch = sizeOf(p.shape.slice(0, batchDims));
    paramsShape = [batch, ...p.shape.slice(batchDims)];
    idx = withBatchColumn(idx, batch, depth);
  }
  const rows = sizeOf(idx.shape.slice(0, -1));
  const width = idx.shape[idx.rank - 1];
  if (out.length > 0) {
    check(
      native.eager_gather_nd(
        dtypeCode(p.dtype),
        dtypeCode(idx.dtype),
        paramsShape.length,
        int64s(0, paramsShape),
        rows,
        width,
        out,
        p.data,
        p.offset,
        idx.data,
        idx.offset,
      ),
      op,
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
  const src = idx.dataSync() as IndexArray;
  const rows = sizeOf(idx.shape.slice(0, -1));
  const perBatch = rows / batch;
  const wide = idx.dtype === "int64" || batch > 2 ** 31 - 1;
  const out = wide ? new BigInt64Array(rows * (depth + 1)) : new Int32Array(rows * (depth + 1));
  for (let r = 0, w = 0; r < rows; r++) {
    const b = Math.floor(r / perBatch);
    if (out instanceof BigInt64Array) {
      out[w++] = BigInt(b);
      for (let k = 0; k < depth; k++) out[w++] = BigInt(src[r * depth + k]);
    } else {
      out[w++] = b;
      for (let k = 0; k < depth; k++) out[w++] = Number(src[r * depth + k]);
    }
  }
  return new Tensor(out, wide ? "int64" : "int32", [rows, depth + 1]);
}

// ---- whereIndices, booleanMask --------------------------------------------------------

/**
 * Coordinates of the true (non-zero) elements of `cond`, as TF2's one-argument
 * `tf.where`: an int64 tensor of shape [n, rank], in row-major order. Numeric tensors
 * count every non-zero value (NaN included) as true.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.whereIndices([[true, false], [false, true]]); // [[0, 0], [1, 1]] (int64)
 * ```
 */
export function whereIndices(cond: TensorLike): Tensor {
  const op = "whereIndices";
  const c = contiguous(toTensor(op, cond, "bool"), op);
  const positions = nonZeroPositions(c);
  const rank = c.rank;
  const out = allocate("int64", positions.length * rank, op) as BigInt64Array;
  // Coordinates are below 2^32: write the low 32-bit word of each int64 (the high words
  // of the zero-filled output stay 0).
  const words = new Uint32Array(out.buffer, out.byteOffset, out.length * 2);
  for (let n = 0; n < positions.length; n++) {
    let flat = positions[n];
    for (let d = rank - 1; d >= 0; d--) {
      words[2 * (n * rank + d)] = flat % c.shape[d];
      flat = Math.floor(flat / c.shape[d]);
    }
  }
  return new Tensor(out, "int64", [positions.length, rank]);
}

/** Options of {@link booleanMask}. */
export interface BooleanMaskOptions {
  /** The first dim of `x` the mask covers. */
  axis?: number;
}

/**
 * The elements (or slices) of `x` where `mask` is true (tf.boolean_mask). The mask's
 * shape must equal `x.shape[axis:axis + mask.rank]`; those dims become one dim of the
 * count of true values.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.booleanMask([1, 2, 3], [true, false, true]); // [1, 3]
 * tf.booleanMask([[1, 2], [3, 4]], [false, true]); // [[3, 4]]
 * ```
 */
export function booleanMask(
  x: TensorLike,
  mask: TensorLike,
  options: BooleanMaskOptions = {},
): Tensor {
  const op = "booleanMask";
  const t = toTensor(op, x);
  const m = contiguous(toTensor(op, mask, "bool"), op);
  if (m.dtype !== "bool") throw new TypeError(`${op}: mask must be bool, got ${m.dtype}`);
  if (m.rank === 0) throw new RangeError(`${op}: mask cannot be a scalar`);
  const axis = options.axis ?? 0;
  if (!Number.isInteger(axis) || axis < 0 || axis + m.rank > t.rank) {
    throw new RangeError(
      `${op}: a mask of shape ${showShape(m.shape)} at axis ${String(axis)} does not fit x ` +
        `of shape ${showShape(t.shape)}`,
    );
  }
  for (let d = 0; d < m.rank; d++) {
    if (t.shape[axis + d] !== m.shape[d]) {
      throw new RangeError(
        `${op}: mask shape ${showShape(m.shape)} does not match x.shape[${axis}:${
          axis + m.rank
        }] of x shape ${showShape(t.shape)}`,
      );
    }
  }
  const flatShape = [...t.shape.slice(0, axis), m.size, ...t.shape.slice(axis + m.rank)];
  // Built on recorded ops (reshape, gather), so it differentiates w.r.t. x.
  return gather(reshape(t, flatShape), positionTensor(nonZeroPositions(m), m.size), { axis });
}
