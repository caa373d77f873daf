/**
 * The WebGPU device's random fills (src/backend/webgpu/random.ts) against the CPU's Philox
 * streams: float32, int32 and int64 uniforms bit for bit, normals and truncated normals to 1e-6
 * relative with the same redraws, over seeds, shapes (empty, rank 0, sizes not a multiple of
 * a block's 4, a grid of more than 65,535 workgroups) and parameters (through the ops, and
 * straight through both backends' randomFill with any doubles and 64-bit seeds); float64
 * fills and int64 normals are errors. Runs on llvmpipe as tests/webgpu_test.ts does; without an adapter
 * the device tests are reported as ignored.
 * @module
 */
import * as tf from "../mod.ts";
import type { DType, TypedArray } from "../src/dtype.ts";
import { Tensor } from "../src/tensor.ts";
import { cpuBackend } from "../src/backend/cpu/backend.ts";
import { gpuBackends } from "../src/backend/registry.ts";
import { Cpu, RandomDist } from "../src/native/codes.ts";
import { native } from "../src/native/lib.ts";
import { assertEquals, assertThrowsMatch, rng } from "./helpers.ts";
import { useWebGpu } from "./backends/webgpu.ts";

const GPUS = await useWebGpu();
const GPU = "/gpu:0";
const CPU = "/cpu:0";
const ignore = GPUS === 0;

type Rng = () => number;
type Options = Record<string, unknown>;
type Draw = (shape: number[], options: Options) => Tensor;
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const int = (r: Rng, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

// ---- comparisons -----------------------------------------------------------------------

/** The 32-bit patterns of float32 or int32 values: -0 differs from +0 here. */
function bits(values: TypedArray): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length);
}

function assertSameBits(got: TypedArray, want: TypedArray, what: string): void {
  assertEquals(got.length, want.length, `${what}: length`);
  const g = bits(got), w = bits(want);
  for (let i = 0; i < w.length; i++) {
    if (g[i] !== w[i]) {
      throw new Error(`${what}: element ${i} is ${got[i]} on the GPU, ${want[i]} on the CPU`);
    }
  }
}

/** Normals agree to 1e-6 of |mean| + |value - mean| (so a redraw chosen apart fails). */
function assertNormalsClose(got: TypedArray, want: TypedArray, mean: number, what: string): void {
  assertEquals(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const g = Number(got[i]), w = Number(want[i]);
    const tolerance = 1e-6 * (Math.abs(mean) + Math.abs(w - mean)) + 1e-38;
    if (!(Math.abs(g - w) <= tolerance)) {
      throw new Error(`${what}: element ${i} is ${g} on the GPU, ${w} on the CPU`);
    }
  }
}

// ---- the two devices -------------------------------------------------------------------

/** The same calls on both devices after the same setSeed: the op seeds resolve alike. */
async function bothDevices(global: number, calls: () => Tensor[]): Promise<TypedArray[][]> {
  tf.random.setSeed(global);
  const onGpu = tf.device(GPU, calls);
  tf.random.setSeed(global);
  const onCpu = tf.device(CPU, calls);
  const gpu = [];
  for (const t of onGpu) {
    assertEquals(t.device, onGpu[0].device);
    gpu.push(await t.data());
    t.dispose();
  }
  return [gpu, onCpu.map((t) => t.dataSync())];
}

const gpuBackend = () => gpuBackends()[0];

/** Both backends' randomFill with the given seeds and parameters, any doubles. */
async function fillBoth(
  dist: number,
  dtype: DType,
  seeds: [bigint, bigint],
  params: [number, number],
  n: number,
): Promise<[TypedArray, TypedArray]> {
  const cpuOut = cpuBackend.allocateOutput(dtype, n, "test");
  cpuBackend.randomFill("test", dist, dtype, seeds, params, cpuOut, n);
  const gpu = gpuBackend();
  const gpuOut = gpu.allocateOutput(dtype, n, "test");
  gpu.randomFill("test", dist, dtype, seeds, params, gpuOut, n);
  const t = new Tensor(gpuOut, dtype, [n]);
  const values = await t.data();
  t.dispose();
  return [values, cpuOut as TypedArray];
}

