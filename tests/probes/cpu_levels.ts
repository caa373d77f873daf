/**
 * Run by tests/cpu_level_test.ts in a process of its own, because the CPU level is one
 * setting for the whole process (parallel test files share the library). Computes the
 * same ops at every level this CPU runs (eager_set_cpu_level) and prints one JSON report:
 * per op and level, the largest difference from the best level's result relative to that
 * result's largest magnitude, and whether the two are bitwise the same.
 */
import * as tf from "../../mod.ts";
import { CPU_LEVELS } from "../../src/native/cpu_level.ts";
import { native } from "../../src/native/lib.ts";

const uniform = (shape: number[], seed: number) =>
  tf.randomUniform(shape, { minval: -2, maxval: 2, seed });

const v = uniform([5000], 1), w = uniform([5000], 2);
const image = uniform([2, 13, 14, 16], 3);
const filter5 = uniform([5, 5, 16, 32], 4), filter3 = uniform([3, 3, 16, 32], 5);
const conv = (f: tf.Tensor) =>
  tf.gradientsFunction((x: tf.Tensor, k: tf.Tensor) =>
    tf.reduceSum(tf.square(tf.nn.conv2d(x, k, 1, "SAME")))
  )(image, f);
// Short k into >= 1 MiB; 301 rows and 101 vectors of 16 columns leave a partial tile of
// rows and of columns at every level's tile size.
const wide = uniform([301, 64], 6), tall = uniform([64, 1616], 7);
// Stride 2 and 48 output channels: the padded direct kernels (not Winograd), with a
// partial tile of channels; one input channel: the narrow input-gradient kernel.
const filter48 = uniform([5, 5, 16, 48], 8);
const mono = uniform([2, 15, 13, 1], 9), filterMono = uniform([5, 5, 1, 32], 10);
const strided = tf.gradientsFunction((x: tf.Tensor, k: tf.Tensor) =>
  tf.reduceSum(tf.square(tf.nn.conv2d(x, k, 2, "SAME")))
);
const monoGrads = tf.gradientsFunction((x: tf.Tensor, k: tf.Tensor) =>
  tf.reduceSum(tf.square(tf.nn.conv2d(x, k, 1, "SAME")))
);

/** Each op's float32 outputs, flattened. */
const ops: Record<string, () => tf.Tensor[]> = {
  "add, multiply, maximum": () => [tf.add(v, w), tf.multiply(v, w), tf.maximum(v, w)],
  "exp, tanh, sigmoid, log1p": () => [
    tf.exp(v),
    tf.tanh(v),
    tf.sigmoid(v),
    tf.log1p(tf.abs(v)),
  ],
  "reduceSum, reduceMax, argMax": () => [
    tf.reduceSum(tf.reshape(v, [50, 100]), 1),
    tf.reduceMax(tf.reshape(v, [50, 100]), 0),
    tf.cast(tf.argMax(tf.reshape(v, [50, 100]), 1), "float32"),
  ],
  "softmax, logSoftmax": () => [
    tf.nn.softmax(tf.reshape(v, [50, 100])),
    tf.nn.logSoftmax(tf.reshape(v, [50, 100])),
  ],
  "matmul (short k), matmul (BLAS)": () => [
    tf.matmul(wide, tall),
    tf.matmul(tall, wide, {
      transposeA: true,
      transposeB: true,
    }),
  ],
  "conv2d 5x5 (Winograd) and gradients":
    () => [tf.nn.conv2d(image, filter5, 1, "SAME"), ...conv(filter5)],
  "conv2d 3x3 (Winograd) and gradients":
    () => [tf.nn.conv2d(image, filter3, 1, "SAME"), ...conv(filter3)],
  "conv2d strided, 1 channel (direct kernels) and gradients": () => [
    tf.nn.conv2d(image, filter48, 2, "SAME"),
    ...strided(image, filter48),
    tf.nn.conv2d(mono, filterMono, 1, "SAME"),
    ...monoGrads(mono, filterMono),
  ],
  "maxPool, avgPool": () => [
    tf.nn.maxPool(image, 3, 2, "SAME"),
    tf.nn.avgPool(image, 3, 2, "SAME"),
  ],
  "randomUniform, randomNormal": () => {
    tf.random.setSeed(9); // the same values at every level, not the next ones
    return [tf.randomUniform([1000], { seed: 9 }), tf.randomNormal([1000], { seed: 10 })];
  },
};

const levels = CPU_LEVELS.filter((_, code) => native.eager_cpu_levels() & (1 << code));
const best = native.eager_cpu_level();
const results = new Map<string, Float32Array[]>(); // `${op} ${level}` -> outputs
for (const level of levels) {
  native.eager_set_cpu_level(CPU_LEVELS.indexOf(level));
  for (const [name, op] of Object.entries(ops)) {
    results.set(`${name} ${level}`, op().map((t) => t.dataSync() as Float32Array));
  }
}
native.eager_set_cpu_level(best);

const report: { op: string; level: string; relative: number; same: boolean }[] = [];
for (const name of Object.keys(ops)) {
  const reference = results.get(`${name} ${CPU_LEVELS[best]}`)!;
  for (const level of levels) {
    const got = results.get(`${name} ${level}`)!;
    let relative = 0, same = true;
    got.forEach((out, i) => {
      const ref = reference[i];
      const scale = ref.reduce((m, x) => Math.max(m, Math.abs(x)), 0) || 1;
      out.forEach((x, j) => {
        if (!Object.is(x, ref[j])) same = false;
        relative = Math.max(relative, Math.abs(x - ref[j]) / scale);
      });
    });
    report.push({ op: name, level, relative, same });
  }
}
console.log(JSON.stringify({ levels, best: CPU_LEVELS[best], report }));
