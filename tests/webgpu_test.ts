/**
 * The WebGPU device (issue 18, first part: docs/webgpu.md): discovery and the software-adapter
 * rule, storage and asynchronous reads of any view, and the elementwise and copy kernels
 * against the CPU over random shapes (broadcasting, empty, rank 0, strided views) in float32
 * and int32. Runs on whatever adapter Deno finds; in CI that is Mesa's llvmpipe, installed by
 * `deno task test` (scripts/toolchain.ts) and admitted here with EAGER_ALLOW_SOFTWARE_GPU=1.
 * Where no adapter exists the device tests are reported as ignored, by name.
 * @module
 */
import * as tf from "../mod.ts";
import { arrayType, type DType } from "../src/dtype.ts";
import { Tensor } from "../src/tensor.ts";
import { Reduce } from "../src/native/codes.ts";
import { isSoftwareAdapter } from "../src/backend/webgpu/discovery.ts";
import { assertClose, assertEquals, assertThrowsMatch, rng } from "./helpers.ts";
import { useWebGpu } from "./backends/webgpu.ts";

const GPUS = await useWebGpu();
const GPU = "/gpu:0";
const CPU = "/cpu:0";
const ignore = GPUS === 0;

Deno.test("software adapters count as GPUs only when the user opts in", () => {
  const lavapipe = { description: "llvmpipe (LLVM 15.0.6, 256 bits)", vendor: "" };
  assertEquals(isSoftwareAdapter(lavapipe), true);
  assertEquals(isSoftwareAdapter({ description: "SwiftShader Device", vendor: "Google" }), true);
  assertEquals(isSoftwareAdapter({ description: "", vendor: "", isFallbackAdapter: true }), true);
  assertEquals(isSoftwareAdapter({ description: "NVIDIA H200", vendor: "nvidia" }), false);
});

type Rng = () => number;
const int = (r: Rng, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

function shapeOf(r: Rng): number[] {
  const shape = Array.from({ length: int(r, 0, 4) }, () => int(r, 1, 4));
  if (shape.length > 0 && r() < 0.1) shape[int(r, 0, shape.length - 1)] = 0;
  return shape;
}

function cpuTensor(r: Rng, dtype: DType, shape: readonly number[], positive = false): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new (arrayType(dtype))(n) as Float32Array | Int32Array;
  for (let i = 0; i < n; i++) {
    values[i] = dtype === "float32" ? (positive ? 0.1 + 3 * r() : 6 * r() - 3) : int(r, -9, 9);
  }
  return tf.device(CPU, () => tf.constant(values, dtype, { shape: [...shape] }));
}

/** The same computation on the CPU and on the GPU, compared through `await t.data()`. */
async function same(what: string, inputs: Tensor[], f: (xs: Tensor[]) => Tensor, rtol = 0) {
  const want = f(inputs);
  const got = f(inputs.map((x) => x.gpu()));
  assertEquals(got.device, tf.device(GPU, () => tf.zeros([]).device), `${what}: device`);
  assertEquals([got.dtype, ...got.shape], [want.dtype, ...want.shape], `${what}: dtype, shape`);
  const values = await got.data(); // the GPU's values, as a CPU tensor for assertClose
  const read = tf.device(CPU, () => tf.constant(values, got.dtype, { shape: [...got.shape] }));
  assertClose(read, want, { rtol, atol: rtol, message: what });
}

const UNARY = [
  ["neg", ["float32", "int32"]],
  ["abs", ["float32", "int32"]],
  ["square", ["float32", "int32"]],
  ["relu", ["float32", "int32"]],
  ["exp", ["float32"]],
  ["log", ["float32"]],
  ["sqrt", ["float32"]],
  ["tanh", ["float32"]],
  ["sigmoid", ["float32"]],
  ["floor", ["float32"]],
] as const;
const BINARY = ["add", "subtract", "multiply", "maximum", "minimum", "squaredDifference"] as const;

function op<F>(name: string): F {
  const ns = tf as unknown as Record<string, F | undefined>;
  return ns[name] ?? (tf.nn as unknown as Record<string, F>)[name];
}

