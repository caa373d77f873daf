/**
 * tf.nn.fusedBatchNorm (src/ops/batch_norm.ts, csrc/kernels/batch_norm.c) against the
 * op-by-op form (moments and batchNormalization) for channels last and NCHW, training and
 * inference, with and without scale and offset; its gradients against finite differences
 * in float64, second derivatives included; and its errors.
 */
import * as tf from "../mod.ts";
import { assertClose, assertThrowsMatch, ON_WEBGPU } from "./helpers.ts";
import { checkGradients, checkSecondDerivative, rand } from "./grad_helpers.ts";

/** The op-by-op reference along `axis`: [y, mean, variance]. */
function reference(
  x: tf.Tensor,
  scale: tf.Tensor | null,
  offset: tf.Tensor | null,
  axis: number,
  epsilon: number,
  given?: [tf.Tensor, tf.Tensor],
) {
  const along = x.shape.map((d, i) => (i === axis ? d : 1));
  const others = x.shape.map((_, i) => i).filter((i) => i !== axis);
  const [mean, variance] = given ?? tf.nn.moments(x, others);
  const b = (t: tf.Tensor | null) => t && t.reshape(along);
  const y = tf.nn.batchNormalization(x, b(mean)!, b(variance)!, b(offset), b(scale), epsilon);
  return [y, mean, variance];
}

const CASES: { shape: number[]; axis: number }[] = [
  { shape: [4, 3, 5, 6], axis: 3 },
  { shape: [2, 6, 3, 4], axis: 1 },
  { shape: [300, 2], axis: 1 },
  { shape: [5], axis: 0 },
];

Deno.test("fusedBatchNorm equals the op-by-op form: training and inference, any channel axis", () => {
  for (const dtype of ["float32", "float64"] as const) {
    const tol = dtype === "float32" ? { rtol: 2e-5, atol: 2e-5 } : { rtol: 1e-11, atol: 1e-12 };
    for (const { shape, axis } of CASES) {
      const c = shape[axis];
      const x = tf.randomNormal(shape, { seed: 3, dtype, mean: 2, stddev: 3 });
      const scale = tf.randomNormal([c], { seed: 4, dtype });
      const offset = tf.randomNormal([c], { seed: 5, dtype });
      for (const [g, b] of [[scale, offset], [null, null]] as const) {
        const got = tf.nn.fusedBatchNorm(x, g, b, { axis, epsilon: 1e-3 });
        const want = reference(x, g, b, axis, 1e-3);
        got.forEach((t, i) => assertClose(t, want[i], { ...tol, message: `${shape} ${i}` }));
        const mean = tf.randomNormal([c], { seed: 6, dtype });
        const variance = tf.randomUniform([c], { seed: 7, dtype, minval: 0.5, maxval: 2 });
        const [y] = tf.nn.fusedBatchNorm(x, g, b, { axis, isTraining: false, mean, variance });
        assertClose(y, reference(x, g, b, axis, 1e-3, [mean, variance])[0], tol);
      }
    }
  }
});

// float64 finite differences with float64 operands: the CPU run's.
Deno.test("fusedBatchNorm's gradients match finite differences (first and second order)", {
  ignore: ON_WEBGPU,
}, () => {
  for (const { shape, axis } of [{ shape: [3, 2, 2], axis: 2 }, { shape: [2, 3, 2], axis: 1 }]) {
    const c = shape[axis];
    const x = rand(shape, 1), scale = rand([c], 2), offset = rand([c], 3);
    checkGradients((a, g, b) => tf.nn.fusedBatchNorm(a, g, b, { axis })[0], [x, scale, offset]);
    const mean = rand([c], 4), variance = rand([c], 5, 0.5, 2);
    const infer = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
      tf.nn.fusedBatchNorm(a, g, b, { axis, isTraining: false, mean, variance })[0];
    checkGradients(infer, [x, scale, offset]);
    checkGradients((a) => tf.nn.fusedBatchNorm(a, null, null, { axis })[0], [x]);
    checkSecondDerivative((a, g) => tf.nn.fusedBatchNorm(a, g, null, { axis })[0], [x, scale]);
  }
});

Deno.test("fusedBatchNorm rejects bad arguments, naming the op", () => {
  const x = tf.zeros([2, 3]);
  assertThrowsMatch(
    () => tf.nn.fusedBatchNorm(x, tf.ones([2]), null),
    /fusedBatchNorm: scale must be float32 \[3\]/,
  );
  assertThrowsMatch(
    () => tf.nn.fusedBatchNorm(x, null, null, { isTraining: false }),
    /fusedBatchNorm: mean and variance are required/,
  );
  assertThrowsMatch(
    () => tf.nn.fusedBatchNorm(tf.zeros([2], "int32"), null, null),
    /float32 or float64/,
  );
  assertThrowsMatch(() => tf.nn.fusedBatchNorm(x, null, null, { axis: 2 }), /fusedBatchNorm/);
  assertThrowsMatch(() => tf.nn.fusedBatchNorm(x, null, null, { epsilon: -1 }), /epsilon must be/);
});

// float64 finite differences with float64 operands: the CPU run's.
Deno.test("fusedBatchNorm with relu equals relu of it; gradients through the fused mask", {
  ignore: ON_WEBGPU,
}, () => {
  for (const { shape, axis } of CASES) {
    const c = shape[axis];
    const x = tf.randomNormal(shape, { seed: 8, dtype: "float64" });
    const scale = tf.randomNormal([c], { seed: 9, dtype: "float64" });
    const offset = tf.randomNormal([c], { seed: 10, dtype: "float64" });
    const [y] = tf.nn.fusedBatchNorm(x, scale, offset, { axis, relu: true });
    const [plain] = tf.nn.fusedBatchNorm(x, scale, offset, { axis });
    assertClose(y, tf.nn.relu(plain), { rtol: 1e-14, atol: 1e-15 });
  }
  for (const { shape, axis } of [{ shape: [3, 2, 2], axis: 2 }, { shape: [2, 3, 2], axis: 1 }]) {
    const c = shape[axis];
    const x = rand(shape, 21), scale = rand([c], 22), offset = rand([c], 23, -0.2, 0.2);
    checkGradients((a, g, b) => tf.nn.fusedBatchNorm(a, g, b, { axis, relu: true })[0], [
      x,
      scale,
      offset,
    ]);
    const mean = rand([c], 24), variance = rand([c], 25, 0.5, 2);
    checkGradients(
      (a, g) =>
        tf.nn.fusedBatchNorm(a, g, null, {
          axis,
          relu: true,
          isTraining: false,
          mean,
          variance,
        })[0],
      [x, scale],
    );
  }
  const bn = new tf.layers.BatchNormalization({ fused: false });
  const x = tf.randomNormal([4, 3], { seed: 12 });
  const a = bn.applyWithRelu(x, { training: false });
  assertClose(a, tf.nn.relu(bn.apply(x)));
  assertThrowsMatch(
    () => tf.nn.fusedBatchNorm(x, null, null, { relu: 1 as unknown as boolean }),
    /relu must be a boolean/,
  );
});
