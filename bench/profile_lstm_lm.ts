/**
 * Where the LSTM language model's training step (bench/cases/training.ts's LSTM_LM, the
 * PTB small configuration) spends its time, to decide whether a fused LSTM-step kernel
 * pays: `deno run -A --lock=bench/deno.lock bench/profile_lstm_lm.ts [--repeats N]`.
 *
 * Prints: the whole step; its parts measured alone (the recurrent part: embedding and two
 * LSTM layers forward and backward; the softmax part: the [400, 200] x [200, 10000]
 * projection, the loss and their gradients; the clipping and SGD update); the backend
 * calls per step (every method of the CPU backend is wrapped to count and time its calls);
 * and one LSTM cell step forward and backward at batch 20, hidden 200 against the three
 * matrix products it contains, which gives the cost of each other op.
 * @module
 */
import { parseArgs } from "node:util";
import * as tf from "../mod.ts";
import { instrumentBackend } from "./backend_calls.ts";
import { LSTM_LM, lstmLmStep } from "./cases/training.ts";

const { values } = parseArgs({ args: Deno.args, options: { repeats: { type: "string" } } });
const REPEATS = Number(values.repeats ?? 30);
const p = LSTM_LM;
const rows = p.batch * p.steps;

/**
 * Milliseconds of `fn`: the median of REPEATS calls after a few warm-up calls. NOTE: the
 * machine is shared; `fastest` keeps the minimum too, which load from others inflates least.
 */
const fastest = new Map<() => unknown, number>();
function median(fn: () => unknown, repeats = REPEATS): number {
  for (let i = 0; i < Math.min(5, repeats); i++) fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  fastest.set(fn, times[0]);
  return times[Math.floor(times.length / 2)];
}

/** Backend calls while `fn` runs: count and milliseconds by method. */
function backendCalls(fn: () => unknown): Map<string, [number, number]> {
  const probe = instrumentBackend();
  try {
    fn();
  } finally {
    probe.restore();
  }
  return probe.calls;
}

/** Storage bookkeeping, not ops. */
const STORAGE = new Set([
  "allocate",
  "allocateOutput",
  "upload",
  "hold",
  "release",
  "free",
  "storageKey",
]);

function opCalls(calls: Map<string, [number, number]>): [string, [number, number]][] {
  return [...calls].filter(([name]) => !STORAGE.has(name));
}

function summary(calls: Map<string, [number, number]>): string {
  const ops = opCalls(calls);
  const count = ops.reduce((s, [, [n]]) => s + n, 0);
  const ms = ops.reduce((s, [, [, t]]) => s + t, 0);
  const top = ops.sort((a, b) => b[1][1] - a[1][1]).slice(0, 8)
    .map(([name, [n, t]]) => `${name} ${n} (${t.toFixed(1)} ms)`).join(", ");
  return `${count} backend op calls, ${ms.toFixed(1)} ms inside them; top: ${top}`;
}

// --- the whole step
const step = lstmLmStep(p);
const whole = median(step);
console.log(
  `whole step (PTB small, batch ${p.batch} x ${p.steps} steps): median ${whole.toFixed(1)} ms, ` +
    `min ${fastest.get(step)!.toFixed(1)} ms`,
);
console.log(`  ${summary(backendCalls(step))}`);

// --- the recurrent part alone: embedding + LSTM stack, forward and backward
const embedding = new tf.layers.Embedding(p.vocab, p.hidden);
const cells = Array.from({ length: p.layers }, () => new tf.layers.LSTMCell(p.hidden));
const rnn = new tf.layers.RNN(new tf.layers.StackedRNNCells(cells), { returnSequences: true });
const ids = tf.randomUniform([p.batch, p.steps], { dtype: "int32", maxval: p.vocab });
const upstream = tf.randomNormal([p.batch, p.steps, p.hidden]);
const recurrent = () => {
  const tape = new tf.GradientTape();
  const loss = tape.record(() =>
    tf.reduceSum(tf.multiply(rnn.apply(embedding.apply(ids)), upstream))
  );
  return tape.gradient(loss, [...embedding.trainableVariables, ...rnn.trainableVariables]);
};
const recurrentMs = median(recurrent);
console.log(
  `recurrent part (embedding, ${p.layers} LSTM layers, fwd + bwd): ${recurrentMs.toFixed(1)} ms`,
);
console.log(`  ${summary(backendCalls(recurrent))}`);
const forwardOnly = median(() => rnn.apply(embedding.apply(ids)));
console.log(`  of which forward alone: ${forwardOnly.toFixed(1)} ms`);

// --- the softmax part alone: projection to the vocabulary, loss, gradients
const dense = new tf.layers.Dense(p.vocab);
const hidden = tf.randomNormal([rows, p.hidden]);
const targets = tf.randomUniform([rows], { dtype: "int32", maxval: p.vocab });
const softmax = () => {
  const tape = new tf.GradientTape();
  tape.watch(hidden);
  const loss = tape.record(() =>
    tf.multiply(tf.losses.sparseSoftmaxCrossEntropy(targets, dense.apply(hidden)), p.steps)
  );
  return tape.gradient(loss, [hidden, ...dense.trainableVariables]);
};
const softmaxMs = median(softmax);
console.log(
  `softmax part ([${rows}, ${p.hidden}] x [${p.hidden}, ${p.vocab}], loss, fwd + bwd): ${
    softmaxMs.toFixed(1)
  } ms`,
);
console.log(`  ${summary(backendCalls(softmax))}`);
const projection = tf.randomNormal([p.hidden, p.vocab]);
const matmulMs = median(() => tf.matmul(hidden, projection));
console.log(
  `  one [${rows}, ${p.hidden}] x [${p.hidden}, ${p.vocab}] product: ${
    matmulMs.toFixed(2)
  } ms (three such in fwd + bwd)`,
);

