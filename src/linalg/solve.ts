/**
 * LU and Cholesky: cholesky, solve, inv, det, slogdet and triangularSolve (tf.linalg), on
 * LAPACK's getrf/getrs, potrf and trsm (csrc/lapack.c), batched over leading dims.
 *
 * As TensorFlow 2.21: inv and solve of a singular matrix (an exact zero pivot) are errors;
 * cholesky of a matrix that is not positive definite gives NaN for that matrix (no error); det of a singular matrix
 * is 0 and slogdet's sign 0 with logAbsDeterminant -Infinity; triangularSolve reads one
 * triangle and a zero on its diagonal gives infinities, no error. cholesky reads the lower
 * triangle only. solve needs the same batch dims on both operands; triangularSolve's
 * broadcast (both as TensorFlow's kernels). Gradients are TensorFlow's (linalg_grad.py), written in these ops and
 * matmul, so they differentiate again; det is sign * exp(logAbsDeterminant).
 * @module
 */
import { active, record, record1 } from "../tape.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { matmul } from "../ops/matmul.ts";
import { add, exp, multiply, neg } from "../ops/math.ts";
import { broadcastTo, reshape } from "../ops/views.ts";
import {
  adjoint,
  batchOf,
  broadcastSolveOperands,
  dense,
  identity,
  lapackBackend,
  lowerMask,
  matrixInput,
  rhsInput,
} from "./common.ts";
import { kernelOf } from "../backend/backend.ts";

/**
 * The lower-triangular L with L L^T = x for symmetric positive definite x (only its lower
 * triangle is read); batched over leading dims (tf.linalg.cholesky). A matrix that is not
 * positive definite gives NaN, as in TensorFlow 2.21.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.linalg.cholesky([[4, 2], [2, 5]]); // [[2, 0], [1, 2]]
 * ```
 */
export function cholesky(x: TensorLike): Tensor {
  const op = "cholesky";
  const a = matrixInput(op, x, true);
  const backend = lapackBackend(op, a);
  const n = a.shape[a.rank - 1];
  const batch = batchOf(a);
  const out = backend.allocateOutput(a.dtype, batch * n * n, op);
  kernelOf(op, backend, "cholesky")(op, dense(a, op), [batch, n], out);
  const l = new Tensor(out, a.dtype, a.shape);
  if (active.length !== 0) {
    record1(op, [a], l, (dy) => [() => choleskyGrad(l, dy)]);
  }
  return l;
}

/** TensorFlow's _CholeskyGrad: Phi(L^T dL) pulled back through L^-1, symmetrised. */
function choleskyGrad(l: Tensor, dy: Tensor): Tensor {
  const n = l.shape[l.rank - 1];
  const eye = broadcastTo(identity(n, l.dtype, l.backend), l.shape);
  const lInverse = triangularSolve(l, eye, { lower: true });
  const middle = multiply(
    matmul(l, dy, { transposeA: true }),
    lowerMask(n, l.dtype, 0.5, l.backend),
  );
  const g = matmul(matmul(lInverse, middle, { transposeA: true }), lInverse);
  return multiply(add(g, adjoint(g)), 0.5);
}

/** Options of {@link solve} and {@link inv}. */
export interface SolveOptions {
  /** Use the transpose of the matrix (its adjoint: the dtypes are real). Default false. */
  adjoint?: boolean;
}

/**
 * X with matrix X = rhs (matrix^T X = rhs with `adjoint`) by LU with partial pivoting;
 * matrix [..., n, n], rhs [..., n, k] with the same batch dims (tf.linalg.solve).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.linalg.solve([[2, 0], [0, 4]], [[2], [2]]); // [[1], [0.5]]
 * ```
 */
export function solve(matrix: TensorLike, rhs: TensorLike, options: SolveOptions = {}): Tensor {
  const op = "solve";
  const a = matrixInput(op, matrix, true);
  return luSolve(op, a, rhsInput(op, a, rhs), options.adjoint ?? false);
}

/**
 * The inverse of each square matrix (of its transpose with `adjoint`); a singular one is an
 * error (tf.linalg.inv).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.linalg.inv([[2, 0], [0, 4]]); // [[0.5, 0], [0, 0.25]]
 * ```
 */
export function inv(x: TensorLike, options: SolveOptions = {}): Tensor {
  const op = "inv";
  const a = matrixInput(op, x, true);
  const n = a.shape[a.rank - 1];
  const eye = broadcastTo(identity(n, a.dtype, a.backend), a.shape);
  return luSolve(op, a, eye, options.adjoint ?? false);
}

function luSolve(op: string, a: Tensor, b: Tensor, adj: boolean): Tensor {
  const backend = lapackBackend(op, a);
  const n = a.shape[a.rank - 1], k = b.shape[b.rank - 1];
  const batch = batchOf(a);
  const out = backend.allocateOutput(a.dtype, batch * n * k, op);
  const bad = kernelOf(op, backend, "solve")(
    op,
    dense(a, op),
    dense(b, op),
    [batch, n, k],
    adj,
    out,
  );
  if (bad >= 0) {
    const what = op === "inv" ? "Input is not invertible." : "Input matrix is not invertible.";
    throw new Error(`${op}: ${what} (matrix ${bad} of the batch is singular)`);
  }
  const c = new Tensor(out, a.dtype, b.shape);
  if (active.length !== 0) {
    record1(op, [a, b], c, (dy) => {
      // Both thunks share one solve per backward pass.
      let gradB: Tensor | undefined;
      const gb = () => gradB ??= luSolve("solve", a, dy, !adj);
      return [
        () =>
          neg(adj ? matmul(c, gb(), { transposeB: true }) : matmul(gb(), c, { transposeB: true })),
        gb,
      ];
    });
  }
  return c;
}

