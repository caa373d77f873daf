/**
 * tf.losses against TensorFlow 1 (tests/fixtures/make_losses_fixtures.py wrote
 * tests/fixtures/losses.json from tf.compat.v1.losses: every reduction, several weights,
 * values and gradients), and gradients against finite differences in float64.
 */
import * as tf from "../mod.ts";
import fixtures from "./fixtures/losses.json" with { type: "json" };
import { checkGradients, rand } from "./grad_helpers.ts";
import {
  assertClose,
  assertEquals,
  assertStrictEquals,
  assertThrowsMatch,
  ON_WEBGPU,
} from "./helpers.ts";

type Json = { shape: number[]; values: number[] };
type Case = {
  loss: keyof typeof LOSSES;
  labels: Json;
  labelsDtype: "int32" | "float32";
  predictions: Json;
  weights: Json | null;
  options: { delta?: number; label_smoothing?: number };
  reduction: tf.losses.ReductionName;
  expected: Json;
  grad: Json;
};
type Loss = (labels: tf.Tensor, predictions: tf.Tensor, options: never) => tf.Tensor;

const LOSSES = {
  meanSquaredError: tf.losses.meanSquaredError,
  absoluteDifference: tf.losses.absoluteDifference,
  huberLoss: tf.losses.huberLoss,
  sigmoidCrossEntropy: tf.losses.sigmoidCrossEntropy,
  softmaxCrossEntropy: tf.losses.softmaxCrossEntropy,
  sparseSoftmaxCrossEntropy: tf.losses.sparseSoftmaxCrossEntropy,
};

const tensor = (j: Json, dtype: tf.DType = "float32") =>
  tf.constant(j.values, dtype, { shape: j.shape });

function describeCase(c: Case): string {
  const w = c.weights ? `weights ${JSON.stringify(c.weights.shape)}` : "no weights";
  return `${c.loss} ${c.reduction}, ${w} ${JSON.stringify(c.options)}`;
}

Deno.test("Reduction holds TensorFlow 1's values", () => {
  assertEquals({ ...tf.losses.Reduction }, fixtures.reductions);
});

Deno.test("losses match tf.compat.v1.losses: values and gradients, every reduction", () => {
  const cases = fixtures.cases as unknown as Case[];
  assertStrictEquals(cases.length, 180);
  for (const c of cases) {
    const labels = tensor(c.labels, c.labelsDtype);
    const options = {
      reduction: c.reduction,
      weights: c.weights ? tensor(c.weights) : undefined,
      delta: c.options.delta,
      labelSmoothing: c.options.label_smoothing,
    };
    const fn = LOSSES[c.loss] as Loss;
    const f = (p: tf.Tensor) => tf.reduceSum(fn(labels, p, options as never));
    const predictions = tensor(c.predictions);
    const [value, [grad]] = tf.valueAndGradientsFunction(f)(predictions);
    const loss = fn(labels, predictions, options as never);
    const message = describeCase(c);
    assertStrictEquals(loss.dtype, "float32", message);
    assertClose(loss, tensor(c.expected), { rtol: 1e-5, atol: 1e-6, message });
    assertClose(value, c.expected.values.reduce((a, b) => a + b, 0), { rtol: 1e-5, atol: 1e-5 });
    assertClose(grad, tensor(c.grad), { rtol: 1e-4, atol: 1e-6, message: `${message}: gradient` });
  }
});

