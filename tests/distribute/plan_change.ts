/**
 * One rank of tests/distribute_test.ts's check that a rank whose gradients stop matching the
 * first step's (here rank 1 leaves a variable out at step 3) ends the job with an Error naming
 * the difference, instead of leaving the other ranks waiting.
 * @module
 */
import * as tf from "../../mod.ts";

const { rank } = tf.distribute.init();
const a = new tf.Variable([1, 2, 3], { name: "a" });
const b = new tf.Variable([[1, 2], [3, 4]], { name: "b" });
const opt = new tf.distribute.DistributedOptimizer(new tf.train.GradientDescentOptimizer(0.1), {
  bucketBytes: 8, // every gradient in a bucket of its own
});
for (let step = 1; step <= 5; step++) {
  const varList = step === 3 && rank === 1 ? [a] : [a, b];
  opt.minimize(() => a.square().sum().add(b.sum()), { varList });
}
console.log(`ok rank ${rank}: no error`);
