/** tf.train.Example: serializeExample, parseExample, parseSingleExample, decodeExample. */
import * as tf from "../mod.ts";
import { ProtoWriter } from "../src/io/protobuf.ts";
import { assertEquals, assertThrowsMatch } from "./helpers.ts";

const text = new TextEncoder();
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

const RECORD = tf.io.serializeExample({
  image: { floatList: [0.5, 1.5, -2, 3] },
  label: { int64List: [7] },
  big: { int64List: [-1n, 2n ** 62n, -(2n ** 63n), 300] },
  name: { bytesList: ["seven", text.encode("7")] },
  empty: { floatList: [] },
});

Deno.test("serializeExample then decodeExample gives the features back", () => {
  const back = tf.io.decodeExample(RECORD);
  assertEquals(Object.keys(back), ["image", "label", "big", "name", "empty"]);
  assertEquals(Array.from((back.image as { floatList: Float32Array }).floatList), [
    0.5,
    1.5,
    -2,
    3,
  ]);
  assertEquals(Array.from((back.big as { int64List: BigInt64Array }).int64List), [
    -1n,
    2n ** 62n,
    -(2n ** 63n),
    300n,
  ]);
  assertEquals((back.name as { bytesList: Uint8Array[] }).bytesList.map(decode), ["seven", "7"]);
  assertEquals(Array.from((back.empty as { floatList: Float32Array }).floatList), []);
  assertThrowsMatch(
    () => tf.io.serializeExample({ x: { floatList: [1], int64List: [1] } } as never),
    /^serializeExample: feature "x" must be one of \{ floatList \}, \{ int64List \}, \{ bytesList \}/,
  );
  assertThrowsMatch(
    () => tf.io.serializeExample({ x: { int64List: [1.5] } }),
    /^serializeExample: feature "x": 1\.5 is not an int64/,
  );
  assertThrowsMatch(
    () => tf.io.serializeExample({ x: { bytesList: [3 as never] } }),
    /^serializeExample: feature "x": 3 is not a string or Uint8Array/,
  );
  assertThrowsMatch(
    () => tf.io.serializeExample(null as never),
    /^serializeExample: features must be an object/,
  );
  assertThrowsMatch(
    () => tf.io.decodeExample(new Uint8Array([0x0a, 0x05, 1])),
    /^decodeExample: not a valid Example: /,
  );
});

Deno.test("parseSingleExample: fixed-length, variable-length and defaults", () => {
  const parsed = tf.io.parseSingleExample(RECORD, {
    image: tf.io.FixedLenFeature([2, 2], "float32"),
    label: tf.io.FixedLenFeature([], "int64"),
    name: tf.io.VarLenFeature("string"),
    big: tf.io.VarLenFeature("int64"),
    missing: tf.io.FixedLenFeature([2], "float32", [9, 8]),
    empty: tf.io.VarLenFeature("float32"),
  });
  const image = parsed.image as tf.Tensor;
  assertEquals([image.shape, image.dtype, image.numpy()], [[2, 2], "float32", [[0.5, 1.5], [
    -2,
    3,
  ]]]);
  assertEquals((parsed.label as tf.Tensor).numpy(), 7n);
  const name = parsed.name as tf.io.SparseTensor;
  assertEquals((name.values as Uint8Array[]).map(decode), ["seven", "7"]);
  assertEquals(name.indices.numpy(), [[0n], [1n]]);
  assertEquals(name.denseShape.numpy(), [2n]);
  assertEquals(((parsed.big as tf.io.SparseTensor).values as tf.Tensor).numpy(), [
    -1n,
    2n ** 62n,
    -(2n ** 63n),
    300n,
  ]);
  assertEquals((parsed.missing as tf.Tensor).numpy(), [9, 8]);
  assertEquals((parsed.empty as tf.io.SparseTensor).indices.shape, [0, 1]);
  const scalarBytes = tf.io.parseSingleExample(
    tf.io.serializeExample({ s: { bytesList: ["x"] } }),
    {
      s: tf.io.FixedLenFeature([], "string"),
    },
  );
  assertEquals(decode(scalarBytes.s as Uint8Array), "x");
});

