/**
 * Recurrent layers against TensorFlow 2.21's Keras cells (tests/fixtures/rnn.json, from
 * tests/fixtures/make_rnn_fixtures.py: LSTMCell and GRUCell unrolled over variable-length
 * sequences as dynamic_rnn does, forward values and gradients; the LSTM and GRU layers
 * with their variable paths), against finite differences in float64, and their options,
 * stacking, time-major input, truncated BPTT and errors.
 *
 * NOTE: layer names come from process-wide counters, so the naming test stays first.
 */
import * as tf from "../mod.ts";
import fixtures from "./fixtures/rnn.json" with { type: "json" };
import {
  assertClose,
  assertEquals,
  assertSame,
  assertThrowsMatch,
  checkValues,
  deviceDTypes,
  ON_WEBGPU,
  randomValues,
} from "./helpers.ts";
import { checkGradients, checkSecondDerivative, rand } from "./grad_helpers.ts";
import { lstmStepComposite } from "../src/ops/lstm.ts";
import { TapeRecord, withTape } from "../src/tape.ts";

type Json = { shape: number[]; values: number[] };
const tensor = (j: Json) => tf.constant(j.values, "float32", { shape: j.shape });
const given = (j: Json): tf.initializers.Initializer => () => tensor(j);
const TOL = { rtol: 1e-4, atol: 2e-5 };

function cellFor(kind: string, units: number, weights: Json[], options: Record<string, unknown>) {
  const init = {
    kernelInitializer: given(weights[0]),
    recurrentInitializer: given(weights[1]),
    biasInitializer: given(weights[2]),
  };
  if (kind === "lstm") return new tf.layers.LSTMCell(units, { ...init, unitForgetBias: false });
  return new tf.layers.GRUCell(units, { ...init, resetAfter: options.reset_after !== false });
}

Deno.test("LSTM and GRU layers have Keras's variable paths and outputs", () => {
  for (const c of fixtures.layers) {
    const options = {
      returnSequences: true,
      kernelInitializer: given(c.weights[0]),
      recurrentInitializer: given(c.weights[1]),
      biasInitializer: given(c.weights[2]),
    };
    const layer = c.kind === "lstm"
      ? new tf.layers.LSTM(c.units, { ...options, unitForgetBias: false })
      : new tf.layers.GRU(c.units, options);
    const [outputs, state] = layer.applyWithState(tensor(c.x));
    assertEquals(layer.variables.map((v) => v.name), c.paths);
    assertClose(outputs, tensor(c.outputs), TOL);
    state.forEach((s, i) => assertClose(s, tensor(c.finalState[i]), TOL));
  }
});

Deno.test("cells unrolled over variable lengths match TensorFlow, values and gradients", () => {
  for (const c of fixtures.cells) {
    const cell = cellFor(c.kind, c.units, c.weights, c.options);
    const x = tensor(c.x);
    const states0 = c.initialState.map(tensor);
    const tape = new tf.GradientTape();
    tape.watch(x, states0);
    const [outputs, state] = tape.record(() => {
      const initialState = c.zeroState ? undefined : states0;
      return tf.nn.dynamicRnn(cell, x, { sequenceLength: c.lengths, initialState });
    });
    const loss = tape.record(() =>
      tf.addN([
        tf.reduceSum(outputs.mul(tensor(c.outputWeights))),
        ...state.map((s, i) => tf.reduceSum(s.mul(tensor(c.stateWeights[i])))),
      ])
    );
    const label = `${c.kind} ${JSON.stringify(c.options)} lengths ${c.lengths}`;
    assertClose(outputs, tensor(c.outputs), { ...TOL, message: `${label} outputs` });
    state.forEach((s, i) => assertClose(s, tensor(c.finalState[i]), TOL));
    assertClose(loss, c.loss, { rtol: 1e-4, atol: 1e-4 });
    const sources = c.zeroState ? [x, ...cell.variables] : [x, ...states0, ...cell.variables];
    const expected = c.zeroState
      ? [c.gradients[0], ...c.gradients.slice(1 + states0.length)]
      : c.gradients;
    const grads = tape.gradient(loss, sources);
    grads.forEach((g, i) =>
      assertClose(g!, tensor(expected[i]), { ...TOL, message: `${label} gradient ${i}` })
    );
  }
});