/** Options of {@link triangularSolve}. */
export interface TriangularSolveOptions {
  /** Read the lower triangle (default) or the upper one. */
  lower?: boolean;
  /** Solve with the transpose of the matrix. Default false. */
  adjoint?: boolean;
}

/**
 * X with matrix X = rhs for triangular matrix (only the triangle named by `lower` is read;
 * matrix^T X = rhs with `adjoint`); the batch dims of both broadcast, as TensorFlow's
 * (tf.linalg.triangular_solve).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.linalg.triangularSolve([[2, 0], [1, 1]], [[2], [3]]); // [[1], [2]]
 * ```
 */
export function triangularSolve(
  matrix: TensorLike,
  rhs: TensorLike,
  options: TriangularSolveOptions = {},
): Tensor {
  const op = "triangularSolve";
  const [a, b] = broadcastSolveOperands(op, matrixInput(op, matrix, true), rhs);
  const lower = options.lower ?? true, adj = options.adjoint ?? false;
  const backend = lapackBackend(op, a);
  const n = a.shape[a.rank - 1], k = b.shape[b.rank - 1];
  const out = backend.allocateOutput(a.dtype, batchOf(a) * n * k, op);
  kernelOf(op, backend, "triangularSolve")(
    op,
    dense(a, op),
    dense(b, op),
    [batchOf(a), n, k],
    [lower, adj],
    out,
  );
  const c = new Tensor(out, a.dtype, b.shape);
  if (active.length !== 0) {
    record1(op, [a, b], c, (dy) => {
      let gradB: Tensor | undefined;
      const gb = () => gradB ??= triangularSolve(a, dy, { lower, adjoint: !adj });
      return [
        () => {
          const g = neg(
            adj ? matmul(c, gb(), { transposeB: true }) : matmul(gb(), c, { transposeB: true }),
          );
          const mask = lowerMask(n, a.dtype, 1, a.backend);
          return multiply(g, lower ? mask : adjoint(mask));
        },
        gb,
      ];
    });
  }
  return c;
}

/** The result of {@link slogdet}. */
export interface Slogdet {
  /** The sign of each determinant: -1, 1, or 0 for a singular matrix. */
  sign: Tensor;
  /** log |det|: -Infinity for a singular matrix. */
  logAbsDeterminant: Tensor;
}

/**
 * The sign and log |determinant| of each square matrix, by LU (tf.linalg.slogdet): finite
 * where det itself would overflow.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const { sign, logAbsDeterminant } = tf.linalg.slogdet([[-2, 0], [0, 3]]);
 * sign; // -1
 * logAbsDeterminant; // log(6)
 * ```
 */
export function slogdet(x: TensorLike): Slogdet {
  return slogdetOf("slogdet", x);
}

function slogdetOf(op: string, x: TensorLike): Slogdet {
  const a = matrixInput(op, x, true);
  const backend = lapackBackend(op, a);
  const n = a.shape[a.rank - 1], batch = batchOf(a);
  const shape = a.shape.slice(0, -2);
  const sign = backend.allocateOutput(a.dtype, batch, op);
  const logAbs = backend.allocateOutput(a.dtype, batch, op);
  kernelOf(op, backend, "slogdet")(op, dense(a, op), [batch, n], sign, logAbs);
  const result = {
    sign: new Tensor(sign, a.dtype, shape),
    logAbsDeterminant: new Tensor(logAbs, a.dtype, shape),
  };
  if (active.length !== 0) {
    record(op, [a], [result.sign, result.logAbsDeterminant], (dys) => [
      multiply(reshape(dys[1], [...shape, 1, 1]), inv(a, { adjoint: true })),
    ]);
  }
  return result;
}

/**
 * The determinant of each square matrix (tf.linalg.det): sign * exp(log |det|) from one
 * LU, 0 for a singular matrix.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.linalg.det([[1, 2], [3, 4]]); // -2
 * ```
 */
export function det(x: TensorLike): Tensor {
  const { sign, logAbsDeterminant } = slogdetOf("det", x);
  return multiply(sign, exp(logAbsDeterminant));
}

/**
 * X with (L L^T) X = rhs for a lower Cholesky factor L: two triangular solves
 * (tf.linalg.cholesky_solve).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const l = tf.linalg.cholesky([[4, 2], [2, 5]]);
 * tf.linalg.choleskySolve(l, [[6], [7]]); // [[1], [1]]
 * ```
 */
export function choleskySolve(chol: TensorLike, rhs: TensorLike): Tensor {
  const y = triangularSolve(chol, rhs, { lower: true });
  return triangularSolve(chol, y, { lower: true, adjoint: true });
}
