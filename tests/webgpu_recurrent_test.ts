/**
 * Recurrent layers on the WebGPU device (issues 18 and 19): an LSTM and a GRU unrolled over
 * variable-length sequences on /gpu:0 give the CPU's outputs, final states and gradients.
 * Runs on whatever adapter Deno finds (llvmpipe in CI); without one the test is ignored.
 * @module
 */
import * as tf from "../mod.ts";
import { useWebGpu } from "./backends/webgpu.ts";
import { assertClose, randomValues } from "./helpers.ts";

const ignore = await useWebGpu() === 0;

const fixed = (seed: number): tf.initializers.Initializer => (shape) =>
  tf.constant(randomValues(shape.reduce((a, b) => a * b, 1), seed, -0.5, 0.5), "float32", {
    shape: [...shape],
  });

/** Outputs, final state and gradients (inputs, then variables), read back. */
async function run(kind: string, where: string) {
  return await tf.device(where, async () => {
    const options = {
      returnSequences: true,
      kernelInitializer: fixed(1),
      recurrentInitializer: fixed(2),
      biasInitializer: fixed(3),
    };
    const rnn = kind === "lstm" ? new tf.layers.LSTM(5, options) : new tf.layers.GRU(5, options);
    const x = tf.constant(randomValues(3 * 6 * 4, 4), "float32", { shape: [3, 6, 4] });
    const w = tf.constant(randomValues(3 * 6 * 5, 5), "float32", { shape: [3, 6, 5] });
    const tape = new tf.GradientTape();
    tape.watch(x);
    const [outputs, state] = tape.record(() =>
      rnn.applyWithState(x, { sequenceLength: [6, 2, 4] })
    );
    const loss = tape.record(() =>
      tf.addN([tf.reduceSum(outputs.mul(w)), ...state.map((s) => tf.reduceSum(s))])
    );
    const grads = tape.gradient(loss, [x, ...rnn.trainableVariables]);
    const read = (t: tf.Tensor) => t.cpuAsync();
    return {
      device: outputs.device,
      outputs: await read(outputs),
      state: await Promise.all(state.map(read)),
      grads: await Promise.all(grads.map((g) => read(g!))),
    };
  });
}

Deno.test({
  name: "WebGPU: LSTM and GRU over variable lengths match the CPU, values and gradients",
  ignore,
  async fn() {
    for (const kind of ["lstm", "gru"]) {
      const cpu = await run(kind, "/cpu:0");
      const gpu = await run(kind, "/gpu:0");
      if (!gpu.device.includes("GPU")) throw new Error(`ran on ${gpu.device}`);
      const tol = { rtol: 1e-4, atol: 1e-5 };
      assertClose(gpu.outputs, cpu.outputs, { ...tol, message: `${kind} outputs` });
      gpu.state.forEach((s, i) =>
        assertClose(s, cpu.state[i], { ...tol, message: `${kind} state` })
      );
      gpu.grads.forEach((g, i) =>
        assertClose(g, cpu.grads[i], { ...tol, message: `${kind} grad ${i}` })
      );
    }
  },
});
