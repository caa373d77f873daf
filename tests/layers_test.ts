/**
 * tf.layers against TensorFlow 1 (tests/fixtures/make_layers_fixtures.py wrote
 * tests/fixtures/layers.json from tf.compat.v1.layers in a tf.compat.v1 graph: outputs for
 * fixed weights, BatchNormalization's moving averages, variable names and shapes), plus
 * lazy building, variable lists, the training flag, initializers, custom layers,
 * gradients and error messages.
 *
 * NOTE: layer and scope names come from process-wide counters, so the naming test must
 * stay the first test of this file and no layer may be made at module level.
 */
import * as tf from "../mod.ts";
import fixtures from "./fixtures/layers.json" with { type: "json" };
import {
  assertClose,
  assertEquals,
  assertStrictEquals,
  assertThrowsMatch,
  flat,
} from "./helpers.ts";

type Json = { shape: number[]; values: number[] };
type VariableJson = { name: string; shape: number[]; trainable: boolean };

const tensor = (j: Json, dtype: tf.DType = "float32") =>
  tf.constant(j.values, dtype, { shape: j.shape });
/** An initializer giving the fixture's values (checked to be asked for their shape). */
const init = (j: Json): tf.initializers.Initializer => (shape) => {
  assertEquals([...shape], j.shape);
  return tensor(j);
};
/** TensorFlow's "dense/kernel:0" as this library names it: "dense/kernel". */
const tfName = (name: string) => name.replace(/:0$/, "");
/** A tensor's or variable's values as numbers. */
const nums = (t: tf.Tensor | tf.Variable) => flat(t instanceof tf.Variable ? t.read() : t).values;
const activationOf = (name: string | null) => (name === "relu" ? tf.nn.relu : null);

/** The layer's variables against TensorFlow's, up to the layer's own scope name. */
function assertVariables(layer: tf.layers.AnyLayer, expected: VariableJson[], what: string) {
  const got = layer.variables.map((v) => ({
    name: v.name.slice(layer.scopeName.length + 1),
    shape: [...v.shape],
    trainable: v.trainable,
  }));
  const want = expected.map((v) => ({
    name: tfName(v.name).split("/").slice(1).join("/"),
    shape: v.shape,
    trainable: v.trainable,
  }));
  assertEquals(got, want, what);
  for (const v of layer.variables) {
    assertStrictEquals(v.name.startsWith(`${layer.scopeName}/`), true, `${what}: ${v.name}`);
  }
}

Deno.test("variables are named as TensorFlow 1 names them (scopes fixed when first built)", () => {
  const x2 = tf.ones([2, 3]), x4 = tf.ones([2, 6, 6, 3]), ids = tf.constant([1, 2], "int32");
  // Constructed in the fixture's order, applied in its (different) order.
  const a = new tf.layers.Dense(3);
  const b = new tf.layers.Dense(3);
  const unused = new tf.layers.Dense(3);
  const c = new tf.layers.Dense(3);
  const conv = new tf.layers.Conv2D(2, 3);
  const bn = new tf.layers.BatchNormalization();
  const namedA = new tf.layers.Dense(2, { name: "logits" });
  const namedB = new tf.layers.Dense(2, { name: "logits" });
  const scoped = new tf.layers.Dense(2);
  const embA = new tf.layers.Embedding(5, 2);
  const embB = new tf.layers.Embedding(5, 2);
  const layers: Record<string, [tf.layers.AnyLayer, tf.Tensor]> = {
    a: [a, x2],
    b: [b, x2],
    c: [c, x2],
    conv: [conv, x4],
    bn: [bn, x4],
    named_a: [namedA, x2],
    named_b: [namedB, x2],
    emb_a: [embA, ids],
    emb_b: [embB, ids],
  };
  for (const entry of fixtures.naming) {
    if (entry.layer === "scoped") {
      tf.layers.withNameScope("outer", () => scoped.apply(x2));
    } else {
      const [layer, input] = layers[entry.layer];
      layer.apply(input);
    }
    const layer = entry.layer === "scoped" ? scoped : layers[entry.layer][0];
    assertEquals(layer.variables.map((v) => v.name), entry.variables.map(tfName), entry.layer);
  }
  // Layer names are fixed at construction (TensorFlow 1's zero-based unique names);
  // explicit names are kept as given.
  assertEquals(
    [a, b, unused, c, conv, bn, namedA, namedB, scoped, embA, embB].map((l) => l.name),
    [
      "dense",
      "dense_1",
      "dense_2",
      "dense_3",
      "conv2d",
      "batch_normalization",
      "logits",
      "logits",
      "dense_4",
      "embedding",
      "embedding_1",
    ],
  );
  assertStrictEquals(c.scopeName, "dense_1");
  assertStrictEquals(scoped.scopeName, "outer/dense");
  assertStrictEquals(unused.built, false);
  assertStrictEquals(unused.variables.length, 0);
});

