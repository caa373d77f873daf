/**
 * Probe for tests/tape_test.ts: 100,000 calls of a gradient function in a process of its
 * own (under `deno test --parallel` the other files' workers share the process and its GC
 * threads, which let this heap's garbage pile up), printing the peak JS heap as JSON.
 * @module
 */
import * as tf from "../../mod.ts";

const f = tf.gradientsFunction((x: tf.Tensor) => x.mul(x).add(x.sin()));
let peak = 0;
for (let round = 0; round < 4; round++) {
  for (let i = 0; i < 25_000; i++) f(i % 7);
  peak = Math.max(peak, Deno.memoryUsage().heapUsed);
}
console.log(JSON.stringify({ peak }));
