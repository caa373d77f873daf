import * as tf from "../mod.ts";
import { readEventFile } from "../src/summary/event_reader.ts";
import { assertEquals, assertThrowsMatch } from "./helpers.ts";

const value = (t: tf.Tensor) => Number(t);

Deno.test("Mean: plain and weighted means, 0 before any value, reset", () => {
  const m = new tf.metrics.Mean("loss");
  assertEquals(value(m.result()), 0);
  m.update([1, 2, 3]).update(6);
  assertEquals(value(m.result()), 3);
  // Weights broadcast to the values: (1*1 + 2*1 + 3*2 + 4*2) / (1 + 1 + 2 + 2) on top.
  m.update([[1, 2], [3, 4]], [[1], [2]]);
  assertEquals(value(m.result()), (12 + 1 + 2 + 6 + 8) / (4 + 6));
  assertEquals(m.result().dtype, "float64");
  assertEquals(m.result().shape, []);
  m.reset();
  assertEquals(value(m.result()), 0);
  m.update(tf.constant([10n, 20n], "int64"));
  assertEquals(value(m.result()), 15);
  // A zero total weight keeps the mean at 0 (no NaN).
  const z = new tf.metrics.Mean("z");
  z.update([5], [0]);
  assertEquals(value(z.result()), 0);
});

Deno.test("Mean accumulates in float64 (counts beyond 2^24 stay exact)", () => {
  const m = new tf.metrics.Mean("big");
  const ones = tf.ones([1 << 20]);
  for (let i = 0; i < 20; i++) m.update(ones);
  m.update([0.1]);
  assertEquals(Number(m.count.peek()), 20 * (1 << 20) + 1);
  assertEquals(value(m.result()), (20 * (1 << 20) + 0.1) / (20 * (1 << 20) + 1));
  const f32 = new tf.metrics.Mean("f32", { dtype: "float32" });
  assertEquals(f32.update([1, 2]).result().dtype, "float32");
});

Deno.test("Sum, Min and Max", () => {
  const s = new tf.metrics.Sum();
  s.update([1, 2], [1, 0.5]).update([[3]]);
  assertEquals(value(s.result()), 5);
  const lo = new tf.metrics.Min();
  const hi = new tf.metrics.Max();
  assertEquals([value(lo.result()), value(hi.result())], [Infinity, -Infinity]);
  lo.update([3, 1, 2]).update([5]);
  hi.update([3, 1, 2]).update([-5]);
  assertEquals([value(lo.result()), value(hi.result())], [1, 3]);
  // Weights mask values out.
  lo.update([-7, 0.5], [0, 1]);
  hi.update([70, 0.5], [0, 1]);
  assertEquals([value(lo.result()), value(hi.result())], [0.5, 3]);
  lo.update([NaN]);
  assertEquals(Number.isNaN(value(lo.result())), true);
  lo.reset();
  hi.reset();
  assertEquals([value(lo.result()), value(hi.result())], [Infinity, -Infinity]);
});

Deno.test("Accuracy and SparseCategoricalAccuracy", () => {
  const acc = new tf.metrics.Accuracy();
  acc.update([1, 2, 3, 4], [1, 2, 0, 4]);
  assertEquals(value(acc.result()), 0.75);
  acc.update(tf.constant([1, 1], "int32"), tf.constant([1, 0], "int32"), [3, 1]);
  assertEquals(value(acc.result()), (3 + 3) / (4 + 4));
  const sca = new tf.metrics.SparseCategoricalAccuracy();
  const logits = [[0.9, 0.1, 0], [0.5, 0.3, 0.2], [0, 2, 2], [-1, -3, -2]];
  sca.update(tf.constant([0, 2, 1, 0], "int32"), logits);
  // Ties go to the first class (row 2 predicts 1).
  assertEquals(value(sca.result()), 0.75);
  sca.update([[1], [0]], [[0, 1], [1, 0]]); // labels [batch, 1] are accepted
  assertEquals(value(sca.result()), 5 / 6);
  sca.update(tf.constant([0n], "int64"), [[0, 5]], [2]);
  assertEquals(value(sca.result()), 5 / 8);
});