// float64 finite differences with float64 operands: the CPU run's.
Deno.test(
  "gradients through time match finite differences in float64",
  { ignore: ON_WEBGPU },
  () => {
    for (const kind of ["lstm", "gru", "gru-before"]) {
      tf.random.setSeed(3);
      const cell = kind === "lstm"
        ? new tf.layers.LSTMCell(3, { dtype: "float64" })
        : new tf.layers.GRUCell(3, { dtype: "float64", resetAfter: kind === "gru" });
      const stateCount = kind === "lstm" ? 2 : 1;
      const x = rand([2, 4, 2], 11);
      const states = Array.from({ length: stateCount }, (_, i) => rand([2, 3], 20 + i));
      checkGradients((xs, ...s) => {
        const [outputs, final] = tf.nn.dynamicRnn(cell, xs, {
          sequenceLength: [4, 2],
          initialState: s,
        });
        return tf.concat([outputs.reshape([2, 12]), ...final], 1);
      }, [x, ...states]);
    }
  },
);

Deno.test("time-major input gives the transposed batch-major result", () => {
  tf.random.setSeed(5);
  const rnn = new tf.layers.LSTM(4, { returnSequences: true });
  const x = tf.randomNormal([3, 5, 2]);
  const batchMajor = rnn.apply(x, { sequenceLength: [5, 3, 1] });
  const timeMajorLayer = new tf.layers.RNN(rnn.cell, { returnSequences: true, timeMajor: true });
  const timeMajor = timeMajorLayer.apply(tf.transpose(x, [1, 0, 2]), { sequenceLength: [5, 3, 1] });
  assertClose(tf.transpose(timeMajor, [1, 0, 2]), batchMajor);
});

Deno.test("returnSequences false gives each example's last real output, zeros for length 0", () => {
  tf.random.setSeed(6);
  const cell = new tf.layers.GRUCell(3);
  const x = tf.randomNormal([4, 6, 2]);
  const lengths = [6, 1, 4, 0];
  const last = new tf.layers.RNN(cell).apply(x, { sequenceLength: lengths });
  const [outputs] = tf.nn.dynamicRnn(cell, x, { sequenceLength: lengths });
  const rows = lengths.map((n, b) =>
    n === 0 ? tf.zeros([3]) : tf.slice(outputs, [b, n - 1, 0], [1, 1, 3]).reshape([3])
  );
  assertClose(last, tf.stack(rows));
  assertClose(tf.slice(outputs, [1, 1, 0], [1, 5, 3]), tf.zeros([1, 5, 3]));
});

Deno.test("stacked cells equal the cells run by hand; dropout only in training", () => {
  tf.random.setSeed(7);
  const a = new tf.layers.LSTMCell(4), b = new tf.layers.GRUCell(3);
  const stack = new tf.layers.StackedRNNCells([a, b], { dropout: 0.5 });
  const rnn = new tf.layers.RNN(stack, { returnSequences: true });
  const x = tf.randomNormal([2, 5, 2]);
  const y = rnn.apply(x);
  const [h1] = tf.nn.dynamicRnn(a, x);
  const [h2] = tf.nn.dynamicRnn(b, h1);
  assertClose(y, h2);
  assertEquals(rnn.variables.length, 6);
  assertEquals(rnn.variables[0].name.split("/").slice(1, 2), ["stacked_rnn_cells"]);
  const trained = rnn.apply(x, { training: true });
  checkValues(tf.reduceMax(tf.abs(trained.sub(y))), ([differs]) => {
    if (!(differs > 1e-3)) throw new Error("dropout between layers had no effect in training");
  });
  assertEquals(stack.stateSize, [4, 4, 3]);
});

Deno.test("applyWithState carries the state across batches (truncated BPTT)", () => {
  tf.random.setSeed(8);
  const rnn = new tf.layers.LSTM(3, { returnSequences: true });
  const x = tf.randomNormal([2, 6, 2]);
  const whole = rnn.apply(x);
  const [first, state] = rnn.applyWithState(tf.slice(x, [0, 0, 0], [2, 3, 2]));
  const second = rnn.apply(tf.slice(x, [0, 3, 0], [2, 3, 2]), { initialState: state });
  assertClose(tf.concat([first, second], 1), whole);
});

