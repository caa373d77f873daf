/**
 * tf.data: sources, every transformation, shuffling, async pipelines, the Iterator and
 * streaming from files.
 */
import zlib from "node:zlib";
import * as tf from "../mod.ts";
import { assertEquals, assertThrowsMatch } from "./helpers.ts";

const { Dataset } = tf.data;
const nums = (t: tf.Tensor) => Array.from(t.dataSync(), Number);
const num = (t: unknown) => Number(t as tf.Tensor);
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

async function assertRejects(fn: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await fn();
  } catch (error) {
    if (!pattern.test((error as Error).message)) {
      throw new Error(`error "${(error as Error).message}" does not match ${pattern}`);
    }
    return;
  }
  throw new Error(`expected a rejection matching ${pattern}`);
}

Deno.test("the seed's example: [1..6], map square, shuffle(2), batch(2)", () => {
  const ds = Dataset.fromTensorSlices([1, 2, 3, 4, 5, 6]).map((x) => tf.square(x)).shuffle(2)
    .batch(2);
  const orders = new Set<string>();
  for (let epoch = 0; epoch < 8; epoch++) {
    const batches = [...ds];
    assertEquals(batches.length, 3);
    for (const b of batches) {
      assertEquals(b.shape, [2]);
      assertEquals(b.dtype, "float32");
    }
    const values = batches.flatMap(nums);
    assertEquals(sorted(values), [1, 4, 9, 16, 25, 36]);
    orders.add(values.join(","));
  }
  if (orders.size < 2) throw new Error("shuffle(2) gave the same order in 8 epochs");
  // With a buffer of 2 the first output is one of the first two elements, and the last
  // element cannot come out before position 4.
  for (const order of orders) {
    const v = order.split(",").map(Number);
    if (v[0] > 4 || v.indexOf(36) < 4) throw new Error(`impossible order ${order}`);
  }
});

Deno.test("fromTensorSlices slices tensors, tuples, dicts and string lists", () => {
  const ds = Dataset.fromTensorSlices({
    x: [[1, 2], [3, 4], [5, 6]],
    y: tf.constant([0, 1, 2], "int32"),
  });
  const els = [...ds];
  assertEquals(els.length, 3);
  assertEquals(nums(els[2].x), [5, 6]);
  assertEquals(els[2].y.dtype, "int32");
  assertEquals(els[1].y.shape, []);
  const pairs = [...Dataset.fromTensorSlices([tf.ones([2, 3]), tf.constant([7, 8])])];
  assertEquals(pairs.map(([a, b]) => [a.shape, num(b)]), [[[3], 7], [[3], 8]]);
  assertEquals([...Dataset.fromTensorSlices(["a", "b"])], ["a", "b"]);
  // A slice is a view of the whole: no copy per element.
  const whole = tf.range(12).reshape([4, 3]);
  const rows = [...Dataset.fromTensorSlices(whole)];
  assertEquals(rows[3].storage === whole.storage, true);
  assertEquals(nums(rows[3]), [9, 10, 11]);
  assertThrowsMatch(
    () => Dataset.fromTensorSlices({ a: [1, 2], b: [1, 2, 3] }),
    /^Dataset\.fromTensorSlices: components have different first dimensions: 2 \(at \.a\) and 3 \(at \.b\)/,
  );
  assertThrowsMatch(
    () => Dataset.fromTensorSlices(3),
    /^Dataset\.fromTensorSlices: cannot slice a scalar/,
  );
  assertThrowsMatch(
    () => Dataset.fromTensorSlices(new Uint8Array(3)),
    /^Dataset\.fromTensorSlices: cannot slice a single bytes value/,
  );
  assertThrowsMatch(
    () => Dataset.fromTensorSlices({ a: Symbol.iterator }),
    /^Dataset\.fromTensorSlices: value\.a must be/,
  );
});

