/**
 * SavedModels we write, loaded by TensorFlow 2.21 (tests/interop/saved_model_load.py in the
 * interop venv): `tf.saved_model.load` restores the variables and each signature gives our
 * outputs; `saved_model_cli show` lists the signatures. Models: the guide's MNIST convnet,
 * and layers and ops whose lowering takes other paths (batch norm, softmax, reductions,
 * concat's partial writes, transposed and broadcast views, gathers, where, one-hot).
 */
import * as tf from "../mod.ts";
import { MNISTModel } from "../examples/mnist.ts";
import { runPython } from "./python_env.ts";
import { assertClose, assertEquals } from "./helpers.ts";

interface Feed {
  shape: number[];
  dtype: string;
  data: number[];
}

/** Saves, runs TensorFlow on `feeds`, and checks its outputs against `expected`. */
async function roundTrip(
  signatures: Record<string, tf.savedModel.SignatureFunction>,
  feeds: Record<string, Record<string, tf.Tensor>>,
  expected: Record<string, Record<string, tf.Tensor>>,
): Promise<string> {
  const dir = Deno.makeTempDirSync({ prefix: "saved_model_interop_" });
  try {
    tf.savedModel.save(null, `${dir}/model`, { signatures });
    const json: Record<string, Record<string, Feed>> = {};
    for (const [sig, inputs] of Object.entries(feeds)) {
      json[sig] = Object.fromEntries(
        Object.entries(inputs).map(([k, t]) => [k, {
          shape: [...t.shape],
          dtype: t.dtype,
          data: Array.from(t.dataSync() as ArrayLike<number>, Number),
        }]),
      );
    }
    Deno.writeTextFileSync(`${dir}/feeds.json`, JSON.stringify(json));
    const tfSide = JSON.parse(
      await runPython("saved_model_load.py", [`${dir}/model`, `${dir}/feeds.json`]),
    );
    assertEquals(tfSide.signatures, Object.keys(signatures).sort());
    for (const [sig, outputs] of Object.entries(expected)) {
      for (const [key, ours] of Object.entries(outputs)) {
        const theirs = tfSide.outputs[sig][key];
        assertEquals(theirs.shape, [...ours.shape], `${sig}.${key} shape`);
        const values = tf.constant(Float64Array.from(theirs.data), "float64", {
          shape: theirs.shape,
        });
        assertClose(ours.cast("float64"), values, { rtol: 1e-5, atol: 1e-5 });
      }
    }
    // fingerprint.pb: what we wrote equals what TensorFlow's fingerprinting computes.
    const { written, tensorflow } = tfSide.fingerprint;
    assertEquals(written, tensorflow, "fingerprint.pb's checksums [saved_model, checkpoint]");
    assertEquals(written[0] !== "0" && written[1] !== "0", true);
    return tfSide.cli;
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("TensorFlow loads our MNIST SavedModel and gives our logits", async () => {
  tf.random.setSeed(11);
  const model = new MNISTModel();
  const images = tf.randomUniform([3, 784], { seed: 2 });
  const logits = model.apply(images);
  // The batch size is unknown (null): TensorFlow runs the graph on a batch of 3.
  const cli = await roundTrip(
    {
      serving_default: {
        fn: (x) => model.apply(x),
        inputs: [{ shape: [null, 784], name: "images" }],
      },
    },
    { serving_default: { images } },
    { serving_default: { output_0: logits } },
  );
  const shown = [
    "signature_def['serving_default']",
    "inputs['images']",
    "shape: (-1, 784)",
    "shape: (-1, 10)",
  ];
  for (const text of shown) {
    assertEquals(cli.includes(text), true, `saved_model_cli shows ${text}`);
  }
  for (const op of ["Conv2D", "MaxPool", "MatMul", "BiasAdd", "Relu", "VarHandleOp"]) {
    assertEquals(cli.includes(`'${op}'`), true, `the graph uses ${op}`);
  }
});

Deno.test("layers and ops lower to TensorFlow's and give our values there", async () => {
  tf.random.setSeed(12);
  const dense = new tf.layers.Dense(6, { activation: tf.nn.relu });
  const bn = new tf.layers.BatchNormalization();
  const conv = new tf.layers.Conv2D(3, 2, { padding: "valid" });
  const pool = new tf.layers.AveragePooling2D([2, 2], [1, 1], { padding: "same" });
  const x = tf.randomNormal([4, 5], { seed: 3 });
  bn.apply(dense.apply(x), { training: true }); // moving statistics that are not 0 and 1
  const image = tf.randomNormal([2, 4, 4, 1], { seed: 4 });
  const ids = tf.constant([2, 0, 1, 2], "int32");
  const signatures: Record<string, tf.savedModel.SignatureFunction> = {
    layers: {
      fn: (v) => tf.nn.softmax(bn.apply(dense.apply(v), { training: false })),
      inputs: [{ shape: [4, 5] }],
    },
    ops: {
      fn: (v, i) => ({
        reduced: tf.concat([v.sum(1, true), v.max(1, true), v.mean(0, true).transpose()], 0),
        moved: tf.concat([v.transpose(), v.slice([0, 1], [4, 2]).transpose()], 0).tanh(),
        broadcast: v.mul(tf.constant([1, 2, 3, 4, 5])).sub(v.min(0)).exp(),
        picked: tf.gather(v, i, { axis: 1 }).add(tf.oneHot(i, 4)),
        chosen: tf.where(v.greater(0), v, v.abs().sqrt().neg()),
        arg: v.argMax(1).cast("float32"),
      }),
      inputs: [{ shape: [4, 5], name: "v" }, { shape: [4], dtype: "int32", name: "i" }],
    },
    conv: {
      fn: (img) => pool.apply(conv.apply(img)).logSoftmax(),
      inputs: [{ shape: [2, 4, 4, 1], name: "img" }],
    },
  };
  const expected = {
    layers: { output_0: signatures.layers.fn(x) as tf.Tensor },
    ops: signatures.ops.fn(x, ids) as Record<string, tf.Tensor>,
    conv: { output_0: signatures.conv.fn(image) as tf.Tensor },
  };
  const cli = await roundTrip(
    signatures,
    { layers: { x }, ops: { v: x, i: ids }, conv: { img: image } },
    expected,
  );
  const lowered = [
    ...["FusedBatchNormV3", "Softmax", "LogSoftmax", "AvgPool", "ArgMax", "SelectV2", "OneHot"],
    ...["GatherV2", "Transpose", "TensorScatterUpdate"], // views and partial writes
  ];
  for (const op of lowered) {
    assertEquals(cli.includes(`'${op}'`), true, `the graph uses ${op}`);
  }
});
