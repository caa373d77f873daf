/**
 * A/B of the fused LSTM step (tf.nn.lstmStep, one kernel) against the same step as nine
 * ops: an LSTM layer of `hidden` units over `steps` steps of a batch, forward alone and
 * forward + backward, each measured in alternating rounds (so load from other processes
 * falls on both sides alike); prints the median of each side and the ratio.
 *
 *   deno run -A bench/lstm_fusion.ts [--batch 20] [--steps 20] [--hidden 200] [--rounds 15]
 *
 * The results and the decision they support are in docs/recurrent.md.
 * @module
 */
import { parseArgs } from "node:util";
import * as tf from "../mod.ts";

const { values } = parseArgs({
  options: {
    batch: { type: "string", default: "20" },
    steps: { type: "string", default: "20" },
    hidden: { type: "string", default: "200" },
    rounds: { type: "string", default: "15" },
  },
});
const [batch, steps, hidden, rounds] = [values.batch, values.steps, values.hidden, values.rounds]
  .map(Number);

function layer(fused: boolean) {
  tf.random.setSeed(1);
  const rnn = new tf.layers.LSTM(hidden, { returnSequences: true, fused });
  const x = tf.randomNormal([batch, steps, hidden]);
  const w = tf.randomNormal([batch, steps, hidden]);
  return {
    forward: () => rnn.apply(x),
    training: () => {
      const tape = new tf.GradientTape();
      const loss = tape.record(() => tf.reduceSum(rnn.apply(x).mul(w)));
      return tape.gradient(loss, rnn.trainableVariables);
    },
  };
}

/** Milliseconds per call: the mean of `calls` calls. */
function timeOnce(fn: () => unknown, calls: number): number {
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) fn();
  return (performance.now() - t0) / calls;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const sides = { fused: layer(true), ops: layer(false) };
for (const mode of ["forward", "training"] as const) {
  const times: Record<string, number[]> = { fused: [], ops: [] };
  for (const side of Object.values(sides)) for (let i = 0; i < 5; i++) side[mode]();
  for (let r = 0; r < rounds; r++) {
    for (const [name, side] of Object.entries(sides)) times[name].push(timeOnce(side[mode], 5));
  }
  const [f, o] = [median(times.fused), median(times.ops)];
  console.log(
    `${mode.padEnd(8)} batch ${batch}, ${steps} steps, ${hidden} units: fused ${
      f.toFixed(2)
    } ms, ` +
      `nine ops ${o.toFixed(2)} ms, ${(o / f).toFixed(2)}x`,
  );
}