Deno.test("fromTensors, range, zip and concatenate", () => {
  const one = [...Dataset.fromTensors({ a: [1, 2, 3], b: "text" })];
  assertEquals(one.length, 1);
  assertEquals([one[0].a.shape, one[0].b], [[3], "text"]);
  const r = [...Dataset.range(5)];
  assertEquals(r.map(num), [0, 1, 2, 3, 4]);
  assertEquals(r[0].dtype, "int64");
  assertEquals([...Dataset.range(1, 10, 3, { dtype: "int32" })].map(num), [1, 4, 7]);
  assertEquals([...Dataset.range(5, 0, -2)].map(num), [5, 3, 1]);
  assertEquals([...Dataset.range(3, 3)], []);
  const z = [...Dataset.zip([Dataset.range(3), Dataset.range(10, 20)])];
  assertEquals(z.map(([a, b]) => [num(a), num(b)]), [[0, 10], [1, 11], [2, 12]]);
  const zd = [
    ...Dataset.zip({ i: Dataset.range(2), s: Dataset.fromTensorSlices(["p", "q", "r"]) }),
  ];
  assertEquals(zd.map((e) => [num(e.i), e.s]), [[0, "p"], [1, "q"]]);
  assertEquals([...Dataset.range(2).concatenate(Dataset.range(5, 7))].map(num), [0, 1, 5, 6]);
  assertThrowsMatch(() => Dataset.range(0, 5, 0), /^Dataset\.range: step must not be 0/);
  assertThrowsMatch(() => Dataset.range(0.5), /^Dataset\.range: stop must be a safe integer/);
  assertThrowsMatch(() => Dataset.zip([]), /^Dataset\.zip: expected a non-empty array/);
  assertThrowsMatch(() => Dataset.range(3).concatenate([] as never), /^Dataset\.concatenate:/);
});

Deno.test("map, filter, take, skip, repeat and enumerate", () => {
  const ds = Dataset.range(10);
  const mapped = [...ds.map((x) => ({ twice: x.mul(2n), label: "n", plain: Number(x) }))];
  assertEquals(mapped.map((e) => [num(e.twice), e.label]).slice(0, 2), [[0, "n"], [2, "n"]]);
  assertEquals(mapped[3].plain.dtype, "float32"); // a JS number becomes a float32 tensor
  assertEquals([...ds.filter((x) => Number(x) % 3 === 0)].map(num), [0, 3, 6, 9]);
  assertEquals([...ds.filter((x) => tf.greater(x, 7n))].map(num), [8, 9]);
  assertEquals([...ds.take(3)].map(num), [0, 1, 2]);
  assertEquals([...ds.take(0)], []);
  assertEquals([...ds.take(-1)].length, 10);
  assertEquals([...ds.skip(8)].map(num), [8, 9]);
  assertEquals([...ds.skip(-1)], []);
  assertEquals([...Dataset.range(2).repeat(3)].map(num), [0, 1, 0, 1, 0, 1]);
  assertEquals([...Dataset.range(2).repeat().take(5)].map(num), [0, 1, 0, 1, 0]);
  assertEquals([...Dataset.range(0).repeat()], []); // an empty pass ends an endless repeat
  assertEquals([...Dataset.range(2).repeat(0)], []);
  const en = [...Dataset.fromTensorSlices(["a", "b"]).enumerate(5)];
  assertEquals(en.map(([i, s]) => [num(i), s]), [[5, "a"], [6, "b"]]);
  assertEquals(en[0][0].dtype, "int64");
  assertThrowsMatch(() => ds.map(3 as never), /^Dataset\.map: expected a function/);
  assertThrowsMatch(() => ds.take(1.5), /^Dataset\.take: count must be an integer >= 0/);
  assertThrowsMatch(() => ds.repeat(-2), /^Dataset\.repeat: count must be an integer >= 0/);
  assertThrowsMatch(
    () => [...ds.filter(() => "yes" as never)],
    /^Dataset\.filter: the predicate must return a boolean/,
  );
  assertThrowsMatch(
    () => [...ds.map(() => ({ f: () => 1 }))],
    /^Dataset\.map: the mapped value\.f must be/,
  );
});

