/**
 * Where ResNet-50's training step and inference (batch 8, 224x224, NHWC, as the bench case
 * bench/cases/resnet50.ts) spend their time: every method of the CPU backend is wrapped to
 * count and time its calls over a few steps after a warm-up, each step inside tf.tidy or
 * not. `deno run -A --lock=bench/deno.lock bench/profile_resnet50.ts [--steps N]
 * [--batch N] [--size N] [--no-tidy]`.
 * @module
 */
import { parseArgs } from "node:util";
import * as tf from "../mod.ts";
import { instrumentBackend } from "./backend_calls.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    steps: { type: "string", default: "3" },
    batch: { type: "string", default: "8" },
    size: { type: "string", default: "224" },
    "no-tidy": { type: "boolean", default: false },
  },
});
const [steps, batch, size] = [values.steps, values.batch, values.size].map(Number);
const tidy = !values["no-tidy"];

/** Backend calls while `fn` runs: count and milliseconds by method. */
async function backendCalls(fn: () => Promise<unknown>): Promise<Map<string, [number, number]>> {
  const probe = instrumentBackend();
  try {
    await fn();
  } finally {
    probe.restore();
  }
  return probe.calls;
}

tf.random.setSeed(0);
const images = tf.randomUniform([batch, size, size, 3]);
const labels = tf.randomUniform([batch], { dtype: "int32", maxval: 1000 });
const model = new tf.applications.ResNet50();
const optimizer = new tf.train.MomentumOptimizer(0.1, 0.9);
const train = () =>
  optimizer.minimize(() =>
    tf.losses.sparseSoftmaxCrossEntropy(labels, model.apply(images, { training: true }))
  );
const infer = () => model.apply(images);

for (const [what, step] of [["train", train], ["infer", infer]] as const) {
  const run = () => (tidy ? tf.tidy(step) : step()).data();
  await run(); // warm-up
  const start = performance.now();
  const calls = await backendCalls(async () => {
    for (let i = 0; i < steps; i++) await run();
  });
  const total = (performance.now() - start) / steps;
  const rows = [...calls].sort((a, b) => b[1][1] - a[1][1]);
  const inBackend = rows.reduce((sum, [, [, ms]]) => sum + ms, 0) / steps;
  console.log(
    `\n${what}: ${total.toFixed(0)} ms a step (tidy: ${tidy}); backend calls ${
      inBackend.toFixed(0)
    } ms; outside them ${(total - inBackend).toFixed(0)} ms`,
  );
  for (const [name, [count, ms]] of rows.slice(0, 18)) {
    console.log(
      `  ${name.padEnd(28)} ${(count / steps).toFixed(0).padStart(5)} calls ${
        (ms / steps).toFixed(1).padStart(8)
      } ms  ${((100 * ms) / steps / total).toFixed(1).padStart(5)}%`,
    );
  }
}