Deno.test({
  name: "WebGPU: unary ops match the CPU over random shapes and strided views",
  ignore,
  async fn() {
    for (let seed = 1; seed <= 60; seed++) {
      const r = rng(seed);
      const [name, dtypes] = pick(r, UNARY);
      const dtype = pick(r, dtypes as readonly DType[]);
      const x = cpuTensor(r, dtype, shapeOf(r), name === "log" || name === "sqrt");
      const axis = x.rank > 0 ? int(r, 0, x.rank - 1) : -1;
      const f = op<(t: Tensor) => Tensor>(name);
      await same(`${name} #${seed}`, [x], ([t]) => f(axis >= 0 ? tf.reverse(t, [axis]) : t), 1e-5);
    }
  },
});

Deno.test({
  name: "WebGPU: binary ops match the CPU with broadcasting, JS scalars and strided views",
  ignore,
  async fn() {
    for (let seed = 1; seed <= 60; seed++) {
      const r = rng(100 + seed);
      const name = pick(r, BINARY);
      const dtype = pick(r, ["float32", "int32"] as DType[]);
      const shape = shapeOf(r);
      const other = shape.map((d) => (r() < 0.3 ? 1 : d)).slice(int(r, 0, shape.length));
      const [x, y] = r() < 0.5
        ? [cpuTensor(r, dtype, shape), cpuTensor(r, dtype, other)]
        : [cpuTensor(r, dtype, other), cpuTensor(r, dtype, shape)];
      const f = op<(a: Tensor | number, b: Tensor | number) => Tensor>(name);
      await same(`${name} #${seed}`, [x, y], ([a, b]) => f(tf.transpose(tf.transpose(a)), b), 1e-6);
      await same(`${name} with a JS scalar #${seed}`, [x], ([a]) => f(a, 2), 1e-6);
    }
  },
});

Deno.test({
  name: "WebGPU: casts, dense copies, concat, pad and tile match the CPU",
  ignore,
  async fn() {
    for (let seed = 1; seed <= 40; seed++) {
      const r = rng(200 + seed);
      const dtype = pick(r, ["float32", "int32"] as DType[]);
      const shape = shapeOf(r);
      if (shape.length === 0) shape.push(3);
      const x = cpuTensor(r, dtype, shape), y = cpuTensor(r, dtype, shape);
      const axis = int(r, 0, shape.length - 1);
      const to = dtype === "float32" ? "int32" : "float32";
      await same(`cast #${seed}`, [x], ([t]) => tf.cast(tf.reverse(t, [axis]), to));
      await same(`dense copy #${seed}`, [x], ([t]) => tf.reshape(tf.transpose(t), [-1]));
      await same(`concat #${seed}`, [x, y], ([a, b]) => tf.concat([a, b], axis));
      await same(`pad #${seed}`, [x], ([t]) => tf.pad(t, shape.map(() => [1, 0])));
      await same(
        `tile #${seed}`,
        [x],
        ([t]) => tf.tile(t, shape.map((_, i) => (i === axis ? 2 : 1))),
      );
    }
  },
});

Deno.test({
  name: "WebGPU: reductions match the CPU over any axes, kept or not, and strided views",
  ignore,
  async fn() {
    const names = ["reduceSum", "reduceMean", "reduceProd", "reduceMax", "reduceMin"] as const;
    for (let seed = 1; seed <= 60; seed++) {
      const r = rng(300 + seed);
      const name = pick(r, names);
      const dtype = pick(r, ["float32", "int32"] as DType[]);
      const shape = shapeOf(r);
      const empty = shape.includes(0);
      if (empty && (name === "reduceMax" || name === "reduceMin")) continue;
      const x = cpuTensor(r, dtype, shape.map((d) => (name === "reduceProd" ? Math.min(d, 2) : d)));
      const axes = [...Array(x.rank).keys()].filter(() => r() < 0.5);
      const keepDims = r() < 0.5;
      const f = op<(t: Tensor, a: number[], o: { keepDims: boolean }) => Tensor>(name);
      const view = (t: Tensor) => (t.rank > 1 ? tf.transpose(t) : t);
      await same(`${name} #${seed}`, [x], ([t]) => f(view(t), axes, { keepDims }), 1e-5);
    }
  },
});

