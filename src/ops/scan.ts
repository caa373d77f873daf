/**
 * Cumulative sums, products and log-sum-exps along one axis (tf.cumsum, tf.math.cumprod,
 * tf.math.cumulative_logsumexp), over the eager_scan kernel: x is made dense and seen as
 * [outer, n, inner]. The gradients are TensorFlow's, written with these same ops, so they
 * differentiate again: cumsum's is a cumsum of dy in the other direction; cumprod's divides
 * a reversed cumsum of y * dy by x (div_no_nan: 0 where x is 0, as TensorFlow, which is
 * wrong where x has zeros); cumulativeLogsumexp's splits dy by sign and takes each part
 * through a reversed log-sum-exp scan, as TensorFlow does for stability.
 *
 * Long rows are summed in blocks of fixed length (see csrc/kernels/scan.c), so float
 * results can differ from a strictly sequential sum in the last bits, never between runs.
 * @module
 */
import { kernelOf } from "../backend/backend.ts";
import type { DType } from "../dtype.ts";
import { Scan } from "../native/codes.ts";
import { normalizeAxis, sizeOf } from "../shape.ts";
import { active, record1 } from "../tape.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { contiguous } from "./cast.ts";
import { toTensor } from "./convert.ts";
import { zerosLike } from "./creation.ts";
import {
  add,
  divide,
  equal,
  exp,
  greater,
  less,
  log,
  multiply,
  neg,
  subtract,
  where,
} from "./math.ts";

/** Options of {@link cumsum}, {@link cumprod} and {@link cumulativeLogsumexp}. */
export interface ScanOptions {
  /** Leave each element out of its own result (the first is 0, 1 or -Infinity). */
  exclusive?: boolean;
  /** Scan from the end of the axis towards its start. */
  reverse?: boolean;
}

const NUMERIC: readonly DType[] = ["float32", "float64", "int32", "int64", "uint8"];
const FLOATS: readonly DType[] = ["float32", "float64"];

function scan(
  op: string,
  code: number,
  dtypes: readonly DType[],
  x: TensorLike,
  axis: number,
  options: ScanOptions,
): [Tensor, Tensor] {
  const source = toTensor(op, x);
  if (!dtypes.includes(source.dtype)) {
    throw new TypeError(
      `${op}: dtype ${source.dtype} is not supported (takes ${dtypes.join(", ")})`,
    );
  }
  const ax = normalizeAxis(op, axis, source.rank);
  const exclusive = options.exclusive ?? false, reverse = options.reverse ?? false;
  const t = contiguous(source, op);
  const dims = [sizeOf(t.shape.slice(0, ax)), t.shape[ax], sizeOf(t.shape.slice(ax + 1))];
  const out = t.backend.allocateOutput(t.dtype, t.size, op);
  kernelOf(op, t.backend, "scan")(op, code, t, dims, [exclusive, reverse], out);
  return [source, new Tensor(out, t.dtype, t.shape)];
}

/**
 * The cumulative sum of `x` along `axis` (tf.cumsum): with `exclusive` each element is
 * left out of its own sum, with `reverse` the sums run from the end. Float32, float64,
 * int32, int64 and uint8 (integers wrap on overflow, as in TensorFlow).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.cumsum([1, 2, 3]); // [1, 3, 6]
 * tf.cumsum([1, 2, 3], 0, { exclusive: true, reverse: true }); // [5, 3, 0]
 * tf.cumsum([[1, 2], [3, 4]], -1); // [[1, 3], [3, 7]]
 * ```
 */
export function cumsum(x: TensorLike, axis = 0, options: ScanOptions = {}): Tensor {
  const op = "cumsum";
  const [source, y] = scan(op, Scan.SUM, NUMERIC, x, axis, options);
  if (active.length !== 0) {
    const back = { exclusive: options.exclusive, reverse: !options.reverse };
    record1(op, [source], y, (dy) => [() => cumsum(dy, axis, back)]);
  }
  return y;
}

/**
 * The cumulative product of `x` along `axis` (tf.math.cumprod), with cumsum's options.
 * Its gradient is TensorFlow's: 0 where x is 0 (TensorFlow's div_no_nan), not the true one.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.math.cumprod([1, 2, 3]); // [1, 2, 6]
 * tf.math.cumprod([1, 2, 3], 0, { exclusive: true }); // [1, 1, 2]
 * ```
 */
export function cumprod(x: TensorLike, axis = 0, options: ScanOptions = {}): Tensor {
  const op = "cumprod";
  const [source, y] = scan(op, Scan.PROD, NUMERIC, x, axis, options);
  if (active.length !== 0) {
    record1(op, [source], y, (dy) => [() => {
      const back = { exclusive: options.exclusive, reverse: !options.reverse };
      const sum = cumsum(multiply(cumprod(source, axis, options), dy), axis, back);
      const zero = equal(source, 0);
      return where(zero, zerosLike(sum), divide(sum, where(zero, 1, source)));
    }]);
  }
  return y;
}

/**
 * log(cumsum(exp(x))) along `axis` without overflow (tf.math.cumulative_logsumexp), with
 * cumsum's options; an exclusive scan starts at -Infinity. Float32 and float64. Special
 * values come out as in TensorFlow's kernel (see csrc/kernels/scan.c): +inf twice gives NaN,
 * and a NaN element counts as a copy of the running value.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.math.cumulativeLogsumexp([0, 0]); // [0, 0.6931472]
 * ```
 */
export function cumulativeLogsumexp(
  x: TensorLike,
  axis = 0,
  options: ScanOptions = {},
): Tensor {
  const op = "cumulativeLogsumexp";
  const [source, y] = scan(op, Scan.LOGSUMEXP, FLOATS, x, axis, options);
  if (active.length !== 0) {
    record1(op, [source], y, (dy) => [() => logsumexpGrad(source, y, dy, axis, options)]);
  }
  return y;
}

/** TensorFlow's _CumulativeLogsumexpGrad: dy's positive and negative parts in log space. */
function logsumexpGrad(
  x: Tensor,
  y: Tensor,
  dy: Tensor,
  axis: number,
  options: ScanOptions,
): Tensor {
  const lowest = dy.dtype === "float32" ? -3.4028234663852886e38 : -Number.MAX_VALUE;
  const back = { exclusive: options.exclusive, reverse: !options.reverse };
  const part = (mask: Tensor, magnitude: Tensor) => {
    const logs = where(mask, log(where(mask, magnitude, 1)), lowest);
    return exp(add(cumulativeLogsumexp(subtract(logs, y), axis, back), x));
  };
  return subtract(part(greater(dy, 0), dy), part(less(dy, 0), neg(dy)));
}