Deno.test("parseExample batches records; VarLen features become a rank-2 SparseTensor", () => {
  const records = [0, 1, 2].map((i) =>
    tf.io.serializeExample({
      x: { floatList: [i, i + 0.5] },
      ids: { int64List: Array.from({ length: i }, (_, k) => 10 * i + k) },
      tag: { bytesList: [`t${i}`] },
    })
  );
  const out = tf.io.parseExample(records, {
    x: tf.io.FixedLenFeature([2], "float32"),
    ids: tf.io.VarLenFeature("int64"),
    tag: tf.io.FixedLenFeature([], "string"),
    w: tf.io.FixedLenFeature([], "float32", 1),
  });
  assertEquals((out.x as tf.Tensor).numpy(), [[0, 0.5], [1, 1.5], [2, 2.5]]);
  const ids = out.ids as tf.io.SparseTensor;
  assertEquals(ids.indices.numpy(), [[1n, 0n], [2n, 0n], [2n, 1n]]);
  assertEquals((ids.values as tf.Tensor).numpy(), [10n, 20n, 21n]);
  assertEquals(ids.denseShape.numpy(), [3n, 2n]);
  assertEquals(tf.io.sparseToDense(ids, -1n).numpy(), [[-1n, -1n], [10n, -1n], [20n, 21n]]);
  assertEquals((out.tag as Uint8Array[]).map(decode), ["t0", "t1", "t2"]);
  assertEquals((out.w as tf.Tensor).numpy(), [1, 1, 1]);
  assertEquals(
    (tf.io.parseExample([], { x: tf.io.FixedLenFeature([2], "float32") }).x as tf.Tensor).shape,
    [0, 2],
  );
});

Deno.test("parseExample accepts unpacked lists, repeated messages and last-wins keys", () => {
  // Built by hand: an unpacked float_list and int64_list, the features map split over
  // two Features messages, and the key "k" given twice.
  const feature = (field: number, write: (w: ProtoWriter) => void) => (w: ProtoWriter) =>
    w.message(field, write);
  const entry = (key: string, f: (w: ProtoWriter) => void) => (w: ProtoWriter) =>
    w.message(1, (e) => e.string(1, key).message(2, f));
  const bytes = new ProtoWriter()
    .message(1, entry("f", feature(2, (l) => l.float(1, 1.5).float(1, 2.5))))
    .message(1, entry("i", feature(3, (l) => l.varint(1, 3).varint(1, -4))))
    .message(1, (w) => {
      entry("k", feature(3, (l) => l.varint(1, 1)))(w);
      entry("k", feature(3, (l) => l.varint(1, 2)))(w);
    })
    .finish();
  const out = tf.io.parseSingleExample(bytes, {
    f: tf.io.FixedLenFeature([2], "float32"),
    i: tf.io.FixedLenFeature([2], "int64"),
    k: tf.io.FixedLenFeature([], "int64"),
  });
  assertEquals((out.f as tf.Tensor).numpy(), [1.5, 2.5]);
  assertEquals((out.i as tf.Tensor).numpy(), [3n, -4n]);
  assertEquals((out.k as tf.Tensor).numpy(), 2n);
});

Deno.test("parseExample errors name the op, the record and the feature", () => {
  const spec = { label: tf.io.FixedLenFeature([], "int64") };
  const other = tf.io.serializeExample({ x: { floatList: [1] } });
  assertThrowsMatch(
    () => tf.io.parseExample([RECORD, other], spec),
    /^parseExample: record 1: feature "label" is required but missing/,
  );
  assertThrowsMatch(
    () => tf.io.parseExample([RECORD], { label: tf.io.FixedLenFeature([], "float32") }),
    /^parseExample: record 0: feature "label" is an int64_list, the spec wants float32/,
  );
  assertThrowsMatch(
    () => tf.io.parseExample([RECORD], { image: tf.io.FixedLenFeature([3], "float32") }),
    /^parseExample: record 0: feature "image" has 4 values, the shape \[3\] needs 3/,
  );
  for (let cut = 1; cut < RECORD.length; cut++) {
    try {
      tf.io.parseExample([RECORD.subarray(0, cut)], { name: tf.io.VarLenFeature("string") });
    } catch (error) {
      if (!/^parseExample: /.test((error as Error).message)) throw error;
    }
  }
  assertThrowsMatch(
    () => tf.io.parseExample("x" as never, spec),
    /^parseExample: serialized must be a Uint8Array or an array/,
  );
  assertThrowsMatch(
    () => tf.io.parseExample([RECORD], { a: 3 } as never),
    /^parseExample: feature "a" must be a FixedLenFeature or VarLenFeature/,
  );
  assertThrowsMatch(
    () => tf.io.FixedLenFeature([2], "int32" as never),
    /^FixedLenFeature: dtype must be "float32", "int64" or "string", got "int32" \(Example features hold only these three\)/,
  );
  assertThrowsMatch(
    () => tf.io.FixedLenFeature([2], "float32", [1, 2, 3]),
    /^FixedLenFeature: the default has 3 values, the shape needs 2/,
  );
  assertThrowsMatch(() => tf.io.VarLenFeature("x" as never), /^VarLenFeature: dtype must be/);
  assertThrowsMatch(
    () => tf.io.parseSingleExample([RECORD] as never, spec),
    /^parseSingleExample: serialized must be a Uint8Array/,
  );
});