Deno.test("take stops pulling upstream; leaving early runs the upstream's cleanup", () => {
  let pulled = 0, closed = 0;
  const ds = Dataset.fromGenerator(function* () {
    try {
      for (let i = 0;; i++) {
        pulled++;
        yield i;
      }
    } finally {
      closed++;
    }
  });
  assertEquals([...ds.take(3)].map(num), [0, 1, 2]);
  assertEquals([pulled, closed], [3, 1]);
  for (const _ of ds.map((x) => x).batch(2)) break;
  assertEquals(closed, 2);
});

Deno.test("batch, paddedBatch and unbatch", () => {
  const b = [...Dataset.range(5).batch(2)];
  assertEquals(b.map((t) => [t.shape, nums(t)]), [[[2], [0, 1]], [[2], [2, 3]], [[1], [4]]]);
  assertEquals([...Dataset.range(5).batch(2, { dropRemainder: true })].length, 2);
  const pairs = Dataset.fromTensorSlices({
    x: tf.range(12).reshape([6, 2]),
    s: ["a", "b", "c", "d", "e", "f"],
  });
  const batched = [...pairs.batch(4)];
  assertEquals(batched[0].x.shape, [4, 2]);
  assertEquals(batched[1].s, ["e", "f"]);
  const back = [...pairs.batch(4).unbatch()];
  assertEquals(back.map((e) => [nums(e.x), e.s]), [...pairs].map((e) => [nums(e.x), e.s]));
  assertEquals(nums([...Dataset.fromTensors([[1, 2], [3, 4]]).unbatch()][1]), [3, 4]);

  const ragged = Dataset.fromGenerator(function* () {
    yield [1];
    yield [2, 3, 4];
    yield [5, 6];
  });
  assertThrowsMatch(
    () => [...ragged.batch(2)],
    /^Dataset\.batch: cannot stack shapes \[1\] \(element 0\) and \[3\] \(element 1\); use paddedBatch/,
  );
  const padded = [...ragged.paddedBatch(2)];
  assertEquals(padded.map((t) => t.numpy()), [[[1, 0, 0], [2, 3, 4]], [[5, 6]]]);
  const fixed = [...ragged.paddedBatch(3, { paddedShapes: [5], paddingValues: -1 })];
  assertEquals(fixed[0].numpy(), [[1, -1, -1, -1, -1], [2, 3, 4, -1, -1], [5, 6, -1, -1, -1]]);
  assertThrowsMatch(
    () => [...ragged.paddedBatch(3, { paddedShapes: [2] })],
    /^Dataset\.paddedBatch: an element has dimension 0 of 3, more than the padded shape \[2\] allows/,
  );
  const dict = Dataset.fromGenerator(function* () {
    yield { ids: tf.constant([1, 2], "int32"), w: [[1]] };
    yield { ids: tf.constant([3], "int32"), w: [[1, 2], [3, 4]] };
  });
  const [pd] = [
    ...dict.paddedBatch(2, {
      paddingValues: { ids: 9, w: 0.5 },
      paddedShapes: { ids: [null], w: [2, -1] },
    }),
  ];
  assertEquals(pd.ids.numpy(), [[1, 2], [3, 9]]);
  assertEquals(pd.ids.dtype, "int32");
  assertEquals(pd.w.numpy(), [[[1, 0.5], [0.5, 0.5]], [[1, 2], [3, 4]]]);
  assertThrowsMatch(
    () => Dataset.range(3).batch(0),
    /^Dataset\.batch: batch size must be an integer >= 1/,
  );
  assertThrowsMatch(
    () => [...Dataset.fromTensors(1).unbatch()],
    /^Dataset\.unbatch: cannot slice a scalar tensor/,
  );
  const mixed = Dataset.fromGenerator(function* () {
    yield [1, 2];
    yield tf.constant([1, 2], "int32");
  });
  assertThrowsMatch(
    () => [...mixed.batch(2)],
    /^Dataset\.batch: element 1 is int32, element 0 is float32/,
  );
  const shapes = Dataset.fromGenerator(function* () {
    yield { a: 1 };
    yield { b: 1 };
  });
  assertThrowsMatch(
    () => [...shapes.batch(2)],
    /^Dataset\.batch: element 1 has structure \{b: \[\] float32\}, element 0 has \{a: \[\] float32\}/,
  );
});

