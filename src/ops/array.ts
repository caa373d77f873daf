/**
 * Ops that assemble new storage from pieces: concat, stack, unstack, split, pad (tile:
 * tile.ts, above reduce.ts, which its gradient uses).
 * Each output is written by strided copies (eager_cast into a view of the output).
 * @module
 */
import { promoteTypes } from "../dtype.ts";
import { denseStrides, describe, normalizeAxis, showShape } from "../shape.ts";
import { backendOfAll } from "../backend/backend.ts";
import type { Tensor, TensorLike } from "../tensor.ts";
import { copyInto, emptyTensor } from "./cast.ts";
import { filled } from "./creation.ts";
import { toTensor } from "./convert.ts";
import { expandDims, reverse, slice, squeeze } from "./views.ts";
import { active, record1 } from "../tape.ts";

function tensorList(op: string, xs: readonly TensorLike[]): Tensor[] {
  if (!Array.isArray(xs) || xs.length === 0) {
    throw new TypeError(`${op}: expected a non-empty array of tensors`);
  }
  const first = toTensor(op, xs[0]);
  return xs.map((x, i) => (i === 0 ? first : toTensor(op, x, first.dtype, first.backend)));
}

/**
 * Joins tensors along an existing axis; dims other than `axis` must match.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.concat([[[1, 2]], [[3, 4]]], 0); // [[1, 2], [3, 4]]
 * ```
 */
export function concat(xs: readonly TensorLike[], axis = 0): Tensor {
  const op = "concat";
  const ts = tensorList(op, xs);
  const rank = ts[0].rank;
  if (rank === 0) throw new RangeError(`${op}: cannot concatenate scalars (use stack)`);
  const a = normalizeAxis(op, axis, rank);
  let dtype = ts[0].dtype, total = 0;
  for (const t of ts) {
    const same = t.rank === rank && t.shape.every((d, i) => i === a || d === ts[0].shape[i]);
    if (!same) {
      throw new RangeError(
        `${op}: shapes ${ts.map((u) => showShape(u.shape)).join(", ")} differ outside axis ${axis}`,
      );
    }
    dtype = promoteTypes(dtype, t.dtype);
    total += t.shape[a];
  }
  const shape = [...ts[0].shape];
  shape[a] = total;
  const out = emptyTensor(op, dtype, shape, backendOfAll(op, ts));
  const strides = denseStrides(shape);
  const starts: number[] = [];
  let start = 0;
  for (const t of ts) {
    copyInto(op, out, strides, start * strides[a], t);
    starts.push(start);
    start += t.shape[a];
  }
  if (active.length !== 0) {
    record1(op, ts, out, (dy) =>
      ts.map((t, i) => () => {
        const begin = shape.map((_, d) => (d === a ? starts[i] : 0));
        return slice(dy, begin, t.shape);
      }));
  }
  return out;
}

/**
 * Joins tensors of one shape along a new axis.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.stack([[1, 2], [3, 4]], 1); // [[1, 3], [2, 4]]
 * ```
 */
export function stack(xs: readonly TensorLike[], axis = 0): Tensor {
  const ts = tensorList("stack", xs);
  for (const t of ts) {
    if (t.rank !== ts[0].rank || !t.shape.every((d, i) => d === ts[0].shape[i])) {
      throw new RangeError(
        `stack: shapes ${ts.map((u) => showShape(u.shape)).join(", ")} differ`,
      );
    }
  }
  const a = normalizeAxis("stack", axis, ts[0].rank + 1);
  return concat(ts.map((t) => expandDims(t, a)), a);
}

/**
 * Splits a tensor into the slices along `axis` (views, no copy).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.unstack([[1, 2], [3, 4]]); // [[1, 2], [3, 4]] as two tensors
 * ```
 */
export function unstack(x: TensorLike, axis = 0): Tensor[] {
  const t = toTensor("unstack", x);
  if (t.rank === 0) throw new RangeError("unstack: cannot unstack a scalar");
  const a = normalizeAxis("unstack", axis, t.rank);
  const begin = t.shape.map(() => 0), size = t.shape.map(() => -1);
  size[a] = 1;
  return Array.from({ length: t.shape[a] }, (_, i) => {
    begin[a] = i;
    return squeeze(slice(t, begin, size), a);
  });
}

/**
 * Splits along `axis` into `n` equal parts or parts of the given sizes (one may be -1).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.split([1, 2, 3, 4, 5, 6], [1, -1, 2]); // [1], [2, 3, 4], [5, 6]
 * ```
 */