Deno.test("forgetBias at run time equals Keras's unit forget bias at initialisation", () => {
  const fixed = (shape: number[], seed: number): tf.initializers.Initializer => () =>
    tf.constant(randomValues(shape[0] * shape[1], seed, -0.5, 0.5), "float32", { shape });
  const kernel = fixed([2, 12], 1), recurrent = fixed([3, 12], 2);
  const keras = new tf.layers.LSTMCell(3, {
    kernelInitializer: kernel,
    recurrentInitializer: recurrent,
  });
  const tf1 = new tf.layers.LSTMCell(3, {
    kernelInitializer: kernel,
    recurrentInitializer: recurrent,
    unitForgetBias: false,
    forgetBias: 1,
  });
  const x = tf.randomNormal([2, 4, 2], { seed: 3 });
  const [a] = tf.nn.dynamicRnn(keras, x);
  const [b] = tf.nn.dynamicRnn(tf1, x);
  assertClose(a, b);
  assertClose(tf.slice(keras.bias!.read(), [3], [3]), [1, 1, 1]);
});

Deno.test("recurrent layers reject bad input with errors naming the layer", () => {
  const rnn = new tf.layers.LSTM(3, { name: "lm" });
  const x = tf.zeros([2, 4, 5]);
  assertThrowsMatch(
    () => rnn.apply(x, { sequenceLength: [4, 5] }),
    /lm.*sequenceLength\[1\] is 5, outside \[0, 4\]/,
  );
  assertThrowsMatch(() => rnn.apply(x, { sequenceLength: [4] }), /lm.*1 entries for a batch of 2/);
  assertThrowsMatch(
    () => rnn.apply(x, { initialState: [tf.zeros([2, 3]), tf.zeros([2, 4])] }),
    /lstm_cell.*state 1 must have shape \[2,3\], got \[2,4\]/,
  );
  assertThrowsMatch(
    () => rnn.apply(x, { initialState: [tf.zeros([2, 3])] }),
    /lstm_cell.*2 tensor/,
  );
  assertThrowsMatch(() => rnn.apply(tf.zeros([0, 4, 5])), /lm.*empty batch/);
  assertThrowsMatch(() => rnn.apply(tf.zeros([2, 5])), /lm.*rank 3/);
  rnn.apply(x);
  assertThrowsMatch(
    () => rnn.apply(tf.zeros([2, 4, 6])),
    /lm.*last dimension 5, got shape \[2,4,6\]/,
  );
  assertThrowsMatch(() => new tf.layers.GRUCell(0), /gru_cell.*units must be a positive integer/);
  assertThrowsMatch(
    () => new tf.layers.StackedRNNCells([new tf.layers.LSTMCell(2)], { dropout: 1 }),
    /dropout must be in \[0, 1\)/,
  );
  const cell = new tf.layers.LSTMCell(2);
  assertThrowsMatch(
    () => cell.apply([tf.zeros([2, 3]), [tf.zeros([2, 2])]]),
    /expected a state of 2/,
  );
  assertThrowsMatch(
    () => tf.nn.dynamicRnn(cell, x, { sequenceLength: tf.constant([1.5, 2]) }),
    /sequenceLength must be a rank-1 integer tensor/,
  );
});

Deno.test("orthogonal initializer gives orthonormal rows or columns, times gain", () => {
  for (const shape of [[6, 4], [4, 6], [2, 3, 5]]) {
    const q = tf.initializers.orthogonal({ gain: 2, seed: 4 })(shape, "float64");
    const m = q.reshape([-1, shape[shape.length - 1]]);
    const [rows, cols] = m.shape;
    const gram = rows >= cols
      ? tf.matmul(m, m, { transposeA: true })
      : tf.matmul(m, m, { transposeB: true });
    assertClose(gram, tf.eye(Math.min(rows, cols), undefined, { dtype: "float64" }).mul(4), {
      atol: 1e-12,
    });
  }
});

