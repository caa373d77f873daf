/**
 * Gradients of the convolution and pooling ops (conv2d, conv2dBackpropInput,
 * conv2dTranspose, conv2dBackpropFilter, maxPool, maxPoolGrad, avgPool, avgPoolGrad)
 * against central finite differences in float64, to second and third order, and against
 * real TensorFlow (tests/fixtures/make_conv_grad_fixtures.py wrote
 * tests/fixtures/conv_grad.json).
 */
import * as tf from "../mod.ts";
import fixtures from "./fixtures/conv_grad.json" with { type: "json" };
import { assertClose, assertEquals, randomValues, toTestDevice } from "./helpers.ts";

type Fn = (...xs: tf.Tensor[]) => tf.Tensor;
type Shape = readonly number[];

const size = (shape: Shape) => shape.reduce((a, b) => a * b, 1);
const f64 = (values: number[], shape: Shape) =>
  tf.constant(values, "float64", { shape: [...shape] });
const random = (shape: Shape, seed: number) => f64(randomValues(size(shape), seed), shape);

/**
 * Checks the tape's gradients of the scalar fn at float64 inputs against central
 * differences (h = 1e-6) in every element of every input; returns the tape's gradients.
 */
function checkGradients(fn: Fn, inputs: tf.Tensor[]): tf.Tensor[] {
  const grads = tf.gradientsFunction(fn)(...inputs);
  const h = 1e-6;
  inputs.forEach((input, k) => {
    const values = Array.from(input.dataSync() as Float64Array);
    const numeric = values.map((v, i) => {
      const at = (d: number) => {
        const moved = inputs.with(k, f64(values.with(i, v + d), input.shape));
        return Number(fn(...moved));
      };
      return (at(h) - at(-h)) / (2 * h);
    });
    assertClose(grads[k], f64(numeric, input.shape), {
      rtol: 1e-6,
      atol: 1e-8,
      message: `gradient of input ${k}`,
    });
  });
  return grads;
}

/** sum(w * op(inputs)) for fixed random weights w of op's output shape. */
function weighted(op: Fn, inputs: tf.Tensor[], seed: number): Fn {
  const shape = op(...inputs).shape;
  const w = random(shape, seed);
  return (...xs) => tf.reduceSum(op(...xs).mul(w));
}

/** Checks sum(w * op(inputs)) at random inputs of these shapes; returns the gradients. */
function checkOp(op: Fn, shapes: Shape[], seed = 1): tf.Tensor[] {
  const inputs = shapes.map((s, i) => random(s, seed + 10 * i));
  return checkGradients(weighted(op, inputs, seed + 100), inputs);
}

/**
 * The second-order loss: T = sum_j sum(g_j^2), g_j = d/d input_j sum(w * op(inputs)^2),
 * as the fixture script computes it.
 */
function secondOrder(op: Fn, w: tf.Tensor): Fn {
  return (...xs) => {
    const gs = tf.gradientsFunction((...ys: tf.Tensor[]) =>
      tf.reduceSum(op(...ys).square().mul(w))
    )(
      ...xs,
    );
    return tf.addN(gs.map((g) => tf.reduceSum(g.square())));
  };
}

// ---- the ops as functions of their tensor inputs --------------------------------------

type Format = "NHWC" | "NCHW";
interface ConvCase {
  name: string;
  strides: number[];
  padding: tf.Padding;
  dilations?: number[];
  dataFormat: Format;
  /** The conv2d input shape, in data format order, and the filter shape. */
  x: number[];
  f: number[];
}

/** An NHWC shape in `format` order. */
const shaped = (nhwc: number[], format: Format) =>
  format === "NHWC" ? nhwc : [nhwc[0], nhwc[3], nhwc[1], nhwc[2]];

/** Explicit pads given for NHWC, in `format` order. */
const pads = (nhwc: number[][], format: Format) =>
  format === "NHWC" ? nhwc : [nhwc[0], nhwc[3], nhwc[1], nhwc[2]];

