/**
 * tf.Saver, tf.train.latestCheckpoint / loadCheckpoint / listVariables and
 * tf.restoreVariablesOnCreate: round trips of every dtype and shape, TensorFlow 1's names,
 * the index table's byte order and blocks, maxToKeep, the state file, and errors.
 */
import * as tf from "../mod.ts";
import { assertEquals, assertStrictEquals, assertThrowsMatch, rng } from "./helpers.ts";
import {
  assertSameValue,
  everyDTypeAndShape,
  fixed,
  tempDir,
  zeroLike,
} from "./checkpoint_helpers.ts";
import { parseCheckpointState, quoteText } from "../src/train/checkpoint_state.ts";
import { readTable } from "../src/train/bundle/table.ts";

const files = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();

Deno.test("every dtype and shape (scalars, empty tensors, NaN, -0, extremes) round-trips", () => {
  const [dir, cleanup] = tempDir("saver_");
  try {
    const vars = everyDTypeAndShape();
    const path = new tf.Saver(vars).save(`${dir}/all`);
    assertStrictEquals(path, `${dir}/all`);
    assertEquals(files(dir), ["all.data-00000-of-00001", "all.index", "checkpoint"]);
    const restored = vars.map(zeroLike);
    new tf.Saver(restored).restore(path);
    vars.forEach((v, i) => assertSameValue(restored[i], v, v.name));
    // The reader API sees the same.
    const reader = tf.train.loadCheckpoint(path);
    for (const v of vars) {
      assertSameValue(reader.getTensor(v.name), v, v.name);
      assertStrictEquals(reader.hasTensor(v.name), true);
      assertEquals(reader.getVariableToShapeMap()[v.name], [...v.shape]);
      assertStrictEquals(reader.getVariableToDtypeMap()[v.name], v.dtype);
    }
    assertStrictEquals(reader.hasTensor("nope"), false);
    assertEquals(
      tf.train.listVariables(path),
      vars.map((v) => [v.name, [...v.shape]]).sort((a, b) => (a[0] < b[0] ? -1 : 1)),
    );
  } finally {
    cleanup();
  }
});

Deno.test("TensorFlow 1's names: layers, optimizer slots, beta powers and the global step", () => {
  const [dir, cleanup] = tempDir("saver_");
  try {
    tf.random.setSeed(3);
    const dense = new tf.layers.Dense(3, { name: "saver_dense" });
    const opt = new tf.train.AdamOptimizer(0.1);
    const step = tf.train.getOrCreateGlobalStep();
    opt.minimize(() => tf.reduceSum(tf.square(dense.apply([[1, 2]]))), { globalStep: step });
    const vars = [...dense.variables, ...opt.variables(), step];
    const names = vars.map((v) => v.name).sort();
    assertEquals(
      names,
      [
        "beta1_power",
        "beta2_power",
        "global_step",
        "saver_dense/bias",
        "saver_dense/bias/Adam",
        "saver_dense/bias/Adam_1",
        "saver_dense/kernel",
        "saver_dense/kernel/Adam",
        "saver_dense/kernel/Adam_1",
      ],
    );
    const saver = new tf.Saver(vars);
    const path = saver.save(`${dir}/model`, { globalStep: step });
    assertStrictEquals(path, `${dir}/model-1`);
    assertEquals(tf.train.listVariables(path).map(([n]) => n), names);
    const before = vars.map((v) => tf.identity(v.read()));
    opt.minimize(() => tf.reduceSum(tf.square(dense.apply([[1, 2]]))), { globalStep: step });
    assertStrictEquals(Number(step), 2);
    saver.restore(path);
    vars.forEach((v, i) => assertSameValue(v, before[i], v.name));
    assertStrictEquals(Number(step), 1);
  } finally {
    tf.train.resetGlobalStep();
    cleanup();
  }
});

