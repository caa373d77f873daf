/**
 * The gradient rules of the core ops (math, reductions, matmul, views, concat/tile/pad,
 * cast, nn compositions) against central finite differences in float64, first and
 * second order (tests/grad_helpers.ts).
 */
import * as tf from "../mod.ts";
import { checkGradients as check, checkSecondDerivative, rand, randAway } from "./grad_helpers.ts";
import { assertClose, assertEquals, assertStrictEquals, ON_WEBGPU, perDevice } from "./helpers.ts";

type Fn = (...xs: tf.Tensor[]) => tf.Tensor;
type Shape = number[];
const f64 = (values: tf.NestedArray) => tf.constant(values, "float64");

// ---- unary ---------------------------------------------------------------------------

/** op, and an input on a safe domain (away from poles, branch cuts and kinks). */
const UNARY: [string, Fn, tf.Tensor][] = [
  ["neg", tf.neg, rand([2, 3])],
  ["abs", tf.abs, randAway([2, 3])],
  ["exp", tf.exp, rand([2, 3], 1, -2, 2)],
  ["log", tf.log, rand([2, 3], 1, 0.2, 3)],
  ["log1p", tf.log1p, rand([2, 3], 1, -0.6, 2)],
  ["expm1", tf.expm1, rand([2, 3], 1, -2, 2)],
  ["sqrt", tf.sqrt, rand([2, 3], 1, 0.2, 3)],
  ["rsqrt", tf.rsqrt, rand([2, 3], 1, 0.2, 3)],
  ["square", tf.square, rand([2, 3], 1, -2, 2)],
  ["reciprocal", tf.reciprocal, randAway([2, 3], 1, 0.3)],
  ["sin", tf.sin, rand([2, 3], 1, -3, 3)],
  ["cos", tf.cos, rand([2, 3], 1, -3, 3)],
  ["tan", tf.tan, rand([2, 3], 1, -1.2, 1.2)],
  ["asin", tf.asin, rand([2, 3], 1, -0.8, 0.8)],
  ["acos", tf.acos, rand([2, 3], 1, -0.8, 0.8)],
  ["atan", tf.atan, rand([2, 3], 1, -3, 3)],
  ["sinh", tf.sinh, rand([2, 3], 1, -2, 2)],
  ["cosh", tf.cosh, rand([2, 3], 1, -2, 2)],
  ["tanh", tf.tanh, rand([2, 3], 1, -2, 2)],
  ["sigmoid", tf.sigmoid, rand([2, 3], 1, -4, 4)],
  ["erf", tf.erf, rand([2, 3], 1, -2, 2)],
  ["relu", tf.nn.relu, randAway([2, 3])],
  ["relu6", tf.nn.relu6, f64([[-1.5, -0.2, 0.4, 2.7], [5.5, 6.8, 9.1, 3.3]])],
  ["elu", tf.nn.elu, randAway([2, 3], 1, 0.1)],
  ["softplus", tf.nn.softplus, rand([2, 3], 1, -4, 4)],
  ["elementwise method chain", (x) => x.exp().mul(x.sin()).sub(x.square()), rand([3])],
];

for (const [name, op, x] of UNARY) {
  Deno.test(`unary ${name} matches finite differences`, () => void check(op, [x]));
}

Deno.test("floor, ceil, round and sign have zero gradient (not NaN)", () => {
  const x = f64([[-2.7, -1.2, -0.4], [0.3, 1.6, 2.4]]);
  for (const op of [tf.floor, tf.ceil, tf.round, tf.sign]) {
    assertClose(check(op, [x])[0], [[0, 0, 0], [0, 0, 0]]);
  }
});

Deno.test("TensorFlow's choices at kinks: relu'(0) = 0, abs'(0) = 0, elu'(0) = 1", () => {
  const at0 = (op: Fn) => Number(tf.gradientsFunction(op)(f64(0))[0]);
  assertEquals([at0(tf.nn.relu), at0(tf.abs), at0(tf.nn.elu), at0(tf.nn.relu6)], [0, 0, 1, 0]);
  assertEquals(Number(tf.gradientsFunction(tf.nn.relu6)(f64(6))[0]), 0);
});

// ---- binary, with broadcasting both ways ---------------------------------------------

