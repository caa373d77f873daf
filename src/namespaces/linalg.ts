/**
 * `tf.linalg`: matrix structure (diagonals, bands, traces, einsum) and LAPACK's
 * factorisations and solvers, batched over leading dimensions, as TensorFlow 2's namespace.
 * @module
 */
export { matmul, tensordot } from "../ops/matmul.ts";
export { eye } from "../ops/creation.ts";
export { norm } from "../ops/reduce.ts";
// -- einsum and matrix structure (helper B) --
// -- LAPACK (helper C) --