Deno.test("Dense matches tf.compat.v1.layers.Dense: relu, no bias, rank-3 input", () => {
  assertStrictEquals(fixtures.dense.length, 3);
  for (const c of fixtures.dense) {
    const what = `Dense(${c.units}, ${c.activation}, useBias ${c.useBias}) on ${c.x.shape}`;
    const layer = new tf.layers.Dense(c.units, {
      activation: activationOf(c.activation),
      useBias: c.useBias,
      kernelInitializer: init(c.kernel),
      biasInitializer: c.bias ? init(c.bias) : undefined,
    });
    const y = layer.apply(tensor(c.x));
    assertClose(y, tensor(c.y), { message: what });
    assertVariables(layer, c.variables, what);
    assertStrictEquals(layer.bias === null, !c.useBias, what);

    // The same values set after a first apply, through the variables.
    const late = new tf.layers.Dense(c.units, {
      activation: activationOf(c.activation),
      useBias: c.useBias,
    });
    late.apply(tensor(c.x));
    late.kernel!.assign(tensor(c.kernel));
    if (c.bias) late.bias!.assign(tensor(c.bias));
    assertClose(late.apply(tensor(c.x)), tensor(c.y), { message: `${what}, assigned` });
  }
});

Deno.test("Conv2D matches tf.compat.v1.layers.Conv2D in both data formats", () => {
  assertStrictEquals(fixtures.conv2d.length, 12);
  for (const c of fixtures.conv2d) {
    const what =
      `Conv2D(${c.filters}, ${c.kernelSize}) strides ${c.strides} ${c.padding} dilation ` +
      `${c.dilationRate} ${c.dataFormat} on ${c.x.shape}`;
    const layer = new tf.layers.Conv2D(c.filters, c.kernelSize, {
      strides: c.strides,
      padding: c.padding as tf.layers.LayerPadding,
      dilationRate: c.dilationRate,
      dataFormat: c.dataFormat as tf.layers.LayerDataFormat,
      activation: activationOf(c.activation),
      kernelInitializer: init(c.kernel),
      biasInitializer: init(c.bias),
    });
    const y = layer.apply(tensor(c.x));
    assertClose(y, tensor(c.y), { message: what });
    if (c.yShape) assertEquals([...y.shape], c.yShape, what);
    assertVariables(layer, c.variables, what);
    assertEquals(layer.kernelSize, c.kernelSize);
    assertEquals(layer.strides, c.strides);
    assertEquals(layer.dilationRate, c.dilationRate);
    assertStrictEquals(layer.dataFormat, c.dataFormat);
  }
});

Deno.test("pooling layers and functions match tf.compat.v1.layers pooling", () => {
  assertStrictEquals(fixtures.pooling.length, 16);
  for (const c of fixtures.pooling) {
    const what = `${c.kind} pool ${c.poolSize} strides ${c.strides} ${c.padding} ${c.dataFormat}`;
    const options = {
      padding: c.padding as tf.layers.LayerPadding,
      dataFormat: c.dataFormat as tf.layers.LayerDataFormat,
    };
    const Kind = c.kind === "max" ? tf.layers.MaxPooling2D : tf.layers.AveragePooling2D;
    const layer = new Kind(c.poolSize, c.strides, options);
    assertClose(layer.apply(tensor(c.x)), tensor(c.y), { message: what });
    assertStrictEquals(layer.variables.length, 0, what);
    assertStrictEquals(c.variables === undefined || c.variables.length === 0, true);
    const fn = c.kind === "max" ? tf.layers.maxPooling2d : tf.layers.averagePooling2d;
    assertClose(fn(tensor(c.x), c.poolSize, c.strides, options), tensor(c.y), {
      message: `${what} (function)`,
    });
  }
  // strides default to the pool size
  const x = tf.reshape(tf.cast(tf.range(0, 16), "float32"), [1, 4, 4, 1]);
  assertClose(new tf.layers.MaxPooling2D(2).apply(x), [[[[5], [7]], [[13], [15]]]]);
  assertClose(new tf.layers.AveragePooling2D([2, 4]).apply(x), [[[[3.5]], [[11.5]]]]);
});

Deno.test("Flatten matches tf.compat.v1.layers.Flatten (channels_first moves channels last)", () => {
  assertStrictEquals(fixtures.flatten.length, 6);
  for (const c of fixtures.flatten) {
    const what = `Flatten ${c.dataFormat} on ${c.x.shape}`;
    const dataFormat = c.dataFormat as tf.layers.LayerDataFormat;
    assertClose(new tf.layers.Flatten({ dataFormat }).apply(tensor(c.x)), tensor(c.y), {
      message: what,
    });
    assertClose(tf.layers.flatten(tensor(c.x), { dataFormat }), tensor(c.y), {
      message: `${what} (function)`,
    });
  }
  // A [2, 3, 4] channels_first input is not the same as a plain reshape.
  const first = fixtures.flatten.find((c) =>
    c.dataFormat === "channels_first" && c.x.shape.length === 3
  )!;
  const plain = tf.reshape(tensor(first.x), [2, 12]);
  assertStrictEquals(
    nums(plain).every((v, i) => v === first.y.values[i]),
    false,
  );
  assertEquals([...new tf.layers.Flatten().apply(tf.zeros([5])).shape], [5, 1]);
});

