import * as tf from "../mod.ts";
import { assertClose, assertEquals, assertStrictEquals, assertThrowsMatch } from "./helpers.ts";

Deno.test("variables get unique names the way TensorFlow 1 makes them", () => {
  const a = new tf.Variable(1, { name: "unique_test" });
  const b = new tf.Variable(1, { name: "unique_test" });
  const c = new tf.Variable(1, { name: "unique_test" });
  assertEquals([a.name, b.name, c.name], ["unique_test", "unique_test_1", "unique_test_2"]);
  assertStrictEquals(new tf.Variable(1).name.startsWith("Variable"), true);
});

Deno.test("assign, assignAdd, assignSub and read", () => {
  const v = new tf.Variable([1, 2]);
  assertStrictEquals(v.assignAdd([1, 1]), v);
  assertClose(v.read(), [2, 3]);
  v.assignSub(1);
  assertClose(v.value(), [1, 2]);
  v.assign([5, 6]);
  assertEquals(v.numpy(), [5, 6]);
  assertEquals(v.dataSync(), new Float32Array([5, 6]));
  const i = new tf.Variable([1, 2], { dtype: "int32" });
  i.assign([3.0, 4.0]);
  assertStrictEquals(i.dtype, "int32");
  assertThrowsMatch(
    () => v.assign([1, 2, 3]),
    /Variable .*: cannot assign a value of shape \[3\] to a variable of shape \[2\]/,
  );
  assertThrowsMatch(
    () => new tf.Variable(1, { name: "" }),
    /Variable: name must be a non-empty string/,
  );
  assertThrowsMatch(
    () => new tf.Variable(1, { dtype: "half" as never }),
    /Variable: unknown dtype/,
  );
});

Deno.test("a variable is used anywhere a tensor is, with the method forms", () => {
  const v = new tf.Variable([[1, 2], [3, 4]]);
  assertClose(tf.add(v, 1), [[2, 3], [4, 5]]);
  assertClose(v.add(1), [[2, 3], [4, 5]]);
  assertClose(v.matmul(v), [[7, 10], [15, 22]]);
  assertClose(tf.reduceSum(v), 10);
  assertEquals(v.shape, [2, 2]);
  assertStrictEquals(v.rank, 2);
  assertStrictEquals(v.size, 4);
  assertStrictEquals(Number(new tf.Variable(2.5)), 2.5);
  assertClose(tf.constant(v), [[1, 2], [3, 4]]);
});

Deno.test("variables print their name, shape, dtype and value (TensorFlow's layout, str() of the value)", () => {
  const w = new tf.Variable(5, { name: "print_weight" });
  assertStrictEquals(
    w.toString(),
    "<tf.Variable 'print_weight:0' shape=() dtype=float32, numpy=5.0>",
  );
  const m = new tf.Variable([[1, 2], [3, 4]], { name: "print_m", dtype: "int32" });
  assertStrictEquals(
    Deno.inspect(m),
    "<tf.Variable 'print_m:0' shape=(2, 2) dtype=int32, numpy=\n[[1 2]\n [3 4]]>",
  );
  assertStrictEquals(
    `${new tf.Variable([1.5], { name: "print_v" })}`,
    "<tf.Variable 'print_v:0' shape=(1,) dtype=float32, numpy=[1.5]>",
  );
});
