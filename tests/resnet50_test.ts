/**
 * tf.applications.ResNet50 without TensorFlow: Keras's variable count and names, output
 * shapes in both data formats, channels_first equal to channels_last on transposed images
 * with the same weights, the blocks as Networks, and clear errors on bad input. The checks
 * against TensorFlow itself are in resnet50_interop_test.ts.
 */
import * as tf from "../mod.ts";
import { assertClose, assertEquals, assertThrowsMatch } from "./helpers.ts";

const images = (n: number, size = 32) => tf.randomUniform([n, size, size, 3], { seed: 5 });

Deno.test("ResNet50 has Keras's 320 variables (214 trainable) under Keras's layer names", () => {
  const model = new tf.applications.ResNet50({ classes: 10, name: "rn_names" });
  assertEquals(model.apply(images(2)).shape, [2, 10]);
  assertEquals(model.variables.length, 320);
  assertEquals(model.trainableVariables.length, 214);
  assertEquals(model.nonTrainableVariables.length, 106);
  const paths = tf.applications.kerasVariables(model);
  assertEquals(Object.keys(paths).length, 320);
  assertEquals([...paths["conv1_conv/kernel"].shape], [7, 7, 3, 64]);
  assertEquals([...paths["conv2_block1_0_conv/kernel"].shape], [1, 1, 64, 256]);
  assertEquals([...paths["conv3_block1_1_conv/kernel"].shape], [1, 1, 256, 128]);
  assertEquals([...paths["conv4_block6_2_conv/kernel"].shape], [3, 3, 256, 256]);
  assertEquals([...paths["conv5_block3_3_bn/moving_variance"].shape], [2048]);
  assertEquals([...paths["predictions/kernel"].shape], [2048, 10]);
  assertEquals(paths["conv1_bn/moving_mean"].name, "rn_names/conv1_bn/moving_mean");
  assertEquals(paths["conv1_bn/moving_mean"].trainable, false);
  // 16 blocks in stages of 3, 4, 6, 3; projection blocks have 24 variables, others 18.
  assertEquals(model.blocks.map((b) => b.name).filter((n) => n.endsWith("block1")), [
    "conv2_block1",
    "conv3_block1",
    "conv4_block1",
    "conv5_block1",
  ]);
  assertEquals(model.blocks.length, 16);
  assertEquals(model.blocks.map((b) => b.variables.length).slice(0, 4), [24, 18, 18, 24]);
  assertEquals(model.getLayer("conv3_block1_1_conv").scopeName, "rn_names/conv3_block1_1_conv");
});

Deno.test("ResNet50's output shapes: top, pooling avg/max, feature map, both data formats", () => {
  const x = images(1, 64);
  assertEquals(new tf.applications.ResNet50({ classes: 7 }).apply(x).shape, [1, 7]);
  assertEquals(new tf.applications.ResNet50().apply(images(1)).shape, [1, 1000]);
  const map = new tf.applications.ResNet50({ includeTop: false });
  assertEquals(map.apply(x).shape, [1, 2, 2, 2048]);
  assertEquals(map.predictions, null);
  for (const pooling of ["avg", "max"] as const) {
    const model = new tf.applications.ResNet50({ includeTop: false, pooling });
    assertEquals(model.apply(x).shape, [1, 2048]);
  }
  const first = new tf.applications.ResNet50({ includeTop: false, dataFormat: "channels_first" });
  assertEquals(first.apply(tf.transpose(x, [0, 3, 1, 2])).shape, [1, 2048, 2, 2]);
});

Deno.test("ResNet50: channels_first gives channels_last's logits on transposed images", () => {
  const last = new tf.applications.ResNet50({ classes: 5 });
  const first = new tf.applications.ResNet50({ classes: 5, dataFormat: "channels_first" });
  const x = images(2, 40);
  const xt = tf.transpose(x, [0, 3, 1, 2]);
  last.apply(x);
  first.apply(xt);
  const lastVars = tf.applications.kerasVariables(last);
  const firstVars = tf.applications.kerasVariables(first);
  for (const [path, v] of Object.entries(lastVars)) firstVars[path].assign(v.read());
  // Inference and then training mode (batch statistics), twice: the moving averages too.
  for (const training of [false, true, true, false]) {
    const want = last.apply(x, { training });
    assertClose(first.apply(xt, { training }), want, { rtol: 1e-4, atol: 1e-4 });
  }
  assertClose(
    firstVars["conv4_block2_1_bn/moving_mean"].read(),
    lastVars["conv4_block2_1_bn/moving_mean"].read(),
    {
      rtol: 1e-5,
      atol: 1e-6,
    },
  );
});

