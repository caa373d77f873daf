/**
 * SavedModels that TensorFlow 2.21 writes (tests/interop/saved_model_write.py in the interop
 * venv: a tf.Module, the guide's MNIST convnet, a Dense/BatchNormalization/Dropout model and
 * an LSTM (a While loop over TensorLists) and ResNet-50 exported by Keras, a tf.cond and a
 * tf.switch_case on an index in range and out of it) load with
 * tf.savedModel.load and give TensorFlow's outputs.
 */
import * as tf from "../mod.ts";
import { runPython } from "./python_env.ts";
import { assertClose, assertEquals } from "./helpers.ts";

interface Case {
  input: { name: string; shape: number[]; data: number[] };
  outputs: Record<string, { shape: number[]; data: number[] }>;
}

Deno.test("TensorFlow-written SavedModels load and give TensorFlow's outputs", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "saved_model_load_interop_" });
  try {
    const cases: Record<string, Case> = JSON.parse(await runPython("saved_model_write.py", [dir]));
    assertEquals(Object.keys(cases), [
      "module",
      "convnet",
      "dense_bn",
      "lstm",
      "cond",
      "switch",
      "switch_default",
      "resnet50",
    ]);
    for (const [name, c] of Object.entries(cases)) {
      const loaded = tf.savedModel.load(`${dir}/${name}`);
      const x = tf.constant(Float32Array.from(c.input.data), "float32", { shape: c.input.shape });
      const outputs = loaded.signatures.serving_default({ [c.input.name]: x });
      assertEquals(Object.keys(outputs).sort(), Object.keys(c.outputs).sort(), name);
      for (const [key, theirs] of Object.entries(c.outputs)) {
        assertEquals([...outputs[key].shape], theirs.shape, `${name}.${key}`);
        const values = tf.constant(Float64Array.from(theirs.data), "float64", {
          shape: theirs.shape,
        });
        // ResNet-50's softmax outputs are about 1e-3: the tolerance is relative to their scale.
        const scale = Math.max(...theirs.data.map(Math.abs));
        assertClose(outputs[key].cast("float64"), values, { rtol: 1e-5, atol: 1e-5 * scale });
      }
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
