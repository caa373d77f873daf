/**
 * Run by tests/training_test.ts in a process of its own: 3,000 training steps of a small
 * network with Adam and dropout, printing memory samples as JSON.
 */
import * as tf from "../../mod.ts";
import { Mlp } from "./mlp.ts";

tf.random.setSeed(5);
const model = new Mlp();
const optimizer = new tf.train.AdamOptimizer(1e-3);
const globalStep = new tf.Variable(0, { dtype: "int64", trainable: false });
const x = tf.randomUniform([32, 784]);
const labels = tf.randomUniform([32], { maxval: 10, dtype: "int32" });
// Live memory after a full collection (run with --v8-flags=--expose-gc): a leaked tensor,
// tape or closure per step would show as growth between the samples.
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --v8-flags=--expose-gc");
const samples: { step: number; heap: number; external: number; rss: number }[] = [];
let loss = Infinity;
for (let step = 1; step <= 3000; step++) {
  loss = Number(optimizer.minimize(
    () => tf.losses.sparseSoftmaxCrossEntropy(labels, model.apply(x, { training: true })),
    { globalStep },
  ));
  if (step % 1000 === 0) {
    for (let i = 0; i < 4; i++) gc(); // later passes free what the first one found dead
    const { heapUsed, external, rss } = Deno.memoryUsage();
    samples.push({ step, heap: heapUsed, external, rss });
  }
}
console.log(JSON.stringify({ step: Number(globalStep), loss, samples }));
