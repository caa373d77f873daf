/**
 * QR, symmetric eigendecomposition and SVD (tf.linalg.qr, eigh, eigvalsh, svd) on
 * LAPACK's geqrf/orgqr, syevd and gesdd (csrc/lapack.c), batched over leading dims.
 *
 * Conventions as TensorFlow's: eigh's eigenvalues ascending, reading the lower triangle;
 * svd's s descending and v (not v^T) with x = u diag(s) v^T. Signs of q's columns and of
 * eigen- and singular vectors are LAPACK's (TensorFlow's CPU kernels use Eigen, so a column
 * may differ in sign from TensorFlow's). Gradients are TensorFlow's (linalg_grad.py): qr's
 * for m >= n, or full_matrices false (the wide case too); eigh's and svd's need distinct
 * eigen / singular values (repeated ones give infinities, as in TensorFlow); svd's with u
 * and v needs fullMatrices false or |m - n| <= 1 as TensorFlow's (here: fullMatrices false
 * or m == n).
 * @module
 */
import { kernelOf } from "../backend/backend.ts";
import { active, record } from "../tape.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { concat } from "../ops/array.ts";
import { matmul } from "../ops/matmul.ts";
import { add, divide, multiply, square, subtract } from "../ops/math.ts";
import { reshape, slice } from "../ops/views.ts";
import {
  adjoint,
  batchOf,
  dense,
  identity,
  lapackBackend,
  lowerMask,
  matrixInput,
} from "./common.ts";
import { triangularSolve } from "./solve.ts";

/** Options of {@link qr}. */
export interface QrOptions {
  /** q [m, m] and r [m, n] instead of q [m, k] and r [k, n], k = min(m, n). Default false. */
  fullMatrices?: boolean;
}

/** The result of {@link qr}. */
export interface Qr {
  /** Orthonormal columns. */
  q: Tensor;
  /** Upper triangular. */
  r: Tensor;
}

/**
 * x = q r with orthonormal q and upper-triangular r, by Householder reflections
 * (tf.linalg.qr).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const { q, r } = tf.linalg.qr([[3, 1], [4, 2]]);
 * tf.matmul(q, r); // [[3, 1], [4, 2]]
 * ```
 */
export function qr(x: TensorLike, options: QrOptions = {}): Qr {
  const op = "qr";
  const a = matrixInput(op, x, false);
  const backend = lapackBackend(op, a);
  const [m, n] = a.shape.slice(-2);
  const full = options.fullMatrices ?? false;
  const c = full ? m : Math.min(m, n), batch = batchOf(a), lead = a.shape.slice(0, -2);
  const q = backend.allocateOutput(a.dtype, batch * m * c, op);
  const r = backend.allocateOutput(a.dtype, batch * c * n, op);
  kernelOf(op, backend, "qr")(op, dense(a, op), [batch, m, n], full, q, r);
  const result = {
    q: new Tensor(q, a.dtype, [...lead, m, c]),
    r: new Tensor(r, a.dtype, [...lead, c, n]),
  };
  if (active.length !== 0) {
    record(op, [a], [result.q, result.r], (dys) => {
      if (full && m > n) {
        throw new Error("qr: the gradient is not implemented when m > n and fullMatrices is true");
      }
      return [qrGrad(a, result.q, result.r, dys[0], dys[1])];
    });
  }
  return result;
}

/** x r^-T for upper-triangular r (TensorFlow's _TriangularSolve in _QrGrad). */
function rightSolve(x: Tensor, r: Tensor): Tensor {
  return adjoint(triangularSolve(r, adjoint(x), { lower: false }));
}

function qrGradDeep(q: Tensor, r: Tensor, dq: Tensor, dr: Tensor): Tensor {
  const qdq = matmul(q, dq, { transposeA: true });
  const rdr = matmul(r, dr, { transposeB: true });
  const n = r.shape[r.rank - 1];
  const tril = multiply(
    add(subtract(qdq, adjoint(qdq)), subtract(rdr, adjoint(rdr))),
    lowerMask(n, r.dtype, 1, r.backend),
  );
  const gradA = matmul(q, add(dr, rightSolve(tril, r)));
  const gradB = rightSolve(subtract(dq, matmul(q, qdq)), r);
  return add(gradA, gradB);
}

