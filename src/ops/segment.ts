/**
 * Segment reductions (tf.math.segment_* over sorted ids, tf.math.unsorted_segment_* over
 * any ids): sums and means compose unsortedSegmentSum (src/ops/gather_scatter.ts); max,
 * min and product run the eager_segment_reduce kernel.
 *
 * Sorted forms: ids are 1-D, one per row of data, non-decreasing and non-negative; the
 * result has max(id) + 1 rows, so these ops read the ids on the host and check them there
 * (on the WebGPU device: ids given as numbers or a CPU tensor; see sortedArgs). An empty segment gives 0 (1 for
 * prod), as in TensorFlow. Unsorted forms: ids' shape is a prefix of data's, and an empty
 * segment gives 0 (sum, mean), the dtype's lowest value (max: -3.4028235e38 for float32,
 * not -Infinity, as TensorFlow) or highest (min), or 1 (prod); ids outside
 * [0, numSegments) are dropped, as unsortedSegmentSum drops them. Max and min propagate
 * NaN. Integer means: segmentMean truncates (int32 result), unsortedSegmentMean gives float64
 * (a true division), as in TensorFlow.
 *
 * Gradients are TensorFlow's: max / min send dy to the positions equal to the result,
 * split evenly among ties; prod's divides the product by each element, with TensorFlow's
 * cases for one and for several zeros in a segment.
 * @module
 */
import { backendOf, kernelOf } from "../backend/backend.ts";
import { type DType, isFloat, isInteger } from "../dtype.ts";
import { Reduce } from "../native/codes.ts";
import { checkRank, checkSize, showShape, sizeOf } from "../shape.ts";
import { active, record1 } from "../tape.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { castTensor, contiguous } from "./cast.ts";
import { toTensor } from "./convert.ts";
import { ones, zerosLike } from "./creation.ts";
import { gather, unsortedSegmentSum } from "./gather_scatter.ts";
import { checkScatterDType, indexTensor, nonNegativeInt, sizingBackend } from "./index_checks.ts";
import {
  divide,
  equal,
  floorDiv,
  greater,
  greaterEqual,
  less,
  logicalAnd,
  maximum,
  minimum,
  multiply,
  neg,
  where,
} from "./math.ts";
import { reshape } from "./views.ts";

const SEGMENTABLE: readonly DType[] = ["float32", "float64", "int32", "int64", "uint8"];

interface Segments {
  data: Tensor;
  ids: Tensor;
  numSegments: number;
}

function segmentData(op: string, data: TensorLike): Tensor {
  const d = toTensor(op, data);
  if (!SEGMENTABLE.includes(d.dtype)) {
    throw new TypeError(
      `${op}: dtype ${d.dtype} is not supported (takes ${SEGMENTABLE.join(", ")})`,
    );
  }
  return d;
}

/** Unsorted arguments: ids' shape a prefix of data's, numSegments a count. */
function unsortedArgs(
  op: string,
  data: TensorLike,
  segmentIds: TensorLike,
  numSegments: number,
): Segments {
  const d = segmentData(op, data);
  const ids = indexTensor(op, segmentIds, "segmentIds", d.backend);
  backendOf(op, d, ids); // a tensor of ids on another device is an error naming both
  nonNegativeInt(op, numSegments, "numSegments");
  if (ids.rank > d.rank || ids.shape.some((n, i) => n !== d.shape[i])) {
    throw new RangeError(
      `${op}: segmentIds shape ${showShape(ids.shape)} must be a prefix of data shape ` +
        showShape(d.shape),
    );
  }
  return { data: d, ids, numSegments };
}

/**
 * Sorted arguments: 1-D ids, one per row, read on the host and checked sorted.
 * NOTE: the ids size the result (max(id) + 1 rows), so they are host data (sizingBackend):
 * ids on a device that cannot be read synchronously (WebGPU) are an error naming the two
 * ways out.
 */