Deno.test("BatchNormalization matches TF1: training output, moving averages, inference", () => {
  assertStrictEquals(fixtures.batchNormalization.length, 9);
  for (const c of fixtures.batchNormalization) {
    const what = `BatchNormalization axis ${JSON.stringify(c.axis)} on ${c.x.shape} fused ` +
      `${c.fusedOption} epsilon ${c.epsilon} center ${c.center} scale ${c.scale}`;
    const layer = new tf.layers.BatchNormalization({
      axis: c.axis,
      momentum: c.momentum,
      epsilon: c.epsilon,
      center: c.center,
      scale: c.scale,
      fused: c.fusedOption ?? undefined,
      gammaInitializer: init(c.gamma),
      betaInitializer: init(c.beta),
      movingMeanInitializer: init(c.movingMean),
      movingVarianceInitializer: init(c.movingVariance),
    });
    const x = tensor(c.x);
    assertClose(layer.apply(x), tensor(c.inference), { message: `${what}: inference`, rtol: 1e-4 });
    assertStrictEquals(layer.fused, c.fused, `${what}: fused`);
    assertVariables(layer, c.variables, what);
    assertClose(layer.apply(x, { training: true }), tensor(c.training), {
      message: `${what}: training`,
      rtol: 1e-4,
      atol: 1e-5,
    });
    assertClose(layer.movingMean!.read(), tensor(c.movingMeanAfter), {
      message: `${what}: moving mean`,
    });
    assertClose(layer.movingVariance!.read(), tensor(c.movingVarianceAfter), {
      message: `${what}: moving variance`,
    });
    assertClose(layer.apply(x, { training: false }), tensor(c.inferenceAfter), {
      message: `${what}: inference after the update`,
      rtol: 1e-4,
    });
  }
});

Deno.test("Embedding matches tf.keras.layers.Embedding", () => {
  for (const c of fixtures.embedding) {
    const layer = new tf.layers.Embedding(c.inputDim, c.outputDim, {
      embeddingsInitializer: init(c.table),
    });
    const y = layer.apply(tf.constant(c.ids.values, "int32", { shape: c.ids.shape }));
    assertClose(y, tensor(c.y), { rtol: 0, atol: 0 });
    assertVariables(layer, c.variables, `Embedding on ${c.ids.shape}`);
    // JS numbers are ids too.
    const again = layer.apply(c.ids.values);
    assertClose(
      again,
      tf.reshape(tensor(c.y), [c.ids.values.length, c.outputDim]),
      { rtol: 0, atol: 0 },
    );
  }
});

Deno.test("layers build lazily: no variables before the first apply, none added after", () => {
  const dense = new tf.layers.Dense(4);
  assertStrictEquals(dense.built, false);
  assertStrictEquals(dense.variables.length, 0);
  assertStrictEquals(dense.kernel === null, true);
  assertStrictEquals(dense.dtype === undefined, true);
  assertStrictEquals(String(dense), `<Dense '${dense.name}' (not built)>`);
  const y = dense.apply(tf.ones([2, 3]));
  assertEquals([...y.shape], [2, 4]);
  assertStrictEquals(dense.built, true);
  assertStrictEquals(dense.dtype, "float32");
  assertStrictEquals(String(dense), `<Dense '${dense.name}'>`);
  const [kernel, bias] = dense.variables;
  assertStrictEquals(kernel, dense.kernel);
  assertStrictEquals(bias, dense.bias);
  assertEquals([...kernel.shape], [3, 4]);
  assertEquals(nums(bias), [0, 0, 0, 0]);
  dense.apply(tf.ones([5, 3]));
  dense.apply(tf.ones([7, 2, 3]));
  assertStrictEquals(dense.variables.length, 2);
  assertStrictEquals(dense.variables[0], kernel);

  // float64 inputs make float64 weights; stateless layers build with no variables.
  const wide = new tf.layers.Dense(2);
  wide.apply(tf.ones([1, 3], "float64"));
  assertStrictEquals(wide.kernel!.dtype, "float64");
  const pool = new tf.layers.MaxPooling2D(2);
  pool.apply(tf.ones([1, 2, 2, 1]));
  assertStrictEquals(pool.built, true);
  assertStrictEquals(pool.variables.length, 0);
});

Deno.test("variables, trainableVariables and nonTrainableVariables keep TF's order", () => {
  const bn = new tf.layers.BatchNormalization();
  bn.apply(tf.ones([4, 3]));
  const names = (vs: tf.Variable[]) => vs.map((v) => v.name.slice(bn.scopeName.length + 1));
  assertEquals(names(bn.trainableVariables), ["gamma", "beta"]);
  assertEquals(names(bn.nonTrainableVariables), ["moving_mean", "moving_variance"]);
  assertEquals(names(bn.variables), ["gamma", "beta", "moving_mean", "moving_variance"]);
  assertEquals(bn.variables.map((v) => v.trainable), [true, true, false, false]);
  assertStrictEquals(bn.gamma, bn.trainableVariables[0]);
  assertStrictEquals(bn.movingVariance, bn.nonTrainableVariables[1]);

  const frozen = new tf.layers.Dense(2, { trainable: false });
  frozen.apply(tf.ones([1, 2]));
  assertStrictEquals(frozen.trainableVariables.length, 0);
  assertEquals(names(frozen.nonTrainableVariables).length, 2);
  assertStrictEquals(frozen.kernel!.trainable, false);

  // The lists are copies.
  bn.variables.pop();
  assertStrictEquals(bn.variables.length, 4);
});