Deno.test({
  name: "WebGPU: matmul matches the CPU with batches, broadcasting and transposes",
  ignore,
  async fn() {
    for (let seed = 1; seed <= 40; seed++) {
      const r = rng(400 + seed);
      const dtype = pick(r, ["float32", "int32"] as DType[]);
      const [m, n, k] = [int(r, 0, 5), int(r, 1, 5), int(r, 0, 5)];
      const batch = Array.from({ length: int(r, 0, 2) }, () => int(r, 1, 3));
      const [ta, tb] = [r() < 0.5, r() < 0.5];
      const a = cpuTensor(r, dtype, [...batch, ...(ta ? [k, m] : [m, k])]);
      const other = batch.map((d) => (r() < 0.3 ? 1 : d)).slice(int(r, 0, batch.length));
      const b = cpuTensor(r, dtype, [...other, ...(tb ? [n, k] : [k, n])]);
      const options = { transposeA: ta, transposeB: tb };
      await same(`matmul #${seed}`, [a, b], ([x, y]) => tf.matmul(x, y, options), 1e-5);
    }
  },
});

Deno.test({
  name: "WebGPU: long reductions run in passes (llvmpipe stops a thread's loops at 65,535)",
  ignore,
  async fn() {
    const r = rng(31);
    const n = 150_000;
    const ints = tf.device(
      CPU,
      () => tf.constant(Int32Array.from({ length: n }, () => int(r, -9, 9))),
    );
    const cases: [string, Tensor, (t: Tensor) => Tensor][] = [
      ["float32 sum", tf.cast(ints, "float32"), (t) => tf.reduceSum(t)],
      [
        "float32 mean of columns",
        tf.reshape(tf.cast(ints, "float32"), [-1, 3]),
        (t) => tf.reduceMean(t, 0),
      ],
      [
        "float32 max of a transposed view",
        tf.reshape(tf.cast(ints, "float32"), [3, -1]),
        (t) => tf.reduceMax(tf.transpose(t), 0, { keepDims: true }),
      ],
      ["int32 sum and min", ints, (t) => tf.stack([tf.reduceSum(t), tf.reduceMin(t)])],
      ["int32 mean", ints, (t) => tf.reduceMean(t)],
      ["int64 sum", tf.cast(ints, "int64"), (t) => tf.reduceSum(t)],
      ["uint8 sum (wraps)", tf.cast(tf.abs(ints), "uint8"), (t) => tf.reduceSum(t)],
      [
        "bool any and all",
        tf.greater(ints, 8),
        (t) => tf.stack([tf.reduceAny(t), tf.reduceAll(t)]),
      ],
    ];
    for (const [what, x, f] of cases) await same(what, [x], ([t]) => f(t), 1e-5);
    // argmax / argmin past one chunk: each chunk's index, then a choice among them (ties go
    // to the first index, a NaN wins).
    const floats = tf.cast(ints, "float32");
    const withNaN = tf.concat([floats, tf.constant([NaN, 50]), floats]);
    const arg: [string, Tensor, (t: Tensor) => Tensor][] = [
      ["float32 argMax (ties)", floats, (t) => tf.argMax(t)],
      ["float32 argMin of columns", tf.reshape(floats, [-1, 2]), (t) => tf.argMin(t, 0)],
      [
        "int32 argMax of a transposed view",
        tf.reshape(ints, [3, -1]),
        (t) => tf.argMax(tf.transpose(t), 0),
      ],
      ["int64 argMin", tf.cast(ints, "int64"), (t) => tf.argMin(t)],
      ["float32 argMax with a NaN", withNaN, (t) => tf.argMax(t)],
    ];
    for (const [what, x, f] of arg) await same(what, [x], ([t]) => f(t));
  },
});

Deno.test({
  name: "WebGPU: NaN follows the CPU's rules (tested by its bits: llvmpipe folds v != v)",
  ignore,
  async fn() {
    const x = tf.device(CPU, () => tf.constant([1, NaN, -2, NaN, Infinity, 0]));
    const y = tf.device(CPU, () => tf.constant([NaN, 3, -1, NaN, 5, -0]));
    await same(
      "maximum, minimum",
      [x, y],
      ([a, b]) => tf.stack([tf.maximum(a, b), tf.minimum(a, b)]),
    );
    await same("reduceMax, reduceMin, argMax, argMin", [x], ([a]) =>
      tf.stack([
        tf.reduceMax(a),
        tf.reduceMin(a),
        tf.cast(tf.argMax(a), "float32"),
        tf.cast(tf.argMin(a), "float32"),
      ]));
    await same("isNaN, casts to int32 and bool", [x], ([a]) =>
      tf.stack([
        tf.cast(tf.isNaN(a), "int32"),
        tf.cast(a, "int32"),
        tf.cast(tf.cast(a, "bool"), "int32"),
      ]));
  },
});

