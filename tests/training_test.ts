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
  const accuracy = await evaluate(model, test);
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

Deno.test("memory stays flat over 3,000 training steps (in a process of its own)", async () => {
  // Resident memory is per process and test files share one: the loop runs in a child.
  const probe = new URL("./probes/training_memory.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--v8-flags=--expose-gc", probe],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) throw new Error(`the probe failed: ${new TextDecoder().decode(out.stderr)}`);
  const { step, loss, samples } = JSON.parse(text);
  if (step !== 3000) throw new Error(`global step ${step}`);
  if (!(loss < 0.05)) throw new Error(`the model did not fit 32 examples: loss ${loss}`);
  // Live memory after a full collection at steps 1,000 and 3,000: a leaked tensor, tape or
  // slot per step (50 KB of weights and gradients at least) would add 100 MB.
  const [first, , last] = samples;
  const live = (s: { heap: number; external: number }) => s.heap + s.external;
  if (live(last) - live(first) > 4e6) {
    throw new Error(`live memory grew from ${live(first)} to ${live(last)} bytes`);
  }
  // Resident memory settles 20-70 MB higher as the allocators keep freed pages (measured
  // over 30,000 steps: it levels off); a native buffer leaked per step would add gigabytes.
  if (last.rss - first.rss > 256e6) {
    throw new Error(`rss grew from ${first.rss} to ${last.rss} bytes`);
  }
});
