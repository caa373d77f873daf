import * as tf from "../mod.ts";
import { assertClose, assertEquals, assertStrictEquals, assertThrowsMatch } from "./helpers.ts";

Deno.test("seed: f(x) = x*x has first, second and third derivatives 6, 2, 0 at 3", () => {
  const f = (x: tf.Tensor) => x.mul(x);
  const df = tf.gradientsFunction(f);
  const d2f = tf.gradientsFunction((x: tf.Tensor) => df(x)[0]);
  const d3f = tf.gradientsFunction((x: tf.Tensor) => d2f(x)[0]);
  assertClose(df(3)[0], 6);
  assertClose(d2f(3)[0], 2);
  assertClose(d3f(3)[0], 0);
});

Deno.test("seed: log1pexp is NaN at 100 without, 1.0 with the custom gradient", () => {
  const plain = (x: tf.Tensor) => tf.log(tf.exp(x).add(1));
  assertClose(tf.gradientsFunction(plain)(0)[0], 0.5);
  assertClose(tf.gradientsFunction(plain)(100)[0], NaN);
  const custom = tf.customGradient((x: tf.Tensor) => {
    const e = tf.exp(x);
    const grad = (dy: tf.Tensor) => dy.mul(tf.subtract(1, tf.divide(1, e.add(1))));
    return [tf.log(e.add(1)), grad];
  });
  assertClose(tf.gradientsFunction(custom)(0)[0], 0.5);
  assertClose(tf.gradientsFunction(custom)(100)[0], 1);
});

Deno.test("seed: linear regression with gradientsFunction", () => {
  tf.random.setSeed(1);
  const xs = tf.randomNormal([200, 1]);
  const ys = xs.mul(3).add(2).add(tf.randomNormal([200, 1], { stddev: 0.01 }));
  const loss = (w: tf.Tensor, b: tf.Tensor) => tf.reduceMean(tf.square(xs.mul(w).add(b).sub(ys)));
  const grad = tf.gradientsFunction(loss);
  let w = tf.constant(0), b = tf.constant(0);
  for (let i = 0; i < 300; i++) {
    const [dw, db] = grad(w, b);
    w = w.sub(dw.mul(0.1));
    b = b.sub(db.mul(0.1));
  }
  assertClose(w, 3, { atol: 0.01 });
  assertClose(b, 2, { atol: 0.01 });
});

Deno.test("seed: a Model with two Variables trained with implicitGradients", async () => {
  class Model {
    readonly W = new tf.Variable(5, { name: "weight" });
    readonly B = new tf.Variable(10, { name: "bias" });
    predict(x: tf.Tensor): tf.Tensor {
      return x.mul(this.W).add(this.B);
    }
  }
  tf.random.setSeed(2);
  const inputs = tf.randomNormal([1000]);
  const outputs = inputs.mul(3).add(2).add(tf.randomNormal([1000]));
  const model = new Model();
  const loss = () => tf.reduceMean(tf.square(model.predict(inputs).sub(outputs)));
  const grad = tf.implicitGradients(loss);
  const before = (await loss().data())[0] as number;
  for (let i = 0; i < 300; i++) {
    const pairs = grad();
    assertEquals(pairs.map(([, v]) => v), [model.W, model.B]);
    for (const [g, v] of pairs) v.assignSub(g.mul(0.01));
  }
  const after = (await loss().data())[0] as number;
  if (!(after < before / 10)) throw new Error(`loss ${after} from ${before}`);
  assertClose(model.W.read(), 3, { atol: 0.15 });
  assertClose(model.B.read(), 2, { atol: 0.15 });
});

Deno.test("valueAndGradientsFunction, params and the upstream gradient dy", () => {
  const f = (x: tf.Tensor, y: tf.Tensor) => x.mul(y).mul(y);
  const [value, grads] = tf.valueAndGradientsFunction(f)(2, 3);
  assertClose(value, 18);
  assertClose(grads[0], 9);
  assertClose(grads[1], 12);
  assertClose(tf.gradientsFunction(f, [1])(2, 3)[0], 12);
  assertEquals(tf.gradientsFunction(f, [1])(2, 3).length, 1);
  assertClose(tf.gradientsFunction(f)(2, 3, { dy: 10 })[0], 90);
  // A non-scalar result without dy is summed, as TensorFlow does.
  assertClose(tf.gradientsFunction((x: tf.Tensor) => x.mul(2))([1, 2, 3])[0], [2, 2, 2]);
  assertClose(tf.gradientsFunction((x: tf.Tensor) => x.square())([1, 2], { dy: [1, 10] })[0], [
    2,
    40,
  ]);
});

