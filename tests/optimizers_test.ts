/**
 * tf.train: optimizers, schedules and the global step against TensorFlow 1
 * (tests/fixtures/make_optimizer_fixtures.py wrote tests/fixtures/optimizers.json from
 * tf.compat.v1.train in eager mode; slot names from graph mode).
 *
 * NOTE: the slot-name test comes first: names are made unique per process, so it must
 * run before other tests create `beta1_power` or variables named `w` and `b`.
 */
import * as tf from "../mod.ts";
import fixtures from "./fixtures/optimizers.json" with { type: "json" };
import { assertClose, assertEquals, assertStrictEquals, assertThrowsMatch } from "./helpers.ts";

/** fn's tensors and variables made on the CPU. */
const cpu = <T>(fn: () => T): T => tf.device("/cpu:0", fn);

/** A one-element tensor's or variable's value, read without blocking (every device). */
async function scalar(t: { data(): Promise<ArrayLike<number | bigint>> }): Promise<number> {
  return Number((await t.data())[0]);
}

type Json = { shape: number[]; values: number[] };
type Kwargs = Record<string, number | boolean | undefined>;
type DType = "float32" | "float64";
type Step = {
  pairs: [Json | null, number][];
  values: Json[];
  slots: Record<string, (Json | null)[]>;
  betaPowers?: [number, number];
};
type ApplyCase = {
  name: string;
  optimizer: string;
  kwargs: Kwargs;
  dtype: DType;
  initial: Json[];
  steps: Step[];
};
type ScheduleCase = {
  kind: string;
  kwargs: {
    learning_rate: number;
    decay_steps: number;
    decay_rate: number;
    staircase: boolean;
    boundaries: number[];
    values: number[];
  };
  steps: number[];
  values: number[];
};

const tensor = (j: Json, dtype: DType = "float32") =>
  tf.constant(j.values, dtype, { shape: j.shape });
const TOL = { rtol: 2e-5, atol: 1e-6 };

/** The optimizer a fixture case names, from TensorFlow 1's keyword arguments. */
function make(kind: string, kw: Kwargs, lr?: tf.train.LearningRate): tf.train.Optimizer {
  const rate = lr ?? (kw.learning_rate as number);
  switch (kind) {
    case "GradientDescent":
      return new tf.train.GradientDescentOptimizer(rate);
    case "Momentum":
      return new tf.train.MomentumOptimizer(rate, kw.momentum as number, {
        useNesterov: kw.use_nesterov as boolean | undefined,
      });
    case "Adam":
      return new tf.train.AdamOptimizer(rate, {
        beta1: kw.beta1 as number | undefined,
        beta2: kw.beta2 as number | undefined,
        epsilon: kw.epsilon as number | undefined,
      });
    case "RMSProp":
      return new tf.train.RMSPropOptimizer(rate, {
        decay: kw.decay as number | undefined,
        momentum: kw.momentum as number | undefined,
        epsilon: kw.epsilon as number | undefined,
        centered: kw.centered as boolean | undefined,
      });
    case "Adagrad":
      return new tf.train.AdagradOptimizer(rate, {
        initialAccumulatorValue: kw.initial_accumulator_value as number | undefined,
      });
  }
  throw new Error(`unknown optimizer ${kind}`);
}

Deno.test("slot and accumulator names are TensorFlow 1's (graph mode), numbering included", () => {
  const w = new tf.Variable([1, 2], { name: "w" });
  const b = new tf.Variable([1], { name: "b" });
  const loss = () => tf.add(tf.reduceSum(w.square()), tf.reduceSum(b));
  const step = tf.train.getOrCreateGlobalStep();
  const made: [string, tf.train.Optimizer][] = [
    ["GradientDescent", new tf.train.GradientDescentOptimizer(0.1)],
    ["Momentum", new tf.train.MomentumOptimizer(0.1, 0.9)],
    ["Adam", new tf.train.AdamOptimizer(0.1)],
    ["RMSProp", new tf.train.RMSPropOptimizer(0.1)],
    ["RMSProp centered", new tf.train.RMSPropOptimizer(0.1, { centered: true })],
    ["Adagrad", new tf.train.AdagradOptimizer(0.1)],
    ["second Adam", new tf.train.AdamOptimizer(0.1)],
  ];
  const expected = fixtures.graphNames as Record<
    string,
    { variables: string[]; slots: Record<string, string[]> }
  >;
  for (const [label, opt] of made) {
    assertEquals(opt.variables(), [], `${label}: no slots before the first update`);
    opt.minimize(loss, { globalStep: step });
    assertEquals(opt.variables().map((v) => v.name), expected[label].variables, label);
    for (const [slot, names] of Object.entries(expected[label].slots)) {
      assertEquals([w, b].map((v) => opt.getSlot(v, slot)?.name), names, `${label} ${slot}`);
    }
    assertEquals(opt.getSlotNames(), Object.keys(expected[label].slots).sort(), label);
    for (const v of opt.variables()) assertStrictEquals(v.trainable, false);
  }
  assertStrictEquals(step.name, fixtures.globalStep.name);
  assertStrictEquals(step.dtype, fixtures.globalStep.dtype);
  assertStrictEquals(step.trainable, fixtures.globalStep.trainable);
  assertStrictEquals(Number(step.peek()), made.length);
  tf.train.resetGlobalStep();
});