const convCases: ConvCase[] = (["NHWC", "NCHW"] as const).flatMap((format) =>
  [
    { name: "stride 1 SAME", strides: [1, 1], padding: "SAME" as const },
    { name: "stride 2 SAME", strides: [2, 2], padding: "SAME" as const },
    { name: "stride 2 VALID", strides: [2, 2], padding: "VALID" as const },
    {
      name: "strides [2, 1] explicit padding",
      strides: [2, 1],
      padding: pads([[0, 0], [1, 2], [0, 1], [0, 0]], format),
    },
    { name: "dilation 2 SAME", strides: [1, 1], padding: "SAME" as const, dilations: [2, 2] },
    { name: "dilation 2 VALID", strides: [1, 1], padding: "VALID" as const, dilations: [2, 2] },
  ].map((c) => ({
    ...c,
    name: `${format} ${c.name}`,
    dataFormat: format,
    x: shaped([2, 5, 5, 3], format),
    f: [3, 3, 3, 2],
  }))
);

const convOpts = (c: ConvCase) => ({ dataFormat: c.dataFormat, dilations: c.dilations });

const conv = (c: ConvCase): Fn => (x, f) => tf.nn.conv2d(x, f, c.strides, c.padding, convOpts(c));

/** The shape conv2d gives for case c. */
const convOutShape = (c: ConvCase) =>
  tf.nn.conv2d(
    tf.zeros(c.x, "float64"),
    tf.zeros(c.f, "float64"),
    c.strides,
    c.padding,
    convOpts(c),
  )
    .shape;

for (const c of convCases) {
  Deno.test(`conv2d gradients, ${c.name}`, () => {
    checkOp(conv(c), [c.x, c.f]);
  });

  Deno.test(`conv2dBackpropInput and conv2dTranspose gradients, ${c.name}`, () => {
    const dy = convOutShape(c);
    checkOp((f, g) => tf.nn.conv2dBackpropInput(c.x, f, g, c.strides, c.padding, convOpts(c)), [
      c.f,
      dy,
    ]);
    // conv2dTranspose is the same op with (x, filters) in the other order.
    checkOp((g, f) => tf.nn.conv2dTranspose(g, f, c.x, c.strides, c.padding, convOpts(c)), [
      dy,
      c.f,
    ]);
  });

  Deno.test(`conv2dBackpropFilter gradients, ${c.name}`, () => {
    checkOp(
      (x, g) => tf.nn.conv2dBackpropFilter(x, c.f, g, c.strides, c.padding, convOpts(c)),
      [c.x, convOutShape(c)],
    );
  });
}

Deno.test("conv2d: NCHW gradients are the NHWC gradients transposed", () => {
  const [x, f] = [random([2, 5, 5, 3], 1), random([3, 3, 3, 2], 2)];
  const w = random([2, 3, 3, 2], 3);
  const nhwc = tf.gradientsFunction((x: tf.Tensor, f: tf.Tensor) =>
    tf.reduceSum(tf.nn.conv2d(x, f, 2, "SAME").mul(w))
  )(x, f);
  const nchw = tf.gradientsFunction((x: tf.Tensor, f: tf.Tensor) =>
    tf.reduceSum(
      tf.nn.conv2d(x, f, 2, "SAME", { dataFormat: "NCHW" }).mul(tf.transpose(w, [0, 3, 1, 2])),
    )
  )(tf.transpose(x, [0, 3, 1, 2]), f);
  assertEquals(nchw[0].shape, [2, 3, 5, 5]);
  assertClose(nchw[0], tf.transpose(nhwc[0], [0, 3, 1, 2]), { rtol: 1e-12, atol: 1e-12 });
  assertClose(nchw[1], nhwc[1], { rtol: 1e-12, atol: 1e-12 });
});

Deno.test("conv2d: float32 gradients stay float32 and match float64", () => {
  const [x, f] = [random([1, 4, 4, 2], 1), random([3, 3, 2, 3], 2)];
  const loss = (x: tf.Tensor, f: tf.Tensor) => tf.reduceSum(tf.nn.conv2d(x, f, 1, "SAME").square());
  const g64 = tf.gradientsFunction(loss)(x, f);
  const g32 = tf.gradientsFunction(loss)(
    toTestDevice(x.cast("float32")),
    toTestDevice(f.cast("float32")),
  );
  assertEquals(g32.map((g) => g.dtype), ["float32", "float32"]);
  assertClose(g32[0], g64[0], { rtol: 1e-5, atol: 1e-5 });
  assertClose(g32[1], g64[1], { rtol: 1e-5, atol: 1e-5 });
});

