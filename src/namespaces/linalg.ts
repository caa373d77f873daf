/**
 * `tf.linalg`: matrix structure (diagonals, bands, traces, einsum) and LAPACK's
 * factorisations and solvers, batched over leading dimensions, as TensorFlow 2's namespace.
 * @module
 */
export { matmul, tensordot } from "../ops/matmul.ts";
export { eye } from "../ops/creation.ts";
export { norm } from "../ops/reduce.ts";
// einsum and matrix structure
export { einsum } from "../ops/einsum.ts";
export { bandPart, diag, diagPart, matvec, setDiag, trace } from "../ops/linalg_structure.ts";
export type { MatvecOptions } from "../ops/linalg_structure.ts";
export { l2Normalize } from "../ops/activations.ts";
// LAPACK
export {
  cholesky,
  choleskySolve,
  det,
  inv,
  slogdet,
  solve,
  triangularSolve,
} from "../linalg/solve.ts";
export type { Slogdet, SolveOptions, TriangularSolveOptions } from "../linalg/solve.ts";
export { eigh, eigvalsh, qr, svd } from "../linalg/decompose.ts";
export type { Eigh, Qr, QrOptions, Svd, SvdOptions } from "../linalg/decompose.ts";
export { lstsq, pinv } from "../linalg/least_squares.ts";
export type { LstsqOptions, PinvOptions } from "../linalg/least_squares.ts";
