/**
 * tf.savedModel.load without TensorFlow: a small SavedModel that TensorFlow 2.21 wrote
 * (tests/fixtures/saved_model_module: tests/interop/saved_model_write.py's tf.Module,
 * relu(x @ w + b), and TensorFlow's outputs for one input in expected.json) loads, restores
 * its variables and gives TensorFlow's outputs; our own export loads back; every truncation
 * of its saved_model.pb, and every byte flipped, is an error naming the file (flips through
 * fingerprint.pb's checksum, which the fixture carries as TensorFlow wrote it:
 * tests/fixtures/make_fingerprint_fixtures.py); an op we cannot run is an error naming it and
 * its node, before anything runs. (Larger TensorFlow models: saved_model_load_interop_test.ts.)
 */
import * as tf from "../mod.ts";
import { assertClose, assertEquals, assertThrowsMatch } from "./helpers.ts";

const FIXTURE = new URL("./fixtures/saved_model_module", import.meta.url).pathname;
const expected = JSON.parse(Deno.readTextFileSync(`${FIXTURE}/expected.json`));

/**
 * A copy of the fixture whose saved_model.pb is `pb`, with TensorFlow's fingerprint.pb
 * (the checksums load checks) unless `fingerprint` is false.
 */
function withPb(pb: Uint8Array, fingerprint = true): string {
  const dir = Deno.makeTempDirSync({ prefix: "saved_model_load_" });
  Deno.mkdirSync(`${dir}/variables`);
  for (const f of ["variables.index", "variables.data-00000-of-00001"]) {
    Deno.copyFileSync(`${FIXTURE}/variables/${f}`, `${dir}/variables/${f}`);
  }
  if (fingerprint) Deno.copyFileSync(`${FIXTURE}/fingerprint.pb`, `${dir}/fingerprint.pb`);
  Deno.writeFileSync(`${dir}/saved_model.pb`, pb);
  return dir;
}

Deno.test("a TensorFlow-written SavedModel loads and gives TensorFlow's outputs", () => {
  const loaded = tf.savedModel.load(FIXTURE);
  assertEquals(Object.keys(loaded.signatures), ["serving_default"]);
  assertEquals(loaded.variables.map((v) => v.name).sort(), ["b", "w"]);
  const { y } = loaded.signatures.serving_default({ x: expected.x });
  assertClose(y, expected.y, { rtol: 1e-6, atol: 1e-6 });
  assertThrowsMatch(
    () => loaded.signatures.serving_default({}),
    /serving_default: missing input x/,
  );
});

Deno.test("our export loads back and gives the model's outputs", () => {
  const dir = Deno.makeTempDirSync({ prefix: "saved_model_load_" });
  try {
    const dense = new tf.layers.Dense(3, { activation: tf.nn.relu });
    const x = tf.randomNormal([2, 5], { seed: 1 });
    const y = dense.apply(x);
    tf.savedModel.save(dense, `${dir}/m`, {
      signatures: {
        fn: (v) => tf.nn.softmax(dense.apply(v)),
        inputs: [{ shape: [2, 5], name: "v" }],
      },
    });
    const loaded = tf.savedModel.load(`${dir}/m`);
    assertClose(loaded.signatures.serving_default({ v: x }).output_0, tf.nn.softmax(y), {
      rtol: 1e-6,
    });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("every truncation of saved_model.pb and every byte flip is a clear error", () => {
  const pb = Deno.readFileSync(`${FIXTURE}/saved_model.pb`);
  const x = tf.constant(expected.x);
  const attempt = (bytes: Uint8Array): "error" | "loaded" => {
    const dir = withPb(bytes);
    try {
      const loaded = tf.savedModel.load(dir);
      for (const f of Object.values(loaded.signatures)) f({ x });
      return "loaded";
    } catch (error) {
      const message = (error as Error).message;
      if (
        !/saved_model\.pb|tf\.savedModel\.load|serving_default|ReadVariableOp|node|input/.test(
          message,
        )
      ) {
        throw new Error(`an unclear error: ${message}`);
      }
      return "error";
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  };
  // Truncations: every length from 0 to the whole file less one byte, in steps (all of the
  // first 64 bytes, where the headers are).
  for (let n = 0; n < pb.length; n += n < 64 ? 1 : 97) {
    assertEquals(attempt(pb.subarray(0, n)), "error", `truncated to ${n} bytes`);
  }
  // With TensorFlow's fingerprint.pb beside it, every flipped byte is an error (the checksum).
  let flips = 0;
  for (let i = 0; i < pb.length; i += 41) {
    const flipped = pb.slice();
    flipped[i] ^= 0xff;
    assertEquals(attempt(flipped), "error", `byte ${i} flipped`);
    flips++;
  }
  assertEquals(flips > 300, true);
});

Deno.test("fingerprint.pb: TensorFlow's checksums are checked, and a bad one is a clear error", () => {
  const pb = Deno.readFileSync(`${FIXTURE}/saved_model.pb`);
  // A well-formed change: the op Relu renamed Relv (same length).
  const flipped = pb.slice();
  flipped[new TextDecoder("latin1").decode(pb).indexOf("\x12\x04Relu") + 5] = 0x76;
  const failsWith = (dir: string, pattern: RegExp) => {
    try {
      assertThrowsMatch(() => tf.savedModel.load(dir), pattern);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  };
  failsWith(
    withPb(flipped),
    /saved_model\.pb does not match the checksum in .*fingerprint\.pb: it was changed or damaged/,
  );
  // Without fingerprint.pb the same bytes are not checked (TensorFlow before 2.11 wrote none):
  // the load goes on to the op check.
  failsWith(withPb(flipped, false), /uses op Relv, which this library cannot run/);
  // A changed variables.index breaks the checkpoint hash.
  const index = withPb(pb);
  const indexBytes = Deno.readFileSync(`${index}/variables/variables.index`);
  indexBytes[3] ^= 0x10;
  Deno.writeFileSync(`${index}/variables/variables.index`, indexBytes);
  failsWith(index, /variables\.index does not match the checksum in .*fingerprint\.pb/);
  // A malformed fingerprint.pb names itself.
  const bad = withPb(pb);
  Deno.writeFileSync(`${bad}/fingerprint.pb`, new Uint8Array([0x08]));
  failsWith(bad, /fingerprint\.pb: malformed or truncated varint/);
});

Deno.test("an op this library cannot run is an error naming it and its node", () => {
  const pb = Deno.readFileSync(`${FIXTURE}/saved_model.pb`);
  // "Relu" -> "Relv": same length, so the message stays well formed.
  const text = new TextDecoder("latin1").decode(pb);
  const at = text.indexOf("\x12\x04Relu");
  assertEquals(at > 0, true);
  const changed = pb.slice();
  changed[at + 5] = "v".charCodeAt(0);
  const dir = withPb(changed, false); // no fingerprint.pb: its checksum would refuse the change
  try {
    assertThrowsMatch(
      () => tf.savedModel.load(dir),
      /tf\.savedModel\.load: .*saved_model\.pb: node Relu \(in function __inference___call___\d+\) uses op Relv, which this library cannot run/,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
