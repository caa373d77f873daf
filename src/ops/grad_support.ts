/**
 * The ops backprop needs (tape.ts cannot import the ops: they import it). Installed once
 * when this module loads; mod.ts imports it.
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { installGradSupport } from "../tape.ts";
import { castTensor } from "./cast.ts";
import { onesLike, zerosLike } from "./creation.ts";
import { add } from "./math.ts";
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

installGradSupport({ onesLike, zerosLike, add, cast: castTensor, sumToShape });