function sortedArgs(op: string, data: TensorLike, segmentIds: TensorLike): Segments {
  const d = segmentData(op, data);
  const home = sizingBackend(d.backend, segmentIds);
  let ids = indexTensor(op, segmentIds, "segmentIds", home);
  if (home === d.backend) backendOf(op, d, ids);
  if (d.rank < 1 || ids.rank !== 1 || ids.shape[0] !== d.shape[0]) {
    throw new RangeError(
      `${op}: segmentIds must be 1-D with one id per row of data: ids ${showShape(ids.shape)}, ` +
        `data ${showShape(d.shape)}`,
    );
  }
  if (!ids.backend.readsSynchronously) {
    throw new Error(
      `${op}: the segment ids are on ${ids.device}, but the sorted segment ops read them on the ` +
        `host to size their result: pass them as numbers or as a CPU tensor, or use ` +
        `unsorted${op[0].toUpperCase()}${op.slice(1)}(data, ids, numSegments)`,
    );
  }
  const host = ids.backend.readSync(ids, ids.dtype, op);
  let previous = 0;
  for (let i = 0; i < host.length; i++) {
    const id = Number(host[i]);
    if (id < previous) {
      throw new RangeError(
        id < 0
          ? `${op}: segment id ${id} at position ${i} is negative`
          : `${op}: segment ids are not increasing: ${previous} then ${id} at position ${i}`,
      );
    }
    previous = id;
  }
  if (home !== d.backend) ids = ids.to(d.device);
  return { data: d, ids, numSegments: host.length === 0 ? 0 : previous + 1 };
}

/** The kernel's max / min / prod over segments. */
function reduceSegments(op: string, code: number, args: Segments, emptyZero: boolean): Tensor {
  const { ids, numSegments } = args;
  const d = contiguous(args.data, op);
  const shape = [numSegments, ...d.shape.slice(ids.rank)];
  checkRank(op, shape.length);
  checkSize(op, shape);
  const inner = sizeOf(d.shape.slice(ids.rank));
  const out = d.backend.allocateOutput(d.dtype, sizeOf(shape), op);
  kernelOf(op, d.backend, "segmentReduce")(
    op,
    code,
    d,
    ids,
    [ids.size, inner, numSegments],
    emptyZero,
    out,
  );
  return new Tensor(out, d.dtype, shape);
}

/** ids reshaped to broadcast against data (trailing dims of 1). */
function idsLikeData(t: Tensor, ids: Tensor, dataRank: number): Tensor {
  return reshape(t, [...ids.shape, ...new Array<number>(dataRank - ids.rank).fill(1)]);
}

/** ids kept (in [0, numSegments)) and clipped into range, for gathers. */
function keptIds(ids: Tensor, numSegments: number): [Tensor, Tensor] {
  const kept = logicalAnd(greaterEqual(ids, 0), less(ids, numSegments));
  const clipped = minimum(maximum(ids, 0), Math.max(numSegments - 1, 0));
  return [kept, castTensor(clipped, ids.dtype)];
}

/** TensorFlow's _UnsortedSegmentMinOrMaxGrad: dy split among the elements equal to y. */
function minOrMaxGrad(data: Tensor, ids: Tensor, y: Tensor, dy: Tensor): Tensor {
  const numSegments = y.shape[0];
  if (numSegments === 0) return zerosLike(data);
  const [kept, clipped] = keptIds(ids, numSegments);
  const selected = logicalAnd(
    equal(data, gather(y, clipped)),
    idsLikeData(kept, ids, data.rank),
  );
  const counts = unsortedSegmentSum(castTensor(selected, dy.dtype), ids, numSegments);
  const shares = gather(divide(dy, counts), clipped);
  return where(selected, shares, zerosLike(shares));
}