/** Operand pairs: equal shapes, [3,4] with [4] both ways, [3,1] with [1,4], scalars. */
const PAIRS: [Shape, Shape][] = [
  [[2, 3], [2, 3]],
  [[3, 4], [4]],
  [[4], [3, 4]],
  [[3, 1], [1, 4]],
  [[], [3, 4]],
  [[2, 3], []],
  [[2, 1, 3], [4, 1]],
];

/** op, and generators of each operand (shape, seed) on a safe domain. */
type Gen = (shape: Shape, seed: number) => tf.Tensor;
const any: Gen = (s, seed) => rand(s, seed, -2, 2);
const positive: Gen = (s, seed) => rand(s, seed, 0.4, 2);
const nonzero: Gen = (s, seed) => randAway(s, seed, 0.4);
const BINARY: [string, Fn, Gen, Gen][] = [
  ["add", tf.add, any, any],
  ["subtract", tf.subtract, any, any],
  ["multiply", tf.multiply, any, any],
  ["divide", tf.divide, any, nonzero],
  ["pow", tf.pow, positive, any],
  ["maximum", tf.maximum, any, any],
  ["minimum", tf.minimum, any, any],
  ["squaredDifference", tf.squaredDifference, any, any],
  ["atan2", tf.atan2, any, nonzero],
  ["mod", tf.mod, any, nonzero],
  ["floorDiv (zero)", tf.floorDiv, any, nonzero],
];

for (const [name, op, genA, genB] of BINARY) {
  Deno.test(`binary ${name} matches finite differences, broadcasting both ways`, () => {
    for (const [sa, sb] of PAIRS) check(op, [genA(sa, 1), genB(sb, 2)]);
  });
}

Deno.test("method forms and a JS-number operand differentiate like the functions", () => {
  check((a, b) => a.add(b).mul(a).sub(b.div(2)).neg(), [rand([2, 3]), rand([3], 2)]);
  check((a) => tf.pow(a, 3).add(tf.pow(2, a)), [rand([4], 3)]);
});

Deno.test("maximum/minimum ties route the gradient to a (TensorFlow's greater_equal)", () => {
  const tape = new tf.GradientTape({ persistent: true });
  const a = f64([1, 2, 3]), b = f64([1, 5, 0]);
  tape.watch([a, b]);
  const hi = tape.record(() => tf.maximum(a, b)), lo = tape.record(() => tf.minimum(a, b));
  assertClose(tape.gradient(hi, [a, b])[0]!, [1, 0, 1]);
  assertClose(tape.gradient(lo, [a, b])[1]!, [0, 0, 1]);
});

Deno.test("pow: d/db is 0 where a <= 0 (not NaN), as TensorFlow", () => {
  const [da, db] = tf.gradientsFunction((a: tf.Tensor, b: tf.Tensor) => tf.pow(a, b))(
    f64([-2, 0, 3]),
    f64([2, 2, 2]),
  );
  assertClose(da, [-4, 0, 6]);
  assertClose(db, [0, 0, 9 * Math.log(3)]);
});

Deno.test("where: the gradient splits by cond, broadcasting cond, a and b", () => {
  const cond = perDevice(() =>
    tf.constant([[true, false, true, true], [false, false, true, false]])
  );
  check((a, b) => tf.where(cond(), a, b), [rand([2, 4]), rand([4], 2)]);
  check((a, b) => tf.where([true, false, true], a, b), [rand([2, 3]), rand([2, 1], 2)]);
  check((a, b) => tf.where(cond(), a, b), [rand([]), rand([2, 1], 3)]);
});

Deno.test("clipByValue: x away from the bounds, and the bounds themselves", () => {
  check((x) => tf.clipByValue(x, -0.5, 0.5), [randAway([3, 4], 4, 0.05)]);
  const x = perDevice((float) => tf.constant([[-0.9, -0.2, 0.3], [0.8, -0.7, 0.1]], float));
  check((lo, hi) => tf.clipByValue(x(), lo, hi), [f64(-0.4), f64([0.5, 0.2, 0.6])]);
});

Deno.test("addN and identity pass the gradient through", () => {
  check((a, b, c) => tf.addN([a, b, c, a]), [rand([2, 2]), rand([2, 2], 2), rand([2, 2], 3)]);
  check((x) => tf.identity(x).mul(x), [rand([3])]);
});