Deno.test({
  name: "WebGPU: long k, long index lists and long softmax rows run in pieces",
  ignore,
  async fn() {
    const r = rng(41);
    const floats = (shape: number[]) => cpuTensor(r, "float32", shape);
    const ints = (n: number, below: number) =>
      tf.device(CPU, () => tf.constant(Int32Array.from({ length: n }, () => int(r, 0, below - 1))));
    await same(
      "matmul with k = 40,000",
      [floats([3, 40_000]), floats([40_000, 5])],
      ([a, b]) => tf.matmul(a, b),
      1e-3,
    );
    await same("matmul with k = 0", [floats([2, 0]), floats([0, 3])], ([a, b]) => tf.matmul(a, b));
    await same(
      "a segment sum of 70,000 rows",
      [floats([70_000, 2]), ints(70_000, 7)],
      ([data, ids]) => tf.unsortedSegmentSum(data, ids, 7),
      1e-4,
    );
    await same(
      "a scatter of 40,000 updates",
      [floats([40_000]), tf.reshape(ints(80_000, 3), [40_000, 2])],
      ([u, ij]) => tf.scatterNd(ij, u, [3, 3]),
      1e-4,
    );
    for (const f of [tf.nn.softmax, tf.nn.logSoftmax]) {
      await same(`${f.name} of 20,000 columns`, [floats([3, 20_000])], ([z]) => f(z), 1e-5);
    }
  },
});

Deno.test({
  name: "WebGPU: variables keep their device; saveAsync checkpoints them, restore refills them",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const w = tf.device(GPU, () => new tf.Variable([[1, 2], [3, 4]], { name: "w" }));
      const step = tf.device(GPU, () => new tf.Variable(7, { dtype: "int32", name: "step" }));
      const saver = new tf.Saver([w]);
      assertThrowsMatch(
        () => saver.save(`${dir}/ckpt`),
        /^Saver.save: variable w lives on \S+GPU:0, which is read asynchronously: use `await saver.saveAsync\(prefix\)`/,
      );
      const path = await saver.saveAsync(`${dir}/ckpt`, { globalStep: step });
      assertEquals(path, `${dir}/ckpt-7`);
      // A CPU value assigned to a GPU variable is copied to the GPU; JS values are made there.
      w.assign(tf.device(CPU, () => tf.zeros([2, 2])));
      assertEquals(w.device.endsWith("GPU:0"), true);
      w.assign([[5, 5], [5, 5]]);
      assertEquals([...await w.read().data()], [5, 5, 5, 5]);
      saver.restore(path);
      assertEquals(w.device.endsWith("GPU:0"), true);
      assertEquals([...await w.read().data()], [1, 2, 3, 4]);
      // The checkpoint is the CPU's: a CPU saver reads the same values back.
      const v = new tf.Variable(tf.zeros([2, 2]));
      new tf.Saver({ w: v }).restore(path);
      assertEquals(v.read().numpy(), [[1, 2], [3, 4]]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "WebGPU: the guide's GPU section runs (placement, a timed matmul, x.gpu(), x.cpu())",
  ignore,
  async fn() {
    // The guide: "with tf.device('/gpu:0'): ..." and timing a matmul on each device.
    assertEquals(tf.numGpus() >= 1, true);
    const onGpu = tf.device("/gpu:0", () => tf.randomNormal([10, 10]));
    assertEquals(onGpu.device.endsWith("GPU:0"), true);
    const x = tf.randomNormal([10, 10]);
    const xGpu0 = x.gpu();
    const xCpu = x.cpu();
    assertEquals(xCpu, x); // already there: no copy
    const timed = async (y: Tensor) => {
      const start = performance.now();
      const product = tf.matmul(y, y);
      await product.data(); // the device runs asynchronously: wait for the result
      return [product, performance.now() - start] as const;
    };
    const [cpuProduct] = await timed(xCpu);
    const [gpuProduct, gpuMs] = await timed(xGpu0);
    assertEquals([cpuProduct.device.endsWith("CPU:0"), gpuProduct.device.endsWith("GPU:0")], [
      true,
      true,
    ]);
    assertEquals(gpuMs >= 0, true);
    const back = await gpuProduct.cpuAsync();
    assertClose(back, cpuProduct, { rtol: 1e-5, atol: 1e-5 });
    // One adapter: GPU 1 does not exist.
    if (tf.numGpus() === 1) {
      assertThrowsMatch(() => x.gpu(1), /no GPU device 1: tf.numGpus\(\) is 1/);
    }
  },
});

Deno.test({
  name: "WebGPU: large products (copied along k first) match the CPU, batched and transposed",
  ignore,
  async fn() {
    const r = rng(77);
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
      const a = cpuTensor(r, "float32", ta ? [3, 1, 130, 70] : [3, 1, 70, 130]);
      const b = cpuTensor(r, "float32", tb ? [2, 150, 130] : [2, 130, 150]);
      const f = ([p, q]: Tensor[]) => tf.matmul(p, q, { transposeA: ta, transposeB: tb });
      await same(`matmul ta=${ta} tb=${tb}`, [a, b], f, 1e-4);
    }
  },
});