/** TensorFlow's _UnsortedSegmentProdGrad (zeros: one in a segment, or several). */
function prodGrad(data: Tensor, ids: Tensor, y: Tensor, dy: Tensor): Tensor {
  const numSegments = y.shape[0];
  if (numSegments === 0) return zerosLike(data);
  const [kept, clipped] = keptIds(ids, numSegments);
  const isZero = equal(data, 0);
  const zerosIn = unsortedSegmentSum(castTensor(isZero, "int32"), ids, numSegments);
  const grad = where(greater(zerosIn, 1), zerosLike(dy), dy);
  const nonZero = where(isZero, 1, data);
  const nonZeroProd = unsortedSegmentProd(nonZero, ids, numSegments);
  const partial = where(
    isZero,
    gather(nonZeroProd, clipped),
    divide(gather(y, clipped), nonZero),
  );
  const picked = gather(grad, clipped);
  const dropped = where(idsLikeData(kept, ids, data.rank), picked, zerosLike(picked));
  return multiply(dropped, partial);
}

type Grad = (data: Tensor, ids: Tensor, y: Tensor, dy: Tensor) => Tensor;

function recorded(op: string, args: Segments, y: Tensor, grad: Grad): Tensor {
  if (active.length !== 0 && isFloat(y.dtype)) {
    const { data, ids } = args;
    record1(op, [data, ids], y, (dy) => [() => grad(data, ids, y, dy), undefined]);
  }
  return y;
}

/**
 * sum / count per segment, 0 for an empty one. Integers: truncated to their dtype (segmentMean's
 * kernel), or divided as `divide` does, into float64 (unsorted_segment_mean's truediv).
 */
function meanOf(op: string, args: Segments, truncate: boolean): Tensor {
  const { data, ids, numSegments } = args;
  checkScatterDType(op, "data", data.dtype);
  const sum = unsortedSegmentSum(data, ids, numSegments);
  const count = unsortedSegmentSum(ones(ids.shape, sum.dtype), ids, numSegments);
  const safe = idsLikeCount(maximum(count, 1), sum.rank);
  return truncate && isInteger(sum.dtype) ? truncatingDivide(sum, safe) : divide(sum, safe);
}

/** a / b rounded toward zero, for integers and b > 0, in their own dtype (no float64 on the
 * way, which a device may not hold, and exact past 2^53). */
function truncatingDivide(a: Tensor, b: Tensor): Tensor {
  if (a.dtype === "uint8") return floorDiv(a, b);
  return where(greaterEqual(a, 0), floorDiv(a, b), neg(floorDiv(neg(a), b)));
}

function idsLikeCount(count: Tensor, rank: number): Tensor {
  return reshape(count, [count.shape[0], ...new Array<number>(rank - 1).fill(1)]);
}

/**
 * Sums of the rows of `data` that share a (sorted) segment id (tf.math.segment_sum): the
 * result has max(id) + 1 rows, 0 for an id that does not occur.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.math.segmentSum([1, 2, 3, 4], [0, 0, 2, 2]); // [3, 0, 7]
 * ```
 */
export function segmentSum(data: TensorLike, segmentIds: TensorLike): Tensor {
  const { data: d, ids, numSegments } = sortedArgs("segmentSum", data, segmentIds);
  checkScatterDType("segmentSum", "data", d.dtype);
  return unsortedSegmentSum(d, ids, numSegments);
}

/**
 * Means of the rows of `data` that share a (sorted) segment id (tf.math.segment_mean); 0
 * for an id that does not occur.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.math.segmentMean([1, 2, 3, 5], [0, 0, 1, 1]); // [1.5, 4]
 * ```
 */
export function segmentMean(data: TensorLike, segmentIds: TensorLike): Tensor {
  return meanOf("segmentMean", sortedArgs("segmentMean", data, segmentIds), true);
}

/**
 * Maxima of the rows of `data` that share a (sorted) segment id (tf.math.segment_max); 0
 * for an id that does not occur.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.math.segmentMax([1, 4, 3, 2], [0, 0, 1, 1]); // [4, 3]
 * ```
 */