function seed64(r: Rng): bigint {
  return (BigInt(Math.floor(r() * 2 ** 32)) << 32n) | BigInt(Math.floor(r() * 2 ** 32));
}

/** Runs fn at each CPU kernel level whose float32 uniform rounds differently (v2 has no fma). */
async function atEachRounding(fn: (level: string) => Promise<void>): Promise<void> {
  const active = native.eager_cpu_level();
  const levels = (native.eager_cpu_levels() & (1 << Cpu.V2)) && active !== Cpu.V2
    ? [Cpu.V2, active]
    : [active];
  try {
    for (const level of levels) {
      assertEquals(native.eager_set_cpu_level(level), 0);
      await fn(level === Cpu.V2 ? "v2 (two roundings)" : `level ${level} (fma)`);
    }
  } finally {
    native.eager_set_cpu_level(active);
  }
}

// ---- through the ops -------------------------------------------------------------------

/** Rank 0, empty, sizes below, at and past a block of 4, and not a multiple of it. */
const SHAPES: number[][] = [[], [0], [1], [2], [3], [4], [5], [7, 3], [2, 0, 3], [1, 1, 1, 1]];
SHAPES.push([33, 17], [4, 4, 4, 3], [1001]);

const FLOAT_BOUNDS: [number, number][] = [
  [0, 1],
  [-1, 1],
  [0.1, 0.7],
  [-3.3, 1e-3],
  [-0, 5],
  [1e-30, 3e30],
  [-1e-44, 1e-44],
  [-3.4e38, 3.4e38],
  [16777215, 16777216],
  [-7.777, -7.7769],
];
const INT_BOUNDS: [number, number][] = [
  [0, 10],
  [7, 8],
  [-5, 2 ** 31 - 1],
  [-(2 ** 31), 2 ** 31 - 1],
  [-(2 ** 30), 2 ** 30 + 1], // span 2^31 + 1: half the words are rejected
  [-1000, 3],
];

/** (mean, stddev) pairs, a zero stddev among them. */
const NORMAL_PARAMS: [number, number][] = [[0, 1], [1, 0.5], [-3, 2], [100, 1e-3], [0.5, 0]];
NORMAL_PARAMS.push([1e-3, 1e3]);

/** Three calls of an op: seeded twice (streams 0 and 1), then unseeded (the op counter). */
const threeCalls = (f: Draw, shape: number[], options: Options, seed: number) => () => [
  f(shape, { ...options, seed }),
  f(shape, { ...options, seed }),
  f(shape, options),
];

Deno.test({
  name: "WebGPU random: float32 and int32 uniforms match the CPU bit for bit",
  ignore,
  async fn() {
    for (let c = 0; c < 40; c++) {
      const r = rng(500 + c);
      const shape = pick(r, SHAPES), seed = int(r, 0, 1e6);
      const dtype = pick(r, ["float32", "int32"] as DType[]);
      const [minval, maxval] = pick(r, dtype === "float32" ? FLOAT_BOUNDS : INT_BOUNDS);
      const options = { dtype, minval, maxval };
      const what = `randomUniform ${JSON.stringify({ shape, seed, ...options })}`;
      const [gpu, cpu] = await bothDevices(c, threeCalls(tf.randomUniform, shape, options, seed));
      for (let k = 0; k < 3; k++) assertSameBits(gpu[k], cpu[k], `${what} call ${k}`);
    }
  },
});