Deno.test({
  name: "WebGPU: cumsum, cumprod and cumulativeLogsumexp match the CPU, long lines in blocks",
  ignore,
  async fn() {
    const r = rng(91);
    // [shape, axis]: short lines, inner axes, and lines of several 4,096-element blocks
    const cases: [number[], number][] = [
      [[7], 0],
      [[3, 5, 4], 1],
      [[2, 6], -1],
      [[0, 3], 1],
      [[2, 9000], 1],
      [[10000, 2], 0],
    ];
    for (const [shape, axis] of cases) {
      for (
        const [exclusive, reverse] of [[false, false], [true, false], [false, true], [true, true]]
      ) {
        const options = { exclusive, reverse };
        const what = `${JSON.stringify(shape)} axis ${axis} ${JSON.stringify(options)}`;
        const small = cpuTensor(r, "float32", shape, true); // positive: products stay finite
        const scaled = tf.device(CPU, () => tf.add(tf.multiply(small, 0.02), 0.99));
        await same(`cumsum ${what}`, [small], ([x]) => tf.cumsum(x, axis, options), 1e-4);
        await same(`cumprod ${what}`, [scaled], ([x]) => tf.math.cumprod(x, axis, options), 1e-3);
        await same(
          `cumulativeLogsumexp ${what}`,
          [small],
          ([x]) => tf.math.cumulativeLogsumexp(x, axis, options),
          1e-4, // blocks of 4,096 here and 8,200 there: sums in another order
        );
        const ints = cpuTensor(r, "int32", shape);
        await same(`int32 cumsum ${what}`, [ints], ([x]) => tf.cumsum(x, axis, options));
      }
    }
    // the gradient of cumsum is a reversed cumsum: on the device too
    const x = cpuTensor(r, "float32", [4, 5]);
    await same("cumsum gradient", [x], ([t]) => {
      const [g] = tf.gradientsFunction((u: Tensor) => tf.reduceSum(tf.square(tf.cumsum(u, 1))))(t);
      return g;
    }, 1e-4);
    // uint8 wraps as on the CPU; int64 scans are not on the device yet
    const bytes = tf.constant([200, 100, 7], "uint8");
    await same("uint8 cumsum", [bytes], ([t]) => tf.cumsum(t));
    await same("uint8 cumprod", [bytes], ([t]) => tf.math.cumprod(t));
    assertThrowsMatch(
      () => tf.cumsum(tf.constant([1n, 2n], "int64").gpu()),
      /^cumsum: int64 cumsum is not implemented on \S+GPU:0/,
    );
  },
});

