/**
 * tf.savedModel.save without TensorFlow: what cannot be exported is an error naming it,
 * raised before anything is written; a save replaces an existing model whole and leaves no
 * temporary directory. (TensorFlow loading what we write: saved_model_interop_test.ts.)
 */
import * as tf from "../mod.ts";
import { assertEquals, assertThrowsMatch } from "./helpers.ts";

function entries(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

Deno.test("an op with no TensorFlow form is an error naming it, and nothing is written", () => {
  const dir = Deno.makeTempDirSync({ prefix: "saved_model_" });
  try {
    const dense = new tf.layers.Dense(3);
    const cases: [tf.savedModel.SignatureFunction, RegExp][] = [
      [
        { fn: (x) => tf.nn.dropout(dense.apply(x), 0.5), inputs: [{ shape: [2, 4] }] },
        /tf\.savedModel\.save: dropout \(it runs again at each call\) has no TensorFlow equivalent/,
      ],
      [
        { fn: (x) => x.square().sum().dataSync()[0] > 0 ? x : x.neg(), inputs: [{ shape: [2] }] },
        /reads a tensor's values on the host inside a traced function/,
      ],
      [
        {
          fn: (x) => {
            const tape = new tf.GradientTape();
            tape.watch(x);
            const y = tape.record(() => tf.nn.conv2d(x, tf.ones([2, 2, 1, 1]), 1, "SAME").sum());
            return tape.gradient(y, x)!;
          },
          inputs: [{ shape: [1, 3, 3, 1] }],
        },
        /conv2d(BackpropInput)? \(a convolution's gradient\) has no TensorFlow equivalent/,
      ],
    ];
    for (const [signature, message] of cases) {
      assertThrowsMatch(
        () => tf.savedModel.save(dense, `${dir}/m`, { signatures: signature }),
        message,
      );
      assertEquals(entries(dir), []);
    }
    assertThrowsMatch(
      () =>
        tf.savedModel.save(dense, `${dir}/m`, {
          signatures: { fn: (x: tf.Tensor) => x, inputs: [{ shape: [-2, 3] }] },
        }),
      /input 0 of serving_default needs a shape of non-negative integers and null/,
    );
    // A graph that depends on the unknown batch size beyond shapes cannot be written.
    assertThrowsMatch(
      () =>
        tf.savedModel.save(dense, `${dir}/m`, {
          signatures: { fn: (x: tf.Tensor) => tf.reverse(x, 0), inputs: [{ shape: [null, 3] }] },
        }),
      /serving_default: node .* changes with the unknown dimension's size; give the input a fixed shape/,
    );
    assertThrowsMatch(
      () => tf.savedModel.save(dense, `${dir}/m`, {} as tf.savedModel.SaveOptions),
      /options\.signatures must be/,
    );
    assertEquals(entries(dir), []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a save writes the model's files and replaces an earlier model whole", () => {
  const dir = Deno.makeTempDirSync({ prefix: "saved_model_" });
  try {
    const w = new tf.Variable([[1, 2], [3, 4]], { name: "w" });
    const signatures = { fn: (x: tf.Tensor) => tf.matmul(x, w), inputs: [{ shape: [1, 2] }] };
    tf.savedModel.save(null, `${dir}/m`, { signatures });
    const first = Deno.readFileSync(`${dir}/m/variables/variables.data-00000-of-00001`);
    w.assign([[5, 6], [7, 8]]);
    tf.savedModel.save(null, `${dir}/m`, { signatures });
    assertEquals(entries(dir), ["m"]);
    assertEquals(entries(`${dir}/m`), ["fingerprint.pb", "saved_model.pb", "variables"]);
    assertEquals(entries(`${dir}/m/variables`), [
      "variables.data-00000-of-00001",
      "variables.index",
    ]);
    const second = Deno.readFileSync(`${dir}/m/variables/variables.data-00000-of-00001`);
    assertEquals([...new Float32Array(first.buffer)], [1, 2, 3, 4]);
    assertEquals([...new Float32Array(second.buffer)], [5, 6, 7, 8]);
    // The bundle is our checkpoint format: the variable restores by name.
    const restored = tf.train.loadCheckpoint(`${dir}/m/variables/variables`);
    assertEquals([...restored.getTensor("w").dataSync()], [5, 6, 7, 8]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