// float64 on both sides of the cast: the CPU's (the WebGPU device refuses float64 by name).
Deno.test("cast float64 <-> float32 passes the gradient in the source dtype", {
  ignore: ON_WEBGPU,
}, () => {
  const round = (x: tf.Tensor) => tf.cast(tf.cast(x, "float32").square(), "float64");
  check(round, [rand([2, 3])], { h: 1e-2, rtol: 1e-4, atol: 1e-5 });
  const x32 = tf.constant([0.5, -0.25, 0.75, 1.125], "float32");
  const [g] = check((x) => tf.cast(x, "float64").square(), [x32], { h: 2 ** -7 });
  assertStrictEquals(g.dtype, "float32");
});

Deno.test("stopGradient blocks the gradient; a float32 function still differentiates", () => {
  const [g] = tf.gradientsFunction((x: tf.Tensor) => tf.stopGradient(x).mul(x))(f64([2, -3]));
  assertClose(g, [2, -3]);
  const [g32] = tf.gradientsFunction((x: tf.Tensor) => x.square().sum())(tf.constant([1, 2]));
  assertStrictEquals(g32.dtype, "float32");
  assertClose(g32, [2, 4]);
});

// ---- reductions ----------------------------------------------------------------------

const AXES: [tf.Axis, boolean][] = [
  [undefined, false],
  [undefined, true],
  [0, false],
  [1, true],
  [-1, false],
  [[0, 2], false],
  [[0, 2], true],
  [[2, 1], false],
  [[0, 1, 2], true],
  [[], false],
];
const REDUCTIONS: [string, (x: tf.Tensor, axis: tf.Axis, o: tf.ReduceOptions) => tf.Tensor][] = [
  ["reduceSum", tf.reduceSum],
  ["reduceMean", tf.reduceMean],
  ["reduceMax", tf.reduceMax],
  ["reduceMin", tf.reduceMin],
  ["reduceProd", tf.reduceProd],
  ["logSumExp", tf.logSumExp],
  ["reduceVariance", tf.reduceVariance],
  ["reduceStd", tf.reduceStd],
  ["norm", tf.norm],
];

for (const [name, op] of REDUCTIONS) {
  Deno.test(`${name} over several axis sets, with and without keepDims`, () => {
    for (const [axis, keepDims] of AXES) {
      if (name === "reduceStd" && Array.isArray(axis) && axis.length === 0) continue; // sqrt(0)
      check((x) => op(x, axis, { keepDims }), [rand([2, 3, 4], 5)]);
    }
  });
}

Deno.test("reduceProd with one zero and with two zeros in a slice", () => {
  const x = f64([[1.5, 0, -2, 0.7], [0, 0, 3, 1.2], [0.5, -1.1, 2, 0.9]]);
  const [g] = check((t) => tf.reduceProd(t, 1), [x]);
  assertClose(g.slice([1, 0], [1, 4]), [[0, 0, 0, 0]]);
  check((t) => tf.reduceProd(t, 0, { keepDims: true }), [x]);
  check((t) => tf.reduceProd(t), [x]);
  check((t) => tf.reduceProd(t, [0, 1]), [f64([[0, 2], [3, 0.5]])]);
});

Deno.test("reduceMax/reduceMin ties share the gradient equally, as TensorFlow", () => {
  const [g] = tf.gradientsFunction((x: tf.Tensor) => tf.reduceMax(x, 1))(
    f64([[1, 3, 3], [2, 2, 2]]),
  );
  assertClose(g, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]]);
  const [m] = tf.gradientsFunction((x: tf.Tensor) => tf.reduceMin(x))(f64([4, -1, 2, -1]));
  assertClose(m, [0, 0.5, 0, 0.5]);
});

Deno.test("norm: ord 1, 3, Infinity and -Infinity, over one and two axes", () => {
  const x = randAway([3, 4], 6, 0.1);
  for (const ord of [1, 3, 2, 0.5, Infinity, -Infinity, "fro" as const]) {
    for (const axis of [undefined, 0, [0, 1], -1]) check((t) => tf.norm(t, axis, { ord }), [x]);
  }
  check((t) => tf.norm(t, 1, { keepDims: true }), [x]);
});

Deno.test("logSumExp with large logits differentiates stably (softmax)", () => {
  const x = f64([[1000, 1001, 999], [-1000, -1002, -1001]]);
  const [g] = tf.gradientsFunction((t: tf.Tensor) => tf.logSumExp(t, 1).sum())(x);
  assertClose(g, tf.nn.softmax(x, 1), { rtol: 1e-12 });
});