for (const c of fixtures.apply as unknown as ApplyCase[]) {
  Deno.test(`applyGradients matches TensorFlow 1: ${c.name}`, () => {
    const dtype = c.dtype;
    const vars = c.initial.map((x) => new tf.Variable(tensor(x, dtype)));
    const opt = make(c.optimizer, c.kwargs);
    c.steps.forEach((step, k) => {
      const pairs = step.pairs.map(([g, i]) => [g && tensor(g, dtype), vars[i]] as const);
      opt.applyGradients(pairs);
      const where = (what: string) => `${c.name}, step ${k + 1}, ${what}`;
      vars.forEach((v, i) => {
        assertStrictEquals(v.dtype, dtype);
        assertClose(v.peek(), tensor(step.values[i]), { ...TOL, message: where(`variable ${i}`) });
      });
      for (const [name, values] of Object.entries(step.slots)) {
        values.forEach((expected, i) => {
          const slot = opt.getSlot(vars[i], name);
          if (expected === null) {
            assertStrictEquals(slot, null, where(`no ${name} slot for variable ${i}`));
          } else {
            assertClose(slot!.peek(), tensor(expected), { ...TOL, message: where(`${name} ${i}`) });
          }
        });
      }
      if (step.betaPowers) {
        const [b1, b2] = ["beta1_power", "beta2_power"].map((n) =>
          opt.variables().find((v) => v.name.startsWith(n))!
        );
        // (on the CPU on every device: the optimizer reads them in JS each step)
        const here = { ...TOL, onCpu: true };
        assertClose(b1.peek(), step.betaPowers[0], { ...here, message: where("beta1_power") });
        assertClose(b2.peek(), step.betaPowers[1], { ...here, message: where("beta2_power") });
      }
    });
  });
}

const X = tensor(fixtures.regression.x), Y = tensor(fixtures.regression.y);
const LOSSES: Record<string, (w: tf.Variable, b: tf.Variable) => tf.Tensor> = {
  twice: (w, b) =>
    tf.addN([
      tf.reduceSum(w.mul(w).mul([1, 2, 3])),
      tf.reduceSum(tf.sin(w)),
      tf.square(tf.reshape(b, []).sub(1)),
    ]),
  regression: (w, b) => tf.reduceMean(tf.square(tf.matmul(X, w).add(b).sub(Y))),
};

for (const c of fixtures.minimize) {
  Deno.test(`minimize matches TensorFlow 1: ${c.name}`, () => {
    const [w, b] = c.initial.map((x) => new tf.Variable(tensor(x)));
    // Step variables live on the CPU (schedules read them in JS every step).
    const step = cpu(() => new tf.Variable(0, { dtype: "int64", trainable: false }));
    const kw = c.kwargs as Kwargs;
    const lr = c.schedule
      ? tf.train.exponentialDecay(
        kw.learning_rate as number,
        step,
        c.schedule.decay_steps,
        c.schedule.decay_rate,
        { staircase: c.schedule.staircase },
      )
      : undefined;
    const opt = make(c.optimizer, kw, lr);
    for (const [k, expected] of c.steps.entries()) {
      const loss = opt.minimize(() => LOSSES[c.loss](w, b), { globalStep: step });
      const where = `${c.name}, step ${k + 1}`;
      assertClose(loss, expected.loss, { ...TOL, message: `${where}: loss` });
      assertClose(w.peek(), tensor(expected.values[0]), { ...TOL, message: `${where}: w` });
      assertClose(b.peek(), tensor(expected.values[1]), { ...TOL, message: `${where}: b` });
      assertStrictEquals(Number(step.peek()), expected.globalStep);
    }
  });
}