Deno.test("seed functions raise clear errors", () => {
  assertThrowsMatch(
    () => tf.gradientsFunction((x: tf.Tensor) => x)(tf.constant([1], "int32")),
    /gradientsFunction: argument 0 is int32, not floating point/,
  );
  assertThrowsMatch(
    () => tf.gradientsFunction((() => 3) as never)(1),
    /gradientsFunction: the function must return a tensor/,
  );
  assertThrowsMatch(
    () => tf.gradientsFunction((x: tf.Tensor) => tf.greater(x, 0) as tf.Tensor)(1),
    /gradientsFunction: the function returned a bool tensor/,
  );
  assertThrowsMatch(() => tf.gradientsFunction((x: tf.Tensor) => x, [2])(1), /params index 2/);
  assertThrowsMatch(
    () => tf.implicitGradients(() => tf.constant(1))(),
    /implicitGradients: the function read no trainable variable/,
  );
  // Unconnected arguments get zeros from the seed functions.
  assertClose(tf.gradientsFunction((_x: tf.Tensor, y: tf.Tensor) => y.mul(2))(1, 1)[0], 0);
});

Deno.test("GradientTape: watch, gradient, unconnected sources, one use unless persistent", () => {
  const x = tf.constant(3), z = tf.constant(4);
  const tape = new tf.GradientTape();
  tape.watch([x, z]);
  const y = tape.record(() => x.square());
  const [gx, gz] = tape.gradient(y, [x, z]);
  assertClose(gx!, 6);
  assertStrictEquals(gz, null);
  assertThrowsMatch(() => tape.gradient(y, x), /non-persistent tape can only be used once/);
  const p = new tf.GradientTape({ persistent: true });
  p.watch(x);
  const y2 = p.record(() => x.pow(3));
  assertClose(p.gradient(y2, x)!, 27);
  assertClose(p.gradient(y2, x)!, 27);
  assertClose(p.gradient(y2, z, { unconnectedGradients: "zero" })!, 0);
  assertClose(p.gradient(y2, x, { outputGradients: 2 })!, 54);
  assertClose(p.gradient([y2, y2], x)!, 54);
  // Unwatched tensors are constants.
  const q = new tf.GradientTape();
  assertStrictEquals(q.gradient(q.record(() => x.square()), x), null);
});

Deno.test("GradientTape: variables are watched when read, unless told not to", () => {
  const v = new tf.Variable(2), frozen = new tf.Variable(5, { trainable: false });
  const tape = new tf.GradientTape();
  const y = tape.record(() => v.mul(frozen));
  assertEquals(tape.watchedVariables(), [v]);
  assertClose(tape.gradient(y, v)!, 5);
  const manual = new tf.GradientTape({ watchAccessedVariables: false });
  const y2 = manual.record(() => v.square());
  assertStrictEquals(manual.gradient(y2, v), null);
  const explicit = new tf.GradientTape({ watchAccessedVariables: false });
  explicit.watch(frozen);
  assertClose(explicit.gradient(explicit.record(() => frozen.square()), frozen)!, 10);
});

Deno.test("GradientTape: stopRecording and stopGradient block the gradient", () => {
  const x = tf.constant(3);
  const tape = new tf.GradientTape({ persistent: true });
  tape.watch(x);
  const y = tape.record(() => {
    const a = x.square();
    const b = tape.stopRecording(() => x.mul(100));
    return a.add(b).add(tf.stopGradient(x.mul(7)));
  });
  assertClose(tape.gradient(y, x)!, 6);
});

Deno.test("GradientTape: nested tapes give second derivatives", () => {
  const x = tf.constant(2);
  const outer = new tf.GradientTape();
  outer.watch(x);
  const dy = outer.record(() => {
    const inner = new tf.GradientTape();
    inner.watch(x);
    const y = inner.record(() => x.pow(3));
    return inner.gradient(y, x)!;
  });
  assertClose(dy, 12);
  assertClose(outer.gradient(dy, x)!, 12);
});