Deno.test("Dropout: identity in inference, a scaled mask in training", () => {
  tf.random.setSeed(11);
  const x = tf.ones([200, 500]);
  const drop = new tf.layers.Dropout(0.3);
  assertStrictEquals(drop.apply(x), x);
  assertStrictEquals(drop.apply(x, { training: false }), x);
  const y = drop.apply(x, { training: true });
  const values = nums(y);
  let zeros = 0;
  for (const v of values) {
    if (v === 0) zeros++;
    else if (Math.abs(v - 1 / 0.7) > 1e-6) throw new Error(`kept value ${v}, expected 1/0.7`);
  }
  // 100,000 draws: the fraction's standard deviation is 0.0015.
  const fraction = zeros / values.length;
  if (Math.abs(fraction - 0.3) > 0.01) throw new Error(`dropped fraction ${fraction}`);
  // Each training call draws a new mask; the expected value is kept.
  const z = nums(drop.apply(x, { training: true }));
  assertStrictEquals(z.some((v, i) => (v === 0) !== (values[i] === 0)), true);
  assertClose(tf.reduceMean(y), 1, { atol: 0.02 });

  // noiseShape [200, 1]: whole rows are kept or dropped.
  const rows = new tf.layers.Dropout(0.5, { noiseShape: [200, 1] }).apply(x, { training: true });
  const sums = nums(tf.reduceSum(rows, 1));
  assertStrictEquals(sums.every((s) => s === 0 || Math.abs(s - 1000) < 1e-3), true);
  assertStrictEquals(sums.some((s) => s === 0) && sums.some((s) => s !== 0), true);

  // Rate 0 and the functional form.
  assertStrictEquals(new tf.layers.Dropout(0).apply(x, { training: true }), x);
  assertStrictEquals(tf.layers.dropout(x, { rate: 0.5 }), x);
  const f = nums(tf.layers.dropout(tf.ones([1000]), { rate: 0.25, training: true }));
  const kept = f.filter((v) => v !== 0);
  assertStrictEquals(kept.every((v) => Math.abs(v - 1 / 0.75) < 1e-6), true);
  if (Math.abs(kept.length / 1000 - 0.75) > 0.06) throw new Error(`kept ${kept.length}`);

  // Same global and op seed, same mask.
  tf.random.setSeed(5);
  const m1 = new tf.layers.Dropout(0.5, { seed: 1 }).apply(tf.ones([64]), { training: true });
  tf.random.setSeed(5);
  const m2 = new tf.layers.Dropout(0.5, { seed: 1 }).apply(tf.ones([64]), { training: true });
  assertEquals(nums(m1), nums(m2));
});

Deno.test("BatchNormalization: batch statistics in training, moving averages in inference", () => {
  tf.random.setSeed(3);
  const x = tf.randomNormal([256, 3], { mean: 4, stddev: 2 });
  const bn = new tf.layers.BatchNormalization({ momentum: 0.5 });
  // Inference with the initial averages (mean 0, variance 1): x / sqrt(1 + epsilon).
  assertClose(bn.apply(x), tf.divide(x, Math.sqrt(1 + 1e-3)), { rtol: 1e-5 });
  assertClose(bn.movingMean!.read(), [0, 0, 0]);
  const y = bn.apply(x, { training: true });
  const [mean, variance] = tf.nn.moments(x, [0]);
  // Batch statistics: every feature has mean 0 and variance v / (v + epsilon).
  assertClose(tf.reduceMean(y, 0), [0, 0, 0], { atol: 1e-5 });
  assertClose(
    tf.reduceVariance(y, 0),
    tf.divide(variance, tf.add(variance, 1e-3)),
    { rtol: 1e-4 },
  );
  // One update with momentum 0.5 (rank 2: not fused, biased variance).
  assertClose(bn.movingMean!.read(), tf.multiply(mean, 0.5), { rtol: 1e-5 });
  assertClose(bn.movingVariance!.read(), tf.add(tf.multiply(variance, 0.5), 0.5), { rtol: 1e-5 });
  // Inference uses the updated averages, and does not change them.
  const expected = tf.divide(
    tf.subtract(x, bn.movingMean!.read()),
    tf.sqrt(tf.add(bn.movingVariance!.read(), 1e-3)),
  );
  assertClose(bn.apply(x), expected, { rtol: 1e-4, atol: 1e-5 });
  assertClose(bn.movingMean!.read(), tf.multiply(mean, 0.5), { rtol: 1e-5 });
  // Many training steps on the same batch converge to its statistics.
  for (let i = 0; i < 30; i++) bn.apply(x, { training: true });
  assertClose(bn.movingMean!.read(), mean, { rtol: 1e-4 });
  assertClose(bn.movingVariance!.read(), variance, { rtol: 1e-4 });
  assertStrictEquals(bn.fused, false);
});

