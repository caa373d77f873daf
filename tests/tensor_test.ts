import * as tf from "../mod.ts";
import { assertClose, assertEquals, assertStrictEquals, assertThrowsMatch } from "./helpers.ts";

Deno.test("constant infers dtypes from JS values and typed arrays", () => {
  assertStrictEquals(tf.constant(3).dtype, "float32");
  assertStrictEquals(tf.constant([1, 2]).dtype, "float32");
  assertStrictEquals(tf.constant(true).dtype, "bool");
  assertStrictEquals(tf.constant([1n, 2n]).dtype, "int64");
  assertStrictEquals(tf.constant(new Int32Array([1])).dtype, "int32");
  assertStrictEquals(tf.constant(new Float64Array([1])).dtype, "float64");
  assertStrictEquals(tf.constant(new Uint8Array([1])).dtype, "uint8");
  assertStrictEquals(tf.constant(new BigInt64Array([1n])).dtype, "int64");
  assertStrictEquals(tf.constant(new Int16Array([1])).dtype, "int32");
  assertStrictEquals(tf.constant([1, 2], "int32").dtype, "int32");
  assertEquals(tf.constant([[1, 2], [3, 4]]).shape, [2, 2]);
  assertEquals(tf.constant([]).shape, [0]);
  assertEquals(tf.constant([[], []]).shape, [2, 0]);
});

Deno.test("constant copies typed arrays and converts between dtypes", () => {
  const source = new Float32Array([1, 2]);
  const t = tf.constant(source);
  source[0] = 99;
  assertClose(t, [1, 2]);
  assertEquals(tf.constant(new Float32Array([1.5, 2]), "float64").numpy(), [1.5, 2]);
  assertEquals(tf.constant(new BigInt64Array([5n]), "float32").numpy(), [5]);
  assertEquals(tf.constant(new Int32Array([7]), "int64").numpy(), [7n]);
  assertEquals(tf.constant(tf.constant([1.5, 2.5]), "int32").numpy(), [1, 2]);
});

Deno.test("constant with shape reshapes or fills", () => {
  assertEquals(tf.constant([1, 2, 3, 4], "int32", { shape: [2, 2] }).numpy(), [[1, 2], [3, 4]]);
  assertEquals(tf.constant(0, "float32", { shape: [2, 3] }).numpy(), [[0, 0, 0], [0, 0, 0]]);
  assertThrowsMatch(() => tf.constant([1, 2, 3], "float32", { shape: [2, 2] }), /constant:.*fill/);
});

Deno.test("bad constant input gives a clear error", () => {
  assertThrowsMatch(
    () => tf.constant([[1, 2], [3]]),
    /ragged nested array: value\[1\] has length 1/,
  );
  assertThrowsMatch(() => tf.constant([[1, 2], 3] as never), /ragged nested array/);
  assertThrowsMatch(() => tf.constant(["a"] as never), /cannot convert value\[0\] of type string/);
  assertThrowsMatch(
    () => tf.constant([1.5], "int32"),
    /constant: 1.5 cannot be represented as int32/,
  );
  assertThrowsMatch(() => tf.constant([300], "uint8"), /300 cannot be represented as uint8/);
  assertThrowsMatch(() => tf.constant([1], "complex64" as never), /constant: unknown dtype/);
  assertThrowsMatch(() => tf.constant(null as never), /cannot convert/);
  assertThrowsMatch(() => tf.constant(new Float32Array(4), "float32", { shape: [-1] }), /invalid/);
});

