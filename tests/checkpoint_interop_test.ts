/**
 * Checkpoints between us and TensorFlow (tests/interop/checkpoint.py, in the interop venv):
 * TensorFlow reads what we write (values byte for byte, list_variables, the dtypes, the
 * state file through latest_checkpoint and get_checkpoint_state, an index of several
 * blocks), and we restore what TensorFlow writes: the committed fixture
 * (tests/fixtures/tf_checkpoint, by tests/fixtures/make_checkpoint_fixture.py) into our
 * own Dense and Conv2D layers, and checkpoints TensorFlow 1's Saver and TensorFlow 2's
 * tf.train.Checkpoint write now.
 */
import * as tf from "../mod.ts";
import { runPython } from "./python_env.ts";
import { assertEquals, assertStrictEquals, assertThrowsMatch, rng } from "./helpers.ts";
import { everyDTypeAndShape, fixed, hexOf, tempDir } from "./checkpoint_helpers.ts";
import { compareBytes } from "../src/train/bundle/table.ts";

interface Described {
  dtype: string;
  shape: number[];
  hex: string;
}

interface Read {
  latest: string | null;
  state: { model_checkpoint_path: string; all_model_checkpoint_paths: string[] } | null;
  checkpoints: Record<string, {
    variables: [string, number[]][];
    dtypes: Record<string, string>;
    values: Record<string, Described>;
  }>;
}

/** numpy's dtype names of ours. */
const NUMPY: Record<string, tf.DType> = {
  float32: "float32",
  float64: "float64",
  int32: "int32",
  int64: "int64",
  uint8: "uint8",
  bool: "bool",
};

/** Restores every key of values.json (as written by the Python side) and compares bytes. */
function restoreAndCompare(prefix: string, values: Record<string, Described>): void {
  const vars: Record<string, tf.Variable> = {};
  for (const [key, d] of Object.entries(values)) {
    vars[key] = fixed(`restored/${key}`, tf.zeros(d.shape, NUMPY[d.dtype]));
  }
  new tf.Saver(vars).restore(prefix);
  for (const [key, d] of Object.entries(values)) {
    assertEquals([...vars[key].shape], d.shape, key);
    assertStrictEquals(hexOf(vars[key]), d.hex, key);
  }
}

Deno.test("we restore TensorFlow's committed fixture, into our own Dense and Conv2D", () => {
  const dir = new URL("./fixtures/tf_checkpoint", import.meta.url).pathname;
  const prefix = `${dir}/model.ckpt-1`;
  assertStrictEquals(tf.train.latestCheckpoint(dir), prefix);
  const values: Record<string, Described> = JSON.parse(
    Deno.readTextFileSync(`${dir}/values.json`),
  );
  assertEquals(
    tf.train.listVariables(prefix),
    Object.keys(values).sort().map((k) => [
      k,
      values[k].shape,
    ]),
  );
  restoreAndCompare(prefix, values);
  // TensorFlow 1's names are ours: layers built inside the context take TensorFlow's weights.
  const [conv, dense, step] = tf.restoreVariablesOnCreate(dir, () => {
    const conv = new tf.layers.Conv2D(2, 3, { activation: tf.nn.relu });
    const dense = new tf.layers.Dense(3);
    dense.apply(tf.reshape(conv.apply(tf.zeros([2, 4, 4, 1])), [2, 8]));
    return [conv, dense, tf.train.getOrCreateGlobalStep()];
  });
  tf.train.resetGlobalStep();
  assertEquals(conv.variables.map((v) => v.name), ["conv2d/kernel", "conv2d/bias"]);
  assertEquals(dense.variables.map((v) => v.name), ["dense/kernel", "dense/bias"]);
  for (const v of [...conv.variables, ...dense.variables, step]) {
    assertStrictEquals(hexOf(v), values[v.name].hex, v.name);
  }
  assertStrictEquals(step.numpy(), 1n);
});

