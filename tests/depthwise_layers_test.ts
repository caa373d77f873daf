/**
 * DepthwiseConv2D and SeparableConv2D against Keras 3 in TensorFlow 2.21 with the same
 * float64 weights (tests/fixtures/make_depthwise_layers_fixtures.py wrote
 * tests/fixtures/depthwise_layers.json), their gradients with respect to the input and
 * every variable against finite differences, their variables, and their argument errors.
 */
import * as tf from "../mod.ts";
import type { LayerDataFormat, LayerPadding } from "../src/layers/utils.ts";
import fixtures from "./fixtures/depthwise_layers.json" with { type: "json" };
import {
  assertClose,
  assertEquals,
  assertStrictEquals,
  assertThrowsMatch,
  randomValues,
} from "./helpers.ts";
import { checkGradients, checkSecondDerivative, rand, randAway } from "./grad_helpers.ts";

type Encoded = { shape: number[]; values: number[] };
type Case = (typeof fixtures.cases)[number];
type DepthwiseLayer = tf.layers.DepthwiseConv2D | tf.layers.SeparableConv2D;

const load = (e: Encoded) => tf.constant(e.values, "float64", { shape: e.shape });
const activations: Record<string, tf.layers.Activation> = { relu: tf.nn.relu, tanh: tf.tanh };

function layerOf(c: Case): DepthwiseLayer {
  const options = {
    strides: c.strides,
    padding: c.padding as LayerPadding,
    depthMultiplier: c.depthMultiplier,
    dataFormat: c.dataFormat as LayerDataFormat,
    dilationRate: c.dilationRate,
    activation: c.activation === null ? null : activations[c.activation],
    useBias: c.useBias,
    dtype: "float64" as const,
  };
  return c.layer === "DepthwiseConv2D"
    ? new tf.layers.DepthwiseConv2D(c.kernelSize, options)
    : new tf.layers.SeparableConv2D(c.filters!, c.kernelSize, options);
}

Deno.test("DepthwiseConv2D and SeparableConv2D match Keras's with the same weights", () => {
  const counts = { DepthwiseConv2D: 0, SeparableConv2D: 0 };
  for (const c of fixtures.cases) {
    const layer = layerOf(c);
    const x = load(c.x);
    layer.apply(x);
    const w = c.weights as Record<string, Encoded>;
    layer.depthwiseKernel!.assign(load(w.depthwiseKernel));
    if (layer instanceof tf.layers.SeparableConv2D) {
      layer.pointwiseKernel!.assign(load(w.pointwiseKernel));
    }
    if (c.useBias) layer.bias!.assign(load(w.bias));
    assertClose(layer.apply(x), load(c.y), { rtol: 1e-10, atol: 1e-12, message: c.name });
    counts[c.layer as keyof typeof counts]++;
  }
  assertEquals(counts, { DepthwiseConv2D: 9, SeparableConv2D: 7 });
});

/**
 * Checks the tape's gradients of sum(w * layer(x)) with respect to every trainable
 * variable against central differences taken by assigning each element moved by ±h.
 */
function checkVariableGradients(layer: DepthwiseLayer, x: tf.Tensor, h = 1e-6): void {
  const y0 = layer.apply(x);
  const w = tf.constant(randomValues(y0.size, 11), "float64", { shape: [...y0.shape] });
  const value = () => Number(tf.reduceSum(tf.multiply(layer.apply(x), w)).dataSync()[0]);
  const variables = layer.trainableVariables;
  const tape = new tf.GradientTape();
  const loss = tape.record(() => tf.reduceSum(tf.multiply(layer.apply(x), w)));
  const grads = tape.gradient(loss, variables);
  variables.forEach((v, k) => {
    const base = Array.from(v.read().dataSync() as Float64Array);
    const at = (i: number, d: number) => {
      v.assign(tf.constant(base.with(i, base[i] + d), "float64", { shape: [...v.shape] }));
      return value();
    };
    const numeric = base.map((_, i) => (at(i, h) - at(i, -h)) / (2 * h));
    v.assign(tf.constant(base, "float64", { shape: [...v.shape] }));
    const g = grads[k];
    if (g === null) throw new Error(`no gradient for ${v.name}`);
    assertClose(g, tf.constant(numeric, "float64", { shape: [...v.shape] }), {
      rtol: 1e-5,
      atol: 1e-7,
      message: `${layer.name}: gradient of ${v.name}`,
    });
  });
}

