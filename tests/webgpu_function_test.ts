/**
 * tf.function on the WebGPU device (llvmpipe in CI): a traced function's graph runs WebGPU's
 * kernels and gives the eager results, and a traced training step on /gpu:0 ends at the
 * eager step's variables. Ignored, by name, where no adapter exists.
 */
import * as tf from "../mod.ts";
import { useWebGpu } from "./backends/webgpu.ts";
import { assertEquals } from "./helpers.ts";

const ignore = await useWebGpu() === 0;

async function values(t: tf.Tensor): Promise<number[]> {
  return Array.from(await t.data() as ArrayLike<number>, Number);
}

Deno.test({
  name: "WebGPU: a traced function's graph gives the eager results on /gpu:0",
  ignore,
  async fn() {
    // NOTE: tf.device places what its callback does synchronously; reads come after.
    const [graph, eager, traces] = tf.device("/gpu:0", () => {
      const w = new tf.Variable(tf.randomNormal([3, 4], { seed: 1 }));
      const f = (x: tf.Tensor) =>
        tf.nn.softmax(tf.matmul(x, w).tanh().add(tf.constant([1, 2, 3, 4]))).sum(1).exp();
      const traced = tf.function(f);
      const xs = [2, 3, 4].map((seed) => tf.randomNormal([2, 3], { seed }));
      return [xs.map((x) => traced(x)), xs.map((x) => f(x)), traced.tracingCount] as const;
    });
    for (let i = 0; i < graph.length; i++) {
      assertEquals(await values(graph[i]), await values(eager[i]), `call ${i}`);
    }
    assertEquals(traces, 1);
  },
});

Deno.test({
  name: "WebGPU: a traced training step ends at the eager step's variables",
  ignore,
  async fn() {
    const train = async (graph: boolean) => {
      const variables = tf.device("/gpu:0", () => {
        tf.random.setSeed(5);
        const dense = new tf.layers.Dense(3, { activation: tf.nn.relu });
        const out = new tf.layers.Dense(2);
        const opt = new tf.train.AdamOptimizer(0.05);
        const step = (x: tf.Tensor, y: tf.Tensor) =>
          opt.minimize(() => tf.losses.sparseSoftmaxCrossEntropy(y, out.apply(dense.apply(x))));
        const run = graph ? tf.function(step) : step;
        const x = tf.randomNormal([6, 4], { seed: 6 });
        const y = tf.constant([0, 1, 1, 0, 1, 0], "int32");
        for (let i = 0; i < 4; i++) run(x, y);
        return [...dense.variables, ...out.variables];
      });
      return await Promise.all(variables.map((v) => values(v.read())));
    };
    assertEquals(await train(true), await train(false));
  },
});
