/**
 * The TensorFlow.js peer of `deno task bench`, run under Deno as its own process:
 * `deno run -A bench/peers/tfjs.ts cpu|wasm`. Answers each case the harness sends
 * (protocol and timing rule: ../harness.ts). Every result is disposed, as tfjs users
 * must; a small op's cost includes that dispose. A case's inputs live from its first
 * round to the next case.
 * @module
 */
// NOTE: full npm: specifiers, not deno.json's import map: TensorFlow.js is bench-only and its
// lock entries live in bench/deno.lock (bench/lock.ts says why).
// deno-lint-ignore no-import-prefix
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
// deno-lint-ignore no-import-prefix
import "npm:@tensorflow/tfjs-backend-wasm@4.22.0";
import { type CaseSpec, type Column, measure, type Result, serve, type Timed } from "../harness.ts";

const backend = Deno.args[0] ?? "cpu";
const column = `tfjs-${backend}` as Column;
await tf.setBackend(backend);
await tf.ready();

type Params = Record<string, unknown>;
type Shape = number[];

/** What the current case created and must dispose when it is done (inputs, models). */
let created: { dispose(): void }[] = [];
const keep = <T extends { dispose(): void }>(t: T): T => (created.push(t), t);
const uniform = (shape: Shape) => keep(tf.randomUniform(shape, 0, 1, "float32"));
/** Times an op whose result is disposed after each call. */
const op = (fn: () => tf.Tensor): Timed => ({ fn: () => fn().dispose() });

function convArgs(p: Params) {
  const x = uniform(p.x as Shape) as tf.Tensor4D, f = uniform(p.filter as Shape) as tf.Tensor4D;
  const pad = (p.padding as string).toLowerCase() as "same" | "valid";
  const strides = p.strides as number;
  const [n, h, w] = p.x as Shape, out = (p.filter as Shape)[3];
  // SAME padding (the only one the cases use): the output keeps ceil(size / stride).
  const dy = uniform([n, Math.ceil(h / strides), Math.ceil(w / strides), out]);
  return { x, f, dy, pad, strides };
}

function mnistModel(): tf.Sequential {
  const conv = { padding: "same", activation: "relu" } as const;
  const pool = { poolSize: 2, strides: 2, padding: "same" } as const;
  return tf.sequential({
    layers: [
      tf.layers.reshape({ targetShape: [28, 28, 1], inputShape: [784] }),
      tf.layers.conv2d({ filters: 32, kernelSize: 5, ...conv }),
      tf.layers.maxPooling2d(pool),
      tf.layers.conv2d({ filters: 64, kernelSize: 5, ...conv }),
      tf.layers.maxPooling2d(pool),
      tf.layers.flatten(),
      tf.layers.dense({ units: 1024, activation: "relu" }),
      tf.layers.dropout({ rate: 0.5 }),
      tf.layers.dense({ units: 10 }),
    ],
  });
}

const KINDS: Record<string, (p: Params) => Timed> = {
  small_add: (p) => {
    const a = uniform([p.size as number]), b = uniform([p.size as number]);
    return op(() => tf.add(a, b));
  },
  small_add_tape: (p) => {
    // tfjs records ops only inside tf.grad and friends: one tf.grad over `inner` adds
    // (its backward pass touches only the last add).
    const a = uniform([p.size as number]), b = uniform([p.size as number]);
    const inner = p.inner as number;
    const grad = tf.grad((x: tf.Tensor) => {
      let y = x;
      for (let i = 0; i < inner; i++) y = tf.add(x, b);
      return y;
    });
    return { fn: () => grad(a).dispose(), inner };
  },
  chain: (p) => {
    const x = uniform([p.size as number]), c = keep(tf.fill([p.size as number], 1.01));
    const rounds = (p.length as number) / 4;
    return op(() =>
      tf.tidy(() => {
        let y = x;
        for (let i = 0; i < rounds; i++) y = tf.exp(tf.tanh(tf.add(tf.mul(y, c), c)));
        return y;
      })
    );
  },
  matmul: (p) => {
    const a = uniform([p.n as number, p.n as number]), b = uniform([p.n as number, p.n as number]);
    return op(() => tf.matMul(a, b));
  },
  add: (p) => {
    const a = uniform([p.size as number]), b = uniform([p.size as number]);
    return op(() => tf.add(a, b));
  },
  exp: (p) => {
    const a = uniform([p.size as number]);
    return op(() => tf.exp(a));
  },
  reduce_sum: (p) => {
    const a = uniform([p.size as number]);
    return op(() => tf.sum(a));
  },
  softmax: (p) => {
    const x = uniform(p.shape as Shape);
    return op(() => tf.softmax(x));
  },
  conv2d: (p) => {
    const { x, f, pad, strides } = convArgs(p);
    return op(() => tf.conv2d(x, f, strides, pad));
  },
  // The two conv2d gradient kernels are not exported as ops: run them as tf.grad does.
  conv2d_backprop_input: (p) => {
    const { f, dy, pad, strides } = convArgs(p);
    const attrs = { strides, pad, dataFormat: "NHWC", inputShape: p.x as Shape };
    return op(() =>
      tf.engine().runKernel("Conv2DBackpropInput", { dy, filter: f }, attrs) as tf.Tensor
    );
  },
  conv2d_backprop_filter: (p) => {
    const { x, dy, pad, strides } = convArgs(p);
    const attrs = { strides, pad, dataFormat: "NHWC", filterShape: p.filter as Shape };
    return op(() => tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, attrs) as tf.Tensor);
  },
  mnist_step: (p) => {
    const batch = p.batch as number;
    const model = keep(mnistModel());
    const optimizer = keep(tf.train.adam(p.learningRate as number));
    const images = uniform([batch, 784]);
    const labels = keep(tf.tidy(() => tf.oneHot(tf.randomUniform([batch], 0, 10, "int32"), 10)));
    return {
      fn: () => {
        const loss = optimizer.minimize(() => {
          const logits = model.apply(images, { training: true }) as tf.Tensor;
          return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
        }, true);
        loss?.dataSync();
        loss?.dispose();
      },
    };
  },
};

/** Kernels a kind needs that a backend may lack (the wasm backend has no filter gradient). */
const NEEDS: Record<string, string> = {
  conv2d_backprop_filter: "Conv2DBackpropFilter",
  mnist_step: "Conv2DBackpropFilter",
};

/** The case being run: set up in its first round, timed in every round, then disposed. */
let current: { id: string; timed: Timed } | undefined;

function dispose(): void {
  for (const t of created) t.dispose();
  created = [];
  current = undefined;
}

function handle(spec: CaseSpec): Result[] {
  const make = KINDS[spec.kind];
  if (!make) return [{ column, skipped: "not applicable" }];
  const kernel = NEEDS[spec.kind];
  if (kernel && !tf.getKernel(kernel, tf.getBackend())) {
    return [{ column, skipped: `no ${kernel} kernel in the ${tf.getBackend()} backend` }];
  }
  let stats;
  try {
    if (current?.id !== spec.id || spec.round === 0) {
      dispose(); // the last case's tensors go before the next case's are made
      current = { id: spec.id, timed: make(spec.params) };
    }
    stats = measure(current.timed, spec.budget, spec.round, spec.rounds);
  } catch (error) {
    dispose();
    throw error;
  }
  const note = spec.kind === "small_add_tape" ? `one tf.grad over ${spec.params.inner} adds` : "";
  return [{ column, stats, ...(note ? { note } : {}) }];
}

await serve(column, { tfjs: tf.version.tfjs }, handle);