export function segmentMax(data: TensorLike, segmentIds: TensorLike): Tensor {
  const op = "segmentMax", args = sortedArgs(op, data, segmentIds);
  return recorded(op, args, reduceSegments(op, Reduce.MAX, args, true), minOrMaxGrad);
}

/**
 * Minima of the rows of `data` that share a (sorted) segment id (tf.math.segment_min); 0
 * for an id that does not occur.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.math.segmentMin([1, 4, 3, 2], [0, 0, 1, 1]); // [1, 2]
 * ```
 */
export function segmentMin(data: TensorLike, segmentIds: TensorLike): Tensor {
  const op = "segmentMin", args = sortedArgs(op, data, segmentIds);
  return recorded(op, args, reduceSegments(op, Reduce.MIN, args, true), minOrMaxGrad);
}

/**
 * Products of the rows of `data` that share a (sorted) segment id (tf.math.segment_prod);
 * 1 for an id that does not occur.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.math.segmentProd([1, 4, 3, 2], [0, 0, 1, 1]); // [4, 6]
 * ```
 */
export function segmentProd(data: TensorLike, segmentIds: TensorLike): Tensor {
  const op = "segmentProd", args = sortedArgs(op, data, segmentIds);
  return recorded(op, args, reduceSegments(op, Reduce.PROD, args, false), prodGrad);
}

/**
 * Means of the slices of `data` that share a segment id, ids in any order
 * (tf.math.unsorted_segment_mean); 0 for an empty segment.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.math.unsortedSegmentMean([1, 2, 3, 5], [1, 0, 1, 0], 3); // [3.5, 2, 0]
 * ```
 */
export function unsortedSegmentMean(
  data: TensorLike,
  segmentIds: TensorLike,
  numSegments: number,
): Tensor {
  const op = "unsortedSegmentMean";
  return meanOf(op, unsortedArgs(op, data, segmentIds, numSegments), false);
}

/**
 * Maxima of the slices of `data` that share a segment id, ids in any order
 * (tf.math.unsorted_segment_max); the dtype's lowest value for an empty segment.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.math.unsortedSegmentMax([1, 4, 3, 2], [1, 0, 1, 0], 2); // [4, 3]
 * ```
 */
export function unsortedSegmentMax(
  data: TensorLike,
  segmentIds: TensorLike,
  numSegments: number,
): Tensor {
  const op = "unsortedSegmentMax", args = unsortedArgs(op, data, segmentIds, numSegments);
  return recorded(op, args, reduceSegments(op, Reduce.MAX, args, false), minOrMaxGrad);
}

/**
 * Minima of the slices of `data` that share a segment id, ids in any order
 * (tf.math.unsorted_segment_min); the dtype's highest value for an empty segment.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.math.unsortedSegmentMin([1, 4, 3, 2], [1, 0, 1, 0], 2); // [2, 1]
 * ```
 */
export function unsortedSegmentMin(
  data: TensorLike,
  segmentIds: TensorLike,
  numSegments: number,
): Tensor {
  const op = "unsortedSegmentMin", args = unsortedArgs(op, data, segmentIds, numSegments);
  return recorded(op, args, reduceSegments(op, Reduce.MIN, args, false), minOrMaxGrad);
}

/**
 * Products of the slices of `data` that share a segment id, ids in any order
 * (tf.math.unsorted_segment_prod); 1 for an empty segment.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.math.unsortedSegmentProd([1, 4, 3, 2], [1, 0, 1, 0], 2); // [8, 3]
 * ```
 */
export function unsortedSegmentProd(
  data: TensorLike,
  segmentIds: TensorLike,
  numSegments: number,
): Tensor {
  const op = "unsortedSegmentProd", args = unsortedArgs(op, data, segmentIds, numSegments);
  return recorded(op, args, reduceSegments(op, Reduce.PROD, args, false), prodGrad);
}
