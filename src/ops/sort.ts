/**
 * Sorting and selection: topK, sort, argsort (the eager_sort / eager_top_k kernels along
 * the last axis; another axis is swapped last first), searchsorted (eager_search_sorted)
 * and unique.
 *
 * Order: ascending sorts are stable and descending ones keep equal elements in input order
 * too (topK: the lower index first), as TensorFlow's. -0 equals +0. NaN sorts above
 * +Infinity (first in topK and descending sorts, last in ascending ones): TensorFlow's
 * comparisons leave NaN's place unspecified, so this follows NumPy. Indices are int32.
 *
 * Gradients: sort's and topK's put dy back at the selected positions (a segment sum, whose
 * own gradient is a gather, so they differentiate again); argsort, searchsorted and unique
 * have none, as in TensorFlow. unique's output size depends on the data: it reads x on the
 * host (a synchronous read: CPU tensors, not WebGPU ones).
 * @module
 */
import { type Backend, kernelOf } from "../backend/backend.ts";
import type { DType } from "../dtype.ts";
import { normalizeAxis, showShape, sizeOf } from "../shape.ts";
import { active, record1 } from "../tape.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { castTensor, contiguous } from "./cast.ts";
import { placed, toTensor } from "./convert.ts";
import { range } from "./creation.ts";
import { gather, unsortedSegmentSum } from "./gather_scatter.ts";
import { add, multiply } from "./math.ts";
import { reshape, stopGradient, transpose } from "./views.ts";

const SORTABLE: readonly DType[] = ["float32", "float64", "int32", "int64", "uint8"];

function sortable(op: string, value: TensorLike, hint?: DType, backend?: Backend): Tensor {
  const t = toTensor(op, value, hint, backend);
  if (!SORTABLE.includes(t.dtype)) {
    throw new TypeError(`${op}: dtype ${t.dtype} is not supported (takes ${SORTABLE.join(", ")})`);
  }
  if (t.rank === 0) throw new RangeError(`${op}: input must have rank >= 1, got a scalar`);
  return t;
}

/** The last-axis length limit of the kernels (int32 positions). */
function checkRowLength(op: string, n: number): void {
  if (n > 2 ** 31 - 1) throw new RangeError(`${op}: an axis of ${n} elements exceeds 2^31 - 1`);
}

/**
 * dy [rows, k] put at positions idx [rows, k] of zeros [rows, n]: the gradient of picking
 * those elements of each row.
 */
function scatterRows(dy: Tensor, idx: Tensor, rows: number, n: number): Tensor {
  const k = idx.shape[idx.rank - 1];
  const wide = rows * n > 2 ** 31 - 1 ? castTensor(idx, "int64") : idx;
  const starts = reshape(multiply(range(0, rows, 1, wide.dtype), n), [rows, 1]);
  const flat = reshape(add(reshape(wide, [rows, k]), starts), [rows * k]);
  return unsortedSegmentSum(reshape(dy, [rows * k]), flat, rows * n);
}

/** The permutation that swaps `axis` and the last axis (its own inverse). */
function swapLast(rank: number, axis: number): number[] {
  const perm = [...Array(rank).keys()];
  perm[axis] = rank - 1;
  perm[rank - 1] = axis;
  return perm;
}

/** Options of {@link topK}. */
export interface TopKOptions {
  /** How many of the largest to keep, in [0, last dim]; default 1. */
  k?: number;
  /** Accepted for TensorFlow's signature: the values always come largest first. */
  sorted?: boolean;
}

/** The result of {@link topK}. */
export interface TopK {
  /** The k largest of each row, largest first: shape [..., k]. */
  values: Tensor;
  /** Their positions in the row (int32). */
  indices: Tensor;
}

/**
 * The `k` largest entries of each row (last axis) of `x` and their positions
 * (tf.math.top_k). Equal values: the lower position first. Float32, float64, int32,
 * int64 and uint8.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const { values, indices } = tf.math.topK([1, 5, 5, 2], { k: 3 });
 * values; // [5, 5, 2]
 * indices; // [1, 2, 3]
 * ```
 */