Deno.test("keys: an object maps its own keys; the index sorts them as UTF-8 bytes", () => {
  const [dir, cleanup] = tempDir("saver_");
  try {
    // In UTF-16 (JS) order "\uffff" sorts after the emoji; as UTF-8 bytes it sorts before.
    const keys = ["a", "a/b", "a_b", "é", "\uffff", "😀", "dense/kernel", "dense/kernel/Adam"];
    const map = Object.fromEntries(
      keys.map((k, i) => [k, tf.constant([i])]).map(
        ([k, t]) => [k, fixed(`v${k}`, t as tf.Tensor)],
      ),
    );
    const path = new tf.Saver(map).save(`${dir}/keys`);
    assertEquals(tf.train.listVariables(path).map(([k]) => k), [
      "a",
      "a/b",
      "a_b",
      "dense/kernel",
      "dense/kernel/Adam",
      "é",
      "\uffff",
      "😀",
    ]);
    const reader = tf.train.loadCheckpoint(path);
    keys.forEach((k, i) => assertEquals(reader.getTensor(k).numpy(), [i]));
    // A Map works as well.
    const restored = fixed("x", [0]);
    new tf.Saver(new Map([["a_b", restored]])).restore(path);
    assertEquals(restored.numpy(), [2]);
  } finally {
    cleanup();
  }
});

Deno.test("an index of several 256 KiB blocks (3,000 long keys) reads back", () => {
  const [dir, cleanup] = tempDir("saver_");
  try {
    // Keys that share no long prefix, so prefix compression cannot shrink the blocks.
    const next = rng(9);
    const keys = Array.from(
      { length: 3000 },
      (_, i) =>
        `${String(i).padStart(4, "0")}/${
          Array.from({ length: 100 }, () => "abcdefghijklmnop"[Math.floor(next() * 16)]).join("")
        }`,
    );
    const vars = keys.map((k, i) => fixed(k, [i]));
    const path = new tf.Saver(vars).save(`${dir}/big`);
    const index = Deno.readFileSync(`${path}.index`);
    assertStrictEquals(index.length > 256 * 1024, true);
    assertStrictEquals(readTable(index).length, 3001);
    const restored = vars.map(zeroLike);
    new tf.Saver(restored).restore(path);
    restored.forEach((v, i) => assertEquals(v.numpy(), [i]));
  } finally {
    cleanup();
  }
});

Deno.test("globalStep: a number, a bigint or an integer scalar Variable names the path", () => {
  const [dir, cleanup] = tempDir("saver_");
  try {
    const saver = new tf.Saver([fixed("w", [1, 2])]);
    assertStrictEquals(saver.save(`${dir}/m`, { globalStep: 7 }), `${dir}/m-7`);
    assertStrictEquals(saver.save(`${dir}/m`, { globalStep: 8n }), `${dir}/m-8`);
    assertStrictEquals(saver.save(`${dir}/m`, { globalStep: fixed("s", 9n) }), `${dir}/m-9`);
    assertStrictEquals(saver.save(`${dir}/m`, { globalStep: fixed("f", 10) }), `${dir}/m-10`);
    assertThrowsMatch(
      () => saver.save(`${dir}/m`, { globalStep: 1.5 }),
      /^Saver\.save: globalStep must be an integer, got 1\.5/,
    );
    assertThrowsMatch(
      () => saver.save(`${dir}/m`, { globalStep: fixed("v", [1, 2]) }),
      /^Saver\.save: globalStep must be a scalar/,
    );
    // A relative prefix (a bare name) saves into the working folder.
    const cwd = Deno.cwd();
    Deno.chdir(dir);
    try {
      assertStrictEquals(saver.save("bare", { globalStep: 1 }), "bare-1");
      assertStrictEquals(tf.train.latestCheckpoint("."), "./bare-1");
    } finally {
      Deno.chdir(cwd);
    }
    // Folders are made as needed.
    assertStrictEquals(saver.save(`${dir}/a/b/c`), `${dir}/a/b/c`);
  } finally {
    cleanup();
  }
});

