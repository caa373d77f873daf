/**
 * Dense and Conv2D end in one in-place kernel for bias + relu (src/layers/epilogue.ts).
 * These compare their outputs and gradients with the same layer written with the ops,
 * for relu, no activation, another activation (which takes the ops) and no bias, and
 * check that the tensors a user can hold keep their values.
 */
import * as tf from "../mod.ts";
import { assertClose, assertEquals } from "./helpers.ts";

type Act = ((x: tf.Tensor) => tf.Tensor) | null;

function byOps(z: tf.Tensor, bias: tf.Variable | null, activation: Act): tf.Tensor {
  const y = bias ? tf.add(z, bias) : z;
  return activation ? activation(y) : y;
}

function check(
  layer: tf.layers.Dense | tf.layers.Conv2D,
  x: tf.Tensor,
  linear: (x: tf.Tensor) => tf.Tensor,
  activation: Act,
): void {
  layer.apply(x); // builds the weights
  const weights = layer.trainableVariables;
  const tape = new tf.GradientTape({ persistent: true });
  tape.watch(x);
  const fused = tape.record(() => layer.apply(x));
  const plain = tape.record(() => byOps(linear(x), layer.bias, activation));
  assertClose(fused, plain, { rtol: 1e-6, atol: 1e-6 });
  const upstream = tf.randomUniform([...fused.shape], { minval: -1, maxval: 1 });
  const loss = (y: tf.Tensor) => tape.record(() => tf.reduceSum(tf.multiply(y, upstream)));
  const gFused = tape.gradient(loss(fused), [x, ...weights]) as tf.Tensor[];
  const gPlain = tape.gradient(loss(plain), [x, ...weights]) as tf.Tensor[];
  if (!gFused.every((g) => g instanceof tf.Tensor)) throw new Error("a gradient is missing");
  gFused.forEach((g, i) => assertClose(g, gPlain[i], { rtol: 1e-5, atol: 1e-5 }));
}

Deno.test("Dense: bias + relu in place agrees with the ops, values and gradients", () => {
  tf.random.setSeed(7);
  for (const activation of [tf.nn.relu, null, tf.sigmoid] as Act[]) {
    for (const useBias of [true, false]) {
      const layer = new tf.layers.Dense(48, { activation, useBias });
      const x = tf.randomUniform([33, 20], { minval: -1, maxval: 1 });
      check(layer, x, (t) => tf.matmul(t, layer.kernel!.read()), activation);
      const x3 = tf.randomUniform([2, 5, 20], { minval: -1, maxval: 1 });
      check(
        layer,
        x3,
        (t) => tf.reshape(tf.matmul(tf.reshape(t, [10, 20]), layer.kernel!.read()), [2, 5, 48]),
        activation,
      );
    }
  }
});

Deno.test("Conv2D: bias + relu in place agrees with the ops, values and gradients", () => {
  tf.random.setSeed(8);
  for (const activation of [tf.nn.relu, null] as Act[]) {
    const layer = new tf.layers.Conv2D(16, 3, { padding: "same", activation });
    const x = tf.randomUniform([4, 9, 9, 3], { minval: -1, maxval: 1 });
    check(layer, x, (t) => tf.nn.conv2d(t, layer.kernel!.read(), 1, "SAME"), activation);
  }
});

Deno.test("the epilogue leaves inputs, weights and earlier outputs alone", async () => {
  const read = async (t: tf.Tensor) => Array.from((await t.data()) as Float32Array);
  const layer = new tf.layers.Dense(8, { activation: tf.nn.relu });
  const x = tf.randomUniform([300, 64], { minval: -1, maxval: 1 });
  const first = layer.apply(x);
  const firstValues = await read(first);
  const xValues = await read(x);
  const bias = await read(layer.bias!.read());
  const second = layer.apply(x);
  assertEquals(await read(first), firstValues);
  assertEquals(await read(second), firstValues);
  assertEquals(await read(x), xValues);
  assertEquals(await read(layer.bias!.read()), bias);
  if (firstValues.some((v) => v < 0)) throw new Error("relu left a negative value");
});