Deno.test("GradientTape: jacobian and batchJacobian", () => {
  const x = tf.constant([1, 2, 3]);
  const tape = new tf.GradientTape({ persistent: true });
  tape.watch(x);
  const y = tape.record(() => x.square());
  assertClose(tape.jacobian(y, x), [[2, 0, 0], [0, 4, 0], [0, 0, 6]]);
  const m = tf.constant([[1, 2], [3, 4]]);
  const w = tf.constant([[1, 0, 2], [0, 1, 3]]);
  const t2 = new tf.GradientTape({ persistent: true });
  t2.watch(m);
  const out = t2.record(() => tf.matmul(m, w)); // [2, 3]
  const bj = t2.batchJacobian(out, m);
  assertEquals(bj.shape, [2, 3, 2]);
  assertClose(bj, [[[1, 0], [0, 1], [2, 3]], [[1, 0], [0, 1], [2, 3]]]);
  assertEquals(t2.jacobian(out, m).shape, [2, 3, 2, 2]);
  assertThrowsMatch(() => t2.batchJacobian(out, tf.zeros([3])), /same first \(batch\) dimension/);
});

Deno.test("GradientTape errors name the method", () => {
  const tape = new tf.GradientTape();
  assertThrowsMatch(() => tape.watch(3 as never), /GradientTape.watch: expected tensors/);
  assertThrowsMatch(() => tape.gradient(3 as never, tf.constant(1)), /target must be a tensor/);
  const x = tf.constant([1, 2]);
  tape.watch(x);
  const y = tape.record(() => x.square());
  assertThrowsMatch(
    () => tape.gradient(y, x, { outputGradients: [1, 2, 3] }),
    /outputGradients\[0\] has shape \[3\] but the target has \[2\]/,
  );
});

Deno.test("customGradient composes with tapes, variables and higher derivatives", () => {
  const clipGrad = tf.customGradient((x: tf.Tensor) => [
    tf.identity(x),
    (dy: tf.Tensor) => tf.clipByValue(dy, -1, 1),
  ]);
  assertClose(tf.gradientsFunction((x: tf.Tensor) => clipGrad(x).mul(5))(2)[0], 1);
  // gradFn written with ops: its own derivative exists.
  const cube = tf.customGradient((
    x: tf.Tensor,
  ) => [x.pow(3), (dy: tf.Tensor) => dy.mul(x.square().mul(3))]);
  const d2 = tf.gradientsFunction((x: tf.Tensor) => tf.gradientsFunction(cube)(x)[0]);
  assertClose(d2(2)[0], 12);
  // With variables, gradFn returns [input gradients, variable gradients].
  const v = new tf.Variable(3);
  const scaled = tf.customGradient((x: tf.Tensor) => [
    x.mul(v),
    (dy: tf.Tensor, { variables }) => {
      assertEquals(variables, [v]);
      return [[dy.mul(v)], [dy.mul(x).mul(10)]];
    },
  ]);
  const pairs = tf.implicitGradients((x: number) => scaled(tf.constant(x)))(2);
  assertClose(pairs[0][0], 20);
  assertThrowsMatch(() => tf.customGradient((() => 1) as never)(1), /must return \[y, gradFn\]/);
});

Deno.test("a hundred thousand gradients keep memory flat", async () => {
  const probe = new URL("./probes/gradient_memory.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", probe],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`the probe failed: ${new TextDecoder().decode(out.stderr)}`);
  const { peak } = JSON.parse(new TextDecoder().decode(out.stdout));
  if (!(peak > 0)) throw new Error(`the probe printed no heap size: ${peak}`);
  // A leaked tape (nodes, closures, saved tensors) per call would be hundreds of MB.
  if (peak > 96e6) throw new Error(`JS heap reached ${peak} bytes`);
});

Deno.test("gradient's onGradient reports each source once, as soon as it is final, last layer first", () => {
  const w1 = new tf.Variable([[0.5, -1], [2, 1]], { name: "w1" });
  const w2 = new tf.Variable([[1], [-2]], { name: "w2" });
  const unused = new tf.Variable([3], { name: "unused" });
  const x = tf.constant([[1, 2]]);
  const tape = new tf.GradientTape();
  // w2 is read twice: its gradient is final only once both reads are differentiated.
  const loss = tape.record(() =>
    tf.nn.relu(x.matmul(w1)).matmul(w2).add(x.matmul(w2.read().mul(0))).sum()
  );
  const reports: [number, tf.Tensor | null][] = [];
  const grads = tape.gradient(loss, [w1, w2, unused], {
    onGradient: (i, g) => reports.push([i, g]),
  });
  assertEquals(reports.map(([i]) => i), [1, 0, 2]); // w2 (the last layer), then w1, then unused
  reports.forEach(([i, g]) => assertStrictEquals(g, grads[i]));
  assertStrictEquals(grads[2], null);
  assertClose(grads[0]!, [[1, -2], [2, -4]]);
  assertClose(grads[1]!, [[4.5], [1]]);
});