Deno.test("numpy, dataSync and Number", () => {
  assertStrictEquals(tf.constant(6).numpy(), 6);
  assertStrictEquals(tf.constant(true).numpy(), true);
  assertStrictEquals(tf.constant(5n).numpy(), 5n);
  assertEquals(tf.constant([[true, false]]).numpy(), [[true, false]]);
  assertEquals(tf.constant([[1, 2], [3, 4]], "int32").numpy(), [[1, 2], [3, 4]]);
  assertEquals(tf.constant([1, 2]).dataSync(), new Float32Array([1, 2]));
  assertEquals(tf.constant([1n]).dataSync(), new BigInt64Array([1n]));
  assertStrictEquals(Number(tf.constant(3.5)), 3.5);
  assertStrictEquals(Number(tf.constant([[7]], "int32")), 7);
  assertStrictEquals(+tf.constant(2n), 2);
  assertThrowsMatch(() => Number(tf.constant([1, 2])), /only tensors with one element/);
  assertEquals(tf.zeros([2, 0, 3]).numpy(), [[], []]);
});

Deno.test("printing follows TensorFlow 2", () => {
  assertStrictEquals(
    tf.constant([[16, 19], [36, 43]], "int32").toString(),
    "tf.Tensor(\n[[16 19]\n [36 43]], shape=(2, 2), dtype=int32)",
  );
  assertStrictEquals(tf.constant(6).toString(), "tf.Tensor(6.0, shape=(), dtype=float32)");
  assertStrictEquals(
    Deno.inspect(tf.constant([1.5, 2])),
    "tf.Tensor([1.5 2. ], shape=(2,), dtype=float32)",
  );
  assertStrictEquals(`${tf.constant([true])}`, "tf.Tensor([ True], shape=(1,), dtype=bool)");
  assertStrictEquals(
    tf.range(2000).toString(),
    "tf.Tensor([   0    1    2 ... 1997 1998 1999], shape=(2000,), dtype=int32)",
  );
  // Views print their logical order.
  assertStrictEquals(
    tf.constant([[1, 2], [3, 4]], "int32").transpose().toString(),
    "tf.Tensor(\n[[1 3]\n [2 4]], shape=(2, 2), dtype=int32)",
  );
});

Deno.test("tensor properties", () => {
  const t = tf.zeros([2, 3, 4]);
  assertStrictEquals(t.rank, 3);
  assertStrictEquals(t.size, 24);
  assertEquals(t.shape, [2, 3, 4]);
  assertStrictEquals(t.device, "/job:localhost/replica:0/task:0/device:CPU:0");
  assertStrictEquals(t.cpu(), t);
});

Deno.test("devices: the CPU works, a GPU is a clear error while there is none", () => {
  assertStrictEquals(tf.numGpus(), 0);
  assertClose(tf.device("/cpu:0", () => tf.ones([2])), [1, 1]);
  assertClose(tf.device("/device:CPU:0", () => tf.ones([1])), [1]);
  assertThrowsMatch(
    () => tf.device("/gpu:0", () => tf.ones([1])),
    /no GPU device: tf.numGpus\(\) is 0/,
  );
  assertThrowsMatch(() => tf.ones([1]).gpu(), /no GPU device: tf.numGpus\(\) is 0/);
  assertThrowsMatch(() => tf.device("/tpu:0", () => 1), /device: cannot parse device name/);
});

Deno.test("a million small tensors need no dispose and memory stays bounded", () => {
  const x = tf.constant([1, 2, 3]);
  let y = x;
  let peakHeap = 0, peakExternal = 0;
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 250_000; i++) y = x.add(i);
    for (let i = 0; i < 50; i++) y = tf.ones([1 << 18]).add(1); // 1 MiB each
    const usage = Deno.memoryUsage();
    peakHeap = Math.max(peakHeap, usage.heapUsed);
    peakExternal = Math.max(peakExternal, usage.external);
  }
  assertClose(y.slice(0, 1), [2]);
  // Leaked tensor objects would show in the JS heap (a million of them: >100 MB); leaked
  // zero-filled buffers (V8's own, from tf.ones: 200 MiB) in external memory. The add
  // outputs come from libeager and are not reported to V8 (tests/output_buffers_test.ts
  // checks their resident size in a process of its own).
  if (peakHeap > 96e6) throw new Error(`JS heap reached ${peakHeap} bytes`);
  if (peakExternal > 160e6) throw new Error(`external memory reached ${peakExternal} bytes`);
});