Deno.test("reductions also go by their names without weighted_", () => {
  const labels = [[0, 1, 2], [3, 4, 5]], predictions = [[1, 1, 1], [1, 1, 1]];
  const weights = [[1], [0]];
  const pairs: [tf.losses.ReductionName, tf.losses.ReductionName][] = [
    ["sum", "weighted_sum"],
    ["mean", "weighted_mean"],
    ["sum_over_batch_size", "weighted_sum_over_batch_size"],
    ["sum_by_nonzero_weights", "weighted_sum_by_nonzero_weights"],
    ["sum_over_nonzero_weights", "weighted_sum_by_nonzero_weights"],
  ];
  for (const [short, long] of pairs) {
    assertClose(
      tf.losses.absoluteDifference(labels, predictions, { weights, reduction: short }),
      tf.losses.absoluteDifference(labels, predictions, { weights, reduction: long }),
      { message: short },
    );
  }
  // sum 2 over: 6 elements, 3 non-zero weights, weight sum 3 (broadcast), 1 default
  assertClose(tf.losses.absoluteDifference(labels, predictions, { weights }), 2 / 3);
  assertClose(
    tf.losses.absoluteDifference(labels, predictions, { weights, reduction: "mean" }),
    2 / 3,
  );
  assertClose(
    tf.losses.absoluteDifference(labels, predictions, {
      weights,
      reduction: "sum_over_batch_size",
    }),
    2 / 6,
  );
  assertClose(tf.losses.computeWeightedLoss([1, 2, 3], { weights: [1, 0, 1] }), 2);
  assertClose(tf.losses.computeWeightedLoss([1, 2, 3], { reduction: "none", weights: 2 }), [
    2,
    4,
    6,
  ]);
});

const f64 = (x: number[][] | number[]) => tf.constant(x, "float64");

// Finite differences need float64, which lives on the CPU only (the WebGPU run checks the
// device's loss gradients against TensorFlow's above).
Deno.test("loss gradients match finite differences (float64, predictions and weights)", {
  ignore: ON_WEBGPU,
}, () => {
  const labels = rand([3, 4], 11), w = tf.abs(rand([3, 1], 12)).add(0.1);
  const reductions: tf.losses.ReductionName[] = [
    "none",
    "weighted_sum",
    "weighted_mean",
    "weighted_sum_over_batch_size",
    "weighted_sum_by_nonzero_weights",
  ];
  for (const reduction of reductions) {
    checkGradients(
      (p, weights) => tf.losses.meanSquaredError(labels, p, { weights, reduction }),
      [rand([3, 4], 1), w],
    );
    checkGradients(
      (p, weights) => tf.losses.absoluteDifference(labels, p, { weights, reduction }),
      [rand([3, 4], 2), w],
    );
    checkGradients(
      (p) => tf.losses.huberLoss(labels, p, { weights: w, reduction, delta: 0.3 }),
      [rand([3, 4], 3)],
    );
    checkGradients(
      (x) =>
        tf.losses.sigmoidCrossEntropy(tf.abs(labels), x, {
          weights: w,
          reduction,
          labelSmoothing: 0.2,
        }),
      [rand([3, 4], 4, -2, 2)],
    );
    checkGradients(
      (x, weights) =>
        tf.losses.softmaxCrossEntropy(f64([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]]), x, {
          weights,
          reduction,
          labelSmoothing: 0.1,
        }),
      // NOTE: no zero weight here: the non-zero count jumps at 0, so differences there
      // do not give the derivative with respect to that weight.
      [rand([3, 4], 5, -2, 2), f64([0.5, 0.25, 2])],
    );
    checkGradients(
      (x) =>
        tf.losses.sparseSoftmaxCrossEntropy(new Int32Array([3, 0, 2]), x, {
          weights: f64([[1], [2], [0]]),
          reduction,
        }),
      [rand([3, 4], 6, -2, 2)],
    );
  }
});

Deno.test("float64 losses stay float64; all-zero weights give 0 and zero (not missing) gradients", () => {
  const p = rand([2, 3], 1);
  assertStrictEquals(tf.losses.huberLoss(rand([2, 3], 2), p).dtype, "float64");
  const w = new tf.Variable([[1, 2, 3]]);
  const [loss, grads] = tf.implicitValueAndGradients(() =>
    tf.losses.meanSquaredError([[1, 1, 1]], w, { weights: 0 })
  )();
  assertClose(loss, 0);
  assertClose(grads[0][0], [[0, 0, 0]]);
  assertClose(tf.losses.softmaxCrossEntropy([[0, 1]], [[0, 0]], { weights: [0] }), 0);
  // Integer predictions become float32 (TensorFlow 1 casts to float32).
  const ints = tf.losses.meanSquaredError([1, 2], new Int32Array([1, 4]));
  assertStrictEquals(ints.dtype, "float32");
  assertClose(ints, 2);
});

