/**
 * Random ops: Philox known answers, seeding, thread independence, distribution
 * statistics (fixed seeds, bounds of five standard errors), shuffle and dropout.
 * @module
 */
import {
  deepStrictEqual as assertEquals,
  notDeepStrictEqual as assertNotEquals,
  ok as assert,
  strictEqual,
} from "node:assert/strict";
import { native, setNumThreads } from "../src/native/lib.ts";
import {
  dropout,
  randomNormal,
  randomShuffle,
  randomUniform,
  setSeed,
  truncatedNormal,
} from "../src/ops/random.ts";
import type { Tensor } from "../src/tensor.ts";
import { assertArray, assertThrowsMatch, deviceDTypes, ON_WEBGPU, tensorFrom } from "./helpers.ts";

/** t's values as numbers, read without blocking (every device). */
async function values(t: Tensor): Promise<number[]> {
  return Array.from(await t.data(), Number);
}

function moments(xs: ArrayLike<number | bigint>): { mean: number; variance: number } {
  let sum = 0;
  for (let i = 0; i < xs.length; i++) sum += Number(xs[i]);
  const mean = sum / xs.length;
  let sq = 0;
  for (let i = 0; i < xs.length; i++) sq += (Number(xs[i]) - mean) ** 2;
  return { mean, variance: sq / xs.length };
}

