/**
 * The CPU backend's LAPACK kernels (csrc/lapack.c): dense row-major float operands batched
 * over leading matrices; the ops checked every shape and that a LAPACK was found.
 * @module
 */
import { dtypeCode, type TypedArray } from "../../dtype.ts";
import { check, native } from "../../native/lib.ts";
import { host, type Operand } from "./operand.ts";

/** Where the kernels report the first matrix whose factorisation failed. */
const firstBad = new BigInt64Array(1);

/** Whether a LAPACK library was found (EAGER_LAPACK=none or EAGER_BLAS=none: never). */
export function lapackAvailable(): boolean {
  return native.eager_lapack_available() === 1;
}

/** out = the lower Cholesky factors of x [batch, n, n]; the first failed matrix or -1. */
export function choleskyInto(
  op: string,
  x: Operand,
  [batch, n]: readonly number[],
  out: TypedArray,
): number {
  check(
    native.eager_lapack_cholesky(dtypeCode(x.dtype), batch, n, out, host(x), x.offset, firstBad),
    op,
  );
  return Number(firstBad[0]);
}

/** out [batch, n, k] = a^-1 rhs (a^T with adjoint); the first singular matrix or -1. */
export function solveInto(
  op: string,
  a: Operand,
  rhs: Operand,
  [batch, n, k]: readonly number[],
  adjoint: boolean,
  out: TypedArray,
): number {
  check(
    native.eager_lapack_solve(
      dtypeCode(a.dtype),
      batch,
      n,
      k,
      adjoint ? 1 : 0,
      out,
      host(a),
      a.offset,
      host(rhs),
      rhs.offset,
      firstBad,
    ),
    op,
  );
  return Number(firstBad[0]);
}

/** sign [batch] and logAbs [batch] of the determinants of x [batch, n, n]. */
export function slogdetInto(
  op: string,
  x: Operand,
  [batch, n]: readonly number[],
  sign: TypedArray,
  logAbs: TypedArray,
): void {
  check(
    native.eager_lapack_slogdet(dtypeCode(x.dtype), batch, n, sign, logAbs, host(x), x.offset),
    op,
  );
}

/** out [batch, n, k] = a^-1 rhs for triangular a (lower or upper; a^T with adjoint). */
export function triangularSolveInto(
  op: string,
  a: Operand,
  rhs: Operand,
  [batch, n, k]: readonly number[],
  [lower, adjoint]: readonly boolean[],
  out: TypedArray,
): void {
  check(
    native.eager_lapack_triangular_solve(
      dtypeCode(a.dtype),
      batch,
      n,
      k,
      lower ? 1 : 0,
      adjoint ? 1 : 0,
      out,
      host(a),
      a.offset,
      host(rhs),
      rhs.offset,
    ),
    op,
  );
}

/** q [batch, m, c] and r [batch, c, n] of x [batch, m, n] (c = m when full, else min). */
export function qrInto(
  op: string,
  x: Operand,
  [batch, m, n]: readonly number[],
  full: boolean,
  q: TypedArray,
  r: TypedArray,
): void {
  check(
    native.eager_lapack_qr(dtypeCode(x.dtype), batch, m, n, full ? 1 : 0, q, r, host(x), x.offset),
    op,
  );
}

/** Ascending eigenvalues e [batch, n] and eigenvectors v (or null) of symmetric x. */
export function eighInto(
  op: string,
  x: Operand,
  [batch, n]: readonly number[],
  e: TypedArray,
  v: TypedArray | null,
): number {
  check(
    native.eager_lapack_eigh(dtypeCode(x.dtype), batch, n, e, v, host(x), x.offset, firstBad),
    op,
  );
  return Number(firstBad[0]);
}

/** s [batch, k] descending and, by mode (0 none, 1 reduced, 2 full), u and v of x. */
export function svdInto(
  op: string,
  x: Operand,
  [batch, m, n, mode]: readonly number[],
  s: TypedArray,
  u: TypedArray | null,
  v: TypedArray | null,
): number {
  check(
    native.eager_lapack_svd(
      dtypeCode(x.dtype),
      batch,
      m,
      n,
      mode,
      s,
      u,
      v,
      host(x),
      x.offset,
      firstBad,
    ),
    op,
  );
  return Number(firstBad[0]);
}