Deno.test("initializers: glorotUniform bounds, heNormal stddev, zeros, ones, constant", () => {
  tf.random.setSeed(17);
  const stats = (t: tf.Tensor) => {
    const v = nums(t);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
    return { mean, sd, max: v.reduce((a, b) => Math.max(a, Math.abs(b)), 0) };
  };
  // glorotUniform: U(-l, l), l = sqrt(6 / (fanIn + fanOut)); variance l^2 / 3.
  const g = stats(tf.initializers.glorotUniform([200, 400]));
  const limit = Math.sqrt(6 / 600);
  if (!(g.max <= limit && g.max > 0.99 * limit)) throw new Error(`glorot max ${g.max}`);
  if (Math.abs(g.sd - limit / Math.sqrt(3)) > 0.01 * limit) throw new Error(`glorot sd ${g.sd}`);
  if (Math.abs(g.mean) > 0.01 * limit) throw new Error(`glorot mean ${g.mean}`);
  // Convolution kernels: fans multiply by the receptive field (3 * 3).
  assertEquals(tf.initializers.computeFans([3, 3, 16, 32]), [144, 288]);
  const conv = stats(tf.initializers.glorotUniform([3, 3, 16, 32]));
  const convLimit = Math.sqrt(6 / (144 + 288));
  if (!(conv.max <= convLimit && conv.max > 0.99 * convLimit)) {
    throw new Error(`glorot conv max ${conv.max}`);
  }
  // heNormal: truncated normal with standard deviation sqrt(2 / fanIn), within 2 of its
  // untruncated sigma.
  const h = stats(tf.initializers.heNormal([500, 300]));
  const sd = Math.sqrt(2 / 500);
  if (Math.abs(h.sd - sd) > 0.02 * sd) throw new Error(`heNormal sd ${h.sd}, expected ${sd}`);
  if (!(h.max <= (2 * sd) / 0.87962566103423978 + 1e-6)) throw new Error(`heNormal max ${h.max}`);
  const gn = stats(tf.initializers.glorotNormal([300, 500]));
  const gsd = Math.sqrt(2 / 800);
  if (Math.abs(gn.sd - gsd) > 0.02 * gsd) throw new Error(`glorotNormal sd ${gn.sd}`);
  const tn = stats(tf.initializers.truncatedNormal({ stddev: 0.1 })([100000]));
  if (!(tn.max <= 0.2 && Math.abs(tn.sd - 0.1 * 0.87962566103423978) < 0.002)) {
    throw new Error(`truncatedNormal sd ${tn.sd} max ${tn.max}`);
  }
  const rn = stats(tf.initializers.randomNormal({ mean: 3, stddev: 0.5 })([100000]));
  if (Math.abs(rn.mean - 3) > 0.01 || Math.abs(rn.sd - 0.5) > 0.01) {
    throw new Error(`randomNormal mean ${rn.mean} sd ${rn.sd}`);
  }
  const ru = nums(tf.initializers.randomUniform({ minval: 2, maxval: 3 })([1000]));
  assertStrictEquals(ru.every((v) => v >= 2 && v < 3), true);

  assertClose(tf.initializers.zeros([2, 3]), [[0, 0, 0], [0, 0, 0]], { rtol: 0, atol: 0 });
  const ones = tf.initializers.ones([3], "float64");
  assertStrictEquals(ones.dtype, "float64");
  assertClose(ones, [1, 1, 1], { rtol: 0, atol: 0 });
  assertClose(tf.initializers.constant(0.25)([2, 2]), [[0.25, 0.25], [0.25, 0.25]], {
    rtol: 0,
    atol: 0,
  });
  // Through a layer.
  const dense = new tf.layers.Dense(3, {
    kernelInitializer: tf.initializers.ones,
    biasInitializer: tf.initializers.constant(0.5),
  });
  assertClose(dense.apply([[1, 2]]), [[3.5, 3.5, 3.5]]);
  // Seeded initializers repeat.
  tf.random.setSeed(9);
  const first = nums(tf.initializers.glorotUniform([4, 4]));
  tf.random.setSeed(9);
  assertEquals(nums(tf.initializers.glorotUniform([4, 4])), first);

  assertThrowsMatch(() => tf.initializers.zeros(3 as never), /^initializers\.zeros: shape/);
  assertThrowsMatch(() => tf.initializers.constant("1" as never), /^initializers\.constant:/);
  assertThrowsMatch(() => tf.initializers.randomNormal(null as never), /randomNormal: options/);
});