// --- clipping and the SGD update over all the model's gradients
const variables = [
  ...embedding.trainableVariables,
  ...rnn.trainableVariables,
  ...dense.trainableVariables,
];
const grads = variables.map((v) => tf.randomNormal([...v.shape]));
const sgd = new tf.train.GradientDescentOptimizer(0.01);
const update = () => {
  const [clipped] = tf.clipByGlobalNorm(grads, p.clip);
  sgd.applyGradients(variables.map((v, i) => [clipped[i], v] as const));
};
const updateMs = median(update);
console.log(
  `clip by global norm + SGD over ${variables.length} variables: ${updateMs.toFixed(1)} ms`,
);
console.log(`  ${summary(backendCalls(update))}`);
console.log(
  `parts add to ${(recurrentMs + softmaxMs + updateMs).toFixed(1)} ms of the step's ${
    whole.toFixed(1)
  } ms`,
);

// --- one cell step, batch 20, hidden 200: forward and backward, against its matmuls.
// NOTE: the sides are timed in alternating rounds of 20 calls each (load from other
// processes falls on all of them alike); the medians of the rounds are printed.
const projected = tf.randomNormal([p.batch, 4 * p.hidden]);
const [h, c] = [tf.randomNormal([p.batch, p.hidden]), tf.randomNormal([p.batch, p.hidden])];
const [dh, dc] = [tf.randomNormal([p.batch, p.hidden]), tf.randomNormal([p.batch, p.hidden])];
const dz = tf.randomNormal([p.batch, 4 * p.hidden]);
const cellSides = [true, false].map((fused) => {
  const cell = new tf.layers.LSTMCell(p.hidden, { fused });
  cell.ensureBuilt([p.batch, p.hidden], "float32");
  return {
    name: fused ? "fused" : "nine ops",
    forward: () => cell.step(projected, [h, c], true),
    training: () => {
      const tape = new tf.GradientTape();
      tape.watch([projected, h, c]);
      const loss = tape.record(() => {
        const [, [h2, c2]] = cell.step(projected, [h, c], true);
        return tf.add(tf.reduceSum(tf.multiply(h2, dh)), tf.reduceSum(tf.multiply(c2, dc)));
      });
      return tape.gradient(loss, [projected, h, c, cell.recurrentKernel!]);
    },
  };
});
const w = tf.randomNormal([p.hidden, 4 * p.hidden]);
const wt = tf.transpose(w).mul(1); // a dense copy of W^T
const timedSides: Record<string, () => unknown> = {
  "3 matmuls": () => {
    tf.matmul(h, w); // forward: h W
    tf.matmul(h, dz, { transposeA: true }); // dW = h^T dz
    tf.matmul(dz, w, { transposeB: true }); // dh = dz W^T
  },
  "h W": () => tf.matmul(h, w),
  "h^T dz": () => tf.matmul(h, dz, { transposeA: true }),
  "dz W^T": () => tf.matmul(dz, w, { transposeB: true }),
  "dz Wt (W^T made once)": () => tf.matmul(dz, wt),
  // One small elementwise op, alone and recorded on a tape with its gradient.
  "add": () => tf.add(h, c),
  "add, taped + grad": () => {
    const tape = new tf.GradientTape();
    tape.watch(h);
    return tape.gradient(tape.record(() => tf.add(h, c)), h);
  },
  "nothing taped + grad": () => {
    const tape = new tf.GradientTape();
    tape.watch(h);
    return tape.gradient(tape.record(() => h), h);
  },
};
for (const side of cellSides) {
  timedSides[`${side.name} fwd`] = side.forward;
  timedSides[`${side.name} fwd + bwd`] = side.training;
}
const rounds: Record<string, number[]> = {};
for (const fn of Object.values(timedSides)) for (let i = 0; i < 20; i++) fn();
for (let r = 0; r < REPEATS; r++) {
  for (const [name, fn] of Object.entries(timedSides)) {
    const start = performance.now();
    for (let i = 0; i < 20; i++) fn();
    (rounds[name] ??= []).push(((performance.now() - start) / 20) * 1000);
  }
}
const us = (name: string) => [...rounds[name]].sort((a, b) => a - b)[rounds[name].length >> 1];
console.log(
  `cell step pieces (batch ${p.batch}, hidden ${p.hidden}; us, median of ${REPEATS} rounds): ` +
    Object.keys(timedSides).map((name) => `${name} ${us(name).toFixed(0)}`).join(", "),
);
for (const side of cellSides) {
  const ops = opCalls(backendCalls(side.training)).reduce((s, [, [k]]) => s + k, 0);
  const rest = us(`${side.name} fwd + bwd`) - us("3 matmuls");
  console.log(
    `  ${side.name}: ${ops} backend op calls fwd + bwd; less its 3 matmuls, ${
      rest.toFixed(0)
    } us, ` +
      `${(rest / (ops - 3)).toFixed(1)} us per other op`,
  );
}