Deno.test("clipByNorm and clipByGlobalNorm follow TensorFlow's clip_ops", () => {
  assertClose(tf.clipByNorm([3, 4], 1), [0.6, 0.8]);
  assertClose(tf.clipByNorm([3, 4], 10), [3, 4]);
  assertClose(tf.clipByNorm([[3, 4], [0.3, 0.4]], 1, 1), [[0.6, 0.8], [0.3, 0.4]]);
  assertClose(tf.clipByNorm([0, 0], 1), [0, 0]);
  const [clipped, norm] = tf.clipByGlobalNorm([tf.constant([3]), null, tf.constant([[4]])], 1);
  assertClose(norm, 5);
  assertClose(clipped[0]!, [0.6]);
  assertEquals(clipped[1], null);
  assertClose(clipped[2]!, [[0.8]]);
  const [kept] = tf.clipByGlobalNorm([tf.constant([0.3]), tf.constant([0.4])], 1);
  assertClose(kept[1], [0.4]);
  const [zero, zeroNorm] = tf.clipByGlobalNorm([tf.zeros([2])], 1);
  assertClose(zero[0], [0, 0]);
  assertClose(zeroNorm, 0);
  const [nan] = tf.clipByGlobalNorm([tf.constant([Infinity, 1])], 1);
  assertClose(nan[0], [NaN, NaN]);
  assertClose(tf.globalNorm([[1, 2], [2]]), 3);
  assertThrowsMatch(
    () => tf.clipByNorm([1], 0),
    /clipByNorm: clipNorm must be a finite number > 0/,
  );
  assertThrowsMatch(() => tf.clipByNorm(tf.constant([1], "int32"), 1), /floating-point/);
  checkGradients((x) => tf.clipByNorm(x, 0.5), [rand([3, 2], 9)]);
  checkGradients((a, b) => tf.concat(tf.clipByGlobalNorm([a, b], 0.7)[0] as tf.Tensor[], 0), [
    rand([2], 12),
    rand([2], 13),
  ]);
});

Deno.test("the fused LSTM step equals its nine ops bit for bit; its gradient to rounding", () => {
  for (const dtype of deviceDTypes(["float32", "float64"] as const)) {
    for (const forgetBias of [0, 1]) {
      const z = tf.randomNormal([5, 4 * 7], { seed: 1, dtype }).mul(3);
      const c = tf.randomNormal([5, 7], { seed: 2, dtype });
      const fused = tf.nn.lstmStep(z, c, forgetBias);
      const composite = lstmStepComposite(z, c, forgetBias);
      fused.forEach((t, i) => assertSame(t, composite[i]));
      const grads = (step: (z: tf.Tensor, c: tf.Tensor, fb: number) => tf.Tensor[]) =>
        tf.gradientsFunction((zz: tf.Tensor, cc: tf.Tensor) => {
          const [h, c2] = step(zz, cc, forgetBias);
          return tf.addN([tf.reduceSum(h.mul(h)), tf.reduceSum(c2.mul(0.3))]);
        })(z, c);
      const tol = dtype === "float32" ? { rtol: 1e-5, atol: 1e-6 } : { rtol: 1e-12, atol: 1e-13 };
      grads(tf.nn.lstmStep).forEach((g, i) => assertClose(g, grads(lstmStepComposite)[i], tol));
    }
  }
});

Deno.test("the fused LSTM step's first and second derivatives match finite differences", () => {
  const z = rand([2, 12], 31, -2, 2), c = rand([2, 3], 32);
  const both = (zz: tf.Tensor, cc: tf.Tensor) => tf.concat(tf.nn.lstmStep(zz, cc, 1), 1);
  checkGradients(both, [z, c]);
  checkSecondDerivative(both, [z, c]);
  const dh = rand([2, 3], 33), dc = rand([2, 3], 34);
  checkGradients(
    (zz, cc, a, b) => tf.concat(tf.nn.lstmStepGrad(zz, cc, a, b, 1), 1),
    [z, c, dh, dc],
  );
});

Deno.test("lstmStep rejects bad shapes; fused needs the default activations", () => {
  assertThrowsMatch(
    () => tf.nn.lstmStep(tf.zeros([2, 10]), tf.zeros([2, 3])),
    /lstmStep: expected z \[batch, 4 units\]/,
  );
  assertThrowsMatch(() => tf.nn.lstmStep(tf.zeros([2, 12]), tf.zeros([3, 3])), /lstmStep/);
  assertThrowsMatch(
    () => tf.nn.lstmStep(tf.zeros([2, 4], "int32"), tf.zeros([2, 1], "int32")),
    /lstmStep: z and c must be float/,
  );
  assertThrowsMatch(
    () =>
      tf.nn.lstmStepGrad(tf.zeros([2, 4]), tf.zeros([2, 1]), tf.zeros([2, 2]), tf.zeros([2, 1])),
    /lstmStepGrad: dh must be float32 \[2, 1\]/,
  );
  assertThrowsMatch(
    () => new tf.layers.LSTMCell(2, { activation: tf.nn.relu, fused: true }),
    /fused must be a boolean, and true only with the default activations/,
  );
  assertEquals(new tf.layers.LSTMCell(2, { activation: tf.nn.relu }).fused, false);
  assertEquals(new tf.layers.LSTMCell(2).fused, true);
});