Deno.test("a custom Layer creates its weights with addWeight in build", () => {
  class Scale extends tf.layers.Layer {
    scale!: tf.Variable;
    count!: tf.Variable;
    override build(inputShape: readonly number[]) {
      this.scale = this.addWeight("scale", [inputShape[inputShape.length - 1]], {
        initializer: tf.initializers.constant(2),
      });
      this.count = this.addWeight("count", [], {
        initializer: tf.initializers.zeros,
        trainable: false,
      });
    }
    call(x: tf.Tensor, training: boolean) {
      if (training) this.count.assignAdd(1);
      return x.mul(this.scale);
    }
  }
  const layer = new Scale();
  assertStrictEquals(layer.name.startsWith("scale"), true);
  assertStrictEquals(layer.variables.length, 0);
  assertClose(layer.apply([[1, 2, 3]]), [[2, 4, 6]]);
  assertEquals(
    layer.variables.map((v) => v.name),
    [`${layer.scopeName}/scale`, `${layer.scopeName}/count`],
  );
  assertEquals(layer.trainableVariables, [layer.scale]);
  assertEquals(layer.nonTrainableVariables, [layer.count]);
  layer.apply([[1, 1, 1]], { training: true });
  layer.apply([[1, 1, 1]], { training: true });
  assertStrictEquals(Number(layer.count), 2);
  layer.scale.assign([1, 0, -1]);
  assertClose(layer.apply([[5, 5, 5]]), [[5, 0, -5]]);

  // A float64 custom weight; a bad initializer is reported with the layer's name.
  class Bad extends tf.layers.Layer {
    override build() {
      this.addWeight("w", [2], { initializer: tf.initializers.ones });
      this.addWeight("v", [2, 2], { initializer: () => tf.ones([3]) });
    }
    call(x: tf.Tensor) {
      return x;
    }
  }
  const bad = new Bad();
  assertThrowsMatch(
    () => bad.apply([1, 2]),
    new RegExp(`^${bad.name}\\.addWeight: the initializer of v gave shape \\[3\\], expected`),
  );
  assertStrictEquals(bad.built, false);
  assertStrictEquals(bad.variables.length, 0);
  class NotAFunction extends tf.layers.Layer {
    override build() {
      this.addWeight("w", [2], { initializer: 3 as never });
    }
    call(x: tf.Tensor) {
      return x;
    }
  }
  const naf = new NotAFunction();
  assertThrowsMatch(() => naf.apply([1]), /^not_a_function(_\d+)?\.addWeight: initializer of w/);
  // Errors thrown by a custom call are prefixed with the layer's name, keeping their kind.
  class Boom extends tf.layers.Layer {
    call(): tf.Tensor {
      throw new RangeError("boom");
    }
  }
  const boom = new Boom();
  try {
    boom.apply([1]);
    throw new Error("Boom.apply did not throw");
  } catch (error) {
    assertStrictEquals(error instanceof RangeError, true);
    assertStrictEquals((error as Error).message, `${boom.name}: boom`);
    assertStrictEquals(((error as Error).cause as Error).message, "boom");
  }
  class BadName extends tf.layers.Layer {
    override build() {
      this.addWeight("a/b", [2]);
    }
    call(x: tf.Tensor) {
      return x;
    }
  }
  assertThrowsMatch(() => new BadName().apply([1]), /^bad_name(_\d+)?\.addWeight: name must/);
});

Deno.test("gradients flow through layers to their trainable variables", () => {
  tf.random.setSeed(21);
  // Dense: d sum(x W + b) / dW[i][j] = sum over the batch of x[., i]; d/db = batch size.
  const x = tf.constant([[1, 2, 3], [4, 5, 6]]);
  const dense = new tf.layers.Dense(2);
  dense.apply(x);
  const tape = new tf.GradientTape();
  const y = tape.record(() => tf.reduceSum(dense.apply(x)));
  const [dk, db] = tape.gradient(y, dense.trainableVariables);
  assertClose(dk!, [[5, 5], [7, 7], [9, 9]]);
  assertClose(db!, [2, 2]);

  const check = (layer: tf.layers.AnyLayer, input: tf.Tensor, label: string) => {
    layer.apply(input, { training: true });
    const t = new tf.GradientTape();
    const loss = t.record(() => tf.reduceSum(tf.square(layer.apply(input, { training: true }))));
    const grads = t.gradient(loss, layer.trainableVariables);
    assertStrictEquals(grads.length > 0, true, label);
    grads.forEach((g, i) => {
      if (g === null) throw new Error(`${label}: no gradient for ${layer.trainableVariables[i]}`);
      assertEquals([...g.shape], [...layer.trainableVariables[i].shape], label);
      assertStrictEquals(
        nums(g).some((v) => v !== 0),
        true,
        `${label}: zero gradient for ${layer.trainableVariables[i].name}`,
      );
    });
  };
  check(new tf.layers.Conv2D(3, 2, { padding: "same" }), tf.randomNormal([2, 4, 4, 2]), "conv");
  check(
    new tf.layers.Conv2D(3, 2, { dataFormat: "channels_first", activation: tf.nn.tanh }),
    tf.randomNormal([2, 2, 4, 4]),
    "conv channels_first",
  );
  check(
    new tf.layers.BatchNormalization({ gammaInitializer: tf.initializers.constant(1.5) }),
    tf.randomNormal([8, 3]),
    "batch normalization",
  );
  check(new tf.layers.Embedding(6, 3), tf.constant([[0, 5], [2, 2]], "int32"), "embedding");

  // Through a stack, with implicit gradients of the layers' variables.
  const hidden = new tf.layers.Dense(4, { activation: tf.nn.relu });
  const out = new tf.layers.Dense(1);
  const input = tf.randomNormal([5, 3]);
  const f = () => tf.reduceMean(tf.square(out.apply(tf.layers.flatten(hidden.apply(input)))));
  f();
  const pairs = tf.implicitGradients(f)();
  assertEquals(pairs.map(([, v]) => v), [...hidden.trainableVariables, ...out.trainableVariables]);
  for (const [g, v] of pairs) assertEquals([...g!.shape], [...v.shape]);

  // Moving averages are not trainable and get no gradient.
  const bn = new tf.layers.BatchNormalization();
  const bx = tf.randomNormal([4, 2]);
  bn.apply(bx, { training: true });
  const bt = new tf.GradientTape();
  const bl = bt.record(() => tf.reduceSum(bn.apply(bx, { training: true })));
  assertStrictEquals(bt.watchedVariables().includes(bn.movingMean!), false);
  assertStrictEquals(bt.gradient(bl, bn.movingMean!), null);
});