Deno.test("TensorFlow reads our checkpoints: values, names, dtypes, the state file", async () => {
  const [dir, cleanup] = tempDir("ckpt_interop_");
  try {
    const vars = [
      ...everyDTypeAndShape(5),
      fixed("dense/kernel", tf.randomUniform([3, 2], { seed: 1 })),
      fixed("dense/kernel/Adam", tf.randomUniform([3, 2], { seed: 2 })),
      fixed("global_step", 3n, "int64"),
      fixed("é/ü", [1, 2], "int32"),
    ];
    const saver = new tf.Saver(vars, { maxToKeep: 2 });
    for (let step = 1; step <= 3; step++) saver.save(`${dir}/ckpt`, { globalStep: step });
    // An index of several 256 KiB blocks.
    const next = rng(4);
    const many = Array.from({ length: 3000 }, (_, i) =>
      fixed(
        `${i}/${Array.from({ length: 100 }, () => "abcdefgh"[Math.floor(next() * 8)]).join("")}`,
        [i],
      ));
    const big = new tf.Saver(many).save(`${dir}/many/ckpt`);

    const out = await runPython("checkpoint.py", ["read", dir, `${dir}/ckpt-3`, big]);
    const seen: Read = JSON.parse(out);
    assertStrictEquals(seen.latest, `${dir}/ckpt-3`);
    assertEquals(seen.state, {
      model_checkpoint_path: `${dir}/ckpt-3`,
      all_model_checkpoint_paths: [`${dir}/ckpt-2`, `${dir}/ckpt-3`],
    });
    const ours = seen.checkpoints[`${dir}/ckpt-3`];
    const byName = [...vars].sort((a, b) => compareBytes(encode(a.name), encode(b.name)));
    assertEquals(ours.variables, byName.map((v) => [v.name, [...v.shape]]));
    for (const v of vars) {
      assertStrictEquals(ours.dtypes[v.name], v.dtype, v.name);
      assertEquals(ours.values[v.name], { dtype: v.dtype, shape: [...v.shape], hex: hexOf(v) });
    }
    const theirs = seen.checkpoints[big];
    assertStrictEquals(theirs.variables.length, 3000);
    for (const v of many) assertStrictEquals(theirs.values[v.name].hex, hexOf(v), v.name);
  } finally {
    cleanup();
  }
});

const encode = (s: string) => new TextEncoder().encode(s);

Deno.test("we restore checkpoints TensorFlow 1's Saver and TensorFlow 2's Checkpoint write now", async () => {
  const [dir, cleanup] = tempDir("ckpt_interop_");
  try {
    const { v1, v2 } = JSON.parse(await runPython("checkpoint.py", ["write", dir]));
    assertStrictEquals(tf.train.latestCheckpoint(`${dir}/v1`), v1);
    assertStrictEquals(tf.train.latestCheckpoint(`${dir}/v2`), v2);
    for (const prefix of [v1, v2]) {
      const folder = prefix.slice(0, prefix.lastIndexOf("/"));
      restoreAndCompare(prefix, JSON.parse(Deno.readTextFileSync(`${folder}/values.json`)));
    }
    // TensorFlow 2's object graph is a string tensor: listed, not loadable.
    const reader = tf.train.loadCheckpoint(v2);
    assertStrictEquals(reader.getVariableToDtypeMap()["_CHECKPOINTABLE_OBJECT_GRAPH"], "string");
    assertEquals(reader.getVariableToShapeMap()["w/.ATTRIBUTES/VARIABLE_VALUE"], [2, 3]);
    assertThrowsMatch(
      () => reader.getTensor("_CHECKPOINTABLE_OBJECT_GRAPH"),
      /^CheckpointReader\.getTensor: .*ckpt-1\.data-00000-of-00001: tensor '_CHECKPOINTABLE_OBJECT_GRAPH': dtype string is not supported$/,
    );
  } finally {
    cleanup();
  }
});