// ---- matmul, tensordot ---------------------------------------------------------------

Deno.test("matmul: all transpose combinations", () => {
  for (const transposeA of [false, true]) {
    for (const transposeB of [false, true]) {
      const a = rand(transposeA ? [4, 2] : [2, 4], 1), b = rand(transposeB ? [3, 4] : [4, 3], 2);
      check((x, y) => tf.matmul(x, y, { transposeA, transposeB }), [a, b]);
    }
  }
});

Deno.test("matmul: batches, broadcast batch dims, matrix-vector shapes", () => {
  check((a, b) => tf.matmul(a, b), [rand([2, 2, 3]), rand([2, 3, 4], 2)]);
  check((a, b) => tf.matmul(a, b), [rand([2, 3, 4]), rand([4, 2], 2)]);
  check((a, b) => tf.matmul(a, b), [rand([3, 4]), rand([2, 4, 2], 2)]);
  check((a, b) => tf.matmul(a, b), [rand([2, 1, 2, 3]), rand([3, 3, 2], 2)]);
  check((a, b) => tf.matmul(a, b, { transposeA: true }), [rand([2, 3, 2]), rand([1, 3, 4], 2)]);
  check((a, b) => tf.matmul(a, b, { transposeB: true }), [rand([1, 2, 3]), rand([2, 4, 3], 2)]);
  check((a, b) => tf.matmul(a, b), [rand([1, 3]), rand([3, 1], 2)]);
});

Deno.test("matmul of strided views (transposed, sliced) routes gradients back", () => {
  check((a, b) => tf.matmul(tf.transpose(a), b.slice([0, 1], [3, 2])), [
    rand([3, 2]),
    rand([3, 4]),
  ]);
  check((a) => tf.matmul(a, a, { transposeB: true }), [rand([3, 2])]);
});

Deno.test("tensordot: axes 0, 1, 2 and explicit axis pairs", () => {
  check((a, b) => tf.tensordot(a, b, 1), [rand([2, 3]), rand([3, 4], 2)]);
  check((a, b) => tf.tensordot(a, b, 2), [rand([2, 3, 4]), rand([3, 4, 2], 2)]);
  check((a, b) => tf.tensordot(a, b, 0), [rand([2]), rand([3], 2)]);
  check((a, b) => tf.tensordot(a, b, [[0, 2], [2, 0]]), [rand([2, 3, 4]), rand([4, 5, 2], 2)]);
});

// ---- views ---------------------------------------------------------------------------

Deno.test("reshape, expandDims, squeeze and transpose", () => {
  check((x) => tf.reshape(x, [3, -1]), [rand([2, 3, 2])]);
  check((x) => tf.reshape(tf.transpose(x), [6]), [rand([2, 3])]);
  for (const axis of [0, 1, 2, -1]) check((x) => tf.expandDims(x, axis), [rand([2, 3])]);
  check((x) => tf.squeeze(x), [rand([1, 3, 1, 2])]);
  check((x) => tf.squeeze(x, [2]), [rand([1, 3, 1, 2])]);
  check((x) => tf.transpose(x), [rand([2, 3, 4])]);
  check((x) => tf.transpose(x, [1, 2, 0]).mul(tf.transpose(x, [1, 2, 0])), [rand([2, 3, 4])]);
});

Deno.test("slice, including a slice of a transposed view and sizes of -1", () => {
  check((x) => tf.slice(x, [1, 0], [2, -1]), [rand([3, 4])]);
  check((x) => tf.slice(x, [0, 1, 1]), [rand([2, 3, 4])]);
  check((x) => tf.slice(tf.transpose(x), [1, 0], [2, 2]), [rand([3, 4])]);
  check((x) => tf.slice(x, [1], [0]).sum().add(x.sum()), [rand([3])]);
});