Deno.test("wrong inputs raise errors that name the layer", () => {
  const dense = new tf.layers.Dense(3);
  const n = dense.name;
  assertThrowsMatch(() => dense.apply([1, 2]), new RegExp(`^${n}: expected an input of rank >= 2`));
  assertStrictEquals(dense.built, false);
  dense.apply([[1, 2]]);
  assertThrowsMatch(
    () => dense.apply([[1, 2, 3]]),
    new RegExp(`^${n}: expected inputs with last dimension 2, got shape \\[1, ?3\\]`),
  );
  assertThrowsMatch(() => dense.apply([1, 2]), new RegExp(`^${n}: expected inputs with last`));
  assertThrowsMatch(
    () => dense.apply([[1, 2]], { training: "yes" } as never),
    /^dense\w*: training/,
  );
  assertThrowsMatch(() => dense.apply([[1, 2]], null as never), /^dense\w*: apply options/);
  assertThrowsMatch(() => dense.apply("x" as never), new RegExp(`^${n}: `));

  const conv = new tf.layers.Conv2D(2, 3);
  assertThrowsMatch(() => conv.apply(tf.ones([4, 4, 1])), /^conv2d\w*: expected a rank-4 input/);
  conv.apply(tf.ones([1, 4, 4, 2]));
  assertThrowsMatch(
    () => conv.apply(tf.ones([1, 4, 4, 3])),
    /^conv2d\w*: expected a rank-4 NHWC input with 2 channels/,
  );
  const first = new tf.layers.Conv2D(2, 3, { dataFormat: "channels_first" });
  first.apply(tf.ones([1, 2, 4, 4]));
  assertThrowsMatch(
    () => first.apply(tf.ones([1, 4, 4, 2])),
    /^conv2d\w*: expected a rank-4 NCHW input with 2 channels/,
  );
  // Errors of the ops a layer runs are prefixed with the layer's name.
  const named = (layer: tf.layers.AnyLayer, x: tf.Tensor, pattern: string, training = false) =>
    assertThrowsMatch(
      () => layer.apply(x, { training }),
      new RegExp(`^${layer.name}: ${pattern}`),
    );
  named(new tf.layers.Conv2D(2, 5), tf.ones([1, 3, 3, 1]), "conv2d: ");
  named(
    new tf.layers.Conv2D(1, 3, { strides: 2, dilationRate: 2 }),
    tf.ones([1, 9, 9, 1]),
    "conv2d: strides > 1 together with dilations > 1 are not supported",
  );
  named(new tf.layers.Conv2D(1, 1), tf.ones([1, 2, 2, 1], "int32"), "conv2d: x must be float");
  named(new tf.layers.MaxPooling2D(4), tf.ones([1, 3, 3, 1]), "maxPool: the window height 4");
  named(new tf.layers.Dropout(0.5), tf.ones([3], "int32"), "dropout: x must be a floating", true);
  named(
    new tf.layers.Dropout(0.5, { noiseShape: [5] }),
    tf.ones([3, 4]),
    "dropout: shapes \\[5\\] and \\[3,4\\]",
    true,
  );
  assertThrowsMatch(
    () => new tf.layers.MaxPooling2D(2).apply(tf.ones([4, 4, 1])),
    /^max_pooling2d\w*: expected a rank-4 input/,
  );
  assertThrowsMatch(
    () => tf.layers.averagePooling2d(tf.ones([4, 4]), 2, 2),
    /^averagePooling2d: expected a rank-4 input/,
  );
  assertThrowsMatch(() => new tf.layers.Flatten().apply(3), /^flatten\w*: expected an input/);

  const bn = new tf.layers.BatchNormalization();
  bn.apply(tf.ones([2, 3]));
  assertThrowsMatch(
    () => bn.apply(tf.ones([2, 4])),
    /^batch_normalization\w*: expected a rank-2 input with sizes \[3\]/,
  );
  assertThrowsMatch(() => bn.apply(tf.ones([2, 3, 1])), /^batch_normalization\w*: expected/);
  assertThrowsMatch(
    () => new tf.layers.BatchNormalization({ axis: 2 }).apply(tf.ones([2, 3])),
    /^batch_normalization\w*: /,
  );
  assertThrowsMatch(
    () => new tf.layers.BatchNormalization({ fused: true }).apply(tf.ones([2, 3])),
    /^batch_normalization\w*: fused is only possible/,
  );

  const embed = new tf.layers.Embedding(4, 2);
  assertThrowsMatch(
    () => embed.apply([0, 4]),
    /^embedding\w*: ids must be in \[0, 4\) \(gather: indices\[1\] = 4 is not in/,
  );
  assertThrowsMatch(() => embed.apply([[-1]]), /^embedding\w*: ids must be in \[0, 4\)/);
  assertClose(
    embed.apply([3]),
    tf.reshape(tf.slice(embed.embeddings!.read(), [3, 0], [1, 2]), [1, 2]),
  );
});

Deno.test("bad constructor arguments raise errors that name the layer", () => {
  const cases: [() => unknown, RegExp][] = [
    [() => new tf.layers.Dense(0), /^dense\w*: units must be a positive integer, got 0/],
    [() => new tf.layers.Dense(2.5), /^dense\w*: units must be a positive integer/],
    [() => new tf.layers.Dense("3" as never), /^dense\w*: units must be/],
    [() => new tf.layers.Dense(3, { activation: "relu" as never }), /^dense\w*: activation must/],
    [() => new tf.layers.Dense(3, { useBias: "no" as never }), /^dense\w*: useBias must be a bool/],
    [() => new tf.layers.Conv2D(3, 1, { useBias: 0 as never }), /^conv2d\w*: useBias must be/],
    [() => new tf.layers.Dense(3, { name: "a/b" }), /^dense: name must be a non-empty string/],
    [() => new tf.layers.Dense(3, { name: "" }), /^dense: name must be/],
    [() => new tf.layers.Dense(3, null as never), /^dense: options must be an object/],
    [() => new tf.layers.Dense(3, { trainable: 1 as never }), /^dense: trainable must be/],
    [() => new tf.layers.Dense(3, { dtype: "int32" }), /^dense: dtype must be float32 or float64/],
    [() => new tf.layers.Conv2D(0, 3), /^conv2d\w*: filters must be a positive integer/],
    [() => new tf.layers.Conv2D(2, 0), /^conv2d\w*: kernelSize must be a positive integer/],
    [() => new tf.layers.Conv2D(2, [3]), /^conv2d\w*: kernelSize must be/],
    [() => new tf.layers.Conv2D(2, 3, { strides: [1, 0] }), /^conv2d\w*: strides must be/],
    [() => new tf.layers.Conv2D(2, 3, { padding: "full" as never }), /^conv2d\w*: padding must/],
    [
      () => new tf.layers.Conv2D(2, 3, { dataFormat: "NHWC" as never }),
      /^conv2d\w*: dataFormat must be "channels_last" or "channels_first"/,
    ],
    [() => new tf.layers.Conv2D(2, 3, { dilationRate: -1 }), /^conv2d\w*: dilationRate must/],
    [() => new tf.layers.MaxPooling2D(0), /^max_pooling2d\w*: poolSize must be/],
    [() => new tf.layers.AveragePooling2D(2, [2, 2, 2]), /^average_pooling2d\w*: strides must/],
    [() => tf.layers.maxPooling2d(tf.ones([1, 2, 2, 1]), 2, 0), /^maxPooling2d: strides must/],
    [() => new tf.layers.Dropout(1), /^dropout\w*: rate must be a number in \[0, 1\), got 1/],
    [() => new tf.layers.Dropout(-0.1), /^dropout\w*: rate must be/],
    [() => tf.layers.dropout([1], { rate: 2 }), /^dropout: rate must be/],
    [() => new tf.layers.Flatten({ dataFormat: "x" as never }), /^flatten\w*: dataFormat must/],
    [
      () => new tf.layers.BatchNormalization({ epsilon: 0 }),
      /^batch_normalization\w*: epsilon must be > 0/,
    ],
    [
      () => new tf.layers.BatchNormalization({ momentum: NaN }),
      /^batch_normalization\w*: momentum must be a finite number/,
    ],
    [
      () => new tf.layers.BatchNormalization({ axis: [] }),
      /^batch_normalization\w*: axis must be an integer or a non-empty list/,
    ],
    [
      () => new tf.layers.BatchNormalization({ axis: 1.5 }),
      /^batch_normalization\w*: axis must be/,
    ],
    [
      () => new tf.layers.BatchNormalization({ center: 1 as never }),
      /^batch_normalization\w*: center must be a boolean, got 1/,
    ],
    [
      () => new tf.layers.BatchNormalization({ scale: "yes" as never }),
      /^batch_normalization\w*: scale must be a boolean/,
    ],
    [
      () => new tf.layers.BatchNormalization({ fused: "yes" as never }),
      /^batch_normalization\w*: fused must be a boolean/,
    ],
    [() => new tf.layers.Embedding(0, 2), /^embedding\w*: inputDim must be a positive integer/],
    [() => new tf.layers.Embedding(3, 1.5), /^embedding\w*: outputDim must be/],
  ];
  for (const [fn, pattern] of cases) assertThrowsMatch(fn, pattern);
  assertThrowsMatch(() => tf.layers.withNameScope("a/b", () => 0), /^withNameScope: name must/);
  assertThrowsMatch(
    () => tf.layers.withNameScope("a", 3 as never),
    /^withNameScope: expected a function/,
  );
});