function qrGrad(a: Tensor, q: Tensor, r: Tensor, dq: Tensor, dr: Tensor): Tensor {
  const [m, n] = a.shape.slice(-2);
  if (m >= n) return qrGradDeep(q, r, dq, dr);
  const lead = a.shape.slice(0, -2).map(() => 0);
  const cols = (t: Tensor, from: number, size: number) =>
    slice(t, [...lead, 0, from], [...t.shape.slice(0, -1), size]);
  const y = cols(a, m, n - m), u = cols(r, 0, m);
  const dv = cols(dr, m, n - m), du = cols(dr, 0, m);
  const dy = matmul(q, dv);
  const dx = qrGradDeep(q, u, add(dq, matmul(y, dv, { transposeB: true })), du);
  return concat([dx, dy], -1);
}

/** The result of {@link eigh}. */
export interface Eigh {
  /** Eigenvalues [..., n], ascending. */
  e: Tensor;
  /** Eigenvectors as columns [..., n, n]. */
  v: Tensor;
}

/**
 * The eigenvalues (ascending) and eigenvectors of each symmetric matrix, reading its lower
 * triangle (tf.linalg.eigh).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const { e, v } = tf.linalg.eigh([[2, 1], [1, 2]]);
 * e; // [1, 3]
 * ```
 */
export function eigh(x: TensorLike): Eigh {
  return eighOf("eigh", x);
}

/**
 * The eigenvalues (ascending) of each symmetric matrix (tf.linalg.eigvalsh).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.linalg.eigvalsh([[2, 1], [1, 2]]); // [1, 3]
 * ```
 */
export function eigvalsh(x: TensorLike): Tensor {
  return eighOf("eigvalsh", x).e;
}

function eighOf(op: string, x: TensorLike): Eigh {
  const a = matrixInput(op, x, true);
  const backend = lapackBackend(op, a);
  const n = a.shape[a.rank - 1], batch = batchOf(a), lead = a.shape.slice(0, -2);
  const e = backend.allocateOutput(a.dtype, batch * n, op);
  const v = backend.allocateOutput(a.dtype, batch * n * n, op);
  const bad = kernelOf(op, backend, "eigh")(op, dense(a, op), [batch, n], e, v);
  if (bad >= 0) {
    throw new Error(
      `${op}: Self-adjoint eigen decomposition was not successful. The input might not be ` +
        `valid (matrix ${bad} of the batch holds NaN or did not converge).`,
    );
  }
  const result = { e: new Tensor(e, a.dtype, [...lead, n]), v: new Tensor(v, a.dtype, a.shape) };
  if (active.length !== 0) {
    record(op, [a], [result.e, result.v], (dys) => [eighGrad(result.e, result.v, dys[0], dys[1])]);
  }
  return result;
}

/** 1 / (s[j] - s[i]) off the diagonal, 0 on it: [..., n, n] from s [..., n]. */
function gapReciprocals(s: Tensor): Tensor {
  const n = s.shape[s.rank - 1], lead = s.shape.slice(0, -1);
  const eye = identity(n, s.dtype, s.backend);
  const gaps = subtract(reshape(s, [...lead, 1, n]), reshape(s, [...lead, n, 1]));
  return multiply(divide(1, add(gaps, eye)), subtract(1, eye));
}

/** diag(d) for d [..., n]. */
function diagOf(d: Tensor): Tensor {
  const n = d.shape[d.rank - 1];
  return multiply(reshape(d, [...d.shape.slice(0, -1), 1, n]), identity(n, d.dtype, d.backend));
}

function eighGrad(e: Tensor, v: Tensor, de: Tensor, dv: Tensor): Tensor {
  const n = e.shape[e.rank - 1];
  const inner = add(diagOf(de), multiply(gapReciprocals(e), matmul(v, dv, { transposeA: true })));
  const g = matmul(v, matmul(inner, v, { transposeB: true }));
  return multiply(add(g, adjoint(g)), lowerMask(n, e.dtype, 0.5, e.backend));
}

