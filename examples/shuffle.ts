/**
 * A deterministic shuffle for the examples' batches: the same seed gives the same order on
 * every machine (xorshift32 driving a Fisher-Yates shuffle).
 * @module
 */

/**
 * 0..count-1 in a seeded random order.
 * @example
 * ```ts
 * import { shuffledIndices } from "./shuffle.ts";
 * shuffledIndices(5, 1); // a permutation of 0..4, always the same for seed 1
 * ```
 */
export function shuffledIndices(count: number, seed: number): Int32Array {
  const order = Int32Array.from({ length: count }, (_, i) => i);
  let state = (seed * 2654435761) >>> 0 || 1;
  for (let i = count - 1; i > 0; i--) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    const j = state % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}