Deno.test("flatMap and interleave follow TensorFlow's order", () => {
  const repeated = (x: tf.Tensor) => Dataset.fromTensors(x).repeat(6);
  const il = Dataset.range(1, 6).interleave(repeated, { cycleLength: 2, blockLength: 4 });
  // The example of tf.data.Dataset.interleave's documentation.
  assertEquals(
    [...il].map(num).join(""),
    "111122221122333344443344555555",
  );
  const counts = Dataset.range(1, 4).interleave((x) => Dataset.range(Number(x)), {
    cycleLength: 3,
  });
  assertEquals([...counts].map(num), [0, 0, 0, 1, 1, 2]);
  assertEquals(
    [...Dataset.range(3).flatMap((x) => Dataset.fromTensors(x).repeat(2))].map(num),
    [0, 0, 1, 1, 2, 2],
  );
  assertThrowsMatch(
    () => [...Dataset.range(2).flatMap(() => 3 as never)],
    /^Dataset\.flatMap: the function must return a Dataset/,
  );
  assertThrowsMatch(
    () => Dataset.range(2).interleave(repeated, { cycleLength: 0 }),
    /^Dataset\.interleave: cycleLength must be an integer >= 1/,
  );
});

Deno.test("cache replays the first complete pass; a partial pass caches nothing", () => {
  let passes = 0;
  const ds = Dataset.fromGenerator(function* () {
    passes++;
    yield* [1, 2, 3];
  }).map((x) => x.mul(10)).cache();
  for (const _ of ds) break;
  assertEquals(passes, 1);
  assertEquals([...ds].map(num), [10, 20, 30]);
  assertEquals([...ds.repeat(3)].map(num), [10, 20, 30, 10, 20, 30, 10, 20, 30]);
  assertEquals(passes, 2);
});

Deno.test("shuffle: each element once per pass, reproducible with seeds, reshuffled each pass", () => {
  const n = 40;
  const order = (ds: tf.data.Dataset<tf.Tensor>) => [...ds].map(num);
  for (const buffer of [1, 3, 17, 40, 1000]) {
    const ds = Dataset.range(n).shuffle(buffer);
    for (let pass = 0; pass < 3; pass++) {
      assertEquals(sorted(order(ds)), Array.from({ length: n }, (_, i) => i));
    }
  }
  assertEquals(order(Dataset.range(n).shuffle(1)), Array.from({ length: n }, (_, i) => i));
  // Global seed: the same pipeline built after the same setSeed gives the same passes.
  const passes = (make: () => tf.data.Dataset<tf.Tensor>) => {
    const ds = make();
    return [order(ds), order(ds), order(ds)];
  };
  try {
    tf.random.setSeed(1234);
    const a = passes(() => Dataset.range(n).shuffle(n));
    tf.random.setSeed(1234);
    const b = passes(() => Dataset.range(n).shuffle(n));
    assertEquals(a, b);
    if (a[0].join() === a[1].join() || a[1].join() === a[2].join()) {
      throw new Error("shuffle did not reshuffle between passes");
    }
    tf.random.setSeed(99);
    const c = passes(() => Dataset.range(n).shuffle(n));
    if (c[0].join() === a[0].join()) throw new Error("a different global seed gave the same order");
    // An op seed alone is reproducible too, and does not depend on earlier random ops.
    tf.random.setSeed(null);
    const d = passes(() => Dataset.range(n).shuffle(n, { seed: 7 }));
    tf.randomUniform([3]);
    const e = passes(() => Dataset.range(n).shuffle(n, { seed: 7 }));
    assertEquals(d, e);
    const f = passes(() => Dataset.range(n).shuffle(n, { seed: 8 }));
    if (f[0].join() === d[0].join()) throw new Error("op seeds 7 and 8 gave the same order");
  } finally {
    tf.random.setSeed(null);
  }
  // Unseeded: still a new order per pass. reshuffleEachIteration false: one order.
  const u = passes(() => Dataset.range(n).shuffle(n));
  if (u[0].join() === u[1].join()) throw new Error("an unseeded shuffle repeated its order");
  const fixed = passes(() => Dataset.range(n).shuffle(n, { reshuffleEachIteration: false }));
  assertEquals(fixed[0], fixed[1]);
  assertEquals(fixed[1], fixed[2]);
  // Through repeat, each repetition is a new pass.
  const rep = order(Dataset.range(10).shuffle(10, { seed: 3 }).repeat(2));
  assertEquals(sorted(rep.slice(0, 10)), sorted(rep.slice(10)));
  if (rep.slice(0, 10).join() === rep.slice(10).join()) throw new Error("repeat did not reshuffle");
  assertThrowsMatch(
    () => Dataset.range(3).shuffle(0),
    /^Dataset\.shuffle: bufferSize must be an integer >= 1/,
  );
  assertThrowsMatch(
    () => Dataset.range(3).shuffle(2, { seed: 0.5 }),
    /^Dataset\.shuffle: seed must be an integer/,
  );
});

