/**
 * Issue 22's ops: a batched einsum contraction, topK and sort of 1M float32 values, cumsum of
 * 16M, Cholesky and solve of 1024x1024, a bilinear resize of an ImageNet-sized batch, and a
 * depthwise convolution's forward pass with both gradients under a tape. The goal of each: at
 * least 1.0x the faster of NumPy and TensorFlow (NumPy has no resize or convolution).
 * @module
 */
import * as tf from "../../mod.ts";
import type { Case, Target } from "../harness.ts";

const MILLION = 1 << 20;
const vsPeers = (text: string, numpy = true): Target[] => [
  ...(numpy ? [{ column: "numpy" as const, atLeast: 1.0, text }] : []),
  { column: "tensorflow", atLeast: 1.0, text },
];

/** A symmetric positive definite n x n float32 matrix: m m^T / n + I. */
function spd(n: number): tf.Tensor {
  const m = tf.randomUniform([n, n]);
  return tf.add(tf.divide(tf.matmul(m, m, { transposeB: true }), n), tf.eye(n));
}

/** The cases of the ops. */
export const opsCases: Case[] = [
  {
    id: "einsum_bij_bjk",
    label: "einsum bij,bjk->bik, 64x256x256",
    group: "ops",
    kind: "einsum",
    params: { equation: "bij,bjk->bik", shapes: [[64, 256, 256], [64, 256, 256]] },
    ours: ({ equation, shapes }) => {
      const [a, b] = (shapes as number[][]).map((s) => tf.randomUniform(s));
      return { fn: () => tf.einsum(equation as string, a, b) };
    },
    targets: vsPeers("einsum >= 1.0x the faster peer"),
  },
  {
    id: "topk_1m",
    label: "topK k=100 of 1M float32",
    group: "ops",
    kind: "top_k",
    params: { size: MILLION, k: 100 },
    ours: ({ size, k }) => {
      const x = tf.randomUniform([size as number]);
      return { fn: () => tf.math.topK(x, { k: k as number }).values };
    },
    targets: vsPeers("topK >= 1.0x the faster peer"),
  },
  {
    id: "sort_1m",
    label: "sort 1M float32",
    group: "ops",
    kind: "sort",
    params: { size: MILLION },
    ours: ({ size }) => {
      const x = tf.randomUniform([size as number]);
      return { fn: () => tf.sort(x) };
    },
    targets: vsPeers("sort >= 1.0x the faster peer"),
  },
  {
    id: "cumsum_16m",
    label: "cumsum 16M float32",
    group: "ops",
    kind: "cumsum",
    params: { size: 16 * MILLION },
    ours: ({ size }) => {
      const x = tf.randomUniform([size as number]);
      return { fn: () => tf.cumsum(x) };
    },
    targets: vsPeers("cumsum >= 1.0x the faster peer"),
  },
  {
    id: "cholesky_1024",
    label: "cholesky 1024x1024 float32",
    group: "ops",
    kind: "cholesky",
    params: { n: 1024 },
    ours: ({ n }) => {
      const a = spd(n as number);
      return { fn: () => tf.linalg.cholesky(a) };
    },
    targets: vsPeers("cholesky >= 1.0x the faster peer"),
  },
  {
    id: "solve_1024",
    label: "solve 1024x1024 float32, one right-hand side",
    group: "ops",
    kind: "solve",
    params: { n: 1024 },
    ours: ({ n }) => {
      const a = spd(n as number), b = tf.randomUniform([n as number, 1]);
      return { fn: () => tf.linalg.solve(a, b) };
    },
    targets: vsPeers("solve >= 1.0x the faster peer"),
  },
  ...[112, 299].map((size): Case => ({
    id: `resize_bilinear_${size}`,
    label: `resize bilinear 32x224x224x3 to ${size}x${size}`,
    group: "ops",
    kind: "resize_bilinear",
    params: { shape: [32, 224, 224, 3], size: [size, size] },
    skip: { numpy: "NumPy has no image resize" },
    ours: ({ shape, size }) => {
      const images = tf.randomUniform(shape as number[]);
      return { fn: () => tf.image.resize(images, size as [number, number]) };
    },
    targets: vsPeers("resize >= 1.0x TensorFlow", false),
  })),
  {
    id: "depthwise_fwd_bwd",
    label: "depthwiseConv2d forward + both gradients, 8x56x56x64 * 3x3x64x1 SAME",
    group: "ops",
    kind: "depthwise_fwd_bwd",
    params: { x: [8, 56, 56, 64], filter: [3, 3, 64, 1], strides: 1, padding: "SAME" },
    skip: { numpy: "NumPy has no convolution" },
    ours: ({ x: xs, filter, strides, padding }) => {
      const x = tf.randomUniform(xs as number[]), f = tf.randomUniform(filter as number[]);
      const conv = (a: tf.Tensor, b: tf.Tensor) =>
        tf.nn.depthwiseConv2d(a, b, strides as number, padding as "SAME");
      return {
        fn: () => {
          const tape = new tf.GradientTape();
          tape.watch([x, f]);
          const loss = tape.record(() => tf.reduceSum(conv(x, f)));
          return tape.gradient(loss, [x, f]);
        },
      };
    },
    targets: vsPeers("depthwiseConv2d fwd+bwd >= 1.0x TensorFlow", false),
  },
];
