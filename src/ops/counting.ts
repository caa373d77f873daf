/**
 * Counting and grids, composed from other ops (so they run wherever those do, with
 * gradients where TensorFlow has them): bincount and histogramFixedWidth are segment sums
 * (unsortedSegmentSum) of ones or weights; meshgrid is reshapes and broadcasts.
 *
 * bincount's output length depends on the largest value, so it reads `arr` on the host, unless
 * minlength and maxlength fix it (on the WebGPU device: arr given as numbers or a CPU tensor,
 * or a fixed length); histogramFixedWidth reads nothing, and computes its bins in float64,
 * or in float32 on a device without float64.
 * @module
 */
import { type Backend, widestFloat } from "../backend/backend.ts";
import { placement, withPlacement } from "../backend/registry.ts";
import type { DType } from "../dtype.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { showShape } from "../shape.ts";
import { castTensor } from "./cast.ts";
import { toTensor } from "./convert.ts";
import { ones } from "./creation.ts";
import { gather, unsortedSegmentSum } from "./gather_scatter.ts";
import { indexTensor, sizingBackend } from "./index_checks.ts";
import { divide, maximum, minimum, subtract } from "./math.ts";
import { broadcastTo, reshape } from "./views.ts";

/** Options of {@link bincount}. */
export interface BincountOptions {
  /** Added for each value instead of 1: same shape as arr; the result takes its dtype. */
  weights?: TensorLike;
  /** The result has at least this many bins. */
  minlength?: number;
  /** The result has at most this many bins; larger values are not counted. */
  maxlength?: number;
  /** The dtype of the counts without weights: "int32" (default), "int64", "float32", "float64". */
  dtype?: DType;
}

const COUNT_DTYPES: readonly DType[] = ["int32", "int64", "float32", "float64"];

