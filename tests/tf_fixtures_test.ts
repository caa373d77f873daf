/**
 * Replays ops computed by real TensorFlow (tests/fixtures/make_tf_fixtures.py wrote
 * tests/fixtures/tf_ops.json) and compares values, dtypes, shapes and printed text.
 */
import * as tf from "../mod.ts";
import type { DType } from "../mod.ts";
import fixtures from "./fixtures/tf_ops.json" with { type: "json" };
import { assertClose, assertEquals, assertThrowsMatch, ON_WEBGPU } from "./helpers.ts";

type Json = { dtype: string; shape: number[]; values: (number | string | boolean)[] };
type Case = {
  name: string;
  op: string;
  inputs: Json[];
  attrs: Record<string, unknown>;
  outputs: Json[];
  printed: string[];
};

function decode(value: number | string | boolean): number | boolean {
  if (value === "nan") return NaN;
  if (value === "inf") return Infinity;
  if (value === "-inf") return -Infinity;
  return typeof value === "string" ? Number(value) : value;
}

function input(j: Json): tf.Tensor {
  const dtype = j.dtype as DType;
  const values = dtype === "int64"
    ? j.values.map((v) => BigInt(v as string))
    : j.values.map(decode);
  return tf.constant(values as number[], dtype, { shape: j.shape });
}

// deno-lint-ignore no-explicit-any
type Attrs = any;
const unary = (fn: (x: tf.TensorLike) => tf.Tensor) => (x: tf.Tensor[]) => fn(x[0]);
const binary = (fn: (a: tf.TensorLike, b: tf.TensorLike) => tf.Tensor) => (x: tf.Tensor[]) =>
  fn(x[0], x[1]);
const reduction = (fn: typeof tf.reduceSum) => (x: tf.Tensor[], a: Attrs) =>
  fn(x[0], a.axis, { keepDims: a.keepDims });

const OPS: Record<string, (x: tf.Tensor[], a: Attrs) => tf.Tensor | tf.Tensor[]> = {
  exp: unary(tf.exp),
  log1p: unary(tf.log1p),
  expm1: unary(tf.expm1),
  tanh: unary(tf.tanh),
  sigmoid: unary(tf.sigmoid),
  softplus: unary(tf.nn.softplus),
  elu: unary(tf.nn.elu),
  relu6: unary(tf.nn.relu6),
  sign: unary(tf.sign),
  round: unary(tf.round),
  erf: unary(tf.erf),
  rsqrt: unary(tf.rsqrt),
  reciprocal: unary(tf.reciprocal),
  atan: unary(tf.atan),
  sinh: unary(tf.sinh),
  add: binary(tf.add),
  subtract: binary(tf.subtract),
  multiply: binary(tf.multiply),
  divide: binary(tf.divide),
  maximum: binary(tf.maximum),
  minimum: binary(tf.minimum),
  pow: binary(tf.pow),
  squaredDifference: binary(tf.squaredDifference),
  floorDiv: binary(tf.floorDiv),
  mod: binary(tf.mod),
  atan2: binary(tf.atan2),
  equal: binary(tf.equal),
  reduceSum: reduction(tf.reduceSum),
  reduceMean: reduction(tf.reduceMean),
  reduceMax: reduction(tf.reduceMax),
  reduceMin: reduction(tf.reduceMin),
  reduceProd: reduction(tf.reduceProd),
  logSumExp: reduction(tf.logSumExp),
  argMax: (x, a) => tf.argMax(x[0], a.axis),
  argMin: (x, a) => tf.argMin(x[0], a.axis),
  norm: (x) => tf.norm(x[0]),
  matmul: (x, a) => tf.matmul(x[0], x[1], a),
  softmax: unary((x) => tf.nn.softmax(x)),
  logSoftmax: unary((x) => tf.nn.logSoftmax(x)),
  sparseSoftmaxCrossEntropyWithLogits: (x) =>
    tf.nn.sparseSoftmaxCrossEntropyWithLogits({ labels: x[0], logits: x[1] }),
  softmaxCrossEntropyWithLogits: (x) =>
    tf.nn.softmaxCrossEntropyWithLogits({ labels: x[0], logits: x[1] }),
  sigmoidCrossEntropyWithLogits: (x) =>
    tf.nn.sigmoidCrossEntropyWithLogits({ labels: x[0], logits: x[1] }),
  l2Loss: unary(tf.nn.l2Loss),
  moments: (x, a) => tf.nn.moments(x[0], a.axes),
  stridedSlice: (x, a) => tf.stridedSlice(x[0], a.begin, a.end, a.strides, a),
  pad: (x, a) => tf.pad(x[0], a.paddings, { mode: a.mode }),
  tile: (x, a) => tf.tile(x[0], a.multiples),
  concat: (x, a) => tf.concat(x, a.axis),
  transpose: (x, a) => tf.transpose(x[0], a.perm),
  reverse: (x, a) => tf.reverse(x[0], a.axis),
  cast: (x, a) => tf.cast(x[0], a.dtype),
  where: (x) => tf.where(x[0], x[1], x[2]),
  range: (_, a) => tf.range(a.start, a.limit, a.delta),
  linspace: (_, a) => tf.linspace(a.start, a.stop, a.num),
  eye: (_, a) => tf.eye(a.numRows, a.numColumns),
};

let printedExactly = 0;
for (const c of fixtures.cases as Case[]) {
  // On WebGPU (no float64): cases with float64 inputs would run on the CPU again, so they are
  // left to the CPU run; those whose result is float64 must fail naming the dtype.
  const float64In = c.inputs.some((j) => j.dtype === "float64");
  const float64Out = c.outputs.some((j) => j.dtype === "float64");
  Deno.test(`matches TensorFlow ${fixtures.tensorflow}: ${c.name}`, {
    ignore: ON_WEBGPU && float64In,
  }, async () => {
    const run = OPS[c.op];
    if (!run) throw new Error(`no replay for op ${c.op}`);
    if (ON_WEBGPU && float64Out) {
      assertThrowsMatch(() => run(c.inputs.map(input), c.attrs), /float64 tensors cannot live on/);
      return;
    }
    const result = run(c.inputs.map(input), c.attrs);
    const outs = Array.isArray(result) ? result : [result];
    assertEquals(outs.length, c.outputs.length);
    for (const [i, out] of outs.entries()) {
      const want = c.outputs[i];
      assertEquals(out.dtype, want.dtype);
      assertEquals([...out.shape], want.shape);
      const tol = out.dtype === "float32" ? { rtol: 2e-6, atol: 1e-6 } : { rtol: 1e-12, atol: 0 };
      assertClose(
        out,
        tf.constant(want.values.map(decode) as number[], "float64", { shape: want.shape }),
        tol,
      );
      // Printing must match character for character when the values agree exactly.
      // (read asynchronously, and printed from a CPU copy: the WebGPU run reads so)
      const exact = out.dtype !== "float32" ||
        Array.from(await out.data(), Number).every((v, k) => Object.is(v, decode(want.values[k])));
      if (exact) assertEquals((await out.cpuAsync()).toString(), c.printed[i]);
      if (exact) printedExactly++;
    }
  });
}

Deno.test("most outputs agree bit for bit with TensorFlow, so their printing was compared", () => {
  if (printedExactly < 50) throw new Error(`only ${printedExactly} outputs were compared as text`);
});