Deno.test("metric variables are named <name>/<statistic>, non-trainable, and reset", () => {
  const m = new tf.metrics.Mean("eval_loss_named");
  assertEquals(m.variables.map((v) => [v.name, v.trainable, v.dtype]), [
    ["eval_loss_named/total", false, "float64"],
    ["eval_loss_named/count", false, "float64"],
  ]);
  const again = new tf.metrics.Mean("eval_loss_named");
  assertEquals(again.variables.map((v) => v.name), [
    "eval_loss_named/total_1",
    "eval_loss_named/count_1",
  ]);
  assertEquals(new tf.metrics.Min("lowest").variables.map((v) => v.name), ["lowest/min"]);
  assertEquals(new tf.metrics.Max("highest").variables.map((v) => v.name), ["highest/max"]);
  assertEquals(new tf.metrics.Sum("summed").variables.map((v) => v.name), ["summed/total"]);
  m.update([2, 4]);
  assertEquals(m.variables.map((v) => Number(v.peek())), [6, 2]);
  m.reset();
  assertEquals(m.variables.map((v) => Number(v.peek())), [0, 0]);
});

Deno.test("result() writes a scalar summary under the metric's name when recording", () => {
  const dir = Deno.makeTempDirSync({ prefix: "metrics_test_" });
  try {
    const writer = tf.summary.createSummaryFileWriter(dir);
    const loss = new tf.metrics.Mean("train/loss");
    const acc = new tf.metrics.Accuracy("train/accuracy");
    loss.update([1, 3]);
    acc.update([1, 0], [1, 1]);
    loss.result(); // no writer: nothing written
    writer.asDefault(() => {
      loss.result(); // no policy: nothing written
      tf.summary.alwaysRecordSummaries(() => {
        tf.summary.scalar("marker", 0, { step: 1 });
        loss.result();
        acc.result();
        loss.result({ writeSummary: false });
      });
    });
    writer.close();
    const events = readEventFile(writer.path).slice(1);
    assertEquals(
      events.map((e) => [e.summary![0].tag, e.summary![0].pluginName, e.summary![0].tensor.values]),
      [["marker", "scalars", [0]], ["train/loss", "scalars", [2]], ["train/accuracy", "scalars", [
        0.5,
      ]]],
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("bad metric arguments are errors naming the metric", () => {
  const cases: [() => unknown, RegExp][] = [
    [() => new tf.metrics.Mean(""), /^Mean: name must be a non-empty string/],
    [() => new tf.metrics.Mean("m", { dtype: "int32" }), /^Mean: dtype must be float32 or float64/],
    [() => new tf.metrics.Sum("s", { dtype: "x" as never }), /^Sum: unknown dtype/],
    [() => new tf.metrics.Mean().update("a" as never), /^Mean\.update: values: /],
    [
      () => new tf.metrics.Mean().update([1, 2], [1, 2, 3]),
      /^Mean\.update: weights of shape \[3\]/,
    ],
    [() => new tf.metrics.Max().update([1, 2], [[1], [1]]), /^Max\.update: weights of shape/],
    [
      () => new tf.metrics.Accuracy().update([1, 2], [[1, 2]]),
      /^Accuracy\.update: labels of shape/,
    ],
    [
      () => new tf.metrics.SparseCategoricalAccuracy().update([1, 2], [[1, 2]]),
      /^SparseCategoricalAccuracy\.update: labels \[\.\.\.\] and logits/,
    ],
    [
      () => new tf.metrics.SparseCategoricalAccuracy().update([0.5], [[1, 2]]),
      /^SparseCategoricalAccuracy\.update: labels must be integer/,
    ],
    [
      () => new tf.metrics.SparseCategoricalAccuracy().update(1, 2),
      /^SparseCategoricalAccuracy\.update: labels \[\.\.\.\] and logits/,
    ],
    [() => new tf.metrics.Mean().result(null as never), /^result: options must be an object/],
  ];
  for (const [fn, pattern] of cases) assertThrowsMatch(fn, pattern);
});
