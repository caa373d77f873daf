/**
 * Training end to end: a short run of the MNIST example on the real digits, and memory
 * over thousands of training steps.
 */
import * as tf from "../mod.ts";
import { evaluate, MNISTModel, trainMnist } from "../examples/mnist.ts";
import { loadMnist } from "../examples/mnist_data.ts";
import { assertEquals } from "./helpers.ts";

Deno.test("a short MNIST run (200 steps) learns the real digits far above chance", async () => {
  const logdir = await Deno.makeTempDir();
  try {
    const result = await trainMnist({ steps: 200, batchSize: 50, logdir, progress: null });
    // Chance is 10%; 200 steps of Adam 1e-4 reach about 90% on the held-out digits.
    if (!(result.testAccuracy > 0.8)) {
      throw new Error(`test accuracy ${result.testAccuracy} after 200 steps`);
    }
    if (!(result.lastLoss < result.firstLoss / 2)) {
      throw new Error(`the loss went from ${result.firstLoss} to ${result.lastLoss}`);
    }
    // The summaries: loss at steps 10, 20, ..., 200, then the test accuracy at step 200.
    const files = [...Deno.readDirSync(logdir)].map((e) => e.name);
    if (files.length !== 1 || !files[0].startsWith("events.out.tfevents.")) {
      throw new Error(`logdir holds ${JSON.stringify(files)}`);
    }
    const events = tf.summary.readEventFile(`${logdir}/${files[0]}`);
    const tagged = (tag: string) =>
      events.flatMap((e) => (e.summary ?? []).filter((v) => v.tag === tag).map(() => e));
    const lossSteps = tagged("loss").map((e) => Number(e.step));
    assertEquals(lossSteps, Array.from({ length: 20 }, (_, i) => 10 * (i + 1)));
    const accuracy = tagged("test_accuracy");
    assertEquals(accuracy.map((e) => Number(e.step)), [200]);
  } finally {
    await Deno.remove(logdir, { recursive: true });
  }
});

Deno.test("an untrained MNISTModel is near chance and has the seed's variables", async () => {
  const { test } = await loadMnist();
  tf.random.setSeed(3);
  const model = new MNISTModel();
  const accuracy = evaluate(model, test);
  if (!(accuracy < 0.3)) throw new Error(`untrained accuracy ${accuracy}`);
  const shapes = model.variables.map((v) => `${v.name.split("/").slice(1).join("/")} [${v.shape}]`);
  const expected = [
    "conv2d/kernel [5,5,1,32]",
    "conv2d/bias [32]",
    "conv2d_1/kernel [5,5,32,64]",
    "conv2d_1/bias [64]",
    "dense/kernel [3136,1024]",
    "dense/bias [1024]",
    "dense_1/kernel [1024,10]",
    "dense_1/bias [10]",
  ];
  if (shapes.join("; ") !== expected.join("; ")) {
    throw new Error(`variables: ${shapes.join("; ")}`);
  }
});

Deno.test("memory stays flat over 3,000 training steps", () => {
  class Mlp extends tf.Network {
    hidden = this.trackLayer(new tf.layers.Dense(64, { activation: tf.nn.relu }));
    dropout = this.trackLayer(new tf.layers.Dropout(0.2));
    logits = this.trackLayer(new tf.layers.Dense(10));
    call(x: tf.Tensor, training: boolean) {
      return this.logits.apply(this.dropout.apply(this.hidden.apply(x), { training }));
    }
  }
  tf.random.setSeed(5);
  const model = new Mlp();
  const optimizer = new tf.train.AdamOptimizer(1e-3);
  const globalStep = new tf.Variable(0, { dtype: "int64", trainable: false });
  const x = tf.randomUniform([32, 784]);
  const labels = tf.randomUniform([32], { maxval: 10, dtype: "int32" });
  let heapAt1000 = 0, rssAt1000 = 0, peakHeap = 0, loss = Infinity;
  for (let step = 1; step <= 3000; step++) {
    loss = Number(optimizer.minimize(
      () => tf.losses.sparseSoftmaxCrossEntropy(labels, model.apply(x, { training: true })),
      { globalStep },
    ));
    if (step % 250 === 0 && step > 1000) {
      peakHeap = Math.max(peakHeap, Deno.memoryUsage().heapUsed);
    }
    if (step === 1000) {
      [heapAt1000, rssAt1000] = [Deno.memoryUsage().heapUsed, Deno.memoryUsage().rss];
    }
  }
  const growth = Deno.memoryUsage().rss - rssAt1000;
  if (Number(globalStep) !== 3000) throw new Error(`global step ${Number(globalStep)}`);
  if (!(loss < 0.05)) throw new Error(`the model did not fit 32 examples: loss ${loss}`);
  // A leaked tape, slot or tensor per step (50 KB of weights and gradients at least)
  // would add 100 MB over 2,000 steps. (rss before step 1,000 is noisy: deno test's type
  // checker shares the process.)
  if (peakHeap - heapAt1000 > 32e6) {
    throw new Error(`the JS heap grew from ${heapAt1000} to ${peakHeap} bytes after step 1,000`);
  }
  if (growth > 48e6) throw new Error(`rss grew by ${growth} bytes from step 1,000 to 3,000`);
});
