/**
 * Early freeing (storage.ts): backprop frees the intermediate gradients it is done with,
 * and optimizers free slot values nobody else has seen. These tests use tensors of 128 KiB
 * (those of 16 KiB or less are never freed) and check that nothing still reachable loses
 * its data: shared and aliased gradients, views, persistent and nested tapes,
 * customGradient, and values read before an update. Freed buffers are kept for reuse by
 * the next output of their size; a reused one never shows its old values.
 */
import * as tf from "../mod.ts";
import { free } from "../src/backend/cpu/storage.ts";
import { inReleaseScope, release, ReleaseScope } from "../src/backend/release_scope.ts";
import { Tensor } from "../src/tensor.ts";
import { allocate, allocateOutput, reuseStats } from "../src/backend/cpu/storage.ts";
import { assertClose, assertEquals } from "./helpers.ts";

const ROWS = 128, COLS = 256; // 128 KiB of float32

function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync() as Float32Array);
}

function big(seed: number): tf.Tensor {
  tf.random.setSeed(seed);
  return tf.randomUniform([ROWS, COLS], { minval: -1, maxval: 1 });
}

/** A loss whose backward passes gradients on unchanged, as views, and by broadcasting. */
function tangled(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const h = tf.nn.relu(tf.add(x, x)); // the same tensor twice: add gives dy to both
  const r = tf.reshape(h, [COLS, ROWS]); // a view: its gradient is a view too
  const m = tf.matmul(r, w); // [COLS, COLS]
  const s = tf.add(m, b); // b [COLS] broadcast: its gradient is summed to shape
  const t = tf.tanh(s);
  return tf.reduceSum(tf.multiply(t, tf.add(t, h.reshape([COLS, ROWS]).slice([0, 0], [COLS, 1]))));
}

function gradsOf(tape: tf.GradientTape, loss: tf.Tensor, sources: tf.Tensor[]): number[][] {
  return (tape.gradient(loss, sources) as tf.Tensor[]).map((g) => values(g));
}

Deno.test("freed intermediate gradients leave every gradient intact", () => {
  const x = big(1), w = tf.randomUniform([ROWS, COLS], { minval: -0.1, maxval: 0.1 });
  const b = tf.randomUniform([COLS]);
  // Reference: an outer tape records the backward ops, so nothing is freed.
  const outer = new tf.GradientTape();
  const reference = outer.record(() => {
    const tape = new tf.GradientTape();
    tape.watch([x, w, b]);
    const loss = tape.record(() => tangled(x, w, b));
    return gradsOf(tape, loss, [x, w, b]);
  });
  const tape = new tf.GradientTape({ persistent: true });
  tape.watch([x, w, b]);
  let activation: tf.Tensor | undefined;
  const loss = tape.record(() => {
    activation = tf.nn.relu(tf.add(x, x)); // the user keeps a forward tensor
    return tangled(x, w, b);
  });
  const before = values(activation!);
  const first = gradsOf(tape, loss, [x, w, b]);
  const second = gradsOf(tape, loss, [x, w, b]); // a persistent tape reuses its nodes
  for (let i = 0; i < 3; i++) {
    assertEquals(first[i].length, reference[i].length);
    assertClose(tf.constant(first[i]), tf.constant(reference[i]));
    assertClose(tf.constant(second[i]), tf.constant(reference[i]));
  }
  assertEquals(values(activation!), before);
  assertEquals(x.dataSync().length, ROWS * COLS);
});

Deno.test("a customGradient's gradFn may keep the dy it was given", () => {
  let kept: tf.Tensor | undefined;
  const scaled = tf.customGradient((x: tf.Tensor) => [
    tf.multiply(x, 2),
    (dy: tf.Tensor) => {
      kept = dy;
      return tf.multiply(dy, 2);
    },
  ]);
  const x = big(2);
  const tape = new tf.GradientTape();
  tape.watch(x);
  const loss = tape.record(() => tf.reduceSum(tf.square(scaled(tf.exp(x)))));
  const [g] = tape.gradient(loss, [x]) as tf.Tensor[];
  assertEquals(kept!.size, ROWS * COLS);
  assertClose(kept!, tf.multiply(tf.exp(x), 4), { rtol: 1e-5 });
  assertClose(g, tf.multiply(tf.square(tf.exp(x)), 8), { rtol: 1e-5 });
});

Deno.test("optimizer slots are freed only when nobody has read them", () => {
  const v = new tf.Variable(big(3));
  const target = big(4);
  const opt = new tf.train.AdamOptimizer(0.01);
  const step = () => opt.minimize(() => tf.reduceSum(tf.square(tf.subtract(v, target))));
  step();
  step();
  const m = opt.getSlot(v, "m")!;
  const seen = m.read(); // handed out: the next update must leave it alone
  const copy = values(seen);
  const valueBefore = v.read();
  const valueCopy = values(valueBefore);
  step();
  step();
  assertEquals(values(seen), copy);
  assertEquals(values(valueBefore), valueCopy);
  // The same steps with freeing impossible (every slot read each step) agree.
  const v2 = new tf.Variable(big(3));
  const opt2 = new tf.train.AdamOptimizer(0.01);
  for (let i = 0; i < 4; i++) {
    opt2.minimize(() => tf.reduceSum(tf.square(tf.subtract(v2, target))));
    opt2.getSlot(v2, "m")!.read();
    opt2.getSlot(v2, "v")!.read();
  }
  assertClose(v.read(), v2.read(), { rtol: 1e-6 });
  assertClose(opt.getSlot(v, "v")!.read(), opt2.getSlot(v2, "v")!.read(), { rtol: 1e-6 });
});

