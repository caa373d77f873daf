import * as tf from "../mod.ts";
import {
  assertClose,
  assertEquals,
  assertThrowsMatch,
  ON_WEBGPU,
  randomValues,
  readNow,
} from "./helpers.ts";

/** `round` rounds x - max as the tensor's dtype does (float32: Math.fround). */
function softmaxRef(row: number[], round = (v: number) => v): number[] {
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp(round(v - m)));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

Deno.test("softmax and logSoftmax along any axis, stable for large logits", () => {
  const values = randomValues(12, 3, -5, 5);
  const x = tf.constant(values, "float64").reshape([3, 4]);
  const rows = [0, 1, 2].map((i) => softmaxRef(values.slice(i * 4, i * 4 + 4)));
  assertClose(tf.nn.softmax(x), rows, { rtol: 1e-12 });
  assertClose(tf.nn.logSoftmax(x), rows.map((r) => r.map(Math.log)), { rtol: 1e-12 });
  assertClose(tf.nn.softmax(x.transpose(), 0), tf.transpose(tf.nn.softmax(x)), { rtol: 1e-12 });
  assertClose(tf.nn.softmax([1000, 1000]), [0.5, 0.5]);
  assertClose(tf.nn.logSoftmax([1000, 0]), [0, -1000]);
  assertThrowsMatch(
    () => tf.nn.softmax(tf.constant([1], "int32")),
    /softmax: logits must be float32/,
  );
  assertThrowsMatch(() => tf.nn.softmax([1, 2], 1), /softmax: axis 1 is out of range/);
});

Deno.test("float32 softmax over the last axis (the fused kernel): long rows, tails, specials", () => {
  // Row lengths around the kernel's 64 lanes, values wide enough for subnormal outputs.
  for (const cols of [1, 63, 64, 65, 200]) {
    const values = randomValues(3 * cols, cols, -60, 60);
    const x = tf.constant(values, "float32").reshape([3, cols]);
    const f32 = Array.from(readNow(x) as Float32Array);
    const rows = [0, 1, 2].map((i) => softmaxRef(f32.slice(i * cols, (i + 1) * cols), Math.fround));
    // WGSL's exp may err by 3 + 2|x| ulp (|x| up to 120 here: 3e-5) and flush subnormal
    // results to 0 (llvmpipe does both): the CPU's bounds are tighter.
    const tol = ON_WEBGPU ? { rtol: 3e-5, atol: 2 ** -126 } : { rtol: 2e-6, atol: 1e-44 };
    assertClose(tf.nn.softmax(x), rows, tol);
    const logs = rows.map((r, i) => {
      const row = f32.slice(i * cols, (i + 1) * cols), m = Math.max(...row);
      const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
      return r.map((_, j) => row[j] - Math.fround(lse));
    });
    assertClose(tf.nn.logSoftmax(x), logs, { rtol: 2e-6, atol: 2e-5 });
  }
  const specials = tf.constant([
    [0, -Infinity, 1, -Infinity],
    [NaN, 0, 1, 2],
    [-Infinity, -Infinity, -Infinity, -Infinity],
    [-200, 0, -200, -87.5],
  ], "float32");
  const e = Math.E;
  assertClose(tf.nn.softmax(specials), [
    [1 / (1 + e), 0, e / (1 + e), 0],
    [NaN, NaN, NaN, NaN],
    [NaN, NaN, NaN, NaN],
    [0, 1, 0, Math.exp(-87.5)], // a subnormal: 0 where the device flushes them
  ], { rtol: 2e-6, atol: ON_WEBGPU ? 2 ** -126 : 1e-44 });
  assertClose(tf.nn.logSoftmax(specials).slice([0, 0], [1, 4]), [
    [-Math.log(1 + e), -Infinity, 1 - Math.log(1 + e), -Infinity],
  ], { rtol: 2e-6 });
  assertEquals(tf.nn.softmax(tf.zeros([2, 0])).shape, [2, 0]);
  assertThrowsMatch(() => tf.nn.softmax(tf.constant(3, "float32")), /softmax: axis -1/);
});