Deno.test("stridedSlice: steps, negative strides, masks, shrink, new axis, ellipsis", () => {
  const x = rand([4, 5, 3]);
  check((t) => tf.stridedSlice(t, [0, 1], [4, 5], [2, 2]), [x]);
  check((t) => tf.stridedSlice(t, [3, 4], [0, 0], [-1, -2]), [x]);
  check((t) => tf.stridedSlice(t, [-1, 0, 0], [0, 0, 0], [-2, 1, -1], { endMask: 0b111 }), [x]);
  check((t) => tf.stridedSlice(t, [1, 0], [0, 3], [1, 1], { shrinkAxisMask: 1, beginMask: 2 }), [
    x,
  ]);
  check((t) => tf.stridedSlice(t, [0, 1, 2], [0, 4, 3], [1, 1, 1], { newAxisMask: 1 }), [x]);
  check((t) => tf.stridedSlice(t, [0, 2], [0, 0], [1, -1], { ellipsisMask: 1, endMask: 2 }), [x]);
  check((t) => tf.stridedSlice(tf.transpose(t), [2, 0], [0, 4], [-1, 3]), [x]);
});

Deno.test("reverse over one and several axes; broadcastTo", () => {
  check((x) => tf.reverse(x, 1), [rand([2, 3, 2])]);
  check((x) => tf.reverse(x, [0, -1]), [rand([2, 3, 2])]);
  check((x) => tf.broadcastTo(x, [2, 3]), [rand([3])]);
  check((x) => tf.broadcastTo(x, [2, 3, 4]), [rand([3, 1])]);
  check((x) => tf.broadcastTo(x, [2, 2]), [rand([])]);
});

Deno.test("slice-like gradients ignore later edits of the caller's arrays", () => {
  const x = f64([[1, 2, 3], [4, 5, 6]]);
  const begin = [0, 0], size = [2, 1], ends = [2, 1], multiples = [1, 2];
  const paddings: [number, number][] = [[0, 0], [1, 0]];
  const tape = new tf.GradientTape();
  tape.watch(x);
  const y = tape.record(() =>
    tf.addN([
      tf.slice(x, begin, size).sum(),
      tf.stridedSlice(x, begin, ends).sum(),
      tf.tile(x, multiples).slice([0, 0], [2, 1]).sum(),
      tf.pad(x, paddings).slice([0, 1], [2, 1]).sum(),
    ])
  );
  begin[1] = 2, size[1] = 0, ends[1] = 3, multiples[1] = 1, paddings[1][0] = 0;
  assertClose(tape.gradient(y, x)!, [[4, 0, 0], [4, 0, 0]]);
});

// ---- concat, stack, unstack, split, tile, pad -----------------------------------------

Deno.test("concat along several axes, three inputs", () => {
  const [a, b, c] = [rand([2, 3]), rand([2, 1], 2), rand([2, 2], 3)];
  check((x, y, z) => tf.concat([x, y, z], 1), [a, b, c]);
  check((x, y) => tf.concat([x, y, x], 0), [rand([1, 3]), rand([2, 3], 2)]);
  check((x, y) => tf.concat([x, y], -1), [rand([2, 2, 1]), rand([2, 2, 2], 2)]);
});

Deno.test("stack, unstack and split", () => {
  for (const axis of [0, 1, 2]) {
    check((x, y) => tf.stack([x, y, x], axis), [rand([2, 3]), rand([2, 3], 2)]);
  }
  const scale = (ts: tf.Tensor[]) => tf.concat(ts.map((t, i) => t.mul(i + 1)), 0);
  check((x) => scale(tf.unstack(x, 1)), [rand([2, 3])]);
  check((x) => scale(tf.split(x, 2, 1)), [rand([2, 4])]);
  check((x) => scale(tf.split(x, [1, -1, 2], 0)), [rand([5, 2])]);
  check((x) => tf.unstack(x)[1].square(), [rand([3, 2])]);
});

Deno.test("tile: repeats summed back, over one and several axes", () => {
  check((x) => tf.tile(x, [2, 1]), [rand([2, 3])]);
  check((x) => tf.tile(x, [1, 3]), [rand([2, 3])]);
  check((x) => tf.tile(x, [3, 2, 2]), [rand([2, 1, 2])]);
});

Deno.test("pad in CONSTANT, REFLECT and SYMMETRIC modes", () => {
  const paddings: [number, number][] = [[1, 2], [2, 1]];
  for (const mode of ["CONSTANT", "REFLECT", "SYMMETRIC"] as const) {
    check((x) => tf.pad(x, paddings, { mode }), [rand([3, 4])]);
    check((x) => tf.pad(x, [[0, 1], [2, 0], [1, 1]], { mode }), [rand([2, 3, 2])]);
  }
  check((x) => tf.pad(x, paddings, { constantValue: 3 }), [rand([3, 4])]);
});