Deno.test("async map with numParallelCalls keeps the order and runs calls concurrently", async () => {
  let inFlight = 0, most = 0;
  const slow = async (x: tf.Tensor) => {
    inFlight++;
    most = Math.max(most, inFlight);
    await new Promise((resolve) => setTimeout(resolve, (Number(x) * 7) % 5));
    inFlight--;
    return x.mul(2n);
  };
  const ds = Dataset.range(30).map(slow, { numParallelCalls: 4 });
  assertEquals(ds.isAsync, true);
  assertEquals((await ds.toArrayAsync()).map(num), Array.from({ length: 30 }, (_, i) => 2 * i));
  if (most < 2 || most > 4) throw new Error(`${most} calls ran at once, expected 2 to 4`);
  assertThrowsMatch(
    () => [...ds],
    /^Dataset: this pipeline is async \(map with numParallelCalls\): iterate it with for await/,
  );
  // An async function alone makes the pipeline async (one call at a time).
  // deno-lint-ignore require-await
  const seq = Dataset.range(3).map(async (x) => x.add(1n)).batch(3);
  assertEquals(seq.isAsync, true);
  assertEquals(nums((await seq.toArrayAsync())[0]), [1, 2, 3]);
  assertThrowsMatch(
    () => [...seq],
    /^Dataset: this pipeline is async \(map with an async function\)/,
  );
  // A plain function returning a promise is found out during a sync pass.
  const sneaky = Dataset.range(2).map((x) => Promise.resolve(x));
  assertThrowsMatch(
    () => [...sneaky],
    /^Dataset\.map: the function returned a Promise, so this pipeline is async/,
  );
  // Errors in calls that ran ahead surface in order, never as unhandled rejections.
  const failing = Dataset.range(10).map(async (x) => {
    if (Number(x) === 6) throw new Error("bad element 6");
    await new Promise((resolve) => setTimeout(resolve, 1));
    return x;
  }, { numParallelCalls: 3 });
  const seen: number[] = [];
  await assertRejects(async () => {
    for await (const x of failing) seen.push(num(x));
  }, /bad element 6/);
  assertEquals(seen, [0, 1, 2, 3, 4, 5]);
  assertThrowsMatch(
    () => Dataset.range(3).map((x) => x, { numParallelCalls: 0 }),
    /^Dataset\.map: numParallelCalls must be an integer >= 1/,
  );
});