Deno.test("cross-entropy losses", () => {
  // float32 on WebGPU (no float64 there), to float32's precision.
  const dtype = ON_WEBGPU ? "float32" : "float64";
  const tight = ON_WEBGPU ? 2e-6 : 1e-12;
  const logits = tf.constant([[2, 1, 0.1], [0.5, 2.5, 0.3]], dtype);
  const labels = [0, 1];
  const log = (r: number[]) => softmaxRef(r).map(Math.log);
  const want = [-log([2, 1, 0.1])[0], -log([0.5, 2.5, 0.3])[1]];
  assertClose(tf.nn.sparseSoftmaxCrossEntropyWithLogits({ labels, logits }), want, { rtol: tight });
  const dense = tf.constant([[1, 0, 0], [0, 1, 0]], dtype);
  assertClose(tf.nn.softmaxCrossEntropyWithLogits({ labels: dense, logits }), want, {
    rtol: tight,
  });
  const z = [1, 0, 1], xs = [-2, 0.5, 30];
  const ref = xs.map((x, i) =>
    -(z[i] * Math.log(1 / (1 + Math.exp(-x))) + (1 - z[i]) * Math.log(1 - 1 / (1 + Math.exp(-x))))
  );
  assertClose(
    tf.nn.sigmoidCrossEntropyWithLogits({ labels: z, logits: tf.constant(xs, dtype) }),
    ref,
    ON_WEBGPU ? { rtol: 2e-6, atol: 1e-6 } : { rtol: 1e-9, atol: 1e-12 },
  );
  // A label out of range is found by the kernel: the CPU's reports it (a device read
  // asynchronously cannot: docs/webgpu.md, "Indices").
  if (!ON_WEBGPU) {
    assertThrowsMatch(
      () => tf.nn.sparseSoftmaxCrossEntropyWithLogits({ labels: [3, 0], logits }),
      /sparseSoftmaxCrossEntropyWithLogits: labels\[0\] = 3 is not in \[0, 3\)/,
    );
  }
  assertThrowsMatch(
    () => tf.nn.sparseSoftmaxCrossEntropyWithLogits({ labels: [0.5, 0], logits }),
    /labels must be int32 or int64/,
  );
  assertThrowsMatch(
    () => tf.nn.softmaxCrossEntropyWithLogits({ labels: [[1, 0]], logits }),
    /labels \[1,2\] and logits \[2,3\] differ in shape/,
  );
});

Deno.test("biasAdd, l2Loss, moments, batchNormalization", () => {
  assertClose(tf.nn.biasAdd([[1, 2]], [10, 20]), [[11, 22]]);
  const nchw = tf.zeros([1, 2, 2, 2]);
  assertClose(tf.nn.biasAdd(nchw, [1, 2], "NCHW").slice([0, 1, 0, 0], [1, 1, 1, 1]).reshape([1]), [
    2,
  ]);
  assertThrowsMatch(
    () => tf.nn.biasAdd([[1, 2]], [1, 2, 3]),
    /biasAdd: bias \[3\] must be a vector/,
  );
  assertClose(tf.nn.l2Loss([1, 2]), 2.5);
  const [mean, variance] = tf.nn.moments([[1, 2], [3, 4]], [0]);
  assertClose(mean, [2, 3]);
  assertClose(variance, [1, 1]);
  const [m2, v2] = tf.nn.moments([[1, 2], [3, 4]], [0, 1], { keepDims: true });
  assertEquals(m2.shape, [1, 1]);
  assertClose(v2, [[1.25]]);
  assertClose(tf.nn.batchNormalization([1, 3], 2, 1, 0, 1, 0), [-1, 1]);
  assertClose(tf.nn.batchNormalization([1, 3], 2, 1, 10, 2, 0), [8, 12]);
  assertClose(tf.nn.batchNormalization([1, 3], 2, 1, null, null, 3), [-0.5, 0.5]);
});