Deno.test({
  name: "WebGPU random: normals and truncated normals match the CPU to 1e-6, same redraws",
  ignore,
  async fn() {
    let redrawn = 0;
    for (let c = 0; c < 30; c++) {
      const r = rng(900 + c);
      const shape = c < 3 ? [50_000] : pick(r, SHAPES), seed = int(r, 0, 1e6);
      const [mean, stddev] = pick(r, NORMAL_PARAMS);
      const options = { mean, stddev };
      const what = JSON.stringify({ shape, seed, ...options });
      for (const f of [tf.randomNormal, tf.truncatedNormal]) {
        const [gpu, cpu] = await bothDevices(c, threeCalls(f, shape, options, seed));
        for (let k = 0; k < 3; k++) assertNormalsClose(gpu[k], cpu[k], mean, `${f.name} ${what}`);
      }
      // The same key and stream: the truncated draw differs exactly where it was redrawn.
      tf.random.setSeed(c);
      const plain = tf.randomNormal(shape, { seed }).dataSync();
      const truncated = tf.truncatedNormal(shape, { seed }).dataSync();
      for (let i = 0; i < plain.length; i++) if (plain[i] !== truncated[i]) redrawn++;
    }
    if (redrawn < 1000) throw new Error(`only ${redrawn} redraws were compared`);
  },
});

Deno.test({
  name: "WebGPU random: float64 fills and int64 normals are errors naming the op and the dtype",
  ignore,
  fn() {
    const on = (f: () => unknown) => () => tf.device(GPU, f);
    const draws = [tf.randomUniform, tf.randomNormal, tf.truncatedNormal] as Draw[];
    for (const [name, f] of draws.map((f) => [f.name, f] as const)) {
      // The device holds no float64 at all: its allocation names the op and the dtype.
      assertThrowsMatch(
        on(() => f([3], { dtype: "float64" })),
        new RegExp(`^${name}: float64 .*GPU:0`),
      );
    }
    const gpu = gpuBackend(), out = gpu.allocateOutput("float32", 4, "test");
    const out64 = gpu.allocateOutput("int64", 4, "test");
    assertThrowsMatch(
      () => gpu.randomFill("randomNormal", RandomDist.NORMAL, "int64", [1n, 0n], [0, 1], out64, 4),
      /^randomNormal: a normal fill of int64 is undefined/,
    );
    new Tensor(out64, "int64", [4]).dispose();
    for (const dist of [RandomDist.UNIFORM, RandomDist.NORMAL, RandomDist.TRUNCATED_NORMAL]) {
      assertThrowsMatch(
        () => gpu.randomFill("truncatedNormal", dist, "float64", [1n, 0n], [0, 1], out, 4),
        /^truncatedNormal: a random fill of float64 is not implemented on .*device:GPU:0/,
      );
    }
    new Tensor(out, "float32", [4]).dispose();
  },
});

// ---- straight through randomFill: any doubles, any 64-bit seeds -------------------------

/** Doubles that are not float32 values, tiny and huge ranges, signed zeros, subnormals. */
const AWKWARD_BOUNDS: [number, number][] = [
  [0.1, 0.3],
  [-0, 1],
  [-1, -0],
  [-0.25, 1e-300],
  [2 ** -1074, 2 ** -1000],
  [-(2 ** -149), 2 ** -149],
  [-1e-40, 3e-39],
  [1, 1 + 2 ** -52],
  [-1e308, 1e308], // b - a overflows: every draw is below b
  [-1e39, 1e39], // beyond float32: lo is -inf, hi +inf
  [3.4e38, 3.5e38],
  [1e-6, 1],
  [-(2 ** 24), 2 ** 24],
  [0, 2 ** -100],
  [-(2 ** -200), 0], // draws round to -0, which is not below hi = +0
  [1 - 2 ** -30, 1 + 2 ** -30], // draws below 1 round up to it, a carry into the exponent
];