Deno.test("async iteration: every pipeline, prefetch, async generators", async () => {
  const ds = Dataset.range(10).filter((x) => Number(x) % 2 === 1).batch(2).prefetch(2);
  assertEquals((await ds.toArrayAsync()).map(nums), [[1, 3], [5, 7], [9]]);
  assertEquals([...ds].map(nums), [[1, 3], [5, 7], [9]]); // sync: prefetch passes through
  const gen = Dataset.fromGenerator(async function* () {
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      yield [i, i];
    }
  });
  assertEquals(gen.isAsync, true);
  assertEquals((await gen.map((x) => x.sum()).toArrayAsync()).map(num), [0, 2, 4]);
  assertThrowsMatch(() => [...gen], /^Dataset: this pipeline is async \(an async generator\)/);
  const zipped = Dataset.zip([gen, Dataset.range(5)]).prefetch(tf.data.AUTOTUNE);
  assertEquals((await zipped.toArrayAsync()).length, 3);
  // deno-lint-ignore require-await
  const inter = Dataset.range(3).interleave(async (x) => Dataset.fromTensors(x).repeat(2), {
    cycleLength: 2,
  });
  assertEquals((await inter.toArrayAsync()).map(num), [0, 1, 0, 1, 2, 2]);
  let counter = 0;
  const cached = Dataset.fromGenerator(async function* () {
    counter++;
    yield 1;
  }).cache();
  await cached.toArrayAsync();
  await cached.toArrayAsync();
  assertEquals(counter, 1);
});

Deno.test("fromGenerator: called per pass, converted by outputSignature", () => {
  let calls = 0;
  const ds = Dataset.fromGenerator(function* () {
    calls++;
    yield { x: [1, 2], y: 3 };
    yield { x: [4, 5], y: 6 };
  }, {
    outputSignature: {
      x: new tf.data.TensorSpec([2], "float64"),
      y: new tf.data.TensorSpec([], "int32"),
    },
  });
  const els = [...ds];
  assertEquals([els[1].x.dtype, els[1].y.dtype, nums(els[1].x)], ["float64", "int32", [4, 5]]);
  [...ds];
  assertEquals(calls, 2);
  const bad = Dataset.fromGenerator(function* () {
    yield [1, 2, 3];
  }, { outputSignature: new tf.data.TensorSpec([2], "float32") });
  assertThrowsMatch(
    () => [...bad],
    /^Dataset\.fromGenerator: element is \[3\] float32, the output signature wants TensorSpec\(shape=\(2\), dtype=float32\)/,
  );
  assertThrowsMatch(
    () => Dataset.fromGenerator(5 as never),
    /^Dataset\.fromGenerator: generator must be a function/,
  );
  assertThrowsMatch(
    () => [...Dataset.fromGenerator(() => 5 as never)],
    /^Dataset\.fromGenerator: the generator function returned 5, not an iterable/,
  );
  assertThrowsMatch(
    () => new tf.data.TensorSpec([-1]),
    /^TensorSpec: shape must be null or an array/,
  );
});

Deno.test("tf.Iterator: next, getNext, OutOfRangeError, nextAsync", async () => {
  const it = new tf.Iterator(Dataset.range(3));
  assertEquals(num(it.getNext()), 0);
  assertEquals([...it].map(num), [1, 2]);
  assertEquals(it.next().done, true);
  assertThrowsMatch(() => it.getNext(), /^Iterator\.getNext: End of sequence/);
  try {
    it.getNext();
  } catch (error) {
    assertEquals(error instanceof tf.data.OutOfRangeError, true);
  }
  // deno-lint-ignore require-await
  const asyncIt = new tf.Iterator(Dataset.range(2).map(async (x) => x));
  assertEquals(num((await asyncIt.nextAsync()).value), 0);
  assertThrowsMatch(() => asyncIt.next(), /^Iterator\.next: this iterator is async: use nextAsync/);
  const rest = [];
  for await (const x of asyncIt) rest.push(num(x));
  assertEquals(rest, [1]);
  assertThrowsMatch(
    () => new tf.Iterator([1, 2] as never),
    /^Iterator: expected a tf\.data\.Dataset/,
  );
  // Early return closes the pipeline (the generator's finally runs).
  let closed = false;
  const gen = new tf.Iterator(Dataset.fromGenerator(function* () {
    try {
      yield* [1, 2, 3];
    } finally {
      closed = true;
    }
  }));
  gen.next();
  gen.return();
  assertEquals(closed, true);
});