Deno.test({
  name: "WebGPU: searchsorted matches the CPU, NaN probes and ties included",
  ignore,
  async fn() {
    const r = rng(92);
    for (const dtype of ["float32", "int32", "int64", "uint8"] as const) {
      for (const [rows, n, m] of [[1, 9, 5], [3, 40, 17], [2, 0, 3], [4, 1, 6]]) {
        const seqValues = Array.from({ length: rows * n }, () => int(r, 0, 12));
        const sorted = tf.device(
          CPU,
          () =>
            tf.sort(
              tf.constant(seqValues, dtype === "int64" ? "int32" : dtype, { shape: [rows, n] }),
            ),
        );
        const probes = Array.from(
          { length: rows * m },
          () => int(r, dtype === "uint8" ? 0 : -1, 13),
        );
        let seq: Tensor = sorted,
          values: Tensor = tf.device(
            CPU,
            () => tf.constant(probes, dtype === "int64" ? "int32" : dtype, { shape: [rows, m] }),
          );
        if (dtype === "int64") [seq, values] = [tf.cast(seq, "int64"), tf.cast(values, "int64")];
        if (dtype === "float32" && rows * m > 0) {
          values = tf.device(
            CPU,
            () =>
              tf.constant(probes.map((v, i) => i % 7 === 0 ? NaN : v), "float32", {
                shape: [rows, m],
              }),
          );
        }
        for (const side of ["left", "right"] as const) {
          for (const outType of ["int32", "int64"] as const) {
            await same(
              `searchsorted ${dtype} [${rows}, ${n}] x ${m} ${side} ${outType}`,
              [seq, values],
              ([s, v]) => tf.searchsorted(s, v, { side, outType }),
            );
          }
        }
      }
    }
  },
});

Deno.test({
  name: "WebGPU: sort, argsort and topK match the CPU: ties, NaN, -0, infinities, every dtype",
  ignore,
  async fn() {
    const r = rng(93);
    const special = [NaN, -0, 0, Infinity, -Infinity, 2.5, -2.5];
    for (const dtype of ["float32", "int32", "int64", "uint8"] as const) {
      for (const shape of [[9], [3, 40], [2, 0], [4, 1], [2, 1000], [2, 3, 5]]) {
        const size = shape.reduce((a, b) => a * b, 1);
        // Few distinct values, so ties are many; floats also draw the special values.
        const values = Array.from(
          { length: size },
          () =>
            dtype === "float32" && r() < 0.3
              ? pick(r, special)
              : int(r, dtype === "uint8" ? 0 : -6, 6),
        );
        let x = tf.device(
          CPU,
          () => tf.constant(values, dtype === "int64" ? "float32" : dtype, { shape }),
        );
        if (dtype === "int64") x = tf.device(CPU, () => tf.cast(x, "int64"));
        const what = `${dtype} ${JSON.stringify(shape)}`;
        for (const direction of ["ASCENDING", "DESCENDING"] as const) {
          await same(`sort ${what} ${direction}`, [x], ([t]) => tf.sort(t, { direction }));
          await same(`argsort ${what} ${direction}`, [x], ([t]) => tf.argsort(t, { direction }));
          if (shape.length > 1) {
            await same(
              `sort ${what} ${direction} axis 0`,
              [x],
              ([t]) => tf.sort(t, { direction, axis: 0 }),
            );
          }
        }
        const n = shape[shape.length - 1];
        for (const k of new Set([0, Math.min(1, n), Math.min(3, n), n])) {
          await same(`topK ${what} k ${k} values`, [x], ([t]) => tf.math.topK(t, { k }).values);
          await same(`topK ${what} k ${k} indices`, [x], ([t]) => tf.math.topK(t, { k }).indices);
        }
      }
    }
    // -0 keeps its sign bit and NaN its place, as on the CPU (compared by bits).
    const signed = tf.device(CPU, () => tf.constant([0, -0, NaN, -1, -0, 0]));
    const bits = async (t: Tensor) => {
      const v = await t.data() as Float32Array;
      return [...new Uint32Array(v.buffer, v.byteOffset, v.length)];
    };
    assertEquals(await bits(tf.sort(signed.gpu())), await bits(tf.sort(signed)));
  },
});