Deno.test("ResNet50: training mode moves the moving statistics; inference does not", () => {
  const model = new tf.applications.ResNet50({ classes: 3 });
  const x = images(2);
  model.apply(x);
  const mean = tf.applications.kerasVariables(model)["conv2_block2_2_bn/moving_mean"];
  const before = Array.from(mean.read().dataSync() as Float32Array);
  model.apply(x);
  assertEquals(Array.from(mean.read().dataSync() as Float32Array), before);
  model.apply(x, { training: true });
  if (Array.from(mean.read().dataSync() as Float32Array).every((v, i) => v === before[i])) {
    throw new Error("a training-mode call left conv2_block2_2_bn/moving_mean unchanged");
  }
});

Deno.test("ResNet50: gradients reach every trainable variable", () => {
  // A convolution's bias right before BatchNormalization in training mode has a zero
  // gradient in exact arithmetic (the batch mean removes it), as in Keras: only its shape
  // is checked; every other gradient must be non-zero.
  const model = new tf.applications.ResNet50({ classes: 4 });
  const x = images(2);
  const labels = tf.constant([1, 3], "int32");
  model.apply(x);
  const pairs = tf.implicitGradients(() =>
    tf.losses.sparseSoftmaxCrossEntropy(labels, model.apply(x, { training: true }))
  )();
  assertEquals(pairs.length, 214);
  for (const [g, v] of pairs) assertEquals(g.shape, v.shape, v.name);
  const zero = pairs.filter(([g, v]) =>
    !/_conv\/bias$/.test(v.name) && !(Number(tf.reduceMax(tf.abs(g))) > 0)
  ).map(([, v]) => v.name);
  assertEquals(zero, []);
});

Deno.test("ResNet50: bad input and options are clear errors naming the model", () => {
  const model = new tf.applications.ResNet50({ classes: 2 });
  assertThrowsMatch(
    () => model.apply(tf.zeros([32, 32, 3])),
    /resnet50: expected channels_last images \[batch, height, width, 3\], got shape \[32,32,3\]/,
  );
  assertThrowsMatch(
    () => model.apply(tf.zeros([1, 32, 32, 1])),
    /resnet50: expected channels_last images .* got shape \[1,32,32,1\]/,
  );
  assertThrowsMatch(
    () => model.apply(tf.zeros([1, 16, 32, 3])),
    /resnet50: images must be at least 32x32 \(Keras's minimum\), got 16x32/,
  );
  const first = new tf.applications.ResNet50({ dataFormat: "channels_first", name: "rn_first" });
  assertThrowsMatch(
    () => first.apply(tf.zeros([1, 32, 32, 3])),
    /rn_first: expected channels_first images \[batch, 3, height, width\]/,
  );
  assertThrowsMatch(
    () => new tf.applications.ResNet50({ classes: 0 }),
    /classes must be a positive integer/,
  );
  assertThrowsMatch(
    // deno-lint-ignore no-explicit-any
    () => new tf.applications.ResNet50({ dataFormat: "NHWC" as any }),
    /dataFormat must be "channels_last" or "channels_first", got "NHWC"/,
  );
  assertThrowsMatch(
    () => tf.applications.kerasVariables(new tf.applications.ResNet50()),
    /kerasVariables: resnet50 has no variables yet: apply it to a batch first/,
  );
});

Deno.test("ResNet50: inference with conv + batch norm folded equals the layers run apart", () => {
  for (const dataFormat of ["channels_last", "channels_first"] as const) {
    tf.random.setSeed(11);
    const model = new tf.applications.ResNet50({ classes: 10, dataFormat });
    const x0 = images(2, 32);
    const x = dataFormat === "channels_first" ? tf.transpose(x0, [0, 3, 1, 2]) : x0;
    model.apply(x, { training: true }); // builds, and moves the moving statistics off 0 and 1
    // Folding is skipped while a tape records: that is the unfolded reference.
    const unfolded = () => {
      const tape = new tf.GradientTape();
      return tape.record(() => model.apply(x));
    };
    const scale = (t: tf.Tensor) => tf.reduceMax(tf.abs(t)).numpy() as number;
    const want = unfolded();
    assertClose(model.apply(x), want, { rtol: 0, atol: 1e-4 * scale(want) });
    // A training step changes the variables: the next inference folds them again.
    const optimizer = new tf.train.GradientDescentOptimizer(0.1);
    optimizer.minimize(() =>
      tf.losses.sparseSoftmaxCrossEntropy(
        tf.constant([1, 2], "int32"),
        model.apply(x, { training: true }),
      )
    );
    const after = unfolded();
    assertClose(model.apply(x), after, { rtol: 0, atol: 1e-4 * scale(after) });
  }
});