// ---- nn ------------------------------------------------------------------------------

Deno.test("softmax and logSoftmax over several axes", () => {
  for (const axis of [-1, 0, 1]) {
    check((x) => tf.nn.softmax(x, axis), [rand([2, 3, 4], 1, -3, 3)]);
    check((x) => tf.nn.logSoftmax(x, axis), [rand([2, 3, 4], 1, -3, 3)]);
  }
});

Deno.test("softmaxCrossEntropyWithLogits w.r.t. logits and labels", () => {
  const loss = (labels: tf.Tensor, logits: tf.Tensor) =>
    tf.nn.softmaxCrossEntropyWithLogits({ labels, logits });
  check(loss, [tf.nn.softmax(rand([3, 4], 2)), rand([3, 4], 3, -2, 2)]);
  check((z, x) => tf.nn.softmaxCrossEntropyWithLogits({ labels: z, logits: x, axis: 0 }), [
    rand([3, 2], 4, 0, 1),
    rand([3, 2], 5),
  ]);
});

Deno.test("sparseSoftmaxCrossEntropyWithLogits w.r.t. logits", () => {
  check((x) => tf.nn.sparseSoftmaxCrossEntropyWithLogits({ labels: [2, 0, 3], logits: x }), [
    rand([3, 4], 1, -2, 2),
  ]);
  const labels = perDevice(() => tf.constant([[1, 0], [2, 2]], "int64"));
  check((x) => tf.nn.sparseSoftmaxCrossEntropyWithLogits({ labels: labels(), logits: x }), [
    rand([2, 2, 3]),
  ]);
  // Its gradient is one fused kernel; differentiable again through ops.
  checkSecondDerivative(
    (x) => tf.nn.sparseSoftmaxCrossEntropyWithLogits({ labels: labels(), logits: x }),
    rand([2, 2, 3], 6),
  );
  if (ON_WEBGPU) return; // below: float64 against its closed form, the CPU run's
  const x = rand([3, 4], 7, -2, 2), ids = tf.constant([3, 1, 0], "int32");
  const [g] = tf.gradientsFunction((z: tf.Tensor) =>
    tf.reduceSum(
      tf.nn.sparseSoftmaxCrossEntropyWithLogits({ labels: ids, logits: z }).mul([1, 2, 3]),
    )
  )(x);
  const want = tf.nn.softmax(x).sub(tf.oneHot(ids, 4, { dtype: "float64" })).mul([[1], [2], [3]]);
  assertClose(g, want, { rtol: 1e-14, atol: 1e-15 });
});

Deno.test("sigmoidCrossEntropyWithLogits w.r.t. logits (also at 0) and labels", () => {
  const loss = (labels: tf.Tensor, logits: tf.Tensor) =>
    tf.nn.sigmoidCrossEntropyWithLogits({ labels, logits });
  check(loss, [rand([2, 3], 1, 0, 1), rand([2, 3], 2, -5, 5)]);
  check(loss, [f64([0.3, 1, 0]), f64([0, 0, 0])]);
  const [, dx] = tf.gradientsFunction(loss)(f64([0.3, 1, 0]), f64([0, 0, 0]));
  assertClose(dx, [0.2, -0.5, 0.5], { rtol: 1e-12 }); // sigmoid(0) - z, as TensorFlow
});

Deno.test("biasAdd in NHWC and NCHW, w.r.t. x and bias", () => {
  check((x, b) => tf.nn.biasAdd(x, b), [rand([2, 3, 4]), rand([4], 2)]);
  check((x, b) => tf.nn.biasAdd(x, b, "NCHW"), [rand([2, 3, 2, 2]), rand([3], 2)]);
  check((x, b) => tf.nn.biasAdd(x, b, "NCHW"), [rand([2, 3]), rand([3], 2)]);
});

Deno.test("l2Loss and moments (mean and variance, with and without keepDims)", () => {
  check((x) => tf.nn.l2Loss(x), [rand([3, 4])]);
  for (const keepDims of [false, true]) {
    for (const axes of [[0], [0, 2], [1]]) {
      check((x) => tf.nn.moments(x, axes, { keepDims })[0], [rand([2, 3, 4])]);
      check((x) => tf.nn.moments(x, axes, { keepDims })[1], [rand([2, 3, 4])]);
    }
  }
});

