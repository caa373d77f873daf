/**
 * Kernels: matmul at four sizes, elementwise add and exp and a full reduceSum over 16M
 * elements, softmax over the rows of a 1024x1024 matrix; all float32.
 * @module
 */
import * as tf from "../../mod.ts";
import type { Case } from "../harness.ts";

const BIG = 16 << 20;
const vsNumpy = (text: string) => [{ column: "numpy" as const, atLeast: 0.95, text }];

function matmulCase(n: number): Case {
  return {
    id: `matmul_${n}`,
    label: `matmul ${n}x${n} float32`,
    group: "kernels",
    kind: "matmul",
    params: { n },
    // TensorFlow.js's CPU backend runs matmul in plain JS (about 1 GFLOP/s here).
    skip: n >= 2048 ? { "tfjs-cpu": "about 25 s a call" } : undefined,
    ours: () => {
      const a = tf.randomUniform([n, n]), b = tf.randomUniform([n, n]);
      return { fn: () => tf.matmul(a, b) };
    },
    targets: vsNumpy("matmul >= 0.95x NumPy"),
  };
}

/** The kernel cases. */
export const mathCases: Case[] = [
  ...[64, 256, 1024, 2048].map(matmulCase),
  {
    id: "add_16m",
    label: "add, 16M float32",
    group: "kernels",
    kind: "add",
    params: { size: BIG },
    ours: ({ size }) => {
      const a = tf.randomUniform([size as number]), b = tf.randomUniform([size as number]);
      return { fn: () => tf.add(a, b) };
    },
    targets: vsNumpy("elementwise >= 0.95x NumPy"),
  },
  {
    // A size where one kernel takes tens of microseconds, so that handing half of it to a
    // second thread must cost less than that thread's wake-up (csrc/thread_pool.c).
    id: "add_256k",
    label: "add, 256K float32",
    group: "kernels",
    kind: "add",
    params: { size: 1 << 18 },
    ours: ({ size }) => {
      const a = tf.randomUniform([size as number]), b = tf.randomUniform([size as number]);
      return { fn: () => tf.add(a, b) };
    },
    targets: vsNumpy("elementwise >= 0.95x NumPy"),
  },
  {
    id: "exp_16m",
    label: "exp, 16M float32",
    group: "kernels",
    kind: "exp",
    params: { size: BIG },
    ours: ({ size }) => {
      const a = tf.randomUniform([size as number]);
      return { fn: () => tf.exp(a) };
    },
    targets: vsNumpy("elementwise >= 0.95x NumPy"),
  },
  {
    id: "reduce_sum_16m",
    label: "reduceSum, 16M float32",
    group: "kernels",
    kind: "reduce_sum",
    params: { size: BIG },
    ours: ({ size }) => {
      const a = tf.randomUniform([size as number]);
      return { fn: () => tf.reduceSum(a) };
    },
  },
  {
    id: "softmax_1024",
    label: "softmax 1024x1024",
    group: "kernels",
    kind: "softmax",
    params: { shape: [1024, 1024] },
    ours: ({ shape }) => {
      const x = tf.randomUniform(shape as number[]);
      return { fn: () => tf.nn.softmax(x) };
    },
  },
];
