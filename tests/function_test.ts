/**
 * tf.function: a traced function's graph gives what eager execution gives (bit for bit: the
 * same kernels run), sees variables' current values, repeats random draws and optimizer
 * updates with each call's seeds and step, retraces on a new signature, drops dead work,
 * plans buffers, and refuses what a graph cannot repeat.
 */
import * as tf from "../mod.ts";
import { trainMnist } from "../examples/mnist.ts";
import { loadMnist } from "../examples/mnist_data.ts";
import { assertEquals, assertThrowsMatch, deviceDTypes, ON_WEBGPU } from "./helpers.ts";

function assert(ok: boolean, message = "assertion failed"): void {
  if (!ok) throw new Error(message);
}

/** A tensor's values as a plain array, read without blocking (every device). */
async function read(
  t: { data(): Promise<ArrayLike<number | bigint>> },
): Promise<(number | bigint)[]> {
  return Array.from(await t.data());
}

/** The values of tensors (any structure), for bit-for-bit comparison. */
async function values(x: unknown): Promise<unknown> {
  if (x instanceof tf.Tensor) return { dtype: x.dtype, shape: x.shape, data: await read(x) };
  if (Array.isArray(x)) return await Promise.all(x.map(values));
  if (typeof x === "object" && x !== null) {
    const entries = Object.entries(x).map(async ([k, v]) => [k, await values(v)]);
    return Object.fromEntries(await Promise.all(entries));
  }
  return x;
}

/** Calls f eagerly and traced on each argument list; the results must be identical. */
async function sameAsEager(
  f: (...args: tf.Tensor[]) => unknown,
  calls: tf.Tensor[][],
): Promise<void> {
  const traced = tf.function(f);
  for (const args of calls) assertEquals(await values(traced(...args)), await values(f(...args)));
  assert(traced.tracingCount >= 1);
}

const x23 = () => tf.randomNormal([2, 3], { seed: 3 });
const y23 = () => tf.randomUniform([2, 3], { seed: 4, minval: 0.5, maxval: 2 });

Deno.test("traced graphs equal eager results across the op families", async () => {
  const families: Record<string, (a: tf.Tensor, b: tf.Tensor) => unknown> = {
    elementwise: (a, b) => a.mul(b).add(a.exp()).sub(b.sqrt()).div(b).tanh().maximum(0.1),
    comparisons: (a, b) => tf.where(a.greater(b), a, b.neg()),
    reductions: (a, b) => [a.sum(), b.mean(1), a.max(0, true), b.argMax(1)],
    // argMax to int32 goes through zeroed int64 storage (a BigInt64Array on the CPU).
    int64Scratch: (a) => tf.argMax(a, 1, { outputType: "int32" }),
    matmul: (a, b) => tf.matmul(a, b, { transposeB: true }).matmul(a),
    views: (a, b) => [a.transpose().reshape([6]), b.slice([0, 1], [2, 2]), tf.concat([a, b], 1)],
    softmax: (a) => [tf.nn.softmax(a), tf.nn.logSoftmax(a)],
    losses: (a) => tf.losses.sparseSoftmaxCrossEntropy(tf.constant([2, 0], "int32"), a),
    indexing: (
      a,
    ) => [
      tf.gather(a, tf.constant([1, 0, 1], "int32"), { axis: 1 }),
      tf.oneHot(tf.constant([2, 0], "int32"), 3),
    ],
    conv: (a) => {
      const img = a.reshape([1, 2, 3, 1]);
      return tf.nn.maxPool(tf.nn.conv2d(img, tf.ones([2, 2, 1, 2]), 1, "SAME"), 2, 1, "SAME");
    },
    casts: (a) => [a.cast("int32"), a.greater(0).cast("float32").sum()],
  };
  for (const [name, f] of Object.entries(families)) {
    const traced = tf.function(f, { name });
    const first: [tf.Tensor, tf.Tensor] = [x23(), y23()];
    const second: [tf.Tensor, tf.Tensor] = [x23().mul(2), y23().add(1)];
    assertEquals(
      await values(traced(...first)),
      await values(f(first[0], first[1])),
      `${name}, traced`,
    );
    assertEquals(
      await values(traced(...second)),
      await values(f(second[0], second[1])),
      `${name}, graph`,
    );
    assertEquals(traced.tracingCount, 1, name);
  }
});

Deno.test("gradients taken inside a traced function equal eager ones", async () => {
  const f = (a: tf.Tensor, b: tf.Tensor) => {
    const tape = new tf.GradientTape();
    tape.watch(a);
    tape.watch(b);
    const y = tape.record(() =>
      a.mul(b).sin().sum().add(tf.matmul(a, b.transpose()).square().mean())
    );
    return tape.gradient(y, [a, b]);
  };
  await sameAsEager(f, [[x23(), y23()], [y23(), x23()], [x23().neg(), y23()]]);
});