Deno.test("schedules match tf.compat.v1.train.exponential_decay and piecewise_constant", () => {
  for (const s of fixtures.schedules as unknown as ScheduleCase[]) {
    const kw = s.kwargs;
    const schedule = s.kind === "exponential"
      ? tf.train.exponentialDecay(kw.learning_rate, null, kw.decay_steps, kw.decay_rate, {
        staircase: kw.staircase,
      })
      : tf.train.piecewiseConstant(null, kw.boundaries, kw.values);
    const got = s.steps.map((step) => schedule(step));
    assertClose(tf.constant(got, "float64"), s.values, {
      rtol: 1e-6,
      atol: 1e-12,
      message: `${s.kind} ${JSON.stringify(kw)}`,
    });
  }
  const step = cpu(() => new tf.Variable(7, { dtype: "int64" }));
  const bound = tf.train.piecewiseConstant(step, [3, 7], [1, 0.5, 0.1]);
  assertStrictEquals(bound(), 0.5);
  step.assign(8);
  assertStrictEquals(bound(), 0.1);
  assertStrictEquals(bound(0), 1);
  assertStrictEquals(tf.train.exponentialDecay(2, 4, 2, 0.5)(), 0.5);
});

Deno.test("the global step: one per process, int64, incremented by applyGradients", () => {
  tf.train.resetGlobalStep();
  assertStrictEquals(tf.train.getGlobalStep(), null);
  const step = tf.train.getOrCreateGlobalStep();
  assertStrictEquals(tf.train.getOrCreateGlobalStep(), step);
  assertStrictEquals(tf.train.getGlobalStep(), step);
  assertEquals([step.name, step.dtype, step.trainable], ["global_step", "int64", false]);
  assertStrictEquals(step.numpy(), 0n);
  const w = new tf.Variable([1, 2]);
  const opt = new tf.train.GradientDescentOptimizer(0.1);
  opt.applyGradients([[tf.constant([1, 1]), w]]);
  assertStrictEquals(step.numpy(), 0n); // not given: not incremented
  opt.applyGradients([[tf.constant([1, 1]), w]], { globalStep: step });
  opt.minimize(() => w.square(), { globalStep: step });
  assertStrictEquals(step.numpy(), 2n);
  const counter = cpu(() => new tf.Variable(10, { dtype: "int32", trainable: false }));
  opt.applyGradients([[tf.constant([1, 1]), w]], { globalStep: counter });
  assertStrictEquals(counter.numpy(), 11);
  tf.train.resetGlobalStep();
  const again = tf.train.getOrCreateGlobalStep();
  assertStrictEquals(again === step, false);
  assertStrictEquals(again.name, "global_step");
  tf.train.resetGlobalStep();
});

Deno.test("a schedule is evaluated before the update at the globalStep, the process step, or the call count", () => {
  const seen: number[] = [];
  const lr = (step: number) => (seen.push(step), 0.1);
  const w = new tf.Variable([1]);
  const opt = new tf.train.GradientDescentOptimizer(lr);
  assertStrictEquals(opt.learningRate, lr);
  const g = tf.constant([1]);
  opt.applyGradients([[g, w]]); // no global step anywhere: call count 0
  opt.applyGradients([[g, w]]); // 1
  const own = cpu(() => new tf.Variable(5, { dtype: "int64" }));
  opt.applyGradients([[g, w]], { globalStep: own }); // 5, then own = 6
  tf.train.resetGlobalStep();
  const global = tf.train.getOrCreateGlobalStep();
  global.assign(40);
  opt.applyGradients([[g, w]]); // the process global step: 40
  assertEquals(seen, [0, 1, 5, 40]);
  assertStrictEquals(Number(own.peek()), 6);
  assertClose(w.peek(), [0.6]);
  tf.train.resetGlobalStep();
});

