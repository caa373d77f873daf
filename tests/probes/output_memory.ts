/**
 * Probe for tests/output_buffers_test.ts, in a process of its own so that the RSS is this
 * loop's: 300 adds with 10 MB outputs (3 GB in all, every one garbage at once), printing
 * whether outputs came from Node-API and the peak resident size as JSON.
 * @module
 */
import * as tf from "../../mod.ts";
import { takeBuffer } from "../../src/native/buffers.ts";

const x = tf.randomUniform([2_500_000]);
let peak = 0, sink: tf.Tensor | undefined;
for (let i = 0; i < 300; i++) {
  sink = tf.add(x, x);
  if (i % 10 === 0) peak = Math.max(peak, Deno.memoryUsage().rss);
}
console.log(JSON.stringify({ external: takeBuffer(64) !== undefined, peak, size: sink!.size }));