Deno.test("a graph reads variables' current values and repeats their assignments", async () => {
  const v = new tf.Variable([1, 2, 3]);
  const counter = new tf.Variable(0, { dtype: "int32" });
  const f = tf.function((x: tf.Tensor) => {
    counter.assignAdd(1);
    v.assign(v.read().mul(x));
    return v.read().sum();
  });
  assertEquals((await read(f(tf.constant([2, 2, 2]))))[0], 12);
  assertEquals((await read(f(tf.constant([1, 0, 1]))))[0], 8);
  v.assign([1, 1, 1]); // changed outside: the graph sees it
  assertEquals((await read(f(tf.constant([3, 3, 3]))))[0], 9);
  assertEquals(await read(v), [3, 3, 3]);
  assertEquals((await read(counter))[0], 3);
  assertEquals(f.tracingCount, 1);
});

Deno.test("a new shape, dtype or other argument traces again; JS runs at trace time only", async () => {
  let sideEffects = 0;
  const signatures: string[] = [];
  const f = tf.function((x: tf.Tensor, scale: number) => {
    sideEffects++;
    return x.mul(scale);
  }, { onTrace: (s) => signatures.push(s) });
  f(tf.ones([2]), 2);
  f(tf.ones([2]), 2);
  assertEquals([sideEffects, f.tracingCount], [1, 1]);
  assertEquals(await read(f(tf.ones([3]), 2)), [2, 2, 2]);
  assertEquals(await read(f(tf.ones([3]), 5)), [5, 5, 5]);
  assertEquals(await read(f(tf.ones([3], "float64"), 5)), [5, 5, 5]);
  assertEquals([sideEffects, f.tracingCount, signatures.length], [4, 4, 4]);
  assert(signatures[0].includes("float32[2]"), signatures[0]);
});

Deno.test("random draws repeat with each call's seeds, as eagerly", async () => {
  const f = (x: tf.Tensor) => tf.nn.dropout(x, 0.5).add(tf.randomNormal([4]));
  const traced = tf.function(f);
  tf.random.setSeed(7);
  const graph = await Promise.all([1, 2, 3].map(() => read(traced(tf.ones([4])))));
  tf.random.setSeed(7);
  const eager = await Promise.all([1, 2, 3].map(() => read(f(tf.ones([4])))));
  assertEquals(graph, eager);
  assert(graph[1].join() !== graph[2].join(), "each call draws anew");
});

Deno.test("dead work is dropped and intermediates share planned buffers", async () => {
  const f = tf.function((x: tf.Tensor) => {
    x.exp(); // unused
    let y = x;
    for (let i = 0; i < 10; i++) y = y.add(1).mul(0.5);
    return y;
  });
  const x = tf.randomNormal([1000]);
  f(x);
  const [{ stats }] = f.graphs();
  assertEquals(stats.nodes, 21);
  assertEquals(stats.kept, 20);
  assert(stats.buffers <= 2, `buffers ${stats.buffers}`);
  assertEquals(stats.bufferBytes, stats.buffers * 4000);
  let y = x;
  for (let i = 0; i < 10; i++) y = y.add(1).mul(0.5);
  assertEquals(await read(f(x)), await read(y));
});

Deno.test("duplicate elementwise work is computed once", async () => {
  const f = (x: tf.Tensor) => {
    const a = x.exp().add(1), b = x.exp().add(1); // the same twice
    return a.mul(b).sub(x.exp());
  };
  const traced = tf.function(f);
  const x = tf.randomNormal([50], { seed: 5 });
  traced(x);
  const [{ stats }] = traced.graphs();
  assertEquals([stats.nodes, stats.duplicates, stats.kept], [7, 3, 4]);
  assertEquals(await read(traced(x)), await read(f(x)));
  // A value written again in place between the two calls is not folded: a product's output
  // gets its bias and activation in place (Dense), so two reads of it are two values.
  const dense = new tf.layers.Dense(4, { activation: tf.nn.relu });
  const g = (v: tf.Tensor) => dense.apply(v).add(dense.apply(v).neg());
  const tg = tf.function(g);
  const v = tf.randomNormal([3, 2], { seed: 6 });
  tg(v);
  assertEquals(await read(tg(v)), await read(g(v)));
});

Deno.test("elementwise chains are fused into one pass with the unfused values", async () => {
  for (const dtype of deviceDTypes(["float32", "float64"] as const)) {
    const c = tf.fill([1], 1.01, dtype);
    const f = (x: tf.Tensor, y: tf.Tensor) => {
      let z = x;
      for (let i = 0; i < 40; i++) z = z.mul(c).add(y).tanh(); // 120 steps: two runs
      const mid = z.exp(); // read after the runs as well as inside them
      return [mid.sub(x).sqrt().add(mid), mid];
    };
    const traced = tf.function(f);
    for (const n of [1, 7, 3000]) {
      const x = tf.randomUniform([n], { seed: n, dtype }), y = tf.randomUniform([n], { dtype });
      assertEquals(await values(traced(x, y)), await values(f(x, y)), `${dtype} n=${n}`);
      assertEquals(await values(traced(x, y)), await values(f(x, y)), `${dtype} n=${n}, again`);
    }
    // The WebGPU device has no fused pass (Backend.fusedElementwise): its graphs run each op.
    for (const { stats } of traced.graphs()) {
      assertEquals(stats.fused, ON_WEBGPU ? 0 : stats.kept, dtype);
    }
  }
  // Above the fused size the unfused kernels (threaded) run.
  const big = tf.function((x: tf.Tensor) => x.exp().add(1));
  const x = tf.randomUniform([40000]);
  big(x);
  assertEquals(big.graphs()[0].stats.fused, 0);
  assertEquals(await read(big(x)), await read(x.exp().add(1)));
});

