/**
 * Corrupt checkpoints: every single-byte change (each bit, and all bits) and every
 * truncation of a small checkpoint's `.index` and `.data-00000-of-00001` files gives an
 * Error naming the op and the file (and the key, for data) — or, for the few bytes the
 * format does not checksum (the footer's padding), a restore with exactly the saved
 * values. Never a crash, never wrong values. Also the `checkpoint` state file.
 */
import * as tf from "../mod.ts";
import { assertStrictEquals } from "./helpers.ts";
import { assertSameValue, fixed, tempDir, zeroLike } from "./checkpoint_helpers.ts";

const MASKS = [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff];

function smallCheckpoint(dir: string): { path: string; vars: tf.Variable[] } {
  const vars = [
    fixed("dense/kernel", [[1.5, -2, 3], [4, 5e-3, -6e7]]),
    fixed("dense/kernel/Adam", [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]),
    fixed("empty", tf.zeros([0, 2])),
    fixed("flags", [true, false, true]),
    fixed("global_step", 123456789012n, "int64"),
  ];
  return { path: new tf.Saver(vars).save(`${dir}/small`, { globalStep: 1 }), vars };
}

/** The key whose bytes in the data file hold byte `pos`, from the index's entries. */
function keyAt(path: string, pos: number): string {
  let offset = 0;
  for (const [key, shape] of tf.train.listVariables(path)) {
    const t = tf.train.loadCheckpoint(path).getTensor(key);
    const size = t.dataSync().byteLength;
    if (pos >= offset && pos < offset + size) return key;
    offset += size;
    void shape;
  }
  throw new Error(`no key holds byte ${pos}`);
}

/**
 * Restores `vars`' names from `path` into fresh variables. Returns "ok" when the values
 * are exactly the saved ones; else the error's message (anything else fails the test).
 */
function tryRestore(path: string, vars: tf.Variable[]): string {
  const fresh = vars.map(zeroLike);
  try {
    new tf.Saver(fresh).restore(path);
  } catch (error) {
    if (!(error instanceof Error)) throw new Error(`a non-Error was thrown: ${String(error)}`);
    return error.message;
  }
  fresh.forEach((v, i) => assertSameValue(v, vars[i], `restored ${v.name}`));
  return "ok";
}

Deno.test("every byte change of the .index file is an error naming it, or harmless", () => {
  const [dir, cleanup] = tempDir("corrupt_");
  try {
    const { path, vars } = smallCheckpoint(dir);
    const file = `${path}.index`;
    const original = Deno.readFileSync(file);
    const harmless = new Set<number>();
    for (let pos = 0; pos < original.length; pos++) {
      for (const mask of MASKS) {
        const bytes = original.slice();
        bytes[pos] ^= mask;
        Deno.writeFileSync(file, bytes);
        const outcome = tryRestore(path, vars);
        // NOTE: setting the top bit of the last handle byte makes a longer encoding of
        // the same number (0x19 -> 0x99 0x00, the 0x00 from the padding): harmless too.
        if (outcome === "ok") {
          const sameNumber = mask === 0x80 && original[pos] < 0x80 && original[pos + 1] === 0;
          if (!sameNumber) harmless.add(pos);
        } else if (!outcome.startsWith(`Saver.restore: ${file}: `)) {
          throw new Error(`byte ${pos} ^ ${mask}: unclear error "${outcome}"`);
        }
      }
    }
    // Only the footer's zero padding (between the two block handles, four varints, and
    // the magic number) is outside every checksum: the footer is the last 48 bytes.
    let padding = original.length - 48;
    for (let varints = 0; varints < 4; padding++) if (original[padding] < 0x80) varints++;
    for (const pos of harmless) {
      if (pos < padding || pos >= original.length - 8) {
        throw new Error(`a change at byte ${pos} went unnoticed`);
      }
    }
    assertStrictEquals(harmless.size, original.length - 8 - padding);
  } finally {
    cleanup();
  }
});

Deno.test("every byte change of the .data file is an error naming the file and key", () => {
  const [dir, cleanup] = tempDir("corrupt_");
  try {
    const { path, vars } = smallCheckpoint(dir);
    const file = `${path}.data-00000-of-00001`;
    const original = Deno.readFileSync(file);
    const owners = Array.from(original, (_, pos) => keyAt(path, pos));
    for (let pos = 0; pos < original.length; pos++) {
      for (const mask of MASKS) {
        const bytes = original.slice();
        bytes[pos] ^= mask;
        Deno.writeFileSync(file, bytes);
        const outcome = tryRestore(path, vars);
        const expected = `Saver.restore: ${file}: tensor '${owners[pos]}': checksum mismatch`;
        if (!outcome.startsWith(expected)) {
          throw new Error(`byte ${pos} ^ ${mask}: "${outcome}", expected "${expected}..."`);
        }
        // The reader API and restore-on-create check the same.
        let readerMessage = "";
        try {
          tf.train.loadCheckpoint(path).getTensor(owners[pos]);
        } catch (error) {
          readerMessage = (error as Error).message;
        }
        if (!readerMessage.startsWith(`CheckpointReader.getTensor: ${file}: tensor '`)) {
          throw new Error(`byte ${pos} ^ ${mask}: reader gave "${readerMessage}"`);
        }
      }
    }
  } finally {
    cleanup();
  }
});

Deno.test("every truncation of either file is an error naming it (and the key)", () => {
  const [dir, cleanup] = tempDir("corrupt_");
  try {
    const { path, vars } = smallCheckpoint(dir);
    for (const suffix of [".index", ".data-00000-of-00001"]) {
      const file = `${path}${suffix}`;
      const original = Deno.readFileSync(file);
      for (let length = 0; length < original.length; length++) {
        Deno.writeFileSync(file, original.subarray(0, length));
        const outcome = tryRestore(path, vars);
        const pattern = suffix === ".index"
          ? `Saver.restore: ${file}: `
          : `Saver.restore: ${file}: tensor '`;
        if (!outcome.startsWith(pattern)) {
          throw new Error(`${suffix} cut to ${length} bytes: unclear error "${outcome}"`);
        }
      }
      Deno.writeFileSync(file, original);
      assertStrictEquals(tryRestore(path, vars), "ok");
    }
  } finally {
    cleanup();
  }
});

Deno.test("a changed or cut state file gives a checkpoint, null, or a clear error", () => {
  const [dir, cleanup] = tempDir("corrupt_");
  try {
    const { path } = smallCheckpoint(dir);
    const file = `${dir}/checkpoint`;
    const original = Deno.readFileSync(file);
    const check = (bytes: Uint8Array, what: string) => {
      Deno.writeFileSync(file, bytes);
      try {
        const latest = tf.train.latestCheckpoint(dir);
        if (latest !== null && latest !== path) throw new Error(`${what}: got ${latest}`);
      } catch (error) {
        if (!(error as Error).message.startsWith(`latestCheckpoint: `)) throw error;
      }
    };
    for (let pos = 0; pos < original.length; pos++) {
      for (const mask of MASKS) {
        const bytes = original.slice();
        bytes[pos] ^= mask;
        check(bytes, `byte ${pos} ^ ${mask}`);
      }
    }
    for (let length = 0; length < original.length; length++) {
      check(original.subarray(0, length), `cut to ${length}`);
    }
  } finally {
    cleanup();
  }
});
