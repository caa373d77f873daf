/**
 * The fresh-process 16M add (issue 17), ours: makes two 16M-element float32 inputs, then
 * runs `tf.add(a, b)` 100 times dropping each result, as a user's script does without
 * dispose, and prints `@@bench {"firstTen", "peakBytes"}`: seconds for the first 10 calls
 * and the peak resident set (VmHWM) of the whole process.
 * @module
 */
import * as tf from "../../mod.ts";
import { MARK } from "../harness.ts";
import { peakResidentBytes } from "./vmhwm.ts";

const n = 16 << 20;
const a = tf.randomUniform([n], { seed: 1 }), b = tf.randomUniform([n], { seed: 2 });
let firstTen = 0;
for (let i = 0; i < 100; i++) {
  const start = performance.now();
  tf.add(a, b);
  if (i < 10) firstTen += (performance.now() - start) / 1000;
}
console.log(MARK + JSON.stringify({ firstTen, peakBytes: peakResidentBytes() }));
