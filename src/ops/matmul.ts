/**
 * Matrix products: matmul (with transposes and broadcast batch dims) and tensordot.
 * Transposes are strides: a transposed operand reaches BLAS as a transpose flag,
 * never as a copy.
 * @module
 */
import { backendOf } from "../backend/backend.ts";
import { broadcastShapes, broadcastStrides, checkSize, showShape, sizeOf } from "../shape.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { contiguous } from "./cast.ts";
import { binaryOperands } from "./math.ts";
import { reshape, transpose } from "./views.ts";
import { active, record1 } from "../tape.ts";

/** Options of matmul. */
export interface MatmulOptions {
  /** Use the transpose of a's last two dims. */
  transposeA?: boolean;
  /** Use the transpose of b's last two dims. */
  transposeB?: boolean;
}

/** Whether BLAS can read a rows x cols matrix with these strides (see blas_layout in matmul.c). */
function blasReadable(rows: number, cols: number, rs: number, cs: number): boolean {
  if ((cs === 1 || cols === 1) && (rows === 1 || rs >= Math.max(cols, 1))) return true;
  return (rs === 1 || rows === 1) && (cols === 1 || cs >= Math.max(rows, 1));
}

/** A matrix operand: the tensor (possibly re-laid out) and its last-two-dims strides. */
function matrixOperand(t: Tensor, transposed: boolean) {
  const r = t.rank;
  let rows = t.shape[r - 2], cols = t.shape[r - 1];
  let rs = t.strides[r - 2], cs = t.strides[r - 1];
  if (transposed) [rows, cols, rs, cs] = [cols, rows, cs, rs];
  if (blasReadable(rows, cols, rs, cs)) return { t, rows, cols, rs, cs };
  const dense = contiguous(t, "matmul");
  const [drs, dcs] = [dense.shape[r - 1], 1];
  return transposed
    ? { t: dense, rows, cols, rs: dcs, cs: drs }
    : { t: dense, rows, cols, rs: drs, cs: dcs };
}

/**
 * The matrix product a . b over the last two dims; leading (batch) dims broadcast.
 * float32/float64 use OpenBLAS; int32/int64 a plain loop.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.matmul([[1, 2], [3, 4]], [[1], [1]]); // [[3], [7]]
 * ```
 */
export function matmul(a: TensorLike, b: TensorLike, options: MatmulOptions = {}): Tensor {
  const op = "matmul";
  const [x, y] = binaryOperands(op, a, b);
  if (x.rank < 2 || y.rank < 2) {
    throw new RangeError(
      `${op}: both operands need rank >= 2, got shapes ${showShape(x.shape)} and ${
        showShape(y.shape)
      }`,
    );
  }
  if (x.dtype === "bool" || x.dtype === "uint8") {
    throw new TypeError(`${op}: not defined for ${x.dtype} tensors; cast to float32 or int32`);
  }
  const A = matrixOperand(x, options.transposeA ?? false);
  const B = matrixOperand(y, options.transposeB ?? false);
  if (A.cols !== B.rows) {
    const show = (t: Tensor, tr?: boolean) => `${showShape(t.shape)}${tr ? "^T" : ""}`;
    throw new RangeError(
      `${op}: inner dimensions differ: ${show(x, options.transposeA)} x ${
        show(y, options.transposeB)
      }`,
    );
  }
  const aBatch = x.shape.slice(0, -2), bBatch = y.shape.slice(0, -2);
  const batch = broadcastShapes(op, aBatch, bBatch);
  const shape = [...batch, A.rows, B.cols];
  checkSize(op, shape);
  const backend = backendOf(op, x, y);
  const out = backend.allocateOutput(x.dtype, sizeOf(shape), op);
  // A and B already are the operand records the kernel wrapper reads (t, rs, cs).
  const aStrides = broadcastStrides(aBatch, A.t.strides.slice(0, -2), batch);
  const bStrides = broadcastStrides(bBatch, B.t.strides.slice(0, -2), batch);
  backend.matmul(op, batch, A.rows, B.cols, A.cols, A, aStrides, B, bStrides, out);
  const product = new Tensor(out, x.dtype, shape);
  if (active.length !== 0) {
    const ta = options.transposeA ?? false, tb = options.transposeB ?? false;
    // TensorFlow's MatMul gradient; broadcast batch dims are summed back by the tape.
    record1(op, [x, y], product, (dy) => [
      () =>
        ta
          ? matmul(y, dy, { transposeA: tb, transposeB: true })
          : matmul(dy, y, { transposeB: !tb }),
      () =>
        tb
          ? matmul(dy, x, { transposeA: true, transposeB: ta })
          : matmul(x, dy, { transposeA: !ta }),
    ]);
  }
  return product;
}

/**
 * Contracts `axes` of a with axes of b: a number N pairs a's last N dims with b's
 * first N; a pair of lists names them.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.tensordot([[1, 2], [3, 4]], [1, 1], 1); // [3, 7]
 * ```
 */
export function tensordot(
  a: TensorLike,
  b: TensorLike,
  axes: number | readonly [readonly number[], readonly number[]],
): Tensor {
  const op = "tensordot";
  const [x, y] = binaryOperands(op, a, b);
  let axA: number[], axB: number[];
  if (typeof axes === "number") {
    if (!Number.isInteger(axes) || axes < 0 || axes > x.rank || axes > y.rank) {
      throw new RangeError(`${op}: axes=${axes} is out of range for ranks ${x.rank} and ${y.rank}`);
    }
    axA = Array.from({ length: axes }, (_, i) => x.rank - axes + i);
    axB = Array.from({ length: axes }, (_, i) => i);
  } else {
    if (!Array.isArray(axes) || axes.length !== 2 || !axes.every(Array.isArray)) {
      throw new TypeError(`${op}: axes must be a number or a pair of axis lists`);
    }
    const norm = (list: readonly number[], rank: number) =>
      list.map((v) => {
        if (!Number.isInteger(v) || v < -rank || v >= rank) {
          throw new RangeError(`${op}: axis ${v} is out of range for rank ${rank}`);
        }
        return v < 0 ? v + rank : v;
      });
    axA = norm(axes[0], x.rank);
    axB = norm(axes[1], y.rank);
    if (axA.length !== axB.length) throw new RangeError(`${op}: axes lists differ in length`);
  }
  for (let i = 0; i < axA.length; i++) {
    if (x.shape[axA[i]] !== y.shape[axB[i]]) {
      throw new RangeError(
        `${op}: dimension ${axA[i]} of ${showShape(x.shape)} differs from dimension ${axB[i]} of ${
          showShape(y.shape)
        }`,
      );
    }
  }
  const freeA = [...x.shape.keys()].filter((d) => !axA.includes(d));
  const freeB = [...y.shape.keys()].filter((d) => !axB.includes(d));
  const k = sizeOf(axA.map((d) => x.shape[d]));
  const m = sizeOf(freeA.map((d) => x.shape[d])), n = sizeOf(freeB.map((d) => y.shape[d]));
  const left = reshape(transpose(x, [...freeA, ...axA]), [m, k]);
  const right = reshape(transpose(y, [...axB, ...freeB]), [k, n]);
  return reshape(matmul(left, right), [
    ...freeA.map((d) => x.shape[d]),
    ...freeB.map((d) => y.shape[d]),
  ]);
}