Deno.test("nested traced functions, tidy scopes and non-tensor results behave as eagerly", async () => {
  const inner = tf.function((x: tf.Tensor) => x.square().add(1));
  const v = new tf.Variable([2, 3]);
  const outer = (x: tf.Tensor) =>
    tf.tidy(() => {
      const y = inner(x).mul(v); // inner is traced inline into outer's graph
      return { y, label: "done", weights: v.read() };
    });
  const traced = tf.function(outer);
  for (const data of [[1, 2], [3, -1], [0.5, 0.25]]) {
    const x = tf.constant(data);
    const got = tf.tidy(() => traced(x)); // an outer tidy keeps what the call returns
    const want = outer(x);
    assertEquals(await values(got), await values(want));
    assertEquals(got.label, "done");
  }
  assertEquals(traced.tracingCount, 1);
  v.assign([1, 1]); // the returned value is the variable's current one
  assertEquals(await read(traced(tf.constant([1, 2])).weights), [1, 1]);
});

Deno.test("results are fresh tensors: disposing one leaves the next call whole", async () => {
  const f = tf.function((x: tf.Tensor) => x.square().add(1));
  const x = tf.randomNormal([200, 200]);
  const a = f(x), b = f(x);
  const expected = await read(b);
  a.dispose();
  assertEquals(await read(f(x)), expected);
  assertEquals(await read(b), expected);
});

Deno.test("reading a computed value on the host while tracing is an error naming the op", () => {
  const f = tf.function((x: tf.Tensor) => {
    const s = x.sum();
    return s.dataSync()[0] > 0 ? x : x.neg();
  });
  assertThrowsMatch(
    () => f(tf.ones([2])),
    /reads a tensor's values on the host inside a traced function/,
  );
  // Nothing was kept: the next call traces again (and fails again).
  assertThrowsMatch(() => f(tf.ones([2])), /tf\.function/);
  assertEquals(f.tracingCount, 0);
});

Deno.test("under a tape a traced function is one op whose gradient is a traced graph", async () => {
  const w = new tf.Variable([[0.5, -1], [2, 0.25]]);
  const f = (x: tf.Tensor, k: number) => tf.matmul(x, w).tanh().mul(k).sum();
  const traced = tf.function(f);
  const gradients = (g: typeof f, x: tf.Tensor) => {
    const tape = new tf.GradientTape();
    tape.watch(x);
    const y = tape.record(() => g(x, 3));
    return [y, ...tape.gradient(y, [x, w])];
  };
  for (const x of [tf.constant([[1, 2]]), tf.constant([[-1, 0.5]]), tf.constant([[3, 1]])]) {
    assertEquals(await values(gradients(traced, x)), await values(gradients(f, x)));
  }
  assertEquals(traced.tracingCount, 1);
  // Second derivatives: the backward graph, under an outer tape, is one op in turn.
  const x = tf.constant([[1, 2]]);
  const second = (g: typeof f) => {
    const outer = new tf.GradientTape();
    outer.watch(x);
    const dx = outer.record(() => {
      const inner = new tf.GradientTape();
      inner.watch(x);
      return inner.gradient(inner.record(() => g(x, 3)), x)!.sum();
    });
    return outer.gradient(dx, x);
  };
  const expected = await values(second(f));
  assertEquals(await values(second(traced)), expected);
});

Deno.test("views and shared storage among the arguments are handled", async () => {
  const f = (a: tf.Tensor, b: tf.Tensor) => a.add(b.mul(2));
  const base = tf.randomNormal([4, 4]);
  await sameAsEager(f, [
    [base.slice([0, 0], [2, 4]), base.slice([2, 0], [2, 4])], // one storage, two offsets
    [base.transpose().slice([0, 0], [2, 4]), base.slice([1, 0], [2, 4])],
    [tf.randomNormal([2, 4]), tf.randomNormal([2, 4])],
  ]);
});

Deno.test("the MNIST model trained eagerly and as a graph ends at the same variables", async () => {
  const data = await loadMnist();
  const run = (graph: boolean) =>
    trainMnist({ steps: 6, batchSize: 16, data, progress: null, graph, seed: 5 });
  const eager = await run(false), graph = await run(true);
  assertEquals(graph.firstLoss, eager.firstLoss);
  const a = eager.model.variables, b = graph.model.variables;
  assertEquals(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    const unnumbered = (name: string) => name.replace(/_\d+(?=\/)/g, "");
    assertEquals(unnumbered(b[i].name), unnumbered(a[i].name));
    assertEquals(await read(b[i]), await read(a[i]), a[i].name);
  }
});