// ---- second order through conv2d ------------------------------------------------------

for (const c of [convCases[1], convCases[4], convCases[9]]) {
  Deno.test(`conv2d second order (gradient of gradients), ${c.name}`, () => {
    const [x, f] = [random(c.x, 1), random(c.f, 2)];
    // d/dx of sum(grad_f(x)^2), grad_f the filter gradient of sum(w * conv2d(x, f)).
    const w = random(convOutShape(c), 3);
    const gradF = (x: tf.Tensor) =>
      tf.gradientsFunction((f: tf.Tensor) => tf.reduceSum(conv(c)(x, f).mul(w)))(f)[0];
    checkGradients((x) => tf.reduceSum(gradF(x).square()), [x]);
    // And the full mixed second order over both inputs.
    checkGradients(secondOrder(conv(c), w), [x, f]);
  });
}

Deno.test("conv2dBackpropInput and conv2dBackpropFilter second order", () => {
  const c = convCases[9]; // NCHW stride 2 VALID
  const dy = convOutShape(c);
  const input: Fn = (f, g) =>
    tf.nn.conv2dBackpropInput(c.x, f, g, c.strides, c.padding, convOpts(c));
  const filter: Fn = (x, g) =>
    tf.nn.conv2dBackpropFilter(x, c.f, g, c.strides, c.padding, convOpts(c));
  checkGradients(secondOrder(input, random(c.x, 5)), [random(c.f, 1), random(dy, 2)]);
  checkGradients(secondOrder(filter, random(c.f, 6)), [random(c.x, 3), random(dy, 4)]);
});

// ---- pooling ------------------------------------------------------------------------

interface PoolCase {
  name: string;
  ksize: number[];
  strides: number[];
  padding: tf.Padding;
  dataFormat: Format;
  x: number[];
}

const poolCases: PoolCase[] = (["NHWC", "NCHW"] as const).flatMap((format) =>
  [
    { name: "3x3 stride 2 SAME", ksize: [3, 3], strides: [2, 2], padding: "SAME" as const },
    { name: "2x2 stride 2 VALID", ksize: [2, 2], strides: [2, 2], padding: "VALID" as const },
    { name: "3x2 stride 1 SAME", ksize: [3, 2], strides: [1, 1], padding: "SAME" as const },
    {
      name: "3x3 strides [1, 2] explicit padding",
      ksize: [3, 3],
      strides: [1, 2],
      padding: pads([[0, 0], [1, 1], [2, 0], [0, 0]], format),
    },
  ].map((c) => ({
    ...c,
    name: `${format} ${c.name}`,
    dataFormat: format,
    x: shaped([2, 5, 5, 3], format),
  }))
);

const poolArgs = (c: PoolCase) =>
  [c.ksize, c.strides, c.padding, { dataFormat: c.dataFormat }] as const;
const maxPool = (c: PoolCase): Fn => (x) => tf.nn.maxPool(x, ...poolArgs(c));
const avgPool = (c: PoolCase): Fn => (x) => tf.nn.avgPool(x, ...poolArgs(c));