/** Bounds of random binary magnitudes 2^-140 .. 2^130, sometimes 2^40 apart. */
function randomBounds(r: Rng): [number, number] {
  const scale = () => 2 ** int(r, -140, 130) * (r() - 0.5);
  const x = scale(), y = r() < 0.5 ? scale() : x + scale() * 2 ** int(r, -40, 0);
  return x < y ? [x, y] : y < x ? [y, x] : [x, 2 * Math.abs(x) + 1];
}

Deno.test({
  name: "WebGPU random: float32 uniforms redo the CPU's double arithmetic exactly",
  ignore,
  async fn() {
    await atEachRounding(async (level) => {
      for (let c = 0; c < AWKWARD_BOUNDS.length + 45; c++) {
        const r = rng(1300 + c);
        const params = AWKWARD_BOUNDS[c] ?? randomBounds(r), n = int(r, 1, 3000);
        const seeds: [bigint, bigint] = [seed64(r), seed64(r)];
        const [gpu, cpu] = await fillBoth(RandomDist.UNIFORM, "float32", seeds, params, n);
        assertSameBits(gpu, cpu, `${level} [${params}) seeds ${seeds}`);
      }
    });
  },
});

/**
 * Bounds [a, b) whose element 0 (from word k) the CPU's v2 (two roundings) and fma kernels
 * turn into different float32 values: a = -1/4 and fl(d u) = T = 1/4 + Q, Q a float32
 * midpoint, so the sum is Q exactly after two roundings (a tie, to even) and Q plus or minus
 * 2^-54 after the fma whenever the product's own rounding dropped more than 2^-55.
 */
function boundsSplittingRoundings(u: number): Iterable<[number, number]> {
  const step = (d: number, by: number) => {
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, d);
    view.setBigInt64(0, view.getBigInt64(0) + BigInt(by));
    return view.getFloat64(0);
  };
  return (function* () {
    for (let j = 0; j < 400; j++) {
      const t = 0.25 + 0.375 + (2 * j + 1) * 2 ** -26;
      for (let by = -2; by <= 2; by++) {
        const d = step(t / u, by), b = d - 0.25;
        if (d * u === t && b + 0.25 === d) yield [-0.25, b];
      }
    }
  })();
}

Deno.test({
  name: "WebGPU random: one or two roundings, as the CPU's kernel level does",
  ignore: ignore || !(native.eager_cpu_levels() & (1 << Cpu.V2)) ||
    native.eager_cpu_level() === Cpu.V2,
  async fn() {
    const active = native.eager_cpu_level();
    const cpuAt = (level: number, seeds: [bigint, bigint], params: [number, number]) => {
      native.eager_set_cpu_level(level);
      const out = new Float32Array(1);
      cpuBackend.randomFill("test", RandomDist.UNIFORM, "float32", seeds, params, out, 1);
      return out[0];
    };
    let found = 0;
    try {
      for (let s = 1n; s <= 6n; s++) {
        const seeds: [bigint, bigint] = [s * 0x9e3779b97f4a7c15n & (2n ** 64n - 1n), s];
        const u = cpuAt(active, seeds, [0, 1]);
        for (const params of boundsSplittingRoundings(u)) {
          if (Object.is(cpuAt(Cpu.V2, seeds, params), cpuAt(active, seeds, params))) continue;
          for (const level of [Cpu.V2, active]) {
            native.eager_set_cpu_level(level);
            const [gpu, cpu] = await fillBoth(RandomDist.UNIFORM, "float32", seeds, params, 1);
            assertSameBits(gpu, cpu, `level ${level} [${params}) seeds ${seeds}`);
          }
          found++;
          break;
        }
      }
    } finally {
      native.eager_set_cpu_level(active);
    }
    if (found < 4) throw new Error(`only ${found} bounds split the two roundings`);
  },
});

/**
 * A d in [1, 2) whose product with word k is the 77-bit Y = T 2^53 + 2^52 + 2^23 (T even):
 * its 24 bits below a double's are a tie, and rounded to even (down) it is a float32 midpoint,
 * which rounds to even (down) again; rounded up, it lies above the midpoint and rounds up.
 * With a = 2^-200, 2^200 below, only the exact sum's sticky bit breaks the tie upward.
 */
