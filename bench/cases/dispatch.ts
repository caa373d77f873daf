/**
 * Dispatch cost: one small op, the same op while a gradient tape records, and a chain
 * of 100 small ops (multiply, add, tanh, exp repeated) on 1-element float32 tensors.
 * @module
 */
import * as tf from "../../mod.ts";
import type { Case } from "../harness.ts";

const small = (size: number) => tf.randomUniform([size]);
const group = "dispatch";

/** The dispatch cases. */
export const dispatchCases: Case[] = [
  {
    id: "add_small",
    label: "add, 1-element float32",
    group,
    kind: "small_add",
    params: { size: 1 },
    ours: ({ size }) => {
      const a = small(size as number), b = small(size as number);
      return { fn: () => tf.add(a, b) };
    },
    targets: [
      { column: "tensorflow", atLeast: 10, text: "small op >= 10x TF eager" },
      { column: "numpy", atLeast: 1, text: "small op faster than NumPy" },
    ],
  },
  {
    id: "add_small_tape",
    label: "add, 1-element, tape recording",
    group,
    kind: "small_add_tape",
    params: { size: 1, inner: 1000 },
    skip: { numpy: "no tape" },
    ours: ({ size, inner }) => {
      const a = small(size as number), b = small(size as number);
      const n = inner as number;
      return {
        fn: () => {
          const tape = new tf.GradientTape();
          tape.watch(a);
          tape.record(() => {
            for (let i = 0; i < n; i++) tf.add(a, b);
          });
        },
        inner: n,
      };
    },
    targets: [{ column: "tensorflow", atLeast: 5, text: "small op with a tape >= 5x TF eager" }],
  },
  {
    id: "chain_100",
    label: "chain of 100 small ops",
    group,
    kind: "chain",
    params: { size: 1, length: 100 },
    ours: ({ size, length }) => {
      const x = small(size as number), c = tf.fill([size as number], 1.01);
      return { fn: () => chain(x, c, (length as number) / 4) };
    },
  },
  {
    id: "chain_100_traced",
    label: "chain of 100 small ops, ours as tf.function",
    group,
    kind: "chain",
    params: { size: 1, length: 100 },
    ours: ({ size, length }) => {
      const x = small(size as number), c = tf.fill([size as number], 1.01);
      const traced = tf.function((y: tf.Tensor) => chain(y, c, (length as number) / 4));
      return { fn: () => traced(x) };
    },
  },
];

/** `rounds` times y = exp(tanh(y * c + c)). */
function chain(x: tf.Tensor, c: tf.Tensor, rounds: number): tf.Tensor {
  let y = x;
  for (let i = 0; i < rounds; i++) y = tf.exp(tf.tanh(tf.add(tf.multiply(y, c), c)));
  return y;
}