function assertWithin(actual: number, expected: number, tolerance: number, what: string): void {
  assert(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual} is not within ${tolerance} of ${expected}`,
  );
}

const N = 1_000_000;

Deno.test("philox4x32-10 matches Random123's known-answer vectors", () => {
  const cases: [number[], number[], number[]][] = [
    [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
    [
      [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
      [0xffffffff, 0xffffffff],
      [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
    ],
    [
      [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
      [0xa4093822, 0x299f31d0],
      [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
    ],
  ];
  for (const [counter, key, expected] of cases) {
    const out = new Uint32Array(4);
    assertEquals(
      native.eager_philox4x32(new Uint32Array(counter), new Uint32Array(key), out),
      0,
    );
    assertEquals(Array.from(out), expected);
  }
});

Deno.test("eager_random reads element i from Philox block i / G of (seed, stream)", () => {
  const seed = 0x0123456789abcdefn, stream = 0xfedcba9876543210n;
  const key = new Uint32Array([0x89abcdef, 0x01234567]);
  const block = (b: number, attempt = 0) => {
    const out = new Uint32Array(4);
    native.eager_philox4x32(new Uint32Array([b, attempt, 0x76543210, 0xfedcba98]), key, out);
    return out;
  };
  const f32 = new Float32Array(10), f64 = new Float64Array(5);
  assertEquals(native.eager_random(0, 0, 10, f32, seed, stream, 0, 1), 0);
  assertEquals(native.eager_random(0, 1, 5, f64, seed, stream, 0, 1), 0);
  for (let i = 0; i < 10; i++) assertEquals(f32[i], (block(i >> 2)[i & 3] >>> 8) / 2 ** 24);
  for (let i = 0; i < 5; i++) {
    const w = block(i >> 1), lo = w[2 * (i & 1)], hi = w[2 * (i & 1) + 1];
    const bits = ((BigInt(hi) << 32n) | BigInt(lo)) >> 11n;
    assertEquals(f64[i], Number(bits) / 2 ** 53);
  }
});

Deno.test("setSeed makes the sequence of random ops reproducible", async () => {
  const run = async () => [
    await values(randomUniform([5])),
    await values(randomNormal([2, 3], { dtype: "float64" })),
    await values(randomUniform([4], { minval: -5, maxval: 5, dtype: "int32" })),
    await values(randomShuffle([1, 2, 3, 4, 5, 6, 7, 8])),
    await values(truncatedNormal([3])),
  ];
  setSeed(1234);
  const first = await run();
  setSeed(1234);
  assertEquals(await run(), first);
  setSeed(1235);
  assertNotEquals((await run())[0], first[0]);
  // Each call without an op seed advances the op counter.
  setSeed(1234);
  assertNotEquals(await values(randomUniform([5])), await values(randomUniform([5])));
});

Deno.test("an op seed gives new values per call that restart after setSeed", async () => {
  setSeed(7);
  const a = await values(randomUniform([4], { seed: 3 }));
  const b = await values(randomUniform([4], { seed: 3 }));
  const c = await values(randomUniform([4], { seed: 4 }));
  assertNotEquals(a, b);
  assertNotEquals(a, c);
  setSeed(7);
  assertEquals(await values(randomUniform([4], { seed: 3 })), a);
  assertEquals(await values(randomUniform([4], { seed: 3 })), b);
  // Calls with an op seed leave the op counter alone.
  setSeed(7);
  const d = await values(randomNormal([4]));
  setSeed(7);
  randomNormal([4], { seed: 99n });
  assertEquals(await values(randomNormal([4])), d);
});

Deno.test("without any seed, values come from fresh entropy", async () => {
  setSeed(null);
  assertNotEquals(await values(randomUniform([8])), await values(randomUniform([8])));
  assertNotEquals(
    await values(randomNormal([8], { seed: 1 })),
    await values(randomNormal([8], { seed: 1 })),
  );
});

Deno.test("element i depends only on the seeds and i, not on the shape", async () => {
  for (const dtype of deviceDTypes(["float32", "float64"] as const)) {
    setSeed(3);
    const short = await values(randomNormal([11], { dtype }));
    setSeed(3);
    const long = await values(randomNormal([4, 25], { dtype }));
    assertEquals(long.slice(0, 11), short);
  }
});

// The CPU kernel's thread pool: a CPU property.
Deno.test("results do not depend on the number of threads", { ignore: ON_WEBGPU }, () => {
  const n = (1 << 20) + 3;
  const draws: [string, () => Tensor][] = [
    ["uniform float32", () => randomUniform([n], { minval: -2, maxval: 3 })],
    ["uniform float64", () => randomUniform([n], { dtype: "float64" })],
    // span 2^31 + 1: about half of the first draws are rejected and redrawn
    [
      "uniform int32",
      () => randomUniform([n], { minval: -(2 ** 30), maxval: 2 ** 30 + 1, dtype: "int32" }),
    ],
    [
      "uniform int64",
      () => randomUniform([n], { minval: -(2 ** 52), maxval: 2 ** 52 + 1, dtype: "int64" }),
    ],
    ["normal float32", () => randomNormal([n])],
    ["normal float64", () => randomNormal([n], { dtype: "float64" })],
    ["truncated float32", () => truncatedNormal([n])],
    ["truncated float64", () => truncatedNormal([n], { dtype: "float64" })],
  ];
  try {
    for (const [name, draw] of draws) {
      const results = [1, 2, 3].map((threads) => {
        setNumThreads(threads);
        setSeed(99);
        return draw().dataSync();
      });
      assertEquals(results[1], results[0], `${name}: 2 threads differ from 1`);
      assertEquals(results[2], results[0], `${name}: 3 threads differ from 1`);
    }
  } finally {
    setNumThreads(0);
  }
});

Deno.test("uniform floats: range, mean and variance", async () => {
  for (const dtype of deviceDTypes(["float32", "float64"] as const)) {
    const x = (await randomUniform([N], { dtype, seed: 11 }).data()) as Float32Array | Float64Array;
    const { mean, variance } = moments(x);
    assertWithin(mean, 0.5, 5 * Math.sqrt(1 / 12 / N), `${dtype} mean`);
    assertWithin(variance, 1 / 12, 5 * Math.sqrt((1 / 80 - 1 / 144) / N), `${dtype} variance`);
    assert(x.every((v) => v >= 0 && v < 1), `${dtype} values leave [0, 1)`);
    const y = await randomUniform([N], { dtype, minval: -3, maxval: 5, seed: 12 }).data();
    assert((y as Float64Array).every((v) => v >= -3 && v < 5), `${dtype} values leave [-3, 5)`);
    assertWithin(moments(y).mean, 1, 5 * 8 * Math.sqrt(1 / 12 / N), `${dtype} shifted mean`);
  }
  // A range one float32 step wide: rounding up to maxval is clamped below it.
  const hi = Math.fround(1.0000001);
  const z =
    (await randomUniform([1000], { minval: 1, maxval: hi, seed: 1 }).data()) as Float32Array;
  assert(z.every((v) => v >= 1 && v < hi));
});

Deno.test("uniform integers cover [minval, maxval) evenly", async () => {
  const x = randomUniform([N], { minval: -3, maxval: 7, dtype: "int32", seed: 5 });
  assertEquals(x.dtype, "int32");
  const counts = new Map<number, number>();
  for (const v of (await x.data()) as Int32Array) counts.set(v, (counts.get(v) ?? 0) + 1);
  assertEquals([...counts.keys()].sort((a, b) => a - b), [-3, -2, -1, 0, 1, 2, 3, 4, 5, 6]);
  for (const [v, c] of counts) assertWithin(c, N / 10, 5 * Math.sqrt(N * 0.09), `count of ${v}`);

  const big = randomUniform([N], { minval: -(2 ** 30), maxval: 2 ** 30 + 1, dtype: "int32" });
  const b = (await big.data()) as Int32Array;
  assert(b.every((v) => v >= -(2 ** 30) && v <= 2 ** 30));
  const span = 2 ** 31 + 1;
  assertWithin(moments(b).mean, 0, 5 * span * Math.sqrt(1 / 12 / N), "int32 wide mean");

  const y = randomUniform([N], { minval: 10n, maxval: 2n ** 40n, dtype: "int64", seed: 6 });
  assertEquals(y.dtype, "int64");
  const w = (await y.data()) as BigInt64Array;
  assert(w.every((v) => v >= 10n && v < 2n ** 40n));
  const { mean, variance } = moments(w);
  assertWithin(mean / 2 ** 40, 0.5, 5 * Math.sqrt(1 / 12 / N), "int64 mean");
  assertWithin(variance / 2 ** 80, 1 / 12, 5 * Math.sqrt((1 / 80 - 1 / 144) / N), "int64 var");

  const coin = await randomUniform([N], { maxval: 2, dtype: "int64", seed: 8 }).data();
  assertWithin(moments(coin).mean, 0.5, 5 * 0.5 / Math.sqrt(N), "int64 coin");
});

Deno.test("normal: mean and variance", async () => {
  for (const dtype of deviceDTypes(["float32", "float64"] as const)) {
    const x = await randomNormal([N], { dtype, mean: 2, stddev: 3, seed: 21 }).data();
    const { mean, variance } = moments(x as Float64Array);
    assertWithin(mean, 2, 5 * 3 / Math.sqrt(N), `${dtype} mean`);
    assertWithin(variance, 9, 5 * 9 * Math.sqrt(2 / N), `${dtype} variance`);
    // about 4.55% of a normal lies beyond two standard deviations
    const tail = (x as Float64Array).filter((v) => Math.abs(v - 2) > 6).length / N;
    assertWithin(tail, 0.0455, 5 * Math.sqrt(0.0455 * 0.9545 / N), `${dtype} tail`);
  }
  assert((await values(randomNormal([10], { stddev: 0, mean: 4 }))).every((v) => v === 4));
});

Deno.test("truncatedNormal stays within two standard deviations", async () => {
  for (const dtype of deviceDTypes(["float32", "float64"] as const)) {
    const x = await truncatedNormal([N], { dtype, mean: -1, stddev: 0.5, seed: 31 }).data();
    const xs = x as Float64Array;
    assert(xs.every((v) => Math.abs(v + 1) <= 1 + 1e-6), `${dtype} value beyond 2 sd`);
    const { mean, variance } = moments(xs);
    assertWithin(mean, -1, 5 * 0.5 * Math.sqrt(0.7737 / N), `${dtype} mean`);
    assertWithin(variance / 0.25, 0.7737, 0.005, `${dtype} variance`);
  }
});

Deno.test("randomShuffle permutes rows and keeps them whole", async () => {
  const rows = 1000;
  const data = Array.from({ length: rows }, (_, i) => [i, 10 * i, -i]);
  const y = randomShuffle(data, { seed: 1 });
  assertEquals(y.shape, [rows, 3]);
  const out = (await y.array()) as number[][];
  for (const row of out) assertEquals(row, [row[0], 10 * row[0], -row[0]]);
  const firsts = out.map((r) => r[0]);
  assertEquals([...firsts].sort((a, b) => a - b), data.map((r) => r[0]));
  assertNotEquals(firsts, data.map((r) => r[0]));

  const ints = randomShuffle(new Int32Array([5, 6, 7, 8, 9]));
  assertEquals((await values(ints)).sort(), [5, 6, 7, 8, 9]);
  const longs = randomShuffle(new BigInt64Array([1n, 2n, 3n]));
  assertEquals([...((await longs.data()) as BigInt64Array)].sort(), [1n, 2n, 3n]);
  // A strided (transposed) view is read correctly.
  const t = tensorFrom(new Float32Array([1, 2, 3, 4, 5, 6]), "float32", [3, 2], [1, 3]);
  const s = (await randomShuffle(t).array()) as number[][];
  assertEquals(s.map((r) => r.join()).sort(), ["1,4", "2,5", "3,6"]);
  assertArray(randomShuffle(5), 5);
  assertArray(randomShuffle([[1, 2]]), [[1, 2]]);
});

Deno.test("dropout keeps 1 - rate of the values, scaled by 1 / (1 - rate)", async () => {
  const n = 100_000, rate = 0.3;
  const y = (await dropout(new Float32Array(n).fill(2), rate, { seed: 4 }).data()) as Float32Array;
  const kept = y.filter((v) => v !== 0);
  assertWithin(kept.length / n, 1 - rate, 5 * Math.sqrt(rate * (1 - rate) / n), "kept fraction");
  assert(kept.every((v) => v === Math.fround(2 * Math.fround(1 / (1 - rate)))));

  const x = tensorFrom(new Float64Array(100 * 50).fill(1), "float64", [100, 50]);
  for (const noiseShape of [[100, 1], [null, 1]]) {
    const z = (await dropout(x, 0.5, { noiseShape, seed: 2 }).array()) as number[][];
    for (const row of z) assert(row.every((v) => v === row[0]) && (row[0] === 0 || row[0] === 2));
    assert(z.some((r) => r[0] === 0) && z.some((r) => r[0] === 2));
  }
  strictEqual(dropout(x, 0), x);
});

Deno.test("bad arguments throw errors that name the op", () => {
  assertThrowsMatch(() => randomUniform([-1]), /^randomUniform: shape/);
  assertThrowsMatch(() => randomUniform([1.5]), /^randomUniform: shape/);
  assertThrowsMatch(() => randomUniform([2], { minval: 1, maxval: 1 }), /^randomUniform: minval/);
  assertThrowsMatch(() => randomUniform([2], { minval: 2, maxval: 1 }), /^randomUniform: minval/);
  assertThrowsMatch(() => randomUniform([2], { maxval: NaN }), /^randomUniform: maxval/);
  assertThrowsMatch(() => randomUniform([2], { dtype: "int32" }), /^randomUniform: maxval must/);
  assertThrowsMatch(
    () => randomUniform([2], { maxval: 2 ** 31, dtype: "int32" }),
    /^randomUniform: maxval/,
  );
  assertThrowsMatch(
    () => randomUniform([2], { maxval: 2n ** 60n, dtype: "int64" }),
    /^randomUniform: maxval/,
  );
  assertThrowsMatch(() => randomUniform([2], { dtype: "bool" }), /^randomUniform: dtype/);
  assertThrowsMatch(
    () => randomUniform([2], { dtype: "float16" as "float32" }),
    /^randomUniform: unknown dtype/,
  );
  assertThrowsMatch(() => randomUniform([2], { seed: 1.5 }), /^randomUniform: seed/);
  assertThrowsMatch(() => randomNormal([2], { stddev: -1 }), /^randomNormal: stddev/);
  assertThrowsMatch(() => randomNormal([2], { dtype: "int32" }), /^randomNormal: dtype/);
  assertThrowsMatch(() => truncatedNormal([2], { stddev: -0.1 }), /^truncatedNormal: stddev/);
  assertThrowsMatch(() => truncatedNormal([2], { mean: Infinity }), /^truncatedNormal: mean/);
  assertThrowsMatch(() => setSeed(0.5), /^setSeed: seed/);
  assertThrowsMatch(() => dropout([1, 2], 1), /^dropout: rate/);
  assertThrowsMatch(() => dropout([1, 2], -0.1), /^dropout: rate/);
  assertThrowsMatch(() => dropout([1, 2], NaN), /^dropout: rate/);
  assertThrowsMatch(() => dropout(new Int32Array([1, 2]), 0.5), /^dropout: x must be/);
  assertThrowsMatch(() => dropout([[1, 2]], 0.5, { noiseShape: [3] }), /^dropout: /);
  assertThrowsMatch(() => dropout([[1, 2]], 0.5, { noiseShape: [2, 2] }), /^dropout: noiseShape/);
  assertThrowsMatch(
    () => randomShuffle([1, 2], { seed: "x" as unknown as number }),
    /^randomShuffle/,
  );
});

Deno.test("the kernel rejects invalid calls with a status, not a crash", () => {
  const out = new Float32Array(4);
  assertEquals(native.eager_random(7, 0, 4, out, 0n, 0n, 0, 1), 1);
  assertEquals(native.eager_random(0, 0, 4, out, 0n, 0n, 1, 1), 1);
  assertEquals(native.eager_random(1, 2, 4, out, 0n, 0n, 0, 1), 2);
  assertEquals(native.eager_random(1, 0, 4, out, 0n, 0n, 0, -1), 1);
  assertEquals(native.eager_random(0, 2, 4, out, 0n, 0n, 0.5, 3), 1);
  assertEquals(native.eager_random(0, 0, -1, out, 0n, 0n, 0, 1), 1);
});