function tieBrokenBySticky(k: number): number | undefined {
  const big = BigInt(k);
  const r = Number((1n << 53n) % big), c = Number(((1n << 52n) + (1n << 23n)) % big);
  for (let t = Math.max(2 ** 23, Math.ceil(k / 2)); t < k; t++) { // so that 2^52 <= Y / k < 2^53
    if (t % 2 === 0 && ((t * r) % k + c) % k === 0) {
      const y = (BigInt(t) << 53n) + (1n << 52n) + (1n << 23n);
      return Number(y / big) * 2 ** -52;
    }
  }
  return undefined;
}

Deno.test({
  name: "WebGPU random: a sticky bit 2^200 below decides a tie, as in the CPU's double sum",
  ignore,
  async fn() {
    let found = 0;
    for (let s = 1n; s <= 40n && found < 3; s++) {
      const seeds: [bigint, bigint] = [s, 7n];
      const [, first] = await fillBoth(RandomDist.UNIFORM, "float32", seeds, [0, 1], 1);
      const d = tieBrokenBySticky(Number(first[0]) * 2 ** 24);
      if (d === undefined) continue;
      const cpuValue = async (a: number) =>
        (await fillBoth(RandomDist.UNIFORM, "float32", seeds, [a, d], 1))[1][0];
      if ((await cpuValue(2 ** -200)) === (await cpuValue(0))) {
        throw new Error(`d = ${d}: the sticky bit decided nothing`);
      }
      await atEachRounding(async (level) => {
        const [gpu, cpu] = await fillBoth(RandomDist.UNIFORM, "float32", seeds, [2 ** -200, d], 1);
        assertSameBits(gpu, cpu, `${level} [2^-200, ${d}) seeds ${seeds}`);
      });
      found++;
    }
    if (found < 3) throw new Error(`only ${found} ties were built`);
  },
});

Deno.test({
  name: "WebGPU random: int32 uniforms over any span, Lemire's redraws included",
  ignore,
  async fn() {
    for (let c = 0; c < 40; c++) {
      const r = rng(1700 + c);
      // Spans of 1, 2, 3, up to 10^6, and up to 2^32 - 1.
      const a = int(r, -(2 ** 31), 2 ** 31 - 4);
      const b = pick(r, [a + 1, a + 2, a + 3, Math.min(a + int(r, 1, 1e6), 2 ** 31 - 1)]);
      const params: [number, number] = c < 6 ? INT_BOUNDS[c] : [a, r() < 0.2 ? 2 ** 31 - 1 : b];
      const seeds: [bigint, bigint] = [seed64(r), seed64(r)];
      const n = int(r, 1, 2000);
      const [gpu, cpu] = await fillBoth(RandomDist.UNIFORM, "int32", seeds, params, n);
      assertSameBits(gpu, cpu, `int32 [${params}) seeds ${seeds}`);
    }
  },
});