export function split(
  x: TensorLike,
  numOrSizeSplits: number | readonly number[],
  axis = 0,
): Tensor[] {
  const op = "split";
  const t = toTensor(op, x);
  const a = normalizeAxis(op, axis, t.rank);
  const dim = t.shape[a];
  let sizes: number[];
  if (typeof numOrSizeSplits === "number") {
    const n = numOrSizeSplits;
    if (!Number.isInteger(n) || n <= 0 || n > Math.max(dim, 1 << 16) || dim % n !== 0) {
      throw new RangeError(
        `${op}: cannot split dimension ${a} of size ${dim} into ${n} equal parts`,
      );
    }
    sizes = Array(n).fill(dim / n);
  } else {
    if (!Array.isArray(numOrSizeSplits)) {
      throw new TypeError(`${op}: numOrSizeSplits must be a number or an array of sizes`);
    }
    sizes = [...numOrSizeSplits];
    const unknown = sizes.filter((s) => s === -1).length;
    const known = sizes.filter((s) => s !== -1).reduce((p, s) => p + s, 0);
    if (unknown > 1 || sizes.some((s) => !Number.isInteger(s) || s < -1) || known > dim) {
      throw new RangeError(
        `${op}: sizes ${showShape(sizes)} cannot split a dimension of size ${dim}`,
      );
    }
    if (unknown) sizes[sizes.indexOf(-1)] = dim - known;
    else if (known !== dim) {
      throw new RangeError(`${op}: sizes ${showShape(sizes)} add up to ${known}, not ${dim}`);
    }
  }
  const begin = t.shape.map(() => 0), size = t.shape.map(() => -1);
  return sizes.map((s) => {
    size[a] = s;
    const part = slice(t, begin, size);
    begin[a] += s;
    return part;
  });
}

/** Options of tf.pad. */
export interface PadOptions {
  /** "CONSTANT" (default), "REFLECT" or "SYMMETRIC", as TensorFlow. */
  mode?: "CONSTANT" | "REFLECT" | "SYMMETRIC";
  /** The fill value of CONSTANT mode (default 0). */
  constantValue?: number;
}

/**
 * Pads each dimension i with paddings[i] = [before, after] elements.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.pad([[1, 2]], [[1, 0], [0, 1]]); // [[0, 0, 0], [1, 2, 0]]
 * ```
 */
export function pad(
  x: TensorLike,
  paddings: readonly (readonly [number, number])[],
  options: PadOptions = {},
): Tensor {
  const op = "pad";
  const t = toTensor(op, x);
  const mode = options.mode ?? "CONSTANT";
  const valid = Array.isArray(paddings) && paddings.length === t.rank &&
    paddings.every((p) =>
      Array.isArray(p) && p.length === 2 && p.every((v) => Number.isInteger(v) && v >= 0)
    );
  if (!valid) {
    throw new RangeError(
      `${op}: paddings must be ${t.rank} pairs of non-negative integers, got ${describe(paddings)}`,
    );
  }
  if (mode === "REFLECT" || mode === "SYMMETRIC") return padMirror(t, paddings, mode);
  if (mode !== "CONSTANT") throw new RangeError(`${op}: unknown mode ${describe(mode)}`);
  const shape = t.shape.map((d, i) => d + paddings[i][0] + paddings[i][1]);
  const value = options.constantValue ?? 0;
  const out = value === 0
    ? emptyTensor(op, t.dtype, shape, t.backend)
    : filled(op, shape, value, t.dtype, t.backend);
  const strides = denseStrides(shape);
  const offset = strides.reduce((sum, s, i) => sum + s * paddings[i][0], 0);
  copyInto(op, out, strides, offset, t);
  if (active.length !== 0) {
    const begin = paddings.map((p) => p[0]);
    record1(op, [t], out, (dy) => [() => slice(dy, begin, t.shape)]);
  }
  return out;
}

/** REFLECT excludes the edge element from the mirror; SYMMETRIC includes it. */
function padMirror(
  t: Tensor,
  paddings: readonly (readonly [number, number])[],
  mode: "REFLECT" | "SYMMETRIC",
): Tensor {
  const edge = mode === "REFLECT" ? 1 : 0;
  let result = t;
  for (let axis = 0; axis < t.rank; axis++) {
    const [before, after] = paddings[axis];
    if (before === 0 && after === 0) continue;
    const dim = result.shape[axis];
    if (before > dim - edge || after > dim - edge) {
      throw new RangeError(
        `pad: ${mode} padding [${before}, ${after}] is too large for dimension ${axis} of size ${dim}`,
      );
    }
    const take = (start: number, count: number) => {
      const begin = result.shape.map(() => 0), size = result.shape.map(() => -1);
      begin[axis] = start;
      size[axis] = count;
      return reverse(slice(result, begin, size), axis);
    };
    result = concat([take(edge, before), result, take(dim - after - edge, after)], axis);
  }
  return result;
}