Deno.test("DepthwiseConv2D gradients match finite differences", () => {
  const configs = [
    { depthMultiplier: 2, strides: 2, padding: "same" as const },
    { dilationRate: [2, 1], activation: tf.tanh, dataFormat: "channels_first" as const },
    { depthMultiplier: 3, strides: [1, 2], useBias: false },
  ];
  configs.forEach((options, i) => {
    const layer = new tf.layers.DepthwiseConv2D([3, 2], { ...options, dtype: "float64" });
    const x = rand(options.dataFormat ? [2, 2, 5, 4] : [2, 5, 4, 2], 20 + i);
    checkGradients((t) => layer.apply(t), [x]);
    checkVariableGradients(layer, x);
  });
});

Deno.test("SeparableConv2D gradients match finite differences", () => {
  const configs = [
    { depthMultiplier: 2, strides: 2, padding: "same" as const, activation: tf.tanh },
    { dilationRate: 2, dataFormat: "channels_first" as const, useBias: false },
  ];
  configs.forEach((options, i) => {
    const layer = new tf.layers.SeparableConv2D(3, 3, { ...options, dtype: "float64" });
    const x = rand(options.dataFormat ? [1, 2, 6, 5] : [2, 5, 4, 2], 30 + i);
    checkGradients((t) => layer.apply(t), [x]);
    checkVariableGradients(layer, x);
  });
  const relu = new tf.layers.SeparableConv2D(2, 2, { activation: tf.nn.relu, dtype: "float64" });
  checkGradients((t) => relu.apply(t), [randAway([1, 3, 3, 2], 40)]);
  const tanh = new tf.layers.SeparableConv2D(2, 2, { activation: tf.tanh, dtype: "float64" });
  checkSecondDerivative((t) => tanh.apply(t), rand([1, 3, 3, 2], 41));
});

Deno.test("DepthwiseConv2D and SeparableConv2D create Keras's variables", () => {
  const dw = new tf.layers.DepthwiseConv2D(3, { depthMultiplier: 2, padding: "same" });
  assertEquals([...dw.apply(tf.zeros([2, 5, 6, 3])).shape], [2, 5, 6, 6]);
  assertEquals(
    dw.variables.map((v) => [v.name, [...v.shape], v.dtype]),
    [
      [`${dw.name}/depthwise_kernel`, [3, 3, 3, 2], "float32"],
      [`${dw.name}/bias`, [6], "float32"],
    ],
  );
  assertStrictEquals(dw.name.startsWith("depthwise_conv2d"), true);
  const sep = new tf.layers.SeparableConv2D(4, [3, 2], {
    depthMultiplier: 3,
    dataFormat: "channels_first",
    dtype: "float64",
  });
  assertEquals([...sep.apply(tf.zeros([1, 2, 5, 6], "float64")).shape], [1, 4, 3, 5]);
  assertEquals(
    sep.variables.map((v) => [v.name, [...v.shape], v.dtype]),
    [
      [`${sep.name}/depthwise_kernel`, [3, 2, 2, 3], "float64"],
      [`${sep.name}/pointwise_kernel`, [1, 1, 6, 4], "float64"],
      [`${sep.name}/bias`, [4], "float64"],
    ],
  );
  assertStrictEquals(sep.name.startsWith("separable_conv2d"), true);
  const plain = new tf.layers.SeparableConv2D(2, 1, {
    useBias: false,
    depthwiseInitializer: tf.initializers.ones,
    pointwiseInitializer: tf.initializers.constant(0.5),
  });
  assertClose(plain.apply(tf.ones([1, 2, 2, 3])), tf.fill([1, 2, 2, 2], 1.5));
  assertEquals(plain.variables.length, 2);
  const biased = new tf.layers.DepthwiseConv2D(1, {
    depthwiseInitializer: tf.initializers.ones,
    biasInitializer: tf.initializers.constant(2),
  });
  assertClose(biased.apply([[[[1, -1]]]]), [[[[3, 1]]]]);
});

