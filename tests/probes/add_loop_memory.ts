/**
 * Probe for tests/output_buffers_test.ts, in a process of its own: the 16M-add loop
 * (two 16M-element float32 inputs, 100 adds whose 64 MiB results are dropped at once),
 * printing as JSON the resident size once the inputs exist and the peak over the loop,
 * sampled after every call.
 * @module
 */
import * as tf from "../../mod.ts";

const residentBytes = () => Number(Deno.readTextFileSync("/proc/self/statm").split(" ")[1]) * 4096;
const n = 16 << 20;
const a = tf.randomUniform([n], { seed: 1 }), b = tf.randomUniform([n], { seed: 2 });
const withInputs = residentBytes();
let peak = withInputs;
for (let i = 0; i < 100; i++) {
  tf.add(a, b);
  peak = Math.max(peak, residentBytes());
}
console.log(JSON.stringify({ withInputs, peak }));