Deno.test("softmaxCrossEntropy passes no gradient to the labels; sparse takes [batch, 1] labels", () => {
  const labels = f64([[0.2, 0.8], [0.5, 0.5]]);
  const [, [dLabels]] = tf.valueAndGradientsFunction((z: tf.Tensor) =>
    tf.losses.softmaxCrossEntropy(z, f64([[1, 2], [3, 1]]))
  )(labels);
  assertClose(dLabels, [[0, 0], [0, 0]]);
  const logits = [[1, 2, 0], [0, 1, 3]];
  assertClose(
    tf.losses.sparseSoftmaxCrossEntropy(tf.constant([[2], [1]], "int32"), logits),
    tf.losses.sparseSoftmaxCrossEntropy(tf.constant([2, 1], "int32"), logits),
  );
  assertClose(
    tf.losses.sparseSoftmaxCrossEntropy([2, 1], logits),
    tf.losses.softmaxCrossEntropy([[0, 0, 1], [0, 1, 0]], logits),
  );
});

Deno.test("a softmax classifier trained with tf.losses and Adam fits its labels", async () => {
  const x = tf.randomNormal([40, 2], { seed: 5 });
  const labels = tf.cast(tf.greater(tf.reduceSum(x, 1), 0), "int32");
  const w = new tf.Variable(tf.zeros([2, 2])), b = new tf.Variable(tf.zeros([2]));
  const opt = new tf.train.AdamOptimizer(0.1);
  const loss = () => tf.losses.sparseSoftmaxCrossEntropy(labels, tf.matmul(x, w).add(b));
  const first = (await loss().data())[0] as number;
  for (let i = 0; i < 100; i++) opt.minimize(loss);
  const last = (await loss().data())[0] as number;
  if (!(last < 0.2 && last < first / 3)) throw new Error(`loss ${first} -> ${last}`);
});

Deno.test("loss errors name the loss and the shapes", () => {
  assertThrowsMatch(
    () => tf.losses.meanSquaredError([1, 2, 3], [1, 2]),
    /meanSquaredError: labels \[3\] and predictions \[2\] differ in shape/,
  );
  assertThrowsMatch(
    () => tf.losses.absoluteDifference([[1, 2, 3]], [[1, 2, 3]], { weights: [1, 2, 3] }),
    /absoluteDifference: weights of shape \[3\] cannot be broadcast to the losses of shape \[1,3\]/,
  );
  assertThrowsMatch(
    () => tf.losses.huberLoss([[1, 2]], [[1, 2]], { weights: [[1, 2, 3]] }),
    /huberLoss: weights of shape \[1,3\] cannot be broadcast/,
  );
  assertThrowsMatch(
    () => tf.losses.huberLoss([1], [1], { delta: 0 }),
    /huberLoss: delta must be a positive number, got 0/,
  );
  assertThrowsMatch(
    () => tf.losses.meanSquaredError([1], [1], { reduction: "average" as never }),
    /meanSquaredError: unknown reduction "average"; expected one of "none", "weighted_sum"/,
  );
  assertThrowsMatch(
    () => tf.losses.sigmoidCrossEntropy([1], [1], { labelSmoothing: 2 }),
    /sigmoidCrossEntropy: labelSmoothing must be a number in \[0, 1\], got 2/,
  );
  assertThrowsMatch(
    () => tf.losses.softmaxCrossEntropy([[1, 0]], [[1, 0, 0]]),
    /softmaxCrossEntropy: onehotLabels \[1,2\] and logits \[1,3\] differ in shape/,
  );
  assertThrowsMatch(
    () => tf.losses.softmaxCrossEntropy([[1, 0]], [[1, 0]], { weights: [[1]] }),
    /softmaxCrossEntropy: weights of shape \[1,1\] cannot be broadcast to the losses of shape \[1\]/,
  );
  if (!ON_WEBGPU) { // (a device read asynchronously cannot report a label's value)
    assertThrowsMatch(
      () => tf.losses.sparseSoftmaxCrossEntropy([3], [[1, 0, 0]]),
      /sparseSoftmaxCrossEntropyWithLogits: labels\[0\] = 3 is not in \[0, 3\)/,
    );
  }
  assertThrowsMatch(
    () => tf.losses.meanSquaredError([1], [1], null as never),
    /meanSquaredError: options must be an object/,
  );
});