const text = new TextEncoder();

Deno.test("TextLineDataset streams lines across chunk boundaries, sync and async", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "data_text_" });
  try {
    const lines = Array.from({ length: 500 }, (_, i) => `line ${i} ${"é✓".repeat(i % 7)}`);
    Deno.writeFileSync(`${dir}/a.txt`, text.encode(lines.join("\r\n") + "\n"));
    Deno.writeFileSync(`${dir}/b.txt`, text.encode("last\nno newline at end"));
    const ds = new tf.data.TextLineDataset([`${dir}/a.txt`, `${dir}/b.txt`], { bufferSize: 7 });
    const want = [...lines, "last", "no newline at end"];
    assertEquals([...ds], want);
    assertEquals(await ds.toArrayAsync(), want);
    assertEquals([...new tf.data.TextLineDataset(`${dir}/b.txt`).map((s) => s.length)].map(num), [
      4,
      17,
    ]);
    const parallel = [
      ...new tf.data.TextLineDataset([`${dir}/a.txt`, `${dir}/b.txt`], { numParallelReads: 2 })
        .take(5),
    ];
    assertEquals(parallel, [lines[0], "last", lines[1], "no newline at end", lines[2]]);
    Deno.writeFileSync(`${dir}/a.txt.gz`, zlib.gzipSync(Deno.readFileSync(`${dir}/a.txt`)));
    const gz = new tf.data.TextLineDataset(`${dir}/a.txt.gz`, {
      compressionType: "GZIP",
      bufferSize: 9,
    });
    assertEquals([...gz], lines);
    Deno.writeFileSync(`${dir}/bad.txt`, new Uint8Array([0x61, 0x0a, 0x62, 0xff, 0x0a]));
    assertThrowsMatch(
      () => [...new tf.data.TextLineDataset(`${dir}/bad.txt`)],
      /^TextLineDataset: .*bad\.txt: invalid UTF-8 in line 2 at byte 3/,
    );
    assertThrowsMatch(
      () => [...new tf.data.TextLineDataset(`${dir}/missing.txt`)],
      /^TextLineDataset: cannot open .*missing\.txt/,
    );
    assertThrowsMatch(
      () => new tf.data.TextLineDataset(3 as never),
      /^TextLineDataset: filenames must be a path or an array of paths/,
    );
    assertThrowsMatch(
      () => new tf.data.TextLineDataset("x", { bufferSize: 0 }),
      /^TextLineDataset: bufferSize must be an integer/,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("TFRecordDataset streams: reads are chunk-sized and a bad tail is not reached by take", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "data_records_" });
  try {
    const records = Array.from(
      { length: 300 },
      (_, i) => text.encode(`record ${i} `.repeat(1 + (i % 13))),
    );
    for (const compressionType of ["", "GZIP", "ZLIB"] as const) {
      const path = `${dir}/r${compressionType}.tfrecord`;
      const w = new tf.io.TFRecordWriter(path, { compressionType });
      for (const r of records) w.write(r);
      w.close();
      const ds = new tf.data.TFRecordDataset(path, { compressionType, bufferSize: 100 });
      const sizes = Deno.statSync(path).size;
      if (sizes < 1000) throw new Error("the test file should span many chunks");
      assertEquals([...ds], records);
      assertEquals(await ds.toArrayAsync(), records);
    }
    // Every read asks for at most the chunk size.
    const path = `${dir}/r.tfrecord`;
    const proto = Object.getPrototypeOf(Deno.openSync(path)) as {
      readSync(b: Uint8Array): number | null;
    };
    const original = proto.readSync;
    let largest = 0;
    proto.readSync = function (this: unknown, b: Uint8Array) {
      largest = Math.max(largest, b.length);
      return original.call(this, b);
    };
    try {
      assertEquals([...new tf.data.TFRecordDataset(path, { bufferSize: 4096 })].length, 300);
    } finally {
      proto.readSync = original;
    }
    assertEquals(largest, 4096);
    // A damaged tail: the records before it stream out; reading on reaches the error.
    const bytes = Deno.readFileSync(path);
    bytes[bytes.length - 3] ^= 0xff;
    Deno.writeFileSync(`${dir}/bad.tfrecord`, bytes);
    const bad = new tf.data.TFRecordDataset(`${dir}/bad.tfrecord`, { bufferSize: 512 });
    assertEquals([...bad.take(3)], records.slice(0, 3));
    assertThrowsMatch(
      () => [...bad],
      /^tfrecord: .*bad\.tfrecord: record 299 at byte \d+: data checksum mismatch/,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a TFRecord pipeline over a file of many chunks: parse, shuffle, batch", () => {
  const dir = Deno.makeTempDirSync({ prefix: "data_pipeline_" });
  try {
    const path = `${dir}/examples.tfrecord.gz`;
    const w = new tf.io.TFRecordWriter(path, { compressionType: "GZIP" });
    for (let i = 0; i < 2000; i++) {
      w.write(tf.io.serializeExample({
        x: { floatList: Float32Array.from({ length: 64 }, (_, j) => i + j / 100) },
        y: { int64List: [i] },
      }));
    }
    w.close();
    const features = {
      x: tf.io.FixedLenFeature([64], "float32"),
      y: tf.io.FixedLenFeature([], "int64"),
    };
    const ds = new tf.data.TFRecordDataset(path, { compressionType: "GZIP", bufferSize: 1000 })
      .shuffle(100, { seed: 1 }).batch(64).map((records) => tf.io.parseExample(records, features));
    const labels: number[] = [];
    for (const { x, y } of ds) {
      const xs = (x as tf.Tensor).dataSync(), ys = (y as tf.Tensor).dataSync();
      assertEquals((x as tf.Tensor).shape.slice(1), [64]);
      ys.forEach((label, i) => {
        labels.push(Number(label));
        if (xs[i * 64] !== Number(label)) throw new Error("features and label disagree");
      });
    }
    assertEquals(sorted(labels), Array.from({ length: 2000 }, (_, i) => i));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("Dataset.shard keeps every n-th element from the index-th; bad arguments are named", () => {
  assertEquals(nums(Dataset.range(10).shard(3, 1).batch(10).toArray()[0]), [1, 4, 7]);
  assertEquals(nums(Dataset.range(10).shard(3, 0).batch(10).toArray()[0]), [0, 3, 6, 9]);
  assertEquals(nums(Dataset.range(5).shard(1, 0).batch(10).toArray()[0]), [0, 1, 2, 3, 4]);
  // The shards of a dataset partition it.
  const all = [0, 1, 2, 3].flatMap((i) => Dataset.range(23).shard(4, i).toArray().map(num));
  assertEquals(sorted(all), Array.from({ length: 23 }, (_, i) => i));
  assertThrowsMatch(
    () => Dataset.range(4).shard(0, 0),
    /^Dataset\.shard: numShards must be an integer >= 1, got 0/,
  );
  assertThrowsMatch(
    () => Dataset.range(4).shard(2, 2),
    /^Dataset\.shard: index must be less than numShards \(2\), got 2/,
  );
  assertThrowsMatch(
    () => Dataset.range(4).shard(2, -1),
    /^Dataset\.shard: index must be an integer >= 0/,
  );
});
