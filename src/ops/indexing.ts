/**
 * Selecting by a mask: booleanMask and whereIndices (TF2's one-argument tf.where).
 * booleanMask is a gather of the mask's true positions, so its gradient is gather's.
 * @module
 */
import { showShape } from "../shape.ts";
import { backendOf } from "../backend/backend.ts";
import { allocate } from "../backend/cpu/storage.ts";
import type { Tensor, TensorLike } from "../tensor.ts";
import { contiguous } from "./cast.ts";
import { placed, toTensor } from "./convert.ts";
import { nonZeroPositions, positionTensor, sizingBackend } from "./index_checks.ts";
import { reshape } from "./views.ts";
import { gather } from "./gather_scatter.ts";

// ---- whereIndices, booleanMask --------------------------------------------------------

/**
 * Coordinates of the true (non-zero) elements of `cond`, as TF2's one-argument
 * `tf.where`: an int64 tensor of shape [n, rank], in row-major order. Numeric tensors
 * count every non-zero value (NaN included) as true.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.whereIndices([[true, false], [false, true]]); // [[0, 0], [1, 1]] (int64)
 * ```
 */
export function whereIndices(cond: TensorLike): Tensor {
  const op = "whereIndices";
  const c = contiguous(toTensor(op, cond, "bool"), op);
  const positions = nonZeroPositions(c, op);
  const rank = c.rank;
  const out = allocate("int64", positions.length * rank, op) as BigInt64Array;
  // Coordinates are below 2^32: write the low 32-bit word of each int64 (the high words
  // of the zero-filled output stay 0).
  const words = new Uint32Array(out.buffer, out.byteOffset, out.length * 2);
  for (let n = 0; n < positions.length; n++) {
    let flat = positions[n];
    for (let d = rank - 1; d >= 0; d--) {
      words[2 * (n * rank + d)] = flat % c.shape[d];
      flat = Math.floor(flat / c.shape[d]);
    }
  }
  return placed(op, out, "int64", [positions.length, rank], c.backend);
}

/** Options of {@link booleanMask}. */
export interface BooleanMaskOptions {
  /** The first dim of `x` the mask covers. */
  axis?: number;
}

/**
 * The elements (or slices) of `x` where `mask` is true (tf.boolean_mask). The mask's
 * shape must equal `x.shape[axis:axis + mask.rank]`; those dims become one dim of the
 * count of true values.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.booleanMask([1, 2, 3], [true, false, true]); // [1, 3]
 * tf.booleanMask([[1, 2], [3, 4]], [false, true]); // [[3, 4]]
 * ```
 */
export function booleanMask(
  x: TensorLike,
  mask: TensorLike,
  options: BooleanMaskOptions = {},
): Tensor {
  const op = "booleanMask";
  const t = toTensor(op, x);
  // The mask sizes the result, so it is host data (sizingBackend); its positions go to x's
  // device.
  const home = sizingBackend(t.backend, mask);
  const m = contiguous(toTensor(op, mask, "bool", home), op);
  if (home === t.backend) backendOf(op, t, m);
  if (m.dtype !== "bool") throw new TypeError(`${op}: mask must be bool, got ${m.dtype}`);
  if (m.rank === 0) throw new RangeError(`${op}: mask cannot be a scalar`);
  const axis = options.axis ?? 0;
  if (!Number.isInteger(axis) || axis < 0 || axis + m.rank > t.rank) {
    throw new RangeError(
      `${op}: a mask of shape ${showShape(m.shape)} at axis ${String(axis)} does not fit x ` +
        `of shape ${showShape(t.shape)}`,
    );
  }
  for (let d = 0; d < m.rank; d++) {
    if (t.shape[axis + d] !== m.shape[d]) {
      throw new RangeError(
        `${op}: mask shape ${showShape(m.shape)} does not match x.shape[${axis}:${
          axis + m.rank
        }] of x shape ${showShape(t.shape)}`,
      );
    }
  }
  const flatShape = [...t.shape.slice(0, axis), m.size, ...t.shape.slice(axis + m.rank)];
  // Built on recorded ops (reshape, gather), so it differentiates w.r.t. x.
  return gather(reshape(t, flatShape), positionTensor(nonZeroPositions(m, op), m.size, t.backend), {
    axis,
  });
}
