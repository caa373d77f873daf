/**
 * Matrix structure, batched over leading dims: matvec, trace, diag, diagPart, setDiag and
 * bandPart. All are compositions (gather, where, pad, matmul, reduceSum), so they run on
 * every device and their gradients are ops: diagPart's is a scatter by gather's gradient,
 * diag's a diagPart, bandPart's the same band of dy.
 * @module
 */
import { showShape } from "../shape.ts";
import type { Tensor, TensorLike } from "../tensor.ts";
import { toTensor } from "./convert.ts";
import { pad } from "./array.ts";
import { gather } from "./gather_scatter.ts";
import { where } from "./math.ts";
import { matmul } from "./matmul.ts";
import { reduceSum } from "./reduce.ts";
import { expandDims, reshape, squeeze } from "./views.ts";

/** x as a tensor of rank >= `rank`, or an Error naming op. */
function atLeast(op: string, x: TensorLike, rank: number, what = "input"): Tensor {
  const t = toTensor(op, x);
  if (t.rank < rank) {
    throw new RangeError(`${op}: ${what} needs rank >= ${rank}, got shape ${showShape(t.shape)}`);
  }
  return t;
}

/** A bool [m, n] tensor on t's device, true where `keep(i, j)`. */
function mask(t: Tensor, m: number, n: number, keep: (i: number, j: number) => boolean): Tensor {
  const data = Array.from({ length: m }, (_, i) => Array.from({ length: n }, (_, j) => keep(i, j)));
  return reshape(toTensor("mask", data, "bool", t.backend), [m, n]);
}

/** Options of matvec. */
export interface MatvecOptions {
  /** Use the transpose of a's last two dims. */
  transposeA?: boolean;
}

/**
 * The matrix-vector product a . b: a is [..., M, N], b is [..., N]; batch dims broadcast.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.linalg.matvec([[1, 2], [3, 4]], [1, 1]); // [3, 7]
 * ```
 */
export function matvec(a: TensorLike, b: TensorLike, options: MatvecOptions = {}): Tensor {
  const op = "matvec";
  const x = atLeast(op, a, 2, "a"), v = atLeast(op, b, 1, "b");
  const inner = x.shape[x.rank - (options.transposeA ? 2 : 1)];
  if (v.shape[v.rank - 1] !== inner) {
    throw new RangeError(
      `${op}: inner dimensions differ: ${showShape(x.shape)}${options.transposeA ? "^T" : ""} x ${
        showShape(v.shape)
      }`,
    );
  }
  return squeeze(matmul(x, expandDims(v, -1), { transposeA: options.transposeA }), -1);
}

/**
 * The main diagonal of the last two dims: [..., M, N] -> [..., min(M, N)] (non-square too).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.linalg.diagPart([[1, 2, 3], [4, 5, 6]]); // [1, 5]
 * ```
 */
export function diagPart(x: TensorLike): Tensor {
  const op = "diagPart";
  const t = atLeast(op, x, 2);
  const [m, n] = t.shape.slice(-2);
  const k = Math.min(m, n);
  const flat = reshape(t, [...t.shape.slice(0, -2), m * n]);
  const idx = toTensor(
    op,
    Int32Array.from({ length: k }, (_, i) => i * (n + 1)),
    "int32",
    t.backend,
  );
  return gather(flat, idx, { axis: -1 });
}

/**
 * The sum of the main diagonal of the last two dims: [..., M, N] -> [...].
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.linalg.trace([[1, 2], [3, 4]]); // 5
 * ```
 */
export function trace(x: TensorLike): Tensor {
  const t = atLeast("trace", x, 2);
  return reduceSum(diagPart(t), -1);
}

/**
 * A batch of diagonal matrices: [..., N] -> [..., N, N], zero off the diagonal (TF's k=0).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.linalg.diag([1, 2]); // [[1, 0], [0, 2]]
 * ```
 */
export function diag(diagonal: TensorLike): Tensor {
  const op = "diag";
  const d = atLeast(op, diagonal, 1, "diagonal");
  const n = d.shape[d.rank - 1];
  // Row i is d_i then n zeros; flattened, d_i lands at i * (n + 1), position (i, i) of n x n.
  // NOTE: a pad, not a product with eye, so a NaN or infinity stays on the diagonal only.
  const padding = d.shape.map(() => [0, 0] as [number, number]);
  padding.push([0, n]);
  const rows = pad(expandDims(d, -1), padding);
  const batch = d.shape.slice(0, -1);
  const flat = reshape(rows, [...batch, n * (n + 1)]);
  const square = gather(
    flat,
    toTensor(op, Int32Array.from({ length: n * n }, (_, i) => i), "int32", d.backend),
    { axis: -1 },
  );
  return reshape(square, [...batch, n, n]);
}

/**
 * x with the main diagonal of its last two dims replaced by `diagonal` ([..., min(M, N)]).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.linalg.setDiag([[1, 2], [3, 4]], [9, 8]); // [[9, 2], [3, 8]]
 * ```
 */
export function setDiag(x: TensorLike, diagonal: TensorLike): Tensor {
  const op = "setDiag";
  const t = atLeast(op, x, 2);
  const d = atLeast(op, toTensor(op, diagonal, t.dtype, t.backend), 1, "diagonal");
  const [m, n] = t.shape.slice(-2);
  const k = Math.min(m, n);
  const want = [...t.shape.slice(0, -2), k];
  if (d.rank !== want.length || d.shape.some((s, i) => s !== want[i])) {
    throw new RangeError(
      `${op}: diagonal must have shape ${showShape(want)} for input ${showShape(t.shape)}, got ${
        showShape(d.shape)
      }`,
    );
  }
  if (d.dtype !== t.dtype) throw new TypeError(`${op}: dtypes differ: ${t.dtype} and ${d.dtype}`);
  const padding = d.shape.map(() => [0, 0] as [number, number]);
  padding[padding.length - 1] = [0, m - k];
  const column = expandDims(pad(d, padding), -1); // [..., M, 1]: row i carries d_i
  return where(mask(t, m, n, (i, j) => i === j), column, t);
}

/**
 * Keeps a band of the last two dims: element (i, j) survives when
 * `(numLower < 0 || i - j <= numLower) && (numUpper < 0 || j - i <= numUpper)`, else 0.
 * -1 keeps the whole triangle: bandPart(x, 0, -1) is the upper triangle.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.linalg.bandPart([[1, 2], [3, 4]], 0, -1); // [[1, 2], [0, 4]]
 * ```
 */
export function bandPart(x: TensorLike, numLower: number, numUpper: number): Tensor {
  const op = "bandPart";
  const t = atLeast(op, x, 2);
  const [m, n] = t.shape.slice(-2);
  for (const [name, v, most] of [["numLower", numLower, m], ["numUpper", numUpper, n]] as const) {
    if (typeof v !== "number" || !Number.isInteger(v) || v < -1) {
      throw new RangeError(`${op}: ${name} must be an integer >= -1, got ${String(v)}`);
    }
    if (v > most) {
      throw new RangeError(`${op}: ${name} ${v} exceeds the matrix size in ${showShape(t.shape)}`);
    }
  }
  const keep = mask(
    t,
    m,
    n,
    (i, j) => (numLower < 0 || i - j <= numLower) && (numUpper < 0 || j - i <= numUpper),
  );
  return where(keep, t, toTensor(op, 0, t.dtype, t.backend));
}
