/**
 * Activations (leakyRelu, selu, gelu, silu/swish, softsign, hardSigmoid, logSigmoid),
 * l2Normalize and embeddingLookup: values (NaN, infinities, signed zeros, large inputs) and
 * gradients against TensorFlow (tests/fixtures/einsum.json), gradients and second
 * derivatives against finite differences, and argument errors.
 */
import * as tf from "../mod.ts";
import { replay } from "./einsum_fixtures.ts";
import { assertClose, assertThrowsMatch, ON_WEBGPU, toTestDevice } from "./helpers.ts";
import { checkGradients, checkSecondDerivative, rand, randAway } from "./grad_helpers.ts";

// float64 to 1e-7: TensorFlow keeps leakyRelu's alpha as a float32 attribute and rounds
// gelu's constants to float32; deno-eager computes with the float64 constants.
replay({
  leakyRelu: ([x], o) => tf.nn.leakyRelu(x, { alpha: o.alpha as number | undefined }),
  selu: ([x]) => tf.nn.selu(x),
  gelu: ([x], o) => tf.nn.gelu(x, { approximate: o.approximate as boolean | undefined }),
  silu: ([x], o) => tf.nn.silu(x, { beta: o.beta as number | undefined }),
  swish: ([x]) => tf.nn.swish(x),
  softsign: ([x]) => tf.math.softsign(x),
  hardSigmoid: ([x]) => tf.nn.hardSigmoid(x),
  logSigmoid: ([x]) => tf.math.logSigmoid(x),
  softplus: ([x]) => tf.math.softplus(x),
  l2Normalize: ([x], o) =>
    tf.math.l2Normalize(x, {
      axis: o.axis as number | number[] | undefined,
      epsilon: o.epsilon as number | undefined,
    }),
  // attrs.shards: how many inputs before ids are the shards of one table
  embeddingLookup: (xs, o) =>
    tf.nn.embeddingLookup(o.shards ? xs.slice(0, -1) : xs[0], xs[xs.length - 1], {
      maxNorm: o.maxNorm as number | undefined,
    }),
}, 1e-7);

// Finite differences need float64, which lives on the CPU only (the WebGPU run checks the
// device's gradients against TensorFlow's above).
Deno.test("activations: gradients against finite differences (float64)", {
  ignore: ON_WEBGPU,
}, () => {
  // Away from the kinks at 0 (leakyRelu, selu) and at +-3 (hardSigmoid).
  const x = randAway([3, 4], 1, 0.05);
  checkGradients((t) => tf.nn.leakyRelu(t, { alpha: 0.1 }), [x]);
  checkGradients((t) => tf.nn.selu(t), [x]);
  checkGradients((t) => tf.nn.gelu(t), [x]);
  checkGradients((t) => tf.nn.gelu(t, { approximate: true }), [x]);
  checkGradients((t) => tf.nn.silu(t, { beta: 1.5 }), [x]);
  checkGradients((t) => tf.nn.softsign(t), [x]);
  checkGradients((t) => tf.nn.hardSigmoid(t), [x]);
  checkGradients((t) => tf.math.logSigmoid(t), [x]);
  checkGradients((t) => tf.nn.l2Normalize(t, { axis: -1 }), [x]);
  const ids = tf.constant([[2, 0], [2, 1]], "int32");
  checkGradients((p) => tf.nn.embeddingLookup(p, ids), [rand([3, 2], 2)]);
});

Deno.test("activations: second derivatives (float64)", { ignore: ON_WEBGPU }, () => {
  checkSecondDerivative((t) => tf.nn.gelu(t), rand([5], 3));
  checkSecondDerivative((t) => tf.nn.silu(t), rand([5], 4));
  checkSecondDerivative((t) => tf.nn.selu(t), randAway([5], 5, 0.05));
  checkSecondDerivative((t) => tf.nn.l2Normalize(t), rand([4], 6));
});

Deno.test("activations: a big float32 tensor matches a float64 loop", () => {
  const x = rand([300, 301], 7);
  const v = x.dataSync() as Float64Array;
  const want = Float64Array.from(v, (u) => u / (1 + Math.abs(u)));
  assertClose(
    tf.nn.softsign(toTestDevice(tf.cast(x, "float32"))),
    tf.reshape(tf.constant(want, "float64"), [300, 301]),
    {
      rtol: 1e-6,
      atol: 1e-7,
    },
  );
});

Deno.test("activations: argument errors name the op", () => {
  const i = tf.constant([1, 2], "int32");
  assertThrowsMatch(() => tf.nn.gelu(i), /^gelu: expected a floating-point tensor/);
  assertThrowsMatch(() => tf.nn.selu(i), /^selu: expected a floating-point tensor/);
  assertThrowsMatch(() => tf.nn.silu(i), /^silu: expected a floating-point tensor/);
  assertThrowsMatch(() => tf.math.logSigmoid(i), /^logSigmoid: expected a floating-point/);
  assertThrowsMatch(
    () => tf.nn.leakyRelu(tf.constant([true])),
    /^leakyRelu: expected a numeric tensor/,
  );
  assertThrowsMatch(
    () => tf.nn.l2Normalize([1, 2], { axis: 2 }),
    /^l2Normalize: axis 2 is out of range for a tensor of rank 1/,
  );
  if (!ON_WEBGPU) { // (a device read asynchronously cannot report an index's value)
    assertThrowsMatch(
      () => tf.nn.embeddingLookup([[1, 2]], tf.constant([3], "int32")),
      /^embeddingLookup: /,
    );
  }
  assertThrowsMatch(
    () => tf.nn.embeddingLookup(1, tf.constant([0], "int32")),
    /^embeddingLookup: params needs rank >= 1/,
  );
});

Deno.test("embeddingLookup: shards and maxNorm against finite differences, and errors", {
  ignore: ON_WEBGPU,
}, () => {
  const ids = tf.constant([[4, 0], [3, 6], [2, 2]], "int32");
  checkGradients((a, b) => tf.nn.embeddingLookup([a, b], ids, { maxNorm: 0.5 }), [
    rand([4, 2], 31),
    rand([3, 2], 32),
  ]);
  // One shard, or a nested JS array, is a whole table.
  const table = tf.constant([[1, 2], [3, 4], [5, 6]]);
  assertClose(tf.nn.embeddingLookup([table], tf.constant([2], "int32")), [[5, 6]]);
  const [top, bottom] = [tf.slice(table, [0, 0], [2, 2]), tf.slice(table, [2, 0], [1, 2])];
  assertThrowsMatch(
    () => tf.nn.embeddingLookup([bottom, top], tf.constant([0], "int32")),
    /^embeddingLookup: params shards must split their 3 rows by the "div" strategy \(rows 2, 1\), got rows 1, 2/,
  );
  assertThrowsMatch(
    () => tf.nn.embeddingLookup([top, tf.cast(bottom, "float64")], tf.constant([0], "int32")),
    /^embeddingLookup: params shards must share dtype and row shape/,
  );
  assertThrowsMatch(
    () => tf.nn.embeddingLookup([top, bottom], tf.constant([3], "int32")),
    /^embeddingLookup: /,
  );
});