Deno.test("a stack unrolled layer by layer equals the stacked cell stepped through time", () => {
  tf.random.setSeed(9);
  const stack = new tf.layers.StackedRNNCells([
    new tf.layers.LSTMCell(4),
    new tf.layers.GRUCell(3),
    new tf.layers.LSTMCell(2),
  ]);
  const rnn = new tf.layers.RNN(stack, { returnSequences: true });
  const x = tf.randomNormal([2, 5, 3]);
  const [outputs, final] = rnn.applyWithState(x);
  let state: tf.Tensor[] = stack.zeroState(2);
  const stepped = tf.unstack(x, 1).map((xt) => {
    const [out, next] = stack.apply([xt, state]);
    state = next;
    return out;
  });
  assertClose(outputs, tf.stack(stepped, 1));
  final.forEach((s, i) => assertClose(s, state[i]));
});

/** An LSTMCell whose own step keeps the layers on the step-by-step path (the reference). */
class SteppedLSTMCell extends tf.layers.LSTMCell {
  override step(projected: tf.Tensor, state: tf.Tensor[], training: boolean) {
    return super.step(projected, state, training);
  }
}

Deno.test("a fused LSTM over full-length examples runs as one op: the steps' values, their gradients", () => {
  for (const timeMajor of [false, true]) {
    for (const forgetBias of [0, 1]) {
      const options = { forgetBias, kernelInitializer: tf.initializers.randomNormal({ seed: 4 }) };
      const [whole, stepped] = [
        new tf.layers.LSTMCell(6, options),
        new SteppedLSTMCell(6, options),
      ];
      const x = tf.randomNormal(timeMajor ? [5, 3, 4] : [3, 5, 4], { seed: 5 });
      const h0 = tf.randomNormal([3, 6], { seed: 6 }), c0 = tf.randomNormal([3, 6], { seed: 7 });
      const run = (cell: tf.layers.LSTMCell) => {
        const tape = new tf.GradientTape();
        tape.watch(x, h0, c0);
        const [outputs, [h, c]] = tape.record(() =>
          tf.nn.dynamicRnn(cell, x, { timeMajor, initialState: [h0, c0] })
        );
        const loss = tape.record(() =>
          tf.addN([tf.reduceSum(outputs.mul(outputs)), tf.reduceSum(h.mul(0.5)), c.sum()])
        );
        const probe = new TapeRecord(false);
        probe.watchTensor(x);
        withTape(probe, () => tf.nn.dynamicRnn(cell, x, { timeMajor, initialState: [h0, c0] }));
        const ops = probe.nodes.map((node) => node.op);
        return {
          values: [outputs, h, c],
          grads: tape.gradient(loss, [x, h0, c0, ...cell.variables]),
          ops,
        };
      };
      stepped.ensureBuilt([3, 4], "float32");
      whole.ensureBuilt([3, 4], "float32");
      stepped.variables.forEach((v, i) => v.assign(whole.variables[i].read()));
      const [a, b] = [run(whole), run(stepped)];
      const label = `timeMajor ${timeMajor}, forgetBias ${forgetBias}`;
      assertEquals(a.ops.includes("lstmSequence"), true, label);
      assertEquals(b.ops.includes("lstmSequence"), false, label);
      a.values.forEach((t, i) => assertSame(t, b.values[i], label));
      a.grads.forEach((g, i) =>
        assertClose(g!, b.grads[i]!, { rtol: 1e-5, atol: 1e-6, message: `${label} gradient ${i}` })
      );
    }
  }
});

// float64 finite differences with float64 operands: the CPU run's.
Deno.test("the whole-sequence LSTM's first and second derivatives match finite differences", {
  ignore: ON_WEBGPU,
}, () => {
  tf.random.setSeed(8);
  const cell = new tf.layers.LSTMCell(3, { dtype: "float64", forgetBias: 1 });
  const x = rand([2, 4, 2], 41), h0 = rand([2, 3], 42), c0 = rand([2, 3], 43);
  const f = (xs: tf.Tensor, h: tf.Tensor, c: tf.Tensor) => {
    const [outputs, final] = tf.nn.dynamicRnn(cell, xs, { initialState: [h, c] });
    return tf.concat([outputs.reshape([2, 12]), ...final], 1);
  };
  checkGradients(f, [x, h0, c0]);
  checkSecondDerivative(f, [x, h0, c0]);
});