/** Options of {@link svd}. */
export interface SvdOptions {
  /** u [m, m] and v [n, n] instead of [m, k] and [n, k], k = min(m, n). Default false. */
  fullMatrices?: boolean;
  /** Compute u and v (default); false gives s only. */
  computeUv?: boolean;
}

/** The result of {@link svd}. */
export interface Svd {
  /** Singular values [..., k], descending. */
  s: Tensor;
  /** Left singular vectors as columns (undefined unless computeUv). */
  u?: Tensor;
  /** Right singular vectors as columns: x = u diag(s) v^T (undefined unless computeUv). */
  v?: Tensor;
}

/**
 * The singular value decomposition x = u diag(s) v^T of each matrix, s descending, by
 * divide and conquer (tf.linalg.svd; note TensorFlow's order s, u, v and v not v^T).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const { s } = tf.linalg.svd([[3, 0], [0, -4]]);
 * s; // [4, 3]
 * ```
 */
export function svd(x: TensorLike, options: SvdOptions = {}): Svd {
  const op = "svd";
  const a = matrixInput(op, x, false);
  const backend = lapackBackend(op, a);
  const [m, n] = a.shape.slice(-2);
  const full = options.fullMatrices ?? false, uv = options.computeUv ?? true;
  const k = Math.min(m, n), batch = batchOf(a), lead = a.shape.slice(0, -2);
  const uc = full ? m : k, vc = full ? n : k;
  const s = backend.allocateOutput(a.dtype, batch * k, op);
  const u = uv ? backend.allocateOutput(a.dtype, batch * m * uc, op) : null;
  const v = uv ? backend.allocateOutput(a.dtype, batch * n * vc, op) : null;
  const mode = uv ? (full ? 2 : 1) : 0;
  // A matrix the SVD fails on (NaN in it) comes back NaN, as in TensorFlow.
  kernelOf(op, backend, "svd")(op, dense(a, op), [batch, m, n, mode], s, u, v);
  const sT = new Tensor(s, a.dtype, [...lead, k]);
  if (!uv) {
    if (active.length !== 0) {
      record(op, [a], [sT], (dys) => {
        const d = svd(a);
        return [matmul(d.u!, matmul(diagOf(dys[0]), d.v!, { transposeB: true }))];
      });
    }
    return { s: sT };
  }
  const result = {
    s: sT,
    u: new Tensor(u!, a.dtype, [...lead, m, uc]),
    v: new Tensor(v!, a.dtype, [...lead, n, vc]),
  };
  if (active.length !== 0) {
    record(op, [a], [result.s, result.u, result.v], (dys) => {
      if (full && m !== n) {
        throw new Error(
          "svd: the gradient with fullMatrices is implemented for square matrices only",
        );
      }
      return [svdGrad(result, dys[0], dys[1], dys[2])];
    });
  }
  return result;
}

/** TensorFlow's _SvdGrad for reduced factors (x wide or square after transposing). */
function svdGrad(d: Required<Svd>, ds: Tensor, du: Tensor, dv: Tensor): Tensor {
  const tall = d.u.shape[d.u.rank - 2] > d.v.shape[d.v.rank - 2];
  const [u, v, gu, gv] = tall ? [d.v, d.u, dv, du] : [d.u, d.v, du, dv];
  const s = d.s;
  const m = u.shape[u.rank - 2], n = v.shape[v.rank - 2];
  const f = gapReciprocals(square(s));
  const sMat = diagOf(s);
  const fu = multiply(f, matmul(u, gu, { transposeA: true }));
  const fv = multiply(f, matmul(v, gv, { transposeA: true }));
  const middle = add(
    add(diagOf(ds), matmul(add(fu, adjoint(fu)), sMat)),
    matmul(sMat, add(fv, adjoint(fv))),
  );
  let g = matmul(u, matmul(middle, v, { transposeB: true }));
  if (m !== n) {
    const gvt = adjoint(gv);
    const rest = subtract(gvt, matmul(matmul(gvt, v), v, { transposeB: true }));
    g = add(g, matmul(matmul(u, diagOf(divide(1, s))), rest));
  }
  return tall ? adjoint(g) : g;
}