Deno.test("batchNormalization w.r.t. x, mean, variance, offset and scale", () => {
  const args = [rand([4, 3]), rand([3], 2), rand([3], 3, 0.2, 2), rand([3], 4), rand([3], 5)];
  check((x, m, v, o, s) => tf.nn.batchNormalization(x, m, v, o, s, 1e-3), args);
  check((x, m, v) => tf.nn.batchNormalization(x, m, v, null, null, 1e-3), args.slice(0, 3));
  const stats = perDevice((float) =>
    tf.stack(tf.nn.moments(tf.cast(args[0], float), [0], { keepDims: true }))
  );
  check((x) => {
    const [mean, variance] = tf.unstack(stats());
    return tf.nn.batchNormalization(x, mean, variance, 0.5, 2, 1e-5);
  }, [args[0]]);
  check((x) => {
    const [m, v] = tf.nn.moments(x, [0]);
    return tf.nn.batchNormalization(x, m, v, null, null, 1e-5);
  }, [args[0]]);
});

// ---- second derivatives (nested tapes) -----------------------------------------------

const SECOND: [string, Fn, tf.Tensor[]][] = [
  ["exp", tf.exp, [rand([2, 3])]],
  ["log", tf.log, [rand([2, 3], 1, 0.3, 2)]],
  ["tanh", tf.tanh, [rand([2, 3], 1, -2, 2)]],
  ["sigmoid", tf.sigmoid, [rand([2, 3], 1, -3, 3)]],
  ["sqrt", tf.sqrt, [rand([2, 3], 1, 0.3, 2)]],
  ["rsqrt", tf.rsqrt, [rand([2, 3], 1, 0.3, 2)]],
  ["sin", tf.sin, [rand([2, 3], 1, -3, 3)]],
  ["softplus", tf.nn.softplus, [rand([2, 3], 1, -3, 3)]],
  ["multiply", tf.multiply, [rand([2, 3]), rand([3], 2)]],
  ["multiply (x * x)", (x) => x.mul(x).mul(x), [rand([2, 3])]],
  ["divide", tf.divide, [rand([2, 3]), randAway([2, 3], 2, 0.5)]],
  ["pow", tf.pow, [rand([2, 3], 1, 0.4, 2), rand([2, 3], 2, -2, 2)]],
  ["matmul", (a, b) => tf.matmul(a, b).square(), [rand([2, 3]), rand([3, 2], 2)]],
  ["matmul (transposed)", (a, b) => tf.matmul(a, b, { transposeA: true }).pow(3), [
    rand([3, 2]),
    rand([3, 2], 2),
  ]],
  ["softmax", (x) => tf.nn.softmax(x), [rand([2, 4], 1, -2, 2)]],
  ["logSoftmax", (x) => tf.nn.logSoftmax(x, 0), [rand([3, 2], 1, -2, 2)]],
  ["reduceProd", (x) => tf.reduceProd(x, 1), [rand([2, 4], 1, 0.5, 1.5)]],
  ["reduceProd with zeros", (x) => tf.reduceProd(x, 1), [f64([[0, 0, 2, 3], [1, 0, 2, -1]])]],
  ["logSumExp", (x) => tf.logSumExp(x, 0), [rand([3, 2])]],
  ["slice/pad/tile", (x) => tf.pad(tf.tile(x.slice([0, 1]), [1, 2]), [[1, 0], [0, 1]]).square(), [
    rand([2, 3]),
  ]],
  ["slice of a transposed view", (x) => tf.slice(tf.transpose(x), [0, 1], [2, 2]).pow(3), [
    rand([3, 3]),
  ]],
  ["where", (x) => tf.where([true, false, true], x.square(), x.pow(3)), [rand([2, 3])]],
  ["stridedSlice", (x) => tf.stridedSlice(x, [2, 0], [0, 3], [-1, 2]).pow(3), [rand([3, 3])]],
  ["sigmoidCrossEntropy", (z, x) => tf.nn.sigmoidCrossEntropyWithLogits({ labels: z, logits: x }), [
    rand([2, 3], 1, 0, 1),
    rand([2, 3], 2, -3, 3),
  ]],
];

for (const [name, op, xs] of SECOND) {
  Deno.test(`second derivative of ${name} matches finite differences`, () => {
    checkSecondDerivative(op, xs);
  });
}