function optionalCount(op: string, value: number | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new RangeError(`${op}: ${what} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

/**
 * How many times each value 0, 1, ... occurs in the int32 / int64 `arr` (any shape), or the
 * sum of `weights` at those positions (tf.math.bincount). The result has
 * max(max(arr) + 1, minlength) bins, at most maxlength. Negative values are an error.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.math.bincount(new Int32Array([1, 3, 3])); // [0, 1, 0, 2]
 * tf.math.bincount(new Int32Array([1, 3]), { weights: [0.5, 2], minlength: 5 });
 * // [0, 0.5, 0, 2, 0]
 * ```
 */
export function bincount(arr: TensorLike, options: BincountOptions = {}): Tensor {
  const op = "bincount";
  const minlength = optionalCount(op, options.minlength, "minlength");
  const maxlength = optionalCount(op, options.maxlength, "maxlength");
  // Where the result's length is fixed, nothing is read; otherwise arr sizes the result and
  // is host data (sizingBackend), copied to where the counting runs (countingBackend).
  const fixed = minlength !== undefined && minlength === maxlength;
  const device = countingBackend(arr, options.weights);
  let values = indexTensor(op, arr, "arr", fixed ? device : sizingBackend(device, arr));
  let counted: Tensor;
  if (options.weights !== undefined) {
    counted = toTensor(op, options.weights, "float32", device);
    if (counted.rank !== values.rank || counted.shape.some((d, i) => d !== values.shape[i])) {
      throw new RangeError(
        `${op}: weights ${showShape(counted.shape)} must have arr's shape ${
          showShape(values.shape)
        }`,
      );
    }
    if (!COUNT_DTYPES.includes(counted.dtype)) {
      throw new TypeError(
        `${op}: weights must be ${COUNT_DTYPES.join(", ")}, got ${counted.dtype}`,
      );
    }
  } else {
    const dtype = options.dtype ?? "int32";
    if (!COUNT_DTYPES.includes(dtype)) {
      throw new TypeError(`${op}: dtype must be ${COUNT_DTYPES.join(", ")}, got ${dtype}`);
    }
    counted = withPlacement(device, () => ones(values.shape, dtype));
  }
  // NOTE: a fixed length on a device reads nothing, so negative values are not found there:
  // they are dropped, as a bad index scatters nothing on the GPU (docs/webgpu.md).
  if (fixed && !values.backend.readsSynchronously) {
    return unsortedSegmentSum(counted, values, minlength);
  }
  if (!values.backend.readsSynchronously) {
    throw new Error(
      `${op}: arr is on ${values.device}, but the result's length depends on its values, which ` +
        `that device cannot read synchronously: give minlength and maxlength equal (a fixed ` +
        `length), or pass arr as numbers or as a CPU tensor`,
    );
  }
  const host = values.backend.readSync(values, values.dtype, op);
  let largest = -1;
  for (let i = 0; i < host.length; i++) {
    const v = Number(host[i]);
    if (v < 0) throw new RangeError(`${op}: arr must be non-negative, got ${v} at position ${i}`);
    if (v > largest) largest = v;
  }
  let bins = Math.max(largest + 1, minlength ?? 0);
  if (maxlength !== undefined) bins = Math.min(bins, maxlength);
  if (values.backend !== device) values = values.to(device.device);
  return unsortedSegmentSum(counted, values, bins);
}

/** Where bincount counts: on the weights' device, else on arr's, else the tf.device scope's. */
function countingBackend(arr: TensorLike, weights: TensorLike | undefined): Backend {
  if (weights instanceof Tensor) return weights.backend;
  if (arr instanceof Tensor) return arr.backend;
  return placement();
}

/** Options of {@link histogramFixedWidth}. */
export interface HistogramOptions {
  /** The number of equal bins over valueRange; default 100. */
  nbins?: number;
  /** The dtype of the counts: "int32" (default) or "int64". */
  dtype?: "int32" | "int64";
}

/**
 * Counts of `values` in `nbins` equal bins over `valueRange` [lo, hi]
 * (tf.histogram_fixed_width): values below lo count in the first bin, values at or above
 * hi in the last. The bin is computed as TensorFlow's kernel does: (max(v, lo) - lo) in
 * values' dtype, then in float64 divided by (hi - lo) / nbins and truncated.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.histogramFixedWidth([-1, 0, 1.5, 2, 5, 15], [0, 5], { nbins: 5 }); // [2, 1, 1, 0, 2]
 * ```
 */
export function histogramFixedWidth(
  values: TensorLike,
  valueRange: TensorLike,
  options: HistogramOptions = {},
): Tensor {
  const op = "histogramFixedWidth";
  const v = toTensor(op, values);
  const range = toTensor(op, valueRange, v.dtype, v.backend);
  const nbins = options.nbins ?? 100, dtype = options.dtype ?? "int32";
  if (!["float32", "float64", "int32", "int64"].includes(v.dtype)) {
    throw new TypeError(`${op}: values must be float32, float64, int32 or int64, got ${v.dtype}`);
  }
  if (range.dtype !== v.dtype || range.rank !== 1 || range.shape[0] !== 2) {
    throw new RangeError(
      `${op}: valueRange must be [lo, hi] of values' dtype (${v.dtype}), got ` +
        `${range.dtype} ${showShape(range.shape)}`,
    );
  }
  if (typeof nbins !== "number" || !Number.isInteger(nbins) || nbins <= 0) {
    throw new RangeError(`${op}: nbins must be a positive integer, got ${String(nbins)}`);
  }
  if (dtype !== "int32" && dtype !== "int64") {
    throw new TypeError(`${op}: dtype must be "int32" or "int64", got ${String(dtype)}`);
  }
  const lo = gather(range, [0]), hi = gather(range, [1]);
  const wide = widestFloat(v.backend);
  const step = divide(castTensor(subtract(hi, lo), wide), nbins);
  const offset = castTensor(subtract(maximum(v, lo), lo), wide);
  const bin = castTensor(minimum(divide(offset, step), nbins - 1), "int32");
  const flat = reshape(bin, [bin.size]);
  return unsortedSegmentSum(ones([bin.size], dtype), flat, nbins);
}

/** Options of {@link meshgrid}. */
export interface MeshgridOptions {
  /** "xy" (Cartesian, the default: the first two output dims swapped) or "ij" (matrix). */
  indexing?: "xy" | "ij";
}

function isOptions(value: unknown): value is MeshgridOptions {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Tensor) && !ArrayBuffer.isView(value) && !(Symbol.iterator in value) &&
    Object.keys(value).every((key) => key === "indexing");
}

/**
 * Coordinate grids from 1-D coordinate vectors (tf.meshgrid): with N inputs of lengths
 * n1..nN, N outputs of shape [n1, ..., nN] ("ij"), or [n2, n1, n3, ...] ("xy", the
 * default); output i repeats input i along the other dims. A last argument of the form
 * `{ indexing }` is the options. Gradients flow back by summing over the repeats.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const [X, Y] = tf.meshgrid([1, 2, 3], [4, 5]);
 * X; // [[1, 2, 3], [1, 2, 3]]
 * Y; // [[4, 4, 4], [5, 5, 5]]
 * ```
 */
export function meshgrid(...args: (TensorLike | MeshgridOptions)[]): Tensor[] {
  const op = "meshgrid";
  const last = args[args.length - 1];
  const options = args.length > 0 && isOptions(last) ? last : {};
  const inputs = (args.length > 0 && isOptions(last) ? args.slice(0, -1) : args) as TensorLike[];
  const indexing = options.indexing ?? "xy";
  if (indexing !== "xy" && indexing !== "ij") {
    throw new RangeError(`${op}: indexing must be "xy" or "ij", got ${String(indexing)}`);
  }
  const xs = inputs.map((x) => toTensor(op, x));
  for (const x of xs) {
    if (x.dtype !== xs[0].dtype) {
      throw new TypeError(`${op}: inputs must share one dtype, got ${xs[0].dtype} and ${x.dtype}`);
    }
  }
  const shape = xs.map((x) => x.size);
  const swap = indexing === "xy" && xs.length > 1;
  if (swap) [shape[0], shape[1]] = [shape[1], shape[0]];
  return xs.map((x, i) => {
    const dim = swap && i < 2 ? 1 - i : i;
    const along = shape.map((_, d) => (d === dim ? x.size : 1));
    return broadcastTo(reshape(x, along), shape);
  });
}
