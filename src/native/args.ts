/**
 * Preallocated int64 argument arrays for shapes and strides, so a kernel call does not
 * allocate. Values are written through an Int32Array view of the same memory (low word,
 * then high word), which is far cheaper than creating BigInts.
 * @module
 */
import { MAX_RANK } from "../shape.ts";

const SLOTS = 6;
const scratch = new BigInt64Array(SLOTS * MAX_RANK);
const words = new Int32Array(scratch.buffer);
const views = Array.from(
  { length: SLOTS },
  (_, i) => scratch.subarray(i * MAX_RANK, (i + 1) * MAX_RANK),
);

/**
 * Writes `values` (integers, |v| < 2^53) into argument slot `slot` (0..5) and returns
 * the int64 array to pass. A slot is valid until the next call that uses it.
 */
export function int64s(slot: number, values: readonly number[]): BigInt64Array {
  let w = slot * MAX_RANK * 2;
  for (let i = 0; i < values.length; i++, w += 2) {
    const v = values[i];
    words[w] = v; // ToInt32 keeps the low 32 bits, sign included
    words[w + 1] = Math.floor(v / 4294967296);
  }
  return views[slot];
}