Deno.test({
  name: "WebGPU: unsorted segment max, min and prod match the CPU, NaN and dropped ids included",
  ignore,
  async fn() {
    const r = rng(94);
    const ops = [
      ["max", tf.math.unsortedSegmentMax],
      ["min", tf.math.unsortedSegmentMin],
      ["prod", tf.math.unsortedSegmentProd],
    ] as const;
    for (const dtype of ["float32", "int32", "int64", "uint8"] as const) {
      for (const idType of ["int32", "int64"] as const) {
        // [rows, inner, segments]; 40,000 rows take two passes of the kernel.
        for (const [rows, inner, segments] of [[7, 3, 4], [0, 2, 3], [12, 1, 5], [40_000, 1, 3]]) {
          const values = Array.from(
            { length: rows * inner },
            () => dtype === "float32" && r() < 0.05 ? NaN : int(r, dtype === "uint8" ? 0 : -3, 3),
          );
          let data = tf.device(
            CPU,
            () =>
              tf.constant(values, dtype === "int64" ? "float32" : dtype, { shape: [rows, inner] }),
          );
          if (dtype === "int64") data = tf.device(CPU, () => tf.cast(data, "int64"));
          // Ids past either end are dropped; segment `segments - 1` is often empty.
          const ids = tf.device(CPU, () =>
            tf.cast(
              tf.constant(
                Array.from({ length: rows }, () => int(r, -1, segments)),
                "int32",
              ),
              idType,
            ));
          for (const [name, f] of ops) {
            if (name === "prod" && rows > 100) continue; // products of 40,000 rows overflow
            await same(
              `unsortedSegment ${name} ${dtype} ${idType} [${rows}, ${inner}] -> ${segments}`,
              [data, ids],
              ([d, i]) => f(d, i, segments),
            );
          }
        }
      }
    }
    // Empty segments as 0 (the sorted segment ops' convention; those read ids on the host, so
    // the kernel is called directly here): segments 1 and 3 are empty.
    const data = tf.device(CPU, () => tf.constant([[1, 2], [3, 4], [5, 6]]));
    const ids = tf.device(CPU, () => tf.constant([0, 2, 0], "int32"));
    const direct = async (d: Tensor, i: Tensor) => {
      const out = d.backend.allocateOutput("float32", 8, "test");
      d.backend.segmentReduce!("test", Reduce.MAX, d, i, [3, 2, 4], true, out);
      return [...await new Tensor(out, "float32", [4, 2]).data()];
    };
    assertEquals(await direct(data.gpu(), ids.gpu()), await direct(data, ids));
    assertEquals(await direct(data, ids), [5, 6, 0, 0, 3, 4, 0, 0]);
  },
});

Deno.test({
  name: "WebGPU: reads are asynchronous, devices do not mix, other ops name the device",
  ignore,
  async fn() {
    const x = tf.device(GPU, () => tf.constant([1, 2, 3]));
    assertEquals(x.device.endsWith("GPU:0"), true);
    assertEquals([...await tf.multiply(x, 2).data()], [2, 4, 6]);
    assertThrowsMatch(
      () => x.cpu(),
      /to\(\/cpu:0\): \S+GPU:0 is read asynchronously, .*`await t\.cpuAsync\(\)`/,
    );
    const back = await tf.multiply(x, 3).cpuAsync();
    assertEquals([back.device.endsWith("CPU:0"), back.numpy()], [true, [3, 6, 9]]);
    assertThrowsMatch(
      () => x.dataSync(),
      /dataSync: \S+GPU:0 is read asynchronously: use `await t.data\(\)`/,
    );
    assertThrowsMatch(
      () => tf.add(x, tf.device(CPU, () => tf.constant([1, 2, 3]))),
      /add: inputs are on two devices/,
    );
    // float64 has no WGSL type: an error naming the op and the dtype.
    assertThrowsMatch(
      () => tf.cast(x, "float64"),
      /^cast: float64 tensors cannot live on \S+GPU:0 \(WebGPU, .+\): WGSL has no 64-bit float/,
    );
    assertThrowsMatch(() => tf.constant([1.5], "float64").gpu(), /^copy: float64 tensors/);
    // bool, uint8 and int64 storage uploads and reads back.
    const flags = tf.constant([true, false, true]).gpu();
    assertEquals([...await flags.data()], [1, 0, 1]);
    const bytes = tf.constant([0, 255, 7], "uint8").gpu();
    assertEquals([...await bytes.data()], [0, 255, 7]);
    const wide = tf.constant([2n ** 40n, -3n], "int64").gpu();
    assertEquals([...await wide.data()], [2n ** 40n, -3n]);
  },
});

Deno.test({
  name: "WebGPU: disposing frees device storage, and a disposed tensor is an error",
  ignore,
  async fn() {
    const x = tf.device(GPU, () => tf.ones([1024]));
    const y = tf.add(x, 1);
    assertEquals((await y.data())[1023], 2);
    y.dispose();
    assertThrowsMatch(() => tf.add(y, 1), /disposed tensor was used/);
    tf.tidy(() => tf.exp(x));
    assertEquals((await x.data())[0], 1);
  },
});

if (ignore) {
  Deno.test({ name: "WebGPU: no adapter found (install mesa-vulkan-drivers)", ignore, fn() {} });
}
