/**
 * tile and its gradient, which sums the copies with reduceSum (hence a module of its own:
 * reduce.ts imports array.ts).
 * @module
 */
import { denseStrides, showShape, sizeOf } from "../shape.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { active, record1 } from "../tape.ts";
import { copyInto, emptyTensor } from "./cast.ts";
import { toTensor } from "./convert.ts";
import { reduceSum } from "./reduce.ts";
import { reshape } from "./views.ts";

/**
 * Repeats x `multiples[i]` times along dimension i.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.tile([1, 2], [2]); // [1, 2, 1, 2]
 * ```
 */
export function tile(x: TensorLike, multiples: readonly number[]): Tensor {
  const op = "tile";
  let t = toTensor(op, x);
  if (!Array.isArray(multiples) || multiples.length !== t.rank) {
    throw new RangeError(`${op}: multiples must have one entry per dimension (rank ${t.rank})`);
  }
  if (multiples.some((m) => !Number.isInteger(m) || m < 0)) {
    throw new RangeError(`${op}: multiples ${showShape(multiples)} must be non-negative integers`);
  }
  const input = t;
  // One axis at a time, each step a rank-4 broadcast copy: [outer, m, dim, inner].
  for (let axis = 0; axis < t.rank; axis++) {
    const m = multiples[axis];
    if (m === 1) continue;
    const outer = sizeOf(t.shape.slice(0, axis)), dim = t.shape[axis];
    const inner = sizeOf(t.shape.slice(axis + 1));
    const shape = [...t.shape];
    shape[axis] = dim * m;
    const out = emptyTensor(op, t.dtype, shape, t.backend);
    const source = reshape(t, [outer, 1, dim, inner]);
    const broadcast = new Tensor(source.storage, t.dtype, [outer, m, dim, inner], [
      dim * inner,
      0,
      inner,
      1,
    ], source.offset);
    copyInto(op, out, denseStrides([outer, m, dim, inner]), 0, broadcast);
    t = out;
  }
  if (t !== input && active.length !== 0) {
    const repeats = [...multiples];
    record1(op, [input], t, (dy) => [() => untile(dy, input.shape, repeats)]);
  }
  return t;
}

/** The gradient of tile: the copies of each element summed, one axis at a time. */
function untile(dy: Tensor, shape: readonly number[], multiples: readonly number[]): Tensor {
  let g = dy;
  for (let axis = 0; axis < shape.length; axis++) {
    const m = multiples[axis];
    if (m === 1) continue;
    const outer = sizeOf(shape.slice(0, axis)), inner = sizeOf(g.shape.slice(axis + 1));
    const summed = reduceSum(reshape(g, [outer, m, shape[axis], inner]), 1);
    g = reshape(summed, [...g.shape.slice(0, axis), shape[axis], ...g.shape.slice(axis + 1)]);
  }
  return g;
}