export function topK(x: TensorLike, options: TopKOptions = {}): TopK {
  const op = "topK";
  const source = sortable(op, x);
  const n = source.shape[source.rank - 1];
  const k = options.k ?? 1;
  if (typeof k !== "number" || !Number.isInteger(k) || k < 0 || k > n) {
    throw new RangeError(
      `${op}: k must be an integer in [0, ${n}] (the last dim of ${showShape(source.shape)}), ` +
        `got ${String(k)}`,
    );
  }
  checkRowLength(op, n);
  const t = contiguous(source, op);
  const rows = sizeOf(t.shape.slice(0, -1));
  const shape = [...t.shape.slice(0, -1), k];
  const backend = t.backend;
  const values = backend.allocateOutput(t.dtype, rows * k, op);
  const indices = backend.allocateOutput("int32", rows * k, op);
  kernelOf(op, backend, "topK")(op, t, [rows, n, k], values, indices);
  const result = {
    values: new Tensor(values, t.dtype, shape),
    indices: new Tensor(indices, "int32", shape),
  };
  if (active.length !== 0) {
    const idx = result.indices;
    record1(op, [source], result.values, (dy) => [
      () => reshape(scatterRows(dy, idx, rows, n), source.shape),
    ]);
  }
  return result;
}

/** Options of {@link sort} and {@link argsort}. */
export interface SortOptions {
  /** The axis to sort along; default -1. */
  axis?: number;
  /** "ASCENDING" (the default) or "DESCENDING". */
  direction?: "ASCENDING" | "DESCENDING";
}

/** Options of {@link argsort}. */
export interface ArgsortOptions extends SortOptions {
  /** Accepted for TensorFlow's signature: the order is always stable. */
  stable?: boolean;
}

/** Runs the sort kernel along `axis`: the values (when wanted) and the int32 positions. */
function sortAlong(
  op: string,
  x: TensorLike,
  options: SortOptions,
  wantValues: boolean,
  wantIndices: boolean,
): { moved: Tensor; values?: Tensor; indices?: Tensor; perm?: number[] } {
  const source = sortable(op, x);
  const axis = normalizeAxis(op, options.axis ?? -1, source.rank);
  const direction = options.direction ?? "ASCENDING";
  if (direction !== "ASCENDING" && direction !== "DESCENDING") {
    throw new RangeError(
      `${op}: direction must be "ASCENDING" or "DESCENDING", got ${String(direction)}`,
    );
  }
  const last = source.rank - 1;
  const perm = axis === last ? undefined : swapLast(source.rank, axis);
  const moved = perm ? transpose(source, perm) : source;
  const t = contiguous(moved, op);
  const n = t.shape[last], rows = sizeOf(t.shape.slice(0, -1));
  checkRowLength(op, n);
  const backend = t.backend;
  const values = wantValues ? backend.allocateOutput(t.dtype, t.size, op) : null;
  // NOTE: sort asks for positions only while a tape records (its gradient needs them): the
  // kernel is faster without.
  const indices = wantIndices ? backend.allocateOutput("int32", t.size, op) : null;
  kernelOf(op, backend, "sort")(op, t, [rows, n], direction === "DESCENDING", values, indices);
  return {
    moved,
    values: values ? new Tensor(values, t.dtype, t.shape) : undefined,
    indices: indices ? new Tensor(indices, "int32", t.shape) : undefined,
    perm,
  };
}

/**
 * `x` sorted along `axis` (tf.sort), ascending unless `direction` is "DESCENDING". NaN
 * sorts above +Infinity. Float32, float64, int32, int64 and uint8.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.sort([3, 1, 2]); // [1, 2, 3]
 * tf.sort([[3, 1], [0, 2]], { axis: 0, direction: "DESCENDING" }); // [[3, 2], [0, 1]]
 * ```
 */
export function sort(x: TensorLike, options: SortOptions = {}): Tensor {
  const op = "sort";
  const { moved, values, indices, perm } = sortAlong(op, x, options, true, active.length !== 0);
  const sorted = values!;
  if (indices) {
    const n = moved.shape[moved.rank - 1], rows = moved.size / Math.max(n, 1);
    record1(op, [moved], sorted, (dy) => [
      () => reshape(scatterRows(dy, indices, rows, n), moved.shape),
    ]);
  }
  return perm ? transpose(sorted, perm) : sorted;
}

/**
 * The int32 positions that sort `x` along `axis` (tf.argsort): a stable order, equal
 * elements in input order in either direction.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.argsort([3, 1, 2]); // [1, 2, 0]
 * tf.argsort([1, 2, 1], { direction: "DESCENDING" }); // [1, 0, 2]
 * ```
 */
export function argsort(x: TensorLike, options: ArgsortOptions = {}): Tensor {
  const { indices, perm } = sortAlong("argsort", x, options, false, true);
  return perm ? transpose(indices!, perm) : indices!;
}

/** Options of {@link searchsorted}. */
export interface SearchSortedOptions {
  /** "left": the first position p with sorted[p] >= v (default); "right": sorted[p] > v. */
  side?: "left" | "right";
  /** The dtype of the positions: "int32" (default) or "int64". */
  outType?: "int32" | "int64";
}