Deno.test("minimize trains a small linear regression to a low loss", async () => {
  const xs = tf.randomUniform([64, 2], { seed: 3 });
  const ys = tf.matmul(xs, tf.constant([[3], [-2]])).add(0.5);
  const makeModel = () => [new tf.Variable(tf.zeros([2, 1])), new tf.Variable(tf.zeros([1]))];
  const cases: [string, tf.train.Optimizer, number][] = [
    ["gradient descent", new tf.train.GradientDescentOptimizer(0.5), 400],
    ["momentum", new tf.train.MomentumOptimizer(0.1, 0.9), 300],
    ["nesterov", new tf.train.MomentumOptimizer(0.1, 0.9, { useNesterov: true }), 300],
    ["adam", new tf.train.AdamOptimizer(0.1), 400],
    ["rmsprop", new tf.train.RMSPropOptimizer(0.02, { momentum: 0.5 }), 400],
    ["rmsprop centered", new tf.train.RMSPropOptimizer(0.02, { centered: true }), 400],
    ["adagrad", new tf.train.AdagradOptimizer(0.5), 400],
  ];
  for (const [name, opt, steps] of cases) {
    const [w, b] = makeModel();
    const loss = () => tf.losses.meanSquaredError(ys, tf.matmul(xs, w).add(b));
    const first = await scalar(loss());
    for (let i = 0; i < steps; i++) opt.minimize(loss);
    const last = await scalar(loss());
    if (!(last < 1e-3 && last < first / 100)) {
      throw new Error(`${name}: loss ${first} -> ${last}`);
    }
    assertClose(w.peek(), [[3], [-2]], { rtol: 0, atol: 0.1, message: name });
  }
});

Deno.test("minimize: varList limits the variables; non-trainable variables are left alone", async () => {
  const a = new tf.Variable(1),
    b = new tf.Variable(1),
    frozen = new tf.Variable(1, { trainable: false });
  const opt = new tf.train.GradientDescentOptimizer(0.5);
  const loss = () => tf.addN([a.square(), b.square(), frozen.square()]);
  const value = opt.minimize(loss, { varList: [a] });
  assertClose(value, 3);
  assertEquals(await Promise.all([a, b, frozen].map(scalar)), [0, 1, 1]);
  opt.minimize(loss);
  assertEquals(await Promise.all([a, b, frozen].map(scalar)), [0, 0, 1]);
  const pairs = opt.computeGradients(loss, { varList: [a, b, frozen] });
  assertEquals(await Promise.all(pairs.map(([g]) => scalar(g!))), [0, 0, 2]);
  assertEquals(pairs.map(([, v]) => v), [a, b, frozen]);
  const unread = new tf.Variable(1);
  const withNull = opt.computeGradients(() => a.mul(2), { varList: [a, unread] });
  assertStrictEquals(withNull[1][0], null);
});

Deno.test("updates are not recorded by gradient tapes", () => {
  const w = new tf.Variable([1, 2]);
  const g = tf.constant([0.5, 0.5]);
  const tape = new tf.GradientTape({ persistent: true });
  tape.watch(g);
  const opt = new tf.train.MomentumOptimizer(0.1, 0.9);
  const after = tape.record(() => {
    opt.applyGradients([[g.mul(2), w]]);
    return w.peek();
  });
  assertStrictEquals(tape.gradient(after, g), null);
  const outer = new tf.GradientTape();
  const loss = outer.record(() => opt.minimize(() => tf.reduceSum(w.square())));
  assertEquals(outer.watchedVariables(), [w]);
  assertStrictEquals(outer.gradient(loss, opt.getSlot(w, "momentum")!), null);
});

Deno.test("an optimizer's name option renames its slots", () => {
  const v = new tf.Variable([1], { name: "renamed" });
  const opt = new tf.train.AdamOptimizer(0.1, { name: "MyAdam" });
  opt.applyGradients([[tf.constant([1]), v]]);
  assertEquals([opt.getSlot(v, "m")!.name, opt.getSlot(v, "v")!.name], [
    "renamed/MyAdam",
    "renamed/MyAdam_1",
  ]);
  assertStrictEquals(opt.name, "MyAdam");
  assertStrictEquals(new tf.train.MomentumOptimizer(0.1, 0.9).name, "Momentum");
});

Deno.test("gradients may be JS arrays; float64 variables keep float64 slots", () => {
  const v = new tf.Variable([1, 2], { dtype: "float64" });
  const opt = new tf.train.RMSPropOptimizer(0.1, { centered: true, momentum: 0.2 });
  opt.applyGradients([[[0.5, -0.5], v]]);
  assertStrictEquals(v.dtype, "float64");
  for (const name of ["rms", "mg", "momentum"]) {
    assertStrictEquals(opt.getSlot(v, name)!.dtype, "float64");
  }
});