for (const c of poolCases) {
  const outShape = () => maxPool(c)(tf.zeros(c.x, "float64")).shape;

  Deno.test(`maxPool and avgPool gradients, ${c.name}`, () => {
    checkOp(maxPool(c), [c.x]);
    checkOp(avgPool(c), [c.x]);
  });

  Deno.test(`maxPoolGrad and avgPoolGrad gradients, ${c.name}`, () => {
    const x = random(c.x, 7);
    const y = maxPool(c)(x);
    // Linear in dy: the rule is MaxPoolGradGrad (maxPoolGrad's adjoint).
    checkOp((g) => tf.nn.maxPoolGrad(x, y, g, ...poolArgs(c)), [outShape()]);
    checkOp((g) => tf.nn.avgPoolGrad(c.x, g, ...poolArgs(c)), [outShape()]);
    // Piecewise constant in x and y: zero gradients, as TensorFlow gives.
    const w = random(c.x, 8), g = random(outShape(), 9);
    const [dx, dyy] = checkGradients(
      (x, y) => tf.reduceSum(tf.nn.maxPoolGrad(x, y, g, ...poolArgs(c)).mul(w)),
      [x, y],
    );
    assertClose(dx, tf.zerosLike(x), { atol: 0 });
    assertClose(dyy, tf.zerosLike(y), { atol: 0 });
  });

  Deno.test(`maxPool second and third order, ${c.name}`, () => {
    const x = random(c.x, 11);
    checkGradients(secondOrder(maxPool(c), random(outShape(), 12)), [x]);
    checkGradients(secondOrder(avgPool(c), random(outShape(), 13)), [x]);
    // u -> d/dv sum(u * maxPoolGrad(x, y, v)) is MaxPoolGradGrad(x, y, u); its gradient
    // (a third derivative of maxPool) is maxPoolGrad again.
    const y = maxPool(c)(x);
    const v = random(outShape(), 14);
    const gradGrad: Fn = (u) =>
      tf.gradientsFunction((v: tf.Tensor) =>
        tf.reduceSum(tf.nn.maxPoolGrad(x, y, v, ...poolArgs(c)).mul(u))
      )(v)[0];
    checkOp(gradGrad, [c.x], 15);
  });
}

Deno.test("maxPool: a tie's gradient goes to the first maximum, and so does its gradient", () => {
  const x = tf.constant([1, 3, 3, 2], "float64", { shape: [1, 2, 2, 1] });
  const weights = tf.constant([1, 10, 100, 1000], "float64", { shape: [1, 2, 2, 1] });
  const tape = new tf.GradientTape();
  tape.watch(x);
  const [dx, total] = tape.record(() => {
    const inner = new tf.GradientTape();
    inner.watch(x);
    const loss = inner.record(() => tf.reduceSum(tf.nn.maxPool(x, 2, 2, "VALID").square()));
    const dx = inner.gradient(loss, x)!;
    return [dx, tf.reduceSum(dx.mul(weights))];
  });
  assertClose(dx, [[[[0], [6]], [[0], [0]]]]);
  // d/dx sum(weights * dx): MaxPoolGradGrad reads weights at the same argmax (10), times 2.
  assertClose(tape.gradient(total, x)!, [[[[0], [20]], [[0], [0]]]]);
});

// ---- against TensorFlow -------------------------------------------------------------

interface Encoded {
  shape: number[];
  values: number[];
}

interface FixtureArgs {
  strides: number[];
  padding: tf.Padding;
  dilations?: number[];
  dataFormat: Format;
  ksize?: number[];
  inputShape?: number[];
  filterShape?: number[];
}

function fixtureOp(op: string, a: FixtureArgs): Fn {
  const opts = { dataFormat: a.dataFormat, dilations: a.dilations };
  switch (op) {
    case "conv2d":
      return (x, f) => tf.nn.conv2d(x, f, a.strides, a.padding, opts);
    case "conv2dBackpropInput":
      return (f, g) => tf.nn.conv2dBackpropInput(a.inputShape!, f, g, a.strides, a.padding, opts);
    case "conv2dBackpropFilter":
      return (x, g) => tf.nn.conv2dBackpropFilter(x, a.filterShape!, g, a.strides, a.padding, opts);
    case "maxPool":
      return (x) => tf.nn.maxPool(x, a.ksize!, a.strides, a.padding, { dataFormat: a.dataFormat });
    case "avgPool":
      return (x) => tf.nn.avgPool(x, a.ksize!, a.strides, a.padding, { dataFormat: a.dataFormat });
  }
  throw new Error(`unknown fixture op ${op}`);
}

const decode = (e: Encoded) => f64(e.values, e.shape);

for (const c of fixtures.cases) {
  Deno.test(`TensorFlow fixture: ${c.name}`, () => {
    const op = fixtureOp(c.op, c.args as FixtureArgs);
    const w = decode(c.w);
    const loss: Fn = c.order === 1 ? (...xs) => tf.reduceSum(op(...xs).mul(w)) : secondOrder(op, w);
    const grads = tf.gradientsFunction(loss)(...c.inputs.map(decode));
    assertEquals(grads.length, c.grads.length);
    grads.forEach((g, i) =>
      assertClose(g, decode(c.grads[i]), { rtol: 1e-9, atol: 1e-11, message: `input ${i}` })
    );
  });
}