/**
 * Where each of `values` would be inserted in the rows (last axis) of `sortedSequence` to
 * keep them sorted (tf.searchsorted). The leading dims of both must be equal; the result
 * has values' shape. A NaN value goes first ("left") or last ("right"), as in TensorFlow.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.searchsorted([1, 3, 5], [0, 3, 6]); // [0, 1, 3]
 * tf.searchsorted([1, 3, 5], [3], { side: "right" }); // [2]
 * ```
 */
export function searchsorted(
  sortedSequence: TensorLike,
  values: TensorLike,
  options: SearchSortedOptions = {},
): Tensor {
  const op = "searchsorted";
  const seq = contiguous(sortable(op, sortedSequence), op);
  const v = contiguous(sortable(op, values, seq.dtype, seq.backend), op);
  if (v.dtype !== seq.dtype) {
    throw new TypeError(
      `${op}: values (${v.dtype}) must have sortedSequence's dtype (${seq.dtype})`,
    );
  }
  const side = options.side ?? "left", outType = options.outType ?? "int32";
  if (side !== "left" && side !== "right") {
    throw new RangeError(`${op}: side must be "left" or "right", got ${String(side)}`);
  }
  if (outType !== "int32" && outType !== "int64") {
    throw new TypeError(`${op}: outType must be "int32" or "int64", got ${String(outType)}`);
  }
  const lead = seq.shape.slice(0, -1);
  if (v.rank !== seq.rank || lead.some((d, i) => d !== v.shape[i])) {
    throw new RangeError(
      `${op}: sortedSequence ${showShape(seq.shape)} and values ${showShape(v.shape)} must ` +
        "have the same rank and the same leading dims",
    );
  }
  const n = seq.shape[seq.rank - 1];
  if (outType === "int32") checkRowLength(op, n);
  const rows = sizeOf(lead), m = v.shape[v.rank - 1];
  const out = seq.backend.allocateOutput(outType, v.size, op);
  kernelOf(op, seq.backend, "searchSorted")(
    op,
    seq,
    v,
    [rows, n, m],
    side === "right",
    outType,
    out,
  );
  return new Tensor(out, outType, v.shape);
}

/** Options of {@link unique}. */
export interface UniqueOptions {
  /** The dtype of `idx`: "int32" (default) or "int64". */
  outIdx?: "int32" | "int64";
}

/** The result of {@link unique}. */
export interface Unique {
  /** The distinct elements, in order of first occurrence. */
  y: Tensor;
  /** For each element of x, its position in y. */
  idx: Tensor;
}

/**
 * The distinct elements of the 1-D `x` in order of first occurrence, and each element's
 * position among them (tf.unique). -0 equals +0; every NaN is distinct (NaN != NaN), as
 * in TensorFlow. Reads x on the host: a CPU tensor (or one whose device reads
 * synchronously).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const { y, idx } = tf.unique([1, 1, 2, 4, 4, 4, 7, 8, 8]);
 * y; // [1, 2, 4, 7, 8]
 * idx; // [0, 0, 1, 2, 2, 2, 3, 4, 4]
 * ```
 */
export function unique(x: TensorLike, options: UniqueOptions = {}): Unique {
  const op = "unique";
  const t = sortable(op, x);
  if (t.rank !== 1) throw new RangeError(`${op}: x must be 1-D, got shape ${showShape(t.shape)}`);
  const outIdx = options.outIdx ?? "int32";
  if (outIdx !== "int32" && outIdx !== "int64") {
    throw new TypeError(`${op}: outIdx must be "int32" or "int64", got ${String(outIdx)}`);
  }
  if (!t.backend.readsSynchronously) {
    throw new Error(
      `${op}: not available on ${t.backend.device} yet; move the tensor with .cpu() first`,
    );
  }
  const host = t.backend.readSync(t, t.dtype, op);
  const seen = new Map<number | bigint, number>();
  const firsts: number[] = [];
  const idx = outIdx === "int32" ? new Int32Array(t.size) : new BigInt64Array(t.size);
  for (let i = 0; i < host.length; i++) {
    const value = host[i];
    // NOTE: Map keys compare as SameValueZero (-0 is +0, as wanted), but NaN must not match.
    let at = value !== value ? undefined : seen.get(value);
    if (at === undefined) {
      at = firsts.length;
      firsts.push(i);
      if (value === value) seen.set(value, at);
    }
    if (idx instanceof Int32Array) idx[i] = at;
    else idx[i] = BigInt(at);
  }
  const y = gather(
    stopGradient(t),
    placed(op, Int32Array.from(firsts), "int32", [firsts.length], t.backend),
  );
  return { y, idx: placed(op, idx, outIdx, [t.size], t.backend) };
}