Deno.test("maxToKeep deletes the oldest checkpoints; the state file lists the kept ones", () => {
  const [dir, cleanup] = tempDir("saver_");
  try {
    const w = fixed("w", 0);
    const saver = new tf.Saver([w], { maxToKeep: 3 });
    assertStrictEquals(tf.train.latestCheckpoint(dir), null);
    for (let step = 1; step <= 7; step++) {
      w.assign(step);
      saver.save(`${dir}/ckpt`, { globalStep: step });
    }
    assertEquals(files(dir), [
      "checkpoint",
      ...[5, 6, 7].flatMap((s) => [`ckpt-${s}.data-00000-of-00001`, `ckpt-${s}.index`]),
    ]);
    assertEquals(saver.lastCheckpoints, [5, 6, 7].map((s) => `${dir}/ckpt-${s}`));
    const state = parseCheckpointState(Deno.readTextFileSync(`${dir}/checkpoint`));
    assertStrictEquals(state.modelCheckpointPath, "ckpt-7");
    assertEquals(state.allModelCheckpointPaths, ["ckpt-5", "ckpt-6", "ckpt-7"]);
    assertStrictEquals(state.allModelCheckpointTimestamps.length, 3);
    assertStrictEquals(tf.train.latestCheckpoint(dir), `${dir}/ckpt-7`);
    // Saving a kept path again moves it to the end.
    saver.save(`${dir}/ckpt`, { globalStep: 5 });
    assertEquals(saver.lastCheckpoints, [6, 7, 5].map((s) => `${dir}/ckpt-${s}`));
    assertStrictEquals(tf.train.latestCheckpoint(dir), `${dir}/ckpt-5`);
    // A new Saver (a resumed run) adopts the folder's checkpoints and keeps pruning them.
    const resumed = new tf.Saver([w], { maxToKeep: 2 });
    resumed.save(`${dir}/ckpt`, { globalStep: 8 });
    assertEquals(resumed.lastCheckpoints, [5, 8].map((s) => `${dir}/ckpt-${s}`));
    assertStrictEquals(files(dir).filter((f) => f.endsWith(".index")).length, 2);
    // null (or 0) keeps every checkpoint.
    const all = new tf.Saver([w], { maxToKeep: null });
    for (let step = 10; step < 20; step++) all.save(`${dir}/ckpt`, { globalStep: step });
    assertStrictEquals(files(dir).filter((f) => f.endsWith(".index")).length, 12);
    assertStrictEquals(new tf.Saver([w], { maxToKeep: 0 }).maxToKeep, Infinity);
    // Deleted files: latestCheckpoint gives null, as TensorFlow's does.
    Deno.removeSync(`${dir}/ckpt-19.index`);
    assertStrictEquals(tf.train.latestCheckpoint(dir), null);
  } finally {
    cleanup();
  }
});

Deno.test("the state file: TensorFlow's text format with its escapes, both ways", () => {
  const text = [
    "# a comment",
    'model_checkpoint_path: "/tmp/a\\"b\\\\c\\303\\251\\n"',
    "all_model_checkpoint_paths: 'x\\x41\\101'",
    'all_model_checkpoint_paths: "/tmp/a\\"b\\\\c\\303\\251\\n"',
    "all_model_checkpoint_timestamps: 1.5e9 all_model_checkpoint_timestamps: 2",
    "last_preserved_timestamp: 1700000000.25",
    'unknown_field: "skipped"',
  ].join("\n");
  const state = parseCheckpointState(text);
  assertStrictEquals(state.modelCheckpointPath, '/tmp/a"b\\cé\n');
  assertEquals(state.allModelCheckpointPaths, ["xAA", '/tmp/a"b\\cé\n']);
  assertEquals(state.allModelCheckpointTimestamps, [1.5e9, 2]);
  assertStrictEquals(state.lastPreservedTimestamp, 1700000000.25);
  assertStrictEquals(quoteText("a\"b\\cé\n'\t"), '"a\\"b\\\\c\\303\\251\\n\\\'\\t"');
  assertThrowsMatch(() => parseCheckpointState("model_checkpoint_path: ]"), /^line 1: unexpected/);
  assertThrowsMatch(
    () => parseCheckpointState('\nmodel_checkpoint_path: "\\q"'),
    /^line 2: bad escape/,
  );
  assertThrowsMatch(() => parseCheckpointState("model_checkpoint_path"), /has no value/);
  assertThrowsMatch(() => parseCheckpointState("model_checkpoint_path: 3"), /expected a string/);

  const [dir, cleanup] = tempDir("saver_");
  try {
    // A prefix with a quote and non-ASCII letters survives the state file.
    const path = new tf.Saver([fixed("w", 1)]).save(`${dir}/mo"dèl`, { globalStep: 3 });
    assertStrictEquals(tf.train.latestCheckpoint(dir), path);
    Deno.writeTextFileSync(`${dir}/checkpoint`, "model_checkpoint_path: {");
    assertThrowsMatch(
      () => tf.train.latestCheckpoint(dir),
      /^latestCheckpoint: .*checkpoint: line 1: unexpected '\{'/,
    );
    // A save replaces a corrupt state file.
    new tf.Saver([fixed("w", 1)]).save(`${dir}/again`);
    assertStrictEquals(tf.train.latestCheckpoint(dir), `${dir}/again`);
  } finally {
    cleanup();
  }
});

