/**
 * Run by tests/webgpu_training_test.ts in a process of its own: 3,000 training steps of a
 * small network with Adam and dropout on /gpu:0, nothing disposed, printing the device's
 * memory (tf.getMemoryInfo) as JSON. Reads the loss each step, as a training loop does.
 */
import * as tf from "../../mod.ts";
import { Mlp } from "./mlp.ts";

const steps = Number(Deno.args[0] ?? 3000);
if (await tf.initGpus() === 0) throw new Error("no GPU adapter");
tf.random.setSeed(5);
const model = new Mlp();
const optimizer = new tf.train.AdamOptimizer(1e-3);
const globalStep = new tf.Variable(0, { dtype: "int64", trainable: false });
const [x, labels] = tf.device("/gpu:0", () => [
  tf.randomUniform([32, 784]),
  tf.randomUniform([32], { maxval: 10, dtype: "int32" }),
]);
const samples: { step: number; current: number; pooled: number; peak: number }[] = [];
let loss = Infinity;
const start = performance.now();
for (let step = 1; step <= steps; step++) {
  const value = tf.device("/gpu:0", () =>
    optimizer.minimize(
      () => tf.losses.sparseSoftmaxCrossEntropy(labels, model.apply(x, { training: true })),
      { globalStep },
    ));
  loss = (await value.data())[0] as number;
  if (step % (steps / 3) === 0) {
    const { current, pooled, peak } = tf.getMemoryInfo("/gpu:0");
    samples.push({ step, current, pooled, peak });
  }
}
const msPerStep = (performance.now() - start) / steps;
console.log(JSON.stringify({ step: Number(globalStep), loss, samples, msPerStep }));
