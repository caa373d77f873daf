/**
 * lstsq and pinv (tf.linalg.lstsq, tf.linalg.pinv), composed from cholesky, qr and svd, so
 * their gradients come from those ops'.
 *
 * lstsq follows TensorFlow's matrix_solve_ls: `fast` (the default) solves the regularised
 * normal equations by Cholesky (A^T A + l2 I for m >= n, else the minimum-norm
 * A^T (A A^T + l2 I)^-1 b); `fast: false` gives the minimum-norm least-squares solution
 * even for rank-deficient A, as TensorFlow's complete orthogonal decomposition does, here as
 * pinv(A) b (singular values below pinv's default cutoff count as zero), and ignores
 * l2Regularizer, as TensorFlow. The fast path's batch dims broadcast (TensorFlow's composite of
 * matmul and cholesky_solve); fast: false needs equal ones (its MatrixSolveLs kernel).
 * NOTE: TensorFlow has no gradient for fast: false; this one differentiates through the SVD
 * (distinct singular values).
 * @module
 */
import type { Tensor, TensorLike } from "../tensor.ts";
import { matmul } from "../ops/matmul.ts";
import { add, divide, greater, multiply, where } from "../ops/math.ts";
import { reduceMax } from "../ops/reduce.ts";
import { fill } from "../ops/creation.ts";
import { broadcastTo, reshape } from "../ops/views.ts";
import { broadcastSolveOperands, identity, matrixInput, rhsInput } from "./common.ts";
import { cholesky, choleskySolve } from "./solve.ts";
import { svd } from "./decompose.ts";

/** Options of {@link lstsq}. */
export interface LstsqOptions {
  /** Ridge term l2 added to the normal equations' diagonal; ignored with fast: false, as
   * TensorFlow. Default 0. */
  l2Regularizer?: number;
  /** Normal equations by Cholesky (default) or, false, the minimum-norm solution by SVD
   * (rank-deficient matrices included). */
  fast?: boolean;
}

/**
 * The least-squares solution X of matrix X = rhs for matrix [..., m, n] and rhs [..., m, k]:
 * argmin |matrix X - rhs|^2 + l2 |X|^2 (tf.linalg.lstsq). Batch dims broadcast, except with
 * fast: false, which needs them equal (both as TensorFlow).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.linalg.lstsq([[1, 0], [0, 1], [1, 1]], [[1], [1], [2]]); // [[1], [1]]
 * ```
 */
export function lstsq(matrix: TensorLike, rhs: TensorLike, options: LstsqOptions = {}): Tensor {
  const op = "lstsq";
  const a = matrixInput(op, matrix, false);
  const l2 = options.l2Regularizer ?? 0;
  if (typeof l2 !== "number" || !(l2 >= 0)) {
    throw new RangeError(`${op}: l2Regularizer must be a number >= 0, got ${String(l2)}`);
  }
  // NOTE: as TensorFlow's MatrixSolveLs kernel, fast: false ignores l2Regularizer.
  if (options.fast === false) return matmul(pinv(a), rhsInput(op, a, rhs));
  // The matrix keeps its own batch dims: matmul and choleskySolve broadcast, so each
  // Gram matrix is factored once, not once per rhs it is broadcast against.
  const [, b] = broadcastSolveOperands(op, a, rhs);
  const [m, n] = a.shape.slice(-2);
  const ridge = (t: Tensor, size: number) =>
    l2 === 0 ? t : add(t, identity(size, a.dtype, a.backend, l2));
  if (m >= n) {
    const gram = ridge(matmul(a, a, { transposeA: true }), n);
    return choleskySolve(cholesky(gram), matmul(a, b, { transposeA: true }));
  }
  const gram = ridge(matmul(a, a, { transposeB: true }), m);
  return matmul(a, choleskySolve(cholesky(gram), b), { transposeA: true });
}

/** Options of {@link pinv}. */
export interface PinvOptions {
  /**
   * Singular values at or below rcond * the largest are treated as zero. Default
   * 10 * max(m, n) * the dtype's machine epsilon, as TensorFlow's.
   */
  rcond?: number;
}

/**
 * The Moore-Penrose pseudo-inverse of each matrix, by SVD (tf.linalg.pinv).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.linalg.pinv([[2, 0], [0, 0]]); // [[0.5, 0], [0, 0]]
 * ```
 */
export function pinv(a: TensorLike, options: PinvOptions = {}): Tensor {
  const op = "pinv";
  const x = matrixInput(op, a, false);
  const [m, n] = x.shape.slice(-2);
  const eps = x.dtype === "float64" ? 2 ** -52 : 2 ** -23;
  const rcond = options.rcond ?? 10 * Math.max(m, n) * eps;
  if (typeof rcond !== "number" || Number.isNaN(rcond)) {
    throw new RangeError(`${op}: rcond must be a number, got ${String(rcond)}`);
  }
  const { s, u, v } = svd(x);
  const k = s.shape[s.rank - 1];
  if (k === 0) return broadcastTo(fill([n, m], 0, x.dtype), [...x.shape.slice(0, -2), n, m]);
  const cutoff = multiply(reduceMax(s, -1, { keepDims: true }), rcond);
  const kept = where(greater(s, cutoff), s, fill(s.shape, Infinity, x.dtype));
  const scaled = divide(v!, reshape(kept, [...s.shape.slice(0, -1), 1, k]));
  return matmul(scaled, u!, { transposeB: true });
}
