/**
 * What the LAPACK ops share: operand checks (float32/float64, rank >= 2, square), the
 * LAPACK presence check, and small matrix helpers their gradients are written in.
 * @module
 */
import { type Backend, kernelOf } from "../backend/backend.ts";
import type { DType } from "../dtype.ts";
import { broadcastShapes, showShape, sizeOf } from "../shape.ts";
import type { Tensor, TensorLike } from "../tensor.ts";
import { contiguous } from "../ops/cast.ts";
import { placed, toTensor } from "../ops/convert.ts";
import { broadcastTo, transpose } from "../ops/views.ts";

/** A float matrix operand (rank >= 2), square when asked. */
export function matrixInput(op: string, value: TensorLike, square: boolean): Tensor {
  const t = toTensor(op, value);
  if (t.dtype !== "float32" && t.dtype !== "float64") {
    throw new TypeError(`${op}: dtype ${t.dtype} is not supported (takes float32, float64)`);
  }
  if (t.rank < 2) {
    throw new RangeError(`${op}: input must have rank >= 2, got shape ${showShape(t.shape)}`);
  }
  const [m, n] = t.shape.slice(-2);
  if (square && m !== n) {
    throw new RangeError(
      `${op}: input must be a square matrix (or a batch of them), got shape ${showShape(t.shape)}`,
    );
  }
  if (m > 2 ** 31 - 1 || n > 2 ** 31 - 1) {
    throw new RangeError(`${op}: a matrix dimension exceeds 2^31 - 1`);
  }
  return t;
}

/**
 * The rhs of a solve (solve, lstsq with fast: false): same dtype, rank and batch dims as
 * `matrix`, as many rows; a misfit gets the words of TensorFlow's MatrixSolve and MatrixSolveLs.
 */
export function rhsInput(op: string, matrix: Tensor, value: TensorLike): Tensor {
  const rhs = rhsOfDtype(op, matrix, value);
  const batch = matrix.shape.slice(0, -2);
  if (rhs.rank !== matrix.rank) {
    throw misfit(op, rhs, matrix, "All input tensors must have the same rank.");
  }
  if (!rhs.shape.slice(0, -2).every((d, i) => d === batch[i])) {
    throw misfit(op, rhs, matrix, "All input tensors must have the same outer dimensions.");
  }
  if (rhs.shape[rhs.rank - 2] !== matrix.shape[matrix.rank - 2]) {
    throw misfit(op, rhs, matrix, "Input matrix and rhs are incompatible.");
  }
  return rhs;
}

/**
 * The operands of a solve whose batch dims broadcast (tf.linalg.triangularSolve, as
 * TensorFlow's MatrixTriangularSolve since 2.2, and lstsq's fast path, TensorFlow's composite
 * of matmul and choleskySolve): matrix [..., m, n] and rhs [..., m, k] broadcast to their
 * common batch dims; differentiable, so each gradient is summed back to its operand's shape.
 */
export function broadcastSolveOperands(
  op: string,
  matrix: Tensor,
  value: TensorLike,
): [Tensor, Tensor] {
  const rhs = rhsOfDtype(op, matrix, value);
  const [m, n] = matrix.shape.slice(-2);
  if (rhs.rank < 2 || rhs.shape[rhs.rank - 2] !== m) {
    throw misfit(op, rhs, matrix, "", "with batch dims that broadcast");
  }
  let batch: number[];
  try {
    batch = broadcastShapes(op, matrix.shape.slice(0, -2), rhs.shape.slice(0, -2));
  } catch {
    // TensorFlow's words, matrix and rhs as its In[0] and In[1]
    const dims = (t: Tensor) => `[${t.shape.join(",")}]`;
    throw new RangeError(
      `${op}: In[0] and In[1] must have compatible batch dimensions: ${dims(matrix)} vs. ${
        dims(rhs)
      } (matrix and rhs)`,
    );
  }
  const k = rhs.shape[rhs.rank - 1];
  return [broadcastTo(matrix, [...batch, m, n]), broadcastTo(rhs, [...batch, m, k])];
}

function rhsOfDtype(op: string, matrix: Tensor, value: TensorLike): Tensor {
  const rhs = toTensor(op, value, matrix.dtype);
  if (rhs.dtype !== matrix.dtype) {
    throw new TypeError(`${op}: rhs has dtype ${rhs.dtype}, matrix has ${matrix.dtype}`);
  }
  return rhs;
}

/** `words` (TensorFlow's, or none) and the shapes; `batch` says what the batch dims must be. */
function misfit(
  op: string,
  rhs: Tensor,
  matrix: Tensor,
  words: string,
  batch = "with the same batch dims",
): RangeError {
  const rows = matrix.shape[matrix.rank - 2];
  const fit = `rhs of shape ${showShape(rhs.shape)} does not fit matrix of shape ${
    showShape(matrix.shape)
  } (needs [...batch, ${rows}, k] ${batch})`;
  return new RangeError(`${op}: ${words ? `${words} ${fit}` : fit}`);
}

/** The product of the leading (batch) dims. */
export function batchOf(t: Tensor): number {
  return sizeOf(t.shape.slice(0, -2));
}

/** The backend of `t`, after checking that it has a LAPACK. */
export function lapackBackend(op: string, t: Tensor): Backend {
  const backend = t.backend;
  if (!kernelOf(op, backend, "lapackAvailable")()) {
    throw new Error(
      `${op}: no LAPACK library was found; install OpenBLAS (Debian and Ubuntu: apt-get ` +
        "install libopenblas0) or point EAGER_LAPACK at a LAPACK library",
    );
  }
  return backend;
}

/** Dense copy of t for a kernel. */
export function dense(t: Tensor, op: string): Tensor {
  return contiguous(t, op);
}

/** The transpose of the last two dims. */
export function adjoint(x: Tensor): Tensor {
  const perm = [...Array(x.rank).keys()];
  [perm[x.rank - 2], perm[x.rank - 1]] = [perm[x.rank - 1], perm[x.rank - 2]];
  return transpose(x, perm);
}

/**
 * The [n, n] mask that keeps the strict lower triangle and scales the diagonal by `diagonal`
 * (lower-band part and set-diagonal in one product: a constant, so it differentiates).
 */
export function lowerMask(n: number, dtype: DType, diagonal: number, backend: Backend): Tensor {
  const values = dtype === "float64" ? new Float64Array(n * n) : new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) values[i * n + j] = 1;
    values[i * n + i] = diagonal;
  }
  return placed("linalg", values, dtype, [n, n], backend);
}

/** The [n, n] identity scaled by `scale`, on `backend`. */
export function identity(n: number, dtype: DType, backend: Backend, scale = 1): Tensor {
  const values = dtype === "float64" ? new Float64Array(n * n) : new Float32Array(n * n);
  for (let i = 0; i < n; i++) values[i * n + i] = scale;
  return placed("linalg", values, dtype, [n, n], backend);
}
