/**
 * Run by tests/gemm_backend_test.ts in a process of its own, because the GEMM backend is
 * one setting for the whole process (parallel test files share it). Makes the same
 * float32 products, each large enough for oneDNN (m * n * k >= 2^21), once on the
 * backend the environment chose and once with every product forced onto OpenBLAS, and
 * prints one JSON report: the backend in force at the start and after each switch, and
 * per result of each product the relative error of both runs (see relativeError) and
 * whether the two runs gave bitwise the same values.
 */
import * as tf from "../../mod.ts";
import { native } from "../../src/native/lib.ts";

const OPENBLAS = 1;

/** A product's float32 inputs and the ops to run on them (of any float dtype). */
type Product = { name: string; inputs: tf.Tensor[]; op: (...inputs: tf.Tensor[]) => tf.Tensor[] };

const uniform = (shape: number[], seed: number) =>
  tf.randomUniform(shape, { minval: -1, maxval: 1, seed });

/** matmul of [m, k] by [k, n], each operand stored transposed when asked. */
function matmulCase(m: number, k: number, n: number, ta: boolean, tb: boolean): Product {
  return {
    name: `matmul ${m}x${k}x${n}${ta ? " A^T" : ""}${tb ? " B^T" : ""}`,
    inputs: [uniform(ta ? [k, m] : [m, k], m + k), uniform(tb ? [n, k] : [k, n], n + 1)],
    op: (a, b) => [tf.matmul(a, b, { transposeA: ta, transposeB: tb })],
  };
}

/** A SAME conv and its two gradients for dy = ones: [y, dx, dfilter]. */
function convCase(name: string, xShape: number[], filterShape: number[]): Product {
  const grads = tf.gradientsFunction((x: tf.Tensor, f: tf.Tensor) =>
    tf.reduceSum(tf.nn.conv2d(x, f, 1, "SAME"))
  );
  return {
    name,
    inputs: [uniform(xShape, xShape[3]), uniform(filterShape, filterShape[3])],
    op: (x, f) => [tf.nn.conv2d(x, f, 1, "SAME"), ...grads(x, f)],
  };
}

// oneDNN takes the products whose B is read as stored or is a transposed B of at most 2^20
// elements (csrc/kernels/gemm.c); a larger transposed B stays on OpenBLAS whatever the
// backend.
const products: Product[] = [
  matmulCase(256, 1000, 256, false, false),
  matmulCase(129, 1001, 65, false, false),
  matmulCase(200, 1000, 300, true, false),
  matmulCase(129, 1001, 65, false, true),
  matmulCase(64, 1000, 48, true, true),
  matmulCase(8, 1100, 1000, false, true),
  {
    name: "batched matmul 3x128x1000 by 1x1000x160",
    inputs: [uniform([3, 128, 1000], 5), uniform([1, 1000, 160], 6)],
    op: (a, b) => [tf.matmul(a, b)],
  },
  // 1x1 convs are plain GEMMs; 3x3 over 192 channels (k = 1728) takes the im2col path,
  // whose filter gradient accumulates (beta 1) into its output. Their input gradients
  // read the filter transposed.
  convCase("pointwise conv 2x16x16x128 -> 64", [2, 16, 16, 128], [1, 1, 128, 64]),
  convCase("im2col conv 1x8x8x192 -> 32", [1, 8, 8, 192], [3, 3, 192, 32]),
];

/**
 * The largest |got - exact| over the largest sum of |terms| of an output element: the
 * float64 ops on float64 copies of the inputs (exact copies) give `exact`, and on their
 * absolute values the sums of |terms| (every op here is linear in each input).
 */
function relativeError(got: tf.Tensor, exact: tf.Tensor, bound: tf.Tensor): number {
  const largest = (t: tf.Tensor) => Number(tf.reduceMax(t).dataSync()[0]);
  return largest(tf.abs(tf.subtract(tf.cast(got, "float64"), exact))) / largest(bound);
}

const report = {
  start: native.eager_set_gemm_backend(-1),
  forced: 0,
  restored: 0,
  products: [] as { name: string; backend: number[]; openblas: number[]; same: boolean[] }[],
};
for (const { name, inputs, op } of products) {
  const backend = op(...inputs);
  report.forced = native.eager_set_gemm_backend(OPENBLAS);
  const openblas = op(...inputs);
  report.restored = native.eager_set_gemm_backend(report.start); // back to the env's choice
  const f64 = inputs.map((t) => tf.cast(t, "float64"));
  const exact = op(...f64), bound = op(...f64.map((t) => tf.abs(t)));
  report.products.push({
    name,
    backend: backend.map((t, i) => relativeError(t, exact[i], bound[i])),
    openblas: openblas.map((t, i) => relativeError(t, exact[i], bound[i])),
    same: backend.map((t, i) => {
      const other = openblas[i].dataSync();
      return t.dataSync().every((v, j) => v === other[j]);
    }),
  });
}
console.log(JSON.stringify(report));
