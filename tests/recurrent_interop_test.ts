/**
 * TensorFlow checkpoints load into our recurrent layers: TensorFlow 2.21 writes a Keras LSTM
 * and GRU under their variable paths (tests/interop/recurrent_checkpoint.py, in the interop
 * venv); tf.Saver restores them by name into tf.layers.LSTM and GRU, which then give
 * TensorFlow's outputs and final states.
 */
import * as tf from "../mod.ts";
import { runPython } from "./python_env.ts";
import { assertClose, assertEquals } from "./helpers.ts";

Deno.test("a Keras LSTM and GRU checkpoint restores into ours and gives TensorFlow's outputs", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "rnn_interop_" });
  try {
    const prefix = `${dir}/keras_rnn`;
    const tfSide = JSON.parse(await runPython("recurrent_checkpoint.py", [prefix]));
    const x = tf.constant(tfSide.x);
    const lstm = new tf.layers.LSTM(5, { returnSequences: true });
    const gru = new tf.layers.GRU(4, { returnSequences: true });
    lstm.apply(x);
    gru.apply(x);
    const variables = [...lstm.variables, ...gru.variables];
    assertEquals(variables.map((v) => v.name), tfSide.paths);
    new tf.Saver(variables).restore(prefix);
    const [lstmOut, [h, c]] = lstm.applyWithState(x);
    const [gruOut, [g]] = gru.applyWithState(x);
    const tol = { rtol: 1e-5, atol: 1e-6 };
    [lstmOut, h, c].forEach((t, i) => assertClose(t, tfSide.lstm[i], tol));
    [gruOut, g].forEach((t, i) => assertClose(t, tfSide.gru[i], tol));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