Deno.test({
  name: "WebGPU random: int64 uniforms over any span, Lemire's redraws included",
  ignore,
  async fn() {
    for (let c = 0; c < 40; c++) {
      const r = rng(1900 + c);
      // Spans of 1 to 3, up to 10^6, near 2^32, 2^40, 2^62 and the widest doubles allow.
      const a = pick(r, [0, -5, int(r, -(2 ** 31), 2 ** 31), -(2 ** 62), -(2 ** 63)]);
      const span = pick(r, [
        1,
        2,
        3,
        int(r, 1, 1e6),
        2 ** 32 - 1,
        2 ** 32 + 5,
        2 ** 40 + 3,
        2 ** 62,
      ]);
      // Near 2^63 doubles are 2,048 apart: a span too small to show there is widened.
      const b = c === 0 ? 2 ** 63 - 1024 : a + span > a ? a + span : a + 2 ** 12;
      // c = 1: a span of 1.5 x 2^63, whose threshold (2^62) rejects a quarter of the draws.
      const params: [number, number] = c === 0
        ? [-(2 ** 63), b]
        : c === 1
        ? [-(2 ** 63), 2 ** 62]
        : [a, b];
      const seeds: [bigint, bigint] = [seed64(r), seed64(r)];
      const n = int(r, 1, 2000);
      const [gpu, cpu] = await fillBoth(RandomDist.UNIFORM, "int64", seeds, params, n);
      assertEquals([...gpu], [...cpu], `int64 [${params}) seeds ${seeds}`);
    }
    // Through the op, a shape that is not a multiple of a block's two elements.
    const [[gpu], [cpu]] = await bothDevices(
      5,
      () => [tf.randomUniform([3, 7], { dtype: "int64", minval: -10, maxval: 10 })],
    );
    assertEquals([...gpu], [...cpu]);
  },
});

Deno.test({
  name: "WebGPU random: normals with any 64-bit seeds",
  ignore,
  async fn() {
    for (let c = 0; c < 20; c++) {
      const r = rng(2100 + c);
      const dist = pick(r, [RandomDist.NORMAL, RandomDist.TRUNCATED_NORMAL]);
      const params: [number, number] = [Math.fround(r() * 10 - 5), Math.fround(r() * 3)];
      const seeds: [bigint, bigint] = [seed64(r), seed64(r)];
      const [gpu, cpu] = await fillBoth(dist, "float32", seeds, params, int(r, 1, 5000));
      assertNormalsClose(gpu, cpu, params[0], `dist ${dist} ${params} seeds ${seeds}`);
    }
  },
});

Deno.test({
  name: "WebGPU random: a fill of more than 65,535 workgroups (a 2-D grid)",
  ignore,
  async fn() {
    const n = 4 * 65_535 * 64 + 7; // blocks past one row of the grid, a partial last block
    const [gpu, cpu] = await fillBoth(RandomDist.UNIFORM, "int32", [42n, 2n ** 63n], [-3, 1000], n);
    assertSameBits(gpu, cpu, "int32 grid");
  },
});

Deno.test({
  name:
    "WebGPU random: categorical samples on the device (float32 noise); gamma and poisson on the host",
  ignore,
  async fn() {
    // Gumbel-max in float32 there (no float64): the frequencies follow softmax all the same.
    const p = [0.1, 0.2, 0.3, 0.4];
    const logits = tf.device(GPU, () => tf.constant([p.map(Math.log)]));
    const draws = tf.random.categorical(logits, 20000, { seed: 4 });
    assertEquals([draws.device, draws.dtype], [logits.device, "int64"]);
    const counts = [0, 0, 0, 0];
    for (const d of await draws.data()) counts[Number(d)]++;
    // chi-square with 3 degrees of freedom: 16.3 is its 0.1% point
    const chi = counts.reduce((s, c, i) => s + (c - 20000 * p[i]) ** 2 / (20000 * p[i]), 0);
    if (!(chi < 16.3)) throw new Error(`categorical on the device: chi-square ${chi} (${counts})`);
    const stateless = () =>
      tf.random.statelessCategorical(logits, 50, { seed: [1, 2], dtype: "int32" }).data();
    assertEquals(await stateless(), await stateless());
    // The samplers of gamma and poisson run on the host: JS parameters give device samples
    // under a device scope; a parameter on the device is an error naming the op.
    const g = tf.device(GPU, () => tf.random.gamma([8], 2, { seed: 1 }));
    assertEquals(g.device, logits.device);
    if (!(await g.data() as Float32Array).every((v) => v > 0)) throw new Error("gamma draws <= 0");
    assertThrowsMatch(
      () => tf.random.poisson([4], tf.device(GPU, () => tf.constant([3]))),
      /^poisson: runs on the host .*, and a parameter is on .*GPU:0/,
    );
  },
});
