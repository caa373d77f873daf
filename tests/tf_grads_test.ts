/**
 * Gradients of the core ops against real TensorFlow: tests/fixtures/make_tf_grad_fixtures.py
 * wrote tests/fixtures/tf_grads.json (TensorFlow's gradients of sum(w * f(inputs)), and
 * for order 2 of sum_k sum(v_k * dL/dinput_k)); the same functions are named here.
 */
import * as tf from "../mod.ts";
import fixtures from "./fixtures/tf_grads.json" with { type: "json" };
import { assertClose, assertEquals, ON_WEBGPU } from "./helpers.ts";

type Fn = (...xs: tf.Tensor[]) => tf.Tensor;
type Json = { shape: number[]; values: number[] };
type Case = { name: string; order: number; inputs: Json[]; w: Json; v?: Json[]; grads: Json[] };

const f64 = (j: Json) => tf.constant(j.values, "float64", { shape: j.shape });
/** Inputs and weights in float64, but float32 on the WebGPU device (which has no float64),
 * checked there to float32's precision (every case passed at 2e-5 on llvmpipe; 1e-4 leaves a
 * GPU's rounding room). */
const onDevice = (j: Json) =>
  ON_WEBGPU ? tf.constant(j.values, "float32", { shape: j.shape }) : f64(j);
const TOLERANCE = ON_WEBGPU ? { rtol: 1e-4, atol: 1e-5 } : { rtol: 1e-9, atol: 1e-12 };
const cond = tf.constant([[true, false, true], [false, false, true]]);

/** The fixture script's functions, by name. */
const FUNCTIONS: Record<string, Fn> = {
  "exp": tf.exp,
  "log1p": tf.log1p,
  "rsqrt": tf.rsqrt,
  "tan": tf.tan,
  "acos": tf.acos,
  "erf": tf.erf,
  "abs at 0": tf.abs,
  "relu at 0": tf.nn.relu,
  "relu6 at 0 and 6": tf.nn.relu6,
  "elu at 0": tf.nn.elu,
  "softplus": tf.nn.softplus,
  "floor and round": (x) => tf.floor(x).mul(x).add(tf.round(x)),
  "divide broadcast": tf.divide,
  "pow with non-positive bases": tf.pow,
  "maximum with ties": tf.maximum,
  "minimum with ties": tf.minimum,
  "atan2 broadcast": tf.atan2,
  "mod (floormod)": tf.mod,
  "squared difference": tf.squaredDifference,
  "where broadcast": (a, b) => tf.where(cond, a, b),
  "clip by value at the bounds": (x) => tf.clipByValue(x, -0.5, 0.5),
  "reduce_max ties": (x) => tf.reduceMax(x, 1),
  "reduce_min all with ties": (x) => tf.reduceMin(x),
  "reduce_prod with zeros": (x) => tf.reduceProd(x, 1),
  "reduce_prod over two axes": (x) => tf.reduceProd(x, [0, 2], { keepDims: true }),
  "reduce_mean keepdims": (x) => tf.reduceMean(x, [0, 2], { keepDims: true }),
  "reduce_logsumexp": (x) => tf.logSumExp(x, 1),
  "norm ord 1 with a zero": (x) => tf.norm(x, 1, { ord: 1 }),
  "norm euclidean": (x) => tf.norm(x, [0, 1]),
  "reduce_variance": (x) => tf.reduceVariance(x, 0),
  "reduce_std": (x) => tf.reduceStd(x),
  "matmul transpose_a, transpose_b, batch broadcast": (a, b) =>
    tf.matmul(a, b, { transposeA: true, transposeB: true }),
  "matmul batch broadcast": (a, b) => tf.matmul(a, b),
  "tensordot axis pairs": (a, b) => tf.tensordot(a, b, [[0, 2], [2, 0]]),
  "strided_slice negative strides, new axis": (x) =>
    tf.stridedSlice(x, [3, 0, 0, 2], [0, 0, 0, 0], [-2, 1, 1, -1], { newAxisMask: 2, endMask: 4 }),
  "strided_slice shrink, ellipsis": (x) =>
    tf.stridedSlice(x, [1, 0, 1], [2, 0, 3], [1, 1, 1], { shrinkAxisMask: 1, ellipsisMask: 2 }),
  "pad reflect": (x) => tf.pad(x, [[1, 2], [2, 1]], { mode: "REFLECT" }),
  "pad symmetric": (x) => tf.pad(x, [[0, 1], [2, 2]], { mode: "SYMMETRIC" }),
  "tile": (x) => tf.tile(x, [2, 1, 3]),
  "concat, split, stack": (a, b) => tf.stack(tf.split(tf.concat([a, b, a], 1), 3, 1).reverse(), 2),
  "softmax axis 0": (x) => tf.nn.softmax(x, 0),
  "log_softmax": (x) => tf.nn.logSoftmax(x),
  "softmax cross-entropy (labels and logits)": (labels, logits) =>
    tf.nn.softmaxCrossEntropyWithLogits({ labels, logits }),
  "sparse softmax cross-entropy": (logits) =>
    tf.nn.sparseSoftmaxCrossEntropyWithLogits({ labels: [2, 0, 3], logits }),
  "sigmoid cross-entropy at 0": (labels, logits) =>
    tf.nn.sigmoidCrossEntropyWithLogits({ labels, logits }),
  "bias_add NCHW": (x, b) => tf.nn.biasAdd(x, b, "NCHW"),
  "batch_normalization": (x, m, v, o, s) => tf.nn.batchNormalization(x, m, v, o, s, 1e-3),
  "moments variance keepdims": (x) => tf.nn.moments(x, [0, 2], { keepDims: true })[1],
  "l2_loss": (x) => tf.nn.l2Loss(x),
  "exp, order 2": tf.exp,
  "tanh, order 2": tf.tanh,
  "sigmoid times x, order 2": (x) => tf.sigmoid(x).mul(x),
  "divide, order 2": tf.divide,
  "pow, order 2": tf.pow,
  "matmul squared, order 2": (a, b) => tf.square(tf.matmul(a, b, { transposeA: true })),
  "softmax, order 2": (x) => tf.nn.softmax(x),
  "reduce_prod, order 2": (x) => tf.reduceProd(x, 1),
  "log_sum_exp, order 2": (x) => tf.logSumExp(x, 0),
};

const cases = fixtures.cases as Case[];

Deno.test("every TensorFlow gradient fixture has its function here", () => {
  assertEquals(cases.map((c) => c.name).sort(), Object.keys(FUNCTIONS).sort());
});

for (const c of cases) {
  Deno.test(`TensorFlow gradient: ${c.name}`, () => {
    const f = FUNCTIONS[c.name], w = onDevice(c.w);
    const first = tf.gradientsFunction((...xs: tf.Tensor[]) => tf.reduceSum(f(...xs).mul(w)));
    const vs = (c.v ?? []).map(onDevice);
    const grads = c.order === 1
      ? first
      : tf.gradientsFunction((...xs: tf.Tensor[]) =>
        tf.addN(first(...xs).map((g, k) => tf.reduceSum(g.mul(vs[k]))))
      );
    grads(...c.inputs.map(onDevice)).forEach((g, k) => {
      assertClose(g, f64(c.grads[k]), { ...TOLERANCE, message: `input ${k}` });
    });
  });
}
