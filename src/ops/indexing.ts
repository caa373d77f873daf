/**
 * Indexing: gather, gatherNd, booleanMask, whereIndices (TF2's one-argument tf.where),
 * oneHot, and the scatter-adds behind their gradients (scatterNd, unsortedSegmentSum).
 *
 * Index tensors are int32 or int64; JS arrays become int32, and float indices are an
 * error. Indices are checked here, before any native call, with TensorFlow's wording
 * (`gather: indices[1] = 7 is not in [0, 5)`); the kernels check again as a last line
 * of defence. Two ops do not raise on bad indices, as in TensorFlow: oneHot gives an
 * all-off row and unsortedSegmentSum drops the entry.
 * @module
 */
import { checkDType, type DType, dtypeCode, type TypedArray } from "../dtype.ts";
import { check, native } from "../native/lib.ts";
import { int64s } from "../native/args.ts";
import { checkRank, checkShape, checkSize, normalizeAxis, showShape, sizeOf } from "../shape.ts";
import { allocate } from "../storage.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { contiguous } from "./cast.ts";
import { toTensor } from "./convert.ts";

type IndexArray = Int32Array | BigInt64Array;

/** A dense int32 or int64 index tensor; JS values become int32. */
function indexTensor(op: string, value: TensorLike, what = "indices"): Tensor {
  const t = toTensor(op, value, "int32");
  if (t.dtype !== "int32" && t.dtype !== "int64") {
    throw new TypeError(`${op}: ${what} must be int32 or int64, got ${t.dtype}`);
  }
  return contiguous(t, op);
}

function nonNegativeInt(op: string, value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new RangeError(`${op}: ${what} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

/** The multi-index (`1,2`) of flat position `flat` in `shape`. */
function position(shape: readonly number[], flat: number): string {
  const parts = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    parts[d] = flat % shape[d];
    flat = Math.floor(flat / shape[d]);
  }
  return parts.join(",");
}

/** `indices[1,2]`, or `indices` for a scalar. */
function at(what: string, shape: readonly number[], flat: number): string {
  return shape.length === 0 ? what : `${what}[${position(shape, flat)}]`;
}

/** Flat position of the first index with element k of each row outside [0, limits[k]). */
function firstBadIndex(data: IndexArray, limits: readonly number[]): number {
  const depth = limits.length;
  if (data instanceof Int32Array) {
    for (let i = 0, k = 0; i < data.length; i++) {
      const v = data[i];
      if (v < 0 || v >= limits[k]) return i;
      if (++k === depth) k = 0;
    }
  } else {
    const big = limits.map(BigInt);
    for (let i = 0, k = 0; i < data.length; i++) {
      const v = data[i];
      if (v < 0n || v >= big[k]) return i;
      if (++k === depth) k = 0;
    }
  }
  return -1;
}

/** Rejects index rows of [n, depth] that fall outside `shape` (gatherNd, scatterNd). */
function checkNdIndices(
  op: string,
  idx: Tensor,
  shape: readonly number[],
  what: string,
): void {
  const depth = idx.shape[idx.rank - 1];
  const data = idx.dataSync() as IndexArray;
  const bad = firstBadIndex(data, shape.slice(0, depth));
  if (bad < 0) return;
  const row = Math.floor(bad / depth);
  const values = Array.from(data.subarray(row * depth, (row + 1) * depth), String).join(", ");
  throw new RangeError(
    `${op}: ${at("indices", idx.shape.slice(0, -1), row)} = [${values}] does not index into ` +
      `${what} ${showShape(shape)}`,
  );
}

/** Flat positions of the non-zero elements of a dense tensor, in row-major order. */
function nonZeroPositions(t: Tensor): number[] {
  const data = t.dataSync();
  const out: number[] = [];
  if (data instanceof BigInt64Array) {
    for (let i = 0; i < data.length; i++) if (data[i] !== 0n) out.push(i);
  } else {
    const d = data as Exclude<TypedArray, BigInt64Array>;
    for (let i = 0; i < d.length; i++) if (d[i] !== 0) out.push(i); // NaN counts as true
  }
  return out;
}

/** `positions` as an index tensor (int32 unless a position needs int64). */
function positionTensor(positions: readonly number[], limit: number): Tensor {
  if (limit <= 2 ** 31 - 1) {
    return new Tensor(Int32Array.from(positions), "int32", [positions.length]);
  }
  return new Tensor(BigInt64Array.from(positions, BigInt), "int64", [positions.length]);
}

const SCATTER_DTYPES: readonly DType[] = ["float32", "float64", "int32", "int64"];

function checkScatterDType(op: string, what: string, dtype: DType): void {
  if (!SCATTER_DTYPES.includes(dtype)) {
    throw new TypeError(`${op}: ${what} must be float32, float64, int32 or int64, got ${dtype}`);
  }
}

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
  const p = contiguous(toTensor(op, params), op);
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
  return new Tensor(out, p.dtype, shape);
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
  const p = contiguous(toTensor(op, params), op);
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
  if (out.length === 0) return new Tensor(out, p.dtype, shape);
  // Batch dims become a leading index column over params seen as [batch, ...rest].
  let paramsShape: readonly number[] = p.shape;
  if (batchDims > 0) {
    const batch = sizeOf(p.shape.slice(0, batchDims));
    paramsShape = [batch, ...p.shape.slice(batchDims)];
    idx = withBatchColumn(idx, batch, depth);
  }
  const rows = sizeOf(idx.shape.slice(0, -1));
  check(
    native.eager_gather_nd(
      dtypeCode(p.dtype),
      dtypeCode(idx.dtype),
      paramsShape.length,
      int64s(0, paramsShape),
      rows,
      idx.shape[idx.rank - 1],
      out,
      p.data,
      p.offset,
      idx.data,
      idx.offset,
    ),
    "gatherNd",
  );
  return new Tensor(out, p.dtype, shape);
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
  const t = contiguous(toTensor(op, x), op);
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
  const flatX = new Tensor(t.data, t.dtype, flatShape, undefined, t.offset);
  return gather(flatX, positionTensor(nonZeroPositions(m), m.size), { axis });
}

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
  const u = contiguous(toTensor(op, updates), op);
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
  return new Tensor(out, u.dtype, outShape);
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
  const d = contiguous(toTensor(op, data), op);
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
  return new Tensor(out, d.dtype, shape);
}
