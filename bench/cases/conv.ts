/**
 * conv2d forward, input gradient and filter gradient (TensorFlow's Conv2D,
 * Conv2DBackpropInput, Conv2DBackpropFilter) for the MNIST model's two layers at batch
 * 100 and a ResNet-50 3x3 stage at batch 8; NHWC float32, stride 1, SAME.
 * @module
 */
import * as tf from "../../mod.ts";
import type { Case, Target } from "../harness.ts";

interface Layer {
  name: string;
  x: number[];
  filter: number[];
  /** The issue sets targets on the MNIST layers only. */
  target: boolean;
}

const LAYERS: Layer[] = [
  { name: "mnist_conv1", x: [100, 28, 28, 1], filter: [5, 5, 1, 32], target: true },
  { name: "mnist_conv2", x: [100, 14, 14, 32], filter: [5, 5, 32, 64], target: true },
  { name: "resnet_3x3", x: [8, 56, 56, 64], filter: [3, 3, 64, 64], target: false },
];

// Measured once: the MNIST conv1 filter gradient took 8.7 s a call in tfjs's cpu backend.
const SLOW_TFJS = "plain-JS loops: seconds to minutes a call";

const PASSES = [
  { kind: "conv2d", id: "forward", label: "forward" },
  { kind: "conv2d_backprop_input", id: "input_grad", label: "input grad" },
  { kind: "conv2d_backprop_filter", id: "filter_grad", label: "filter grad" },
] as const;

function convCase(layer: Layer, pass: typeof PASSES[number]): Case {
  const params = { x: layer.x, filter: layer.filter, strides: 1, padding: "SAME" };
  const targets: Target[] = layer.target
    ? [{ column: "tensorflow", atLeast: 1, text: "MNIST conv2d fwd/bwd >= 1.0x TF" }]
    : [];
  return {
    id: `${layer.name}_${pass.id}`,
    label: `${layer.name} ${layer.x.join("x")} * ${layer.filter.join("x")} ${pass.label}`,
    group: "conv2d",
    kind: pass.kind,
    params,
    skip: {
      numpy: "no conv2d",
      ...(layer.name !== "mnist_conv1" || pass.id === "filter_grad"
        ? { "tfjs-cpu": SLOW_TFJS }
        : {}),
    },
    ours: () => {
      const x = tf.randomUniform(layer.x), f = tf.randomUniform(layer.filter);
      const dy = tf.randomUniform([...tf.nn.conv2d(x, f, 1, "SAME").shape]);
      if (pass.kind === "conv2d") return { fn: () => tf.nn.conv2d(x, f, 1, "SAME") };
      if (pass.kind === "conv2d_backprop_input") {
        return { fn: () => tf.nn.conv2dBackpropInput(layer.x, f, dy, 1, "SAME") };
      }
      return { fn: () => tf.nn.conv2dBackpropFilter(x, layer.filter, dy, 1, "SAME") };
    },
    targets,
  };
}

/** The convolution cases. */
export const convCases: Case[] = LAYERS.flatMap((layer) =>
  PASSES.map((pass) => convCase(layer, pass))
);
