/**
 * Layers of the convolution family (GlobalAveragePooling2D, UpSampling2D) against Keras 3
 * in TensorFlow 2.21 (tests/fixtures/make_conv_family_fixtures.py wrote
 * tests/fixtures/conv_family.json), their gradients against Keras's and finite differences,
 * and their argument errors.
 */
import * as tf from "../mod.ts";
import type { UpSamplingInterpolation } from "../src/layers/reshaping.ts";
import fixtures from "./fixtures/conv_family.json" with { type: "json" };
import { assertClose, assertStrictEquals, assertThrowsMatch } from "./helpers.ts";
import { checkGradients, rand } from "./grad_helpers.ts";

type Encoded = { shape: number[]; values: number[] };
const f32 = (e: Encoded) => tf.constant(e.values, "float32", { shape: e.shape });
const format = (first: boolean) => first ? "channels_first" as const : "channels_last" as const;

Deno.test("GlobalAveragePooling2D matches Keras", () => {
  assertStrictEquals(fixtures.layers.globalAveragePooling2d.length, 5);
  for (const c of fixtures.layers.globalAveragePooling2d) {
    const layer = new tf.layers.GlobalAveragePooling2D({
      dataFormat: format(c.channelsFirst),
      keepdims: c.keepdims,
    });
    assertClose(layer.apply(f32(c.x)), f32(c.y), { message: JSON.stringify(c.x.shape) });
  }
});

Deno.test("UpSampling2D matches Keras (nearest)", () => {
  assertStrictEquals(fixtures.layers.upSampling2d.length, 5);
  for (const c of fixtures.layers.upSampling2d) {
    const layer = new tf.layers.UpSampling2D(c.size, { dataFormat: format(c.channelsFirst) });
    assertClose(layer.apply(f32(c.x)), f32(c.y), { message: JSON.stringify(c.size) });
  }
});

Deno.test("UpSampling2D's resizing interpolations match Keras 3, values and gradients", () => {
  const all = fixtures.layers.upSampling2dResize;
  assertStrictEquals(all.length, 9);
  for (const c of all) {
    const message = `${c.interpolation} ${JSON.stringify(c.size)} ${format(c.channelsFirst)}`;
    const layer = new tf.layers.UpSampling2D(c.size, {
      dataFormat: format(c.channelsFirst),
      interpolation: c.interpolation as UpSamplingInterpolation,
    });
    const x = f32(c.x);
    const tape = new tf.GradientTape();
    tape.watch(x);
    const [y, loss] = tape.record(() => {
      const y = layer.apply(x);
      return [y, tf.reduceSum(tf.multiply(y, f32(c.w)))];
    });
    assertClose(y, f32(c.y), { rtol: 1e-5, atol: 1e-6, message });
    const dx = tape.gradient(loss, x);
    // TensorFlow has no gradient for ResizeArea: those cases are checked by differences below.
    if (c.dx) assertClose(dx!, f32(c.dx), { rtol: 1e-5, atol: 1e-5, message });
  }
  // Every resizing method in both layouts against float64 finite differences (the resize runs
  // in float32, as TensorFlow's: a wider step and a looser tolerance).
  for (const interpolation of ["bilinear", "bicubic", "lanczos3", "lanczos5", "area"] as const) {
    for (const first of [false, true]) {
      const up = new tf.layers.UpSampling2D([2, 3], { dataFormat: format(first), interpolation });
      checkGradients((x) => up.apply(x), [rand(first ? [1, 2, 3, 2] : [1, 3, 2, 2], 4)], {
        h: 1e-2,
        rtol: 1e-3,
        atol: 1e-4,
      });
    }
  }
});

Deno.test("GlobalAveragePooling2D and UpSampling2D gradients match finite differences", () => {
  const gap = new tf.layers.GlobalAveragePooling2D({ dataFormat: "channels_first" });
  checkGradients((x) => gap.apply(x), [rand([2, 3, 4, 2], 1)]);
  const up = new tf.layers.UpSampling2D([2, 3]);
  checkGradients((x) => up.apply(x), [rand([2, 3, 2, 2], 2)]);
  const upFirst = new tf.layers.UpSampling2D([3, 2], { dataFormat: "channels_first" });
  checkGradients((x) => upFirst.apply(x), [rand([1, 2, 2, 3], 3)]);
});

Deno.test("GlobalAveragePooling2D and UpSampling2D reject bad arguments", () => {
  assertThrowsMatch(
    () => new tf.layers.GlobalAveragePooling2D().apply(tf.ones([2, 3, 4])),
    /^global_average_pooling2d\w*: expected a rank-4 input/,
  );
  assertThrowsMatch(
    () => new tf.layers.GlobalAveragePooling2D({ keepdims: 1 as never }),
    /^global_average_pooling2d\w*: keepdims must be a boolean/,
  );
  assertThrowsMatch(
    () => new tf.layers.GlobalAveragePooling2D({ dataFormat: "NHWC" as never }),
    /^global_average_pooling2d\w*: dataFormat must be/,
  );
  assertThrowsMatch(() => new tf.layers.UpSampling2D(0), /^up_sampling2d\w*: size must be/);
  assertThrowsMatch(() => new tf.layers.UpSampling2D([2]), /^up_sampling2d\w*: size must be/);
  assertThrowsMatch(
    () => new tf.layers.UpSampling2D(2, { interpolation: "gaussian" as never }),
    /^up_sampling2d\w*: interpolation must be one of nearest, bilinear/,
  );
  // Keras lowercases the interpolation; so does the layer.
  const upper = new tf.layers.UpSampling2D(2, { interpolation: "BiLinear" as "bilinear" });
  assertStrictEquals(upper.interpolation, "bilinear");
  assertThrowsMatch(
    () => new tf.layers.UpSampling2D(2, { interpolation: 3 as never }),
    /^up_sampling2d\w*: interpolation must be one of .*, got 3/,
  );
  assertThrowsMatch(
    () => new tf.layers.UpSampling2D(2).apply(tf.ones([2, 3])),
    /^up_sampling2d\w*: expected a rank-4 input/,
  );
});
