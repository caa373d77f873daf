/**
 * Undoing broadcasting: the one place backprop (src/backprop.ts) sums a gradient back to
 * an input's shape.
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { reduceSum } from "./reduce.ts";
import { reshape } from "./views.ts";

/**
 * Sums a gradient computed for a broadcast result back to an input's shape: over the
 * leading dims the input lacked and over the dims where it had size 1.
 */
export function sumToShape(t: Tensor, shape: readonly number[]): Tensor {
  const lead = t.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < t.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && t.shape[i] !== 1)) axes.push(i);
  }
  const summed = axes.length > 0 ? reduceSum(t, axes, { keepDims: true }) : t;
  return reshape(summed, shape);
}
