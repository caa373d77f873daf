/**
 * Early release: Tensor.dispose, `using` (Symbol.dispose), tf.tidy and tf.keep, and
 * Variables, whose values survive both. Freed storage shows as a detached buffer; any use
 * of a disposed tensor is an Error, never a read of freed memory.
 */
import { ok as assert } from "node:assert";
import * as tf from "../mod.ts";
import { assertEquals, assertThrowsMatch } from "./helpers.ts";
import type { StandInBuffer } from "./backends/stand_in.ts";

const LARGE = [256, 256]; // 256 KiB of float32: above the size that is freed early

/** Whether the host array behind a tensor's storage has been freed. */
const freed = (view: ArrayBufferView) => (view.buffer as ArrayBuffer).detached;

/** The host array of a tensor's storage: itself on the CPU, the stand-in's inner array. */
const hostArrayOf = (t: tf.Tensor): ArrayBufferView => {
  const storage = t.storage;
  return ArrayBuffer.isView(storage) ? storage : (storage as StandInBuffer).host;
};

Deno.test("dispose frees a large tensor's storage, and using it afterwards is an error", () => {
  const x = tf.add(tf.ones(LARGE), 1);
  const view = hostArrayOf(x);
  assertEquals(x.dataSync()[0], 2);
  x.dispose();
  assert(x.isDisposed);
  assert(freed(view));
  assertThrowsMatch(() => tf.add(x, 1), /disposed tensor was used \(float32 \[256,256\]\)/);
  assertThrowsMatch(() => x.dataSync(), /disposed/);
  assertThrowsMatch(() => tf.matmul(x, x), /disposed/);
  assertEquals(Deno.inspect(x), "tf.Tensor(<disposed>, shape=[256,256], dtype=float32)");
  x.dispose(); // twice is harmless
});

Deno.test("storage shared by views is freed with the last of them", () => {
  const x = tf.add(tf.ones(LARGE), 1);
  const view = hostArrayOf(x);
  const y = tf.reshape(x, [65536]), z = tf.transpose(x);
  x.dispose();
  assert(!freed(view));
  assertEquals(tf.reduceSum(y).numpy(), 131072);
  y.dispose();
  assertEquals(z.shape, [256, 256]);
  assertEquals(tf.reduceMax(z).numpy(), 2);
  z.dispose();
  assert(freed(view));
});

Deno.test("a small tensor or one over the caller's own array is only marked disposed", () => {
  const small = tf.constant([1, 2, 3]);
  small.dispose();
  assertThrowsMatch(() => small.numpy(), /disposed/);
  const mine = new Float32Array(65536).fill(3);
  const t = tf.constant(mine);
  t.dispose();
  assertEquals(mine[0], 3); // never freed: not the library's buffer
});

Deno.test("`using` disposes at the end of the block", () => {
  let seen: tf.Tensor;
  {
    using t = tf.add(tf.ones(LARGE), 2);
    seen = t;
    assertEquals(t.dataSync()[5], 3);
  }
  assert(seen.isDisposed);
});

Deno.test("tidy disposes what fn made but its result, kept tensors and variables", () => {
  const x = tf.ones(LARGE);
  let inner: tf.Tensor | undefined, kept: tf.Tensor | undefined;
  const v = new tf.Variable(tf.zeros([3]));
  const result = tf.tidy(() => {
    inner = tf.square(tf.add(x, 1));
    kept = tf.keep(tf.multiply(x, 3));
    v.assign(tf.add(v, 1));
    return { total: tf.reduceSum(inner), parts: [tf.reduceMax(inner)] };
  });
  assert(inner!.isDisposed);
  assert(!x.isDisposed); // made before the scope
  assert(!kept!.isDisposed);
  assertEquals(result.total.numpy(), 262144);
  assertEquals(result.parts[0].numpy(), 4);
  assertEquals(v.numpy(), [1, 1, 1]);
  const w = tf.tidy("named", () => new tf.Variable(tf.fill([2], 7)));
  assertEquals(w.numpy(), [7, 7]);
});

Deno.test("a nested tidy's result belongs to the enclosing scope", () => {
  let fromInner: tf.Tensor | undefined;
  const out = tf.tidy(() => {
    fromInner = tf.tidy(() => tf.add(tf.ones(LARGE), 1));
    assert(!fromInner.isDisposed);
    return tf.reduceSum(fromInner);
  });
  assert(fromInner!.isDisposed);
  assertEquals(out.numpy(), 131072);
});

Deno.test("tidy cleans up when fn throws, and refuses async functions", () => {
  let made: tf.Tensor | undefined;
  assertThrowsMatch(() =>
    tf.tidy(() => {
      made = tf.ones(LARGE);
      throw new Error("boom");
    }), /boom/);
  assert(made!.isDisposed);
  // deno-lint-ignore require-await
  assertThrowsMatch(() => tf.tidy(async () => tf.ones([2])), /synchronous function/);
  assertThrowsMatch(() => tf.tidy("x" as unknown as () => void), /expected a function/);
});

Deno.test("a tidy inside a recording tape keeps what the gradient needs", () => {
  const x = tf.constant([1, 2, 3]);
  const tape = new tf.GradientTape();
  const y = tape.record(() => {
    tape.watch(x);
    return tf.tidy(() => tf.reduceSum(tf.square(tf.exp(x))));
  });
  const [g] = tape.gradient(y, [x]);
  const expected = [1, 2, 3].map((v) => 2 * Math.exp(2 * v));
  (g!.numpy() as number[]).forEach((got, i) =>
    assert(Math.abs(got - expected[i]) < 1e-3 * expected[i])
  );
});

Deno.test("training inside tidy: the weights survive, the step's tensors are freed", () => {
  const dense = new tf.layers.Dense(4);
  const optimizer = new tf.train.AdamOptimizer(0.01);
  const x = tf.randomUniform([8, 3], { seed: 1 }), y = tf.randomUniform([8, 4], { seed: 2 });
  let loss = Infinity, prediction: tf.Tensor | undefined;
  for (let step = 0; step < 20; step++) {
    loss = tf.tidy(() => {
      const value = optimizer.minimize(() => {
        prediction = dense.apply(x);
        return tf.reduceMean(tf.square(prediction.sub(y)));
      });
      return Number(value);
    });
    assert(prediction!.isDisposed);
  }
  assert(loss < 1, `loss ${loss}`);
  for (const v of [...dense.variables, ...optimizer.variables()]) assert(!v.read().isDisposed);
});

Deno.test("a disposed variable cannot be read; a tensor read from a variable survives dispose()", () => {
  const v = new tf.Variable(tf.ones(LARGE));
  const value = v.read();
  value.dispose(); // a variable's value: not disposed this way
  assertEquals(tf.reduceSum(v).numpy(), 65536);
  v.dispose();
  assertThrowsMatch(() => tf.reduceSum(v), /disposed/);
});