Deno.test("DepthwiseConv2D and SeparableConv2D reject bad arguments naming the layer", () => {
  const dw = /^depthwise_conv2d\w*: /.source;
  const sep = /^separable_conv2d\w*: /.source;
  const bad = (fn: () => unknown, prefix: string, rest: RegExp) =>
    assertThrowsMatch(fn, new RegExp(prefix + rest.source));
  bad(() => new tf.layers.DepthwiseConv2D(0), dw, /kernelSize must be a positive integer/);
  bad(() => new tf.layers.DepthwiseConv2D(3, { depthMultiplier: 0 }), dw, /depthMultiplier/);
  bad(() => new tf.layers.DepthwiseConv2D(3, { depthMultiplier: 1.5 }), dw, /depthMultiplier/);
  bad(() => new tf.layers.DepthwiseConv2D(3, { strides: [1, 2, 3] }), dw, /strides must be/);
  bad(
    () => new tf.layers.DepthwiseConv2D(3, { padding: "full" as LayerPadding }),
    dw,
    /padding must be "valid" or "same"/,
  );
  bad(
    () => new tf.layers.DepthwiseConv2D(3, { dataFormat: "NCHW" as LayerDataFormat }),
    dw,
    /dataFormat must be/,
  );
  bad(() => new tf.layers.DepthwiseConv2D(3, { useBias: 1 as never }), dw, /useBias must be/);
  // Keras allows "causal" for rank-1 convolutions only.
  bad(
    () => new tf.layers.SeparableConv2D(2, 3, { padding: "causal" as LayerPadding }),
    sep,
    /padding must be "valid" or "same", got "causal"/,
  );
  bad(
    () => new tf.layers.SeparableConv2D(2, 3, { activation: "relu" as never }),
    sep,
    /activation must be a function/,
  );
  bad(() => new tf.layers.SeparableConv2D(0, 3), sep, /filters must be a positive integer/);
  bad(() => new tf.layers.SeparableConv2D(2, 3, { dilationRate: 0 }), sep, /dilationRate/);

  const layer = new tf.layers.DepthwiseConv2D(3);
  bad(() => layer.apply(tf.zeros([2, 5, 5])), dw, /expected a rank-4 input/);
  assertStrictEquals(layer.built, false);
  assertEquals(layer.variables.length, 0);
  layer.apply(tf.zeros([1, 5, 5, 2]));
  bad(() => layer.apply(tf.zeros([1, 5, 5, 3])), dw, /expected a rank-4 NHWC input with 2/);
  const first = new tf.layers.SeparableConv2D(2, 3, { dataFormat: "channels_first" });
  first.apply(tf.zeros([1, 3, 5, 5]));
  bad(() => first.apply(tf.zeros([1, 5, 5, 3])), sep, /expected a rank-4 NCHW input with 3/);
  // Padding in any letter case, as Keras.
  const upper = new tf.layers.DepthwiseConv2D(3, { padding: "SAME" as LayerPadding });
  assertStrictEquals(upper.padding, "same");
  assertEquals([...upper.apply(tf.zeros([1, 4, 4, 1])).shape], [1, 4, 4, 1]);
  bad(
    () =>
      new tf.layers.DepthwiseConv2D(3, { strides: 2, dilationRate: 2 }).apply(
        tf.zeros([1, 9, 9, 1]),
      ),
    dw,
    /depthwiseConv2d: strides > 1 together with dilations > 1/,
  );
  bad(
    () => new tf.layers.SeparableConv2D(2, 5).apply(tf.zeros([1, 3, 3, 1])),
    sep,
    /separableConv2d: /,
  );
  bad(
    () => new tf.layers.SeparableConv2D(2, 3).apply(tf.zeros([1, 5, 5, 1], "int32")),
    sep,
    /separableConv2d: input must be float32 or float64/,
  );
});