Deno.test("errors name the optimizer and the variable", () => {
  const w = new tf.Variable([1, 2], { name: "err_w" });
  const i = new tf.Variable([1, 2], { name: "err_i", dtype: "int32" });
  const adam = new tf.train.AdamOptimizer();
  assertThrowsMatch(
    () => adam.applyGradients([[tf.constant([1, 2, 3]), w]]),
    /AdamOptimizer\.applyGradients: the gradient of err_w has shape \[3\] but the variable has shape \[2\]/,
  );
  assertThrowsMatch(
    () => adam.applyGradients([[tf.constant([1, 2], "int32"), i]]),
    /AdamOptimizer\.applyGradients: variable err_i is int32; optimizers update float32 or float64/,
  );
  assertThrowsMatch(
    () => adam.applyGradients([[null, w]]),
    /AdamOptimizer\.applyGradients: no gradients provided for any variable: \[err_w\]/,
  );
  assertThrowsMatch(
    () => adam.applyGradients([[tf.constant([1, 2])] as never]),
    /AdamOptimizer\.applyGradients: pair 0 is not a \[gradient, variable\] pair/,
  );
  assertThrowsMatch(
    () => adam.applyGradients([[tf.constant([1, 2]), w]], { globalStep: 3 as never }),
    /AdamOptimizer\.applyGradients: globalStep must be a Variable/,
  );
  assertStrictEquals(adam.variables().length, 0); // failed calls made no slots
  assertThrowsMatch(
    () => new tf.train.AdamOptimizer(0.1, { beta1: 1 }),
    /AdamOptimizer: beta1 must be a number in \[0, 1\), got 1/,
  );
  assertThrowsMatch(
    () => new tf.train.AdamOptimizer(-1),
    /AdamOptimizer: learningRate must be a number in \[0, inf\), got -1/,
  );
  assertThrowsMatch(
    () => new tf.train.GradientDescentOptimizer(NaN),
    /GradientDescentOptimizer: learningRate must be a number/,
  );
  assertThrowsMatch(
    () => new tf.train.MomentumOptimizer(0.1, undefined as never),
    /MomentumOptimizer: momentum must be a number in \[0, inf\), got undefined/,
  );
  assertThrowsMatch(
    () => new tf.train.RMSPropOptimizer(0.1, { decay: 1.5 }),
    /RMSPropOptimizer: decay must be a number in \[0, 1\]/,
  );
  assertThrowsMatch(
    () => new tf.train.AdagradOptimizer(0.1, { initialAccumulatorValue: 0 }),
    /AdagradOptimizer: initialAccumulatorValue must be a number in \(0, inf\)/,
  );
  assertThrowsMatch(
    () => new tf.train.GradientDescentOptimizer(() => -1).applyGradients([[[1, 1], w]]),
    /GradientDescentOptimizer: learningRate\(0\) must be a number in \[0, inf\), got -1/,
  );
  const gd = new tf.train.GradientDescentOptimizer(0.1);
  assertThrowsMatch(
    () => gd.minimize(() => tf.constant(1)),
    /GradientDescentOptimizer\.minimize: the loss read no trainable variable/,
  );
  assertThrowsMatch(
    () => gd.minimize(() => tf.cast(w, "int32")),
    /GradientDescentOptimizer\.minimize: the loss function must return a float tensor, got int32/,
  );
  assertThrowsMatch(
    () => gd.minimize(() => tf.stopGradient(w.mul(2))),
    /no gradients provided for any variable: \[err_w\]/,
  );
  assertThrowsMatch(
    () => gd.minimize(() => w.square(), { varList: [1] as never }),
    /GradientDescentOptimizer\.minimize: varList must be an array of Variables/,
  );
  assertThrowsMatch(
    () => tf.train.piecewiseConstant(null, [1, 2], [1, 2]),
    /piecewiseConstant: values must have one more element than boundaries, got 2 values and 2/,
  );
  assertThrowsMatch(
    () => tf.train.piecewiseConstant(null, [2, 1], [1, 2, 3]),
    /piecewiseConstant: boundaries must increase/,
  );
  assertThrowsMatch(
    () => tf.train.exponentialDecay(0.1, null, 0, 0.5),
    /exponentialDecay: decaySteps must be a number in \(0, inf\), got 0/,
  );
  assertThrowsMatch(
    () => tf.train.exponentialDecay(0.1, null, 10, 0.5)(),
    /exponentialDecay: no step given and no globalStep to read/,
  );
});