Deno.test("restore is all-or-nothing and names the key, dtype and shape at fault", () => {
  const [dir, cleanup] = tempDir("saver_");
  try {
    const a = fixed("a", [1, 2, 3]), b = fixed("b", [[1, 2]], "int32");
    const path = new tf.Saver([a, b]).save(`${dir}/m`);
    const a2 = fixed("a", [0, 0, 0]);
    const wrongShape = fixed("b", [0, 0], "int32");
    assertThrowsMatch(
      () => new tf.Saver([a2, wrongShape]).restore(path),
      /^Saver\.restore: 'b' is int32 \[1,2\] in checkpoint '.*\/m', but the variable b is int32 \[2\]$/,
    );
    assertEquals(a2.numpy(), [0, 0, 0]); // nothing assigned
    assertThrowsMatch(
      () => new tf.Saver([a2, fixed("b", [[0, 0]], "float32")]).restore(path),
      /^Saver\.restore: 'b' is int32 \[1,2\] .* but the variable b is float32 \[1,2\]$/,
    );
    assertThrowsMatch(
      () => new tf.Saver([a2, fixed("c", 1), fixed("d", 1)]).restore(path),
      /^Saver\.restore: checkpoint '.*' lacks 2 key\(s\): c, d$/,
    );
    assertEquals(a2.numpy(), [0, 0, 0]);
    assertThrowsMatch(
      () => new tf.Saver([a2]).restore(`${dir}/nothing`),
      /^Saver\.restore: .*nothing\.index: no checkpoint at '.*nothing'/,
    );
    assertThrowsMatch(
      () => new tf.Saver([a2]).restore(null as unknown as string),
      /^Saver\.restore: path must be a checkpoint path, got null \(tf\.train\.latestCheckpoint/,
    );
    Deno.removeSync(`${path}.data-00000-of-00001`);
    assertThrowsMatch(
      () => new tf.Saver([a2]).restore(path),
      /^Saver\.restore: .*m\.data-00000-of-00001: cannot read/,
    );
  } finally {
    cleanup();
  }
});

Deno.test("Saver, save and the readers check their arguments", () => {
  const w = fixed("w", 1);
  assertThrowsMatch(() => new tf.Saver(3 as never), /^Saver: expected an array of Variables/);
  assertThrowsMatch(() => new tf.Saver([w, 3] as never), /^Saver: element 1 is not a Variable/);
  assertThrowsMatch(
    () => new tf.Saver([w, fixed("w", 2)]),
    /^Saver: two variables under the key 'w'/,
  );
  assertThrowsMatch(() => new tf.Saver([w, w]), /^Saver: two variables under the key 'w'/);
  assertThrowsMatch(() => new tf.Saver([]), /^Saver: no variables to save/);
  assertThrowsMatch(() => new tf.Saver({ "": w }), /^Saver: keys must be non-empty strings/);
  assertThrowsMatch(() => new tf.Saver({ k: 1 } as never), /^Saver: 'k' is not a Variable/);
  assertThrowsMatch(() => new tf.Saver([w], { maxToKeep: -1 }), /^Saver: maxToKeep must be/);
  assertThrowsMatch(() => new tf.Saver([w], { maxToKeep: 1.5 }), /^Saver: maxToKeep must be/);
  const saver = new tf.Saver({ k: w });
  assertThrowsMatch(() => saver.save(""), /^Saver\.save: prefix must be a non-empty string/);
  assertThrowsMatch(() => saver.save(3 as never), /^Saver\.save: prefix must be/);
  assertThrowsMatch(
    () => saver.save("/tmp/dir/"),
    /^Saver\.save: prefix '\/tmp\/dir\/' names a folder/,
  );
  assertThrowsMatch(
    () => saver.save("x", null as never),
    /^Saver\.save: options must be an object/,
  );
  assertThrowsMatch(
    () => saver.save("/proc/no/such/place/x"),
    /^Saver\.save: cannot create folder '\/proc\/no\/such\/place'/,
  );
  assertThrowsMatch(() => tf.train.latestCheckpoint(5 as never), /^latestCheckpoint: dir must be/);
  assertStrictEquals(tf.train.latestCheckpoint("/no/such/folder"), null);
  assertThrowsMatch(
    () => tf.train.listVariables("/no/such/ckpt"),
    /^listVariables: .*no checkpoint at/,
  );
  assertThrowsMatch(() => tf.train.loadCheckpoint(""), /^loadCheckpoint: path must be/);
  const [dir, cleanup] = tempDir("saver_");
  try {
    assertThrowsMatch(
      () => tf.train.loadCheckpoint(dir),
      /^loadCheckpoint: no checkpoint found in folder/,
    );
    const path = saver.save(`${dir}/m`);
    const reader = tf.train.loadCheckpoint(dir); // a folder: its latest checkpoint
    assertStrictEquals(reader.path, path);
    assertThrowsMatch(
      () => reader.getTensor("x"),
      /^CheckpointReader\.getTensor: key 'x' not found/,
    );
    assertThrowsMatch(
      () => reader.getTensor(1 as never),
      /^CheckpointReader\.getTensor: name must be/,
    );
    assertThrowsMatch(
      () => new (reader.constructor as new (x: unknown) => unknown)(1),
      /^CheckpointReader: use/,
    );
    assertEquals(tf.train.listVariables(dir), [["k", []]]);
  } finally {
    cleanup();
  }
});

Deno.test("restoreVariablesOnCreate: new variables start from the checkpoint", async () => {
  const [dir, cleanup] = tempDir("saver_");
  try {
    const path = new tf.Saver([fixed("roc/a", [1, 2]), fixed("roc/b", 5, "int64")]).save(
      `${dir}/m`,
    );
    const made = tf.restoreVariablesOnCreate(path, () => [
      fixed("roc/a", [0, 0]),
      fixed("roc/b", 0, "int64"),
      fixed("roc/c", [9]), // not in the checkpoint: keeps its value
    ]);
    assertEquals(made.map((v) => v.numpy()), [[1, 2], 5n, [9]]);
    // Outside fn nothing is restored.
    assertEquals(fixed("roc/a", [0, 0]).numpy(), [0, 0]);
    // A folder means its latest checkpoint; null runs fn unchanged (a first run).
    assertEquals(tf.restoreVariablesOnCreate(dir, () => fixed("roc/a", [0, 0]).numpy()), [1, 2]);
    assertEquals(tf.restoreVariablesOnCreate(null, () => fixed("roc/a", [0, 0]).numpy()), [0, 0]);
    // Nested contexts: the inner checkpoint first, then the outer.
    const inner = new tf.Saver([fixed("roc/a", [7, 7])]).save(`${dir}/inner`);
    const nested = tf.restoreVariablesOnCreate(
      path,
      () =>
        tf.restoreVariablesOnCreate(
          inner,
          () => [fixed("roc/a", [0, 0]), fixed("roc/b", 0, "int64")],
        ),
    );
    assertEquals(nested.map((v) => v.numpy()), [[7, 7], 5n]);
    // An async fn keeps the context until it settles.
    const late = await tf.restoreVariablesOnCreate(path, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return fixed("roc/a", [0, 0]);
    });
    assertEquals(late.numpy(), [1, 2]);
    assertEquals(fixed("roc/a", [0, 0]).numpy(), [0, 0]);
    // Errors: another shape or dtype, a thrown error removes the context.
    assertThrowsMatch(
      () => tf.restoreVariablesOnCreate(path, () => fixed("roc/a", [0, 0, 0])),
      /^restoreVariablesOnCreate: checkpoint '.*m' holds 'roc\/a' as float32 \[2\], but the variable is float32 \[3\]$/,
    );
    assertThrowsMatch(
      () => tf.restoreVariablesOnCreate(path, () => fixed("roc/b", 0, "int32")),
      /holds 'roc\/b' as int64 \[\], but the variable is int32 \[\]$/,
    );
    assertEquals(fixed("roc/a", [0, 0, 0]).numpy(), [0, 0, 0]);
    assertThrowsMatch(
      () => tf.restoreVariablesOnCreate(path, 3 as never),
      /^restoreVariablesOnCreate: expected a function/,
    );
    assertThrowsMatch(
      () => tf.restoreVariablesOnCreate(5 as never, () => 1),
      /^restoreVariablesOnCreate: path must be/,
    );
    assertThrowsMatch(
      () => tf.restoreVariablesOnCreate(`${dir}/none`, () => 1),
      /^restoreVariablesOnCreate: .*none\.index: no checkpoint/,
    );
  } finally {
    cleanup();
  }
});