Deno.test("release frees only buffers its scope saw allocated, whole and large", () => {
  const scope = new ReleaseScope();
  const tensor = (array: Float32Array) => new Tensor(array, "float32", [array.length]);
  const before = allocate("float32", ROWS * COLS) as Float32Array;
  const inside = inReleaseScope(scope, () => allocate("float32", ROWS * COLS)) as Float32Array;
  const small = inReleaseScope(scope, () => allocate("float32", 16)) as Float32Array;
  assertEquals(release(scope, tensor(before)), false);
  assertEquals(release(scope, tensor(small)), false);
  assertEquals(release(scope, tensor(inside)), true);
  assertEquals(inside.length, 0);
  assertEquals(before.length, ROWS * COLS);
  assertEquals(release(scope, tensor(inside)), false); // twice is harmless
  const part = new Float32Array(new ArrayBuffer(1 << 20), 0, 1024);
  assertEquals(free(part), false); // a view of part of a buffer is never freed
  assertEquals(part.length, 1024);
});

Deno.test("minimize keeps the gradients an overriding applyDense holds on to", () => {
  const kept: tf.Tensor[] = [];
  class Recording extends tf.train.GradientDescentOptimizer {
    protected override applyDense(grad: tf.Tensor, variable: tf.Variable, lr: number): void {
      kept.push(grad);
      super.applyDense(grad, variable, lr);
    }
  }
  const v = new tf.Variable(big(5));
  new Recording(0.1).minimize(() => tf.reduceSum(tf.square(v)));
  assertEquals(kept.length, 1);
  assertEquals(kept[0].size, ROWS * COLS);
  assertClose(kept[0], tf.multiply(big(5), 2));
});

Deno.test("a freed buffer is reused by the next output of its size, its old views detached", () => {
  const bytes = ROWS * COLS * 4;
  const t = tf.fill([ROWS, COLS], 7);
  const view = t.dataSync();
  const before = reuseStats().pooledBytes;
  t.dispose();
  assertEquals(view.length, 0); // detached, as before reuse existed
  assertEquals(reuseStats().pooledBytes, before + bytes);
  const zeroed = allocate("float32", ROWS * COLS); // the same buffer, zero-filled
  assertEquals(reuseStats().pooledBytes, before);
  assertEquals(zeroed.every((x) => x === 0), true);
  new Tensor(zeroed, "float32", [ROWS, COLS]).dispose();
  const output = allocateOutput("int32", ROWS * COLS); // poisoned as a fresh output is
  assertEquals(reuseStats().pooledBytes, before);
  assertEquals(output.every((x) => x === -1), Deno.env.get("EAGER_POISON_OUTPUTS") === "1");
  // An output of another size is not served from it.
  new Tensor(output, "int32", [ROWS, COLS]).dispose();
  allocateOutput("float32", ROWS * COLS + 1);
  assertEquals(reuseStats().pooledBytes, before + bytes);
});

Deno.test("the reuse pool keeps at most 256 MiB, the sizes retired longest ago going first", () => {
  const mib = (n: number) => tf.zeros([n << 18]); // n MiB of float32
  const old = mib(100);
  old.dispose();
  assertEquals(reuseStats().pooledBytes >= 100 << 20, true);
  for (let i = 0; i < 5; i++) mib(60).dispose(); // each reuses the one before: one 60 MiB kept
  const sixties = Array.from({ length: 3 }, () => mib(60)); // one reused, two new
  sixties.forEach((t) => t.dispose()); // three 60 MiB buffers kept: 100 + 180 > 256
  assertEquals(reuseStats().pooledBytes <= 256 << 20, true);
  const fresh = mib(100); // the 100 MiB buffer went first, so this one is new
  assertEquals(reuseStats().pooledBytes, 180 << 20);
  fresh.dispose();
});

Deno.test("a variable's reads are tensors of their own; inside tf.tidy an update frees the old value", () => {
  const v = new tf.Variable(big(6));
  const opt = new tf.train.GradientDescentOptimizer(0.5);
  const loss = () => tf.reduceSum(tf.square(v));
  opt.minimize(loss); // the first value came from the user: never freed
  const read = v.read();
  read.dispose(); // disposing a read leaves the variable alone
  assertEquals(v.read().size, ROWS * COLS);
  const kept = v.read(); // a read outside tidy outlives updates
  const keptValues = values(kept);
  const before = reuseStats().pooledBytes;
  tf.tidy(() => opt.minimize(loss)); // the reads made inside are disposed at its end
  assertEquals(values(kept), keptValues);
  tf.tidy(() => opt.minimize(loss)); // now the previous value's memory goes back
  assertEquals(reuseStats().pooledBytes > before, true);
  assertEquals(values(kept), keptValues);
  // So the steps take every output from the pool: no buffer is allocated anew.
  const fresh = reuseStats().freshBuffers;
  for (let i = 0; i < 4; i++) tf.tidy(() => opt.minimize(loss));
  assertEquals(reuseStats().freshBuffers, fresh);
  // The same seven updates without tidy agree.
  const w = new tf.Variable(big(6));
  for (let i = 0; i < 7; i++) opt.minimize(() => tf.reduceSum(tf.square(w)));
  assertClose(v.read(), w.read(), { rtol: 1e-6 });
});
