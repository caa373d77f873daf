/**
 * Every op family of every non-CPU backend against the CPU backend, over random shapes
 * (broadcasting, empty, rank 0, strided views) and every dtype the family takes; and the
 * device rules: results stay on their inputs' device, inputs on two devices are an error
 * naming both, tf.device places new tensors, and tensors move only through cpu(), gpu()
 * and to(). A stand-in GPU (tests/backends/stand_in.ts) is registered here, so the test runs
 * without a GPU; the WebGPU device, when an adapter exists (Mesa's llvmpipe in CI, admitted
 * with EAGER_ALLOW_SOFTWARE_GPU=1), is registered before it and checked the same way, read
 * through `await t.data()`. Where a device cannot hold a dtype (WebGPU: float64), the case
 * must fail with an error naming the dtype.
 * @module
 */
import * as tf from "../mod.ts";
import type { DType, TypedArray } from "../src/dtype.ts";
import { arrayType } from "../src/dtype.ts";
import type { Tensor } from "../src/tensor.ts";
import { gpuBackends } from "../src/backend/registry.ts";
import { WebGpuBackend } from "../src/backend/webgpu/backend.ts";
import { useStandIn } from "./backends/stand_in.ts";
import { assertClose, assertEquals, assertThrowsMatch, rng } from "./helpers.ts";
import { useWebGpu } from "./backends/webgpu.ts";

const CPU = "/cpu:0";
await useWebGpu();
useStandIn();
/** The devices under test: every registered GPU (the stand-in at least). */
const DEVICES = gpuBackends().map((b) => b.device);

type Rng = () => number;
/** One random case: CPU inputs, and the op applied to inputs on any device. */
interface Case {
  inputs: Tensor[];
  run: (xs: Tensor[]) => Tensor | Tensor[];
  /** Relative tolerance for float results (a real GPU rounds differently). */
  rtol?: number;
}

const ALL: DType[] = ["float32", "float64", "int32", "int64", "uint8", "bool"];
const NUMERIC: DType[] = ["float32", "float64", "int32", "int64"];
const FLOATS: DType[] = ["float32", "float64"];

const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const int = (r: Rng, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

/** A random shape: rank 0..maxRank, dims 1..4, sometimes one dim 0 (an empty tensor). */
function shapeOf(r: Rng, maxRank = 4, empty = true): number[] {
  const shape = Array.from({ length: int(r, 0, maxRank) }, () => int(r, 1, 4));
  if (empty && shape.length > 0 && r() < 0.1) shape[int(r, 0, shape.length - 1)] = 0;
  return shape;
}

/** Random values of dtype (small integers, so that products stay exact). */
function tensorOf(r: Rng, dtype: DType, shape: readonly number[], positive = false): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new (arrayType(dtype))(n) as TypedArray;
  for (let i = 0; i < n; i++) {
    const v = dtype === "bool"
      ? Number(r() < 0.5)
      : dtype === "uint8"
      ? int(r, 0, 9)
      : FLOATS.includes(dtype)
      ? (positive ? 0.1 + r() * 3 : r() * 6 - 3)
      : int(r, positive ? 1 : -5, 5);
    (values as unknown as (number | bigint)[])[i] = dtype === "int64" ? BigInt(v) : v;
  }
  return tf.device(CPU, () => tf.constant(values, dtype, { shape: [...shape] }));
}

/** x, or a strided view of x's values under another layout (reversed, transposed back). */
function maybeStrided(r: Rng, x: Tensor): (t: Tensor) => Tensor {
  if (x.rank === 0 || r() < 0.5) return (t) => t;
  const axis = int(r, 0, x.rank - 1);
  return (t) => tf.reverse(tf.reverse(t, [axis]), [axis]); // a view with a negative stride
}

/** Broadcast partner of `shape`: some dims 1, some leading dims dropped. */
function broadcastPartner(r: Rng, shape: readonly number[]): number[] {
  const out = shape.map((d) => (r() < 0.3 ? 1 : d));
  return out.slice(int(r, 0, out.length));
}

const FAMILIES: Record<string, (r: Rng) => Case> = {
  unary(r) {
    const [name, dtypes, positive] = pick(
      r,
      [
        ["neg", NUMERIC, false],
        ["abs", NUMERIC, false],
        ["square", NUMERIC, false],
        ["exp", FLOATS, false],
        ["log", FLOATS, true],
        ["sqrt", FLOATS, true],
        ["tanh", FLOATS, false],
        ["sigmoid", FLOATS, false],
        ["floor", FLOATS, false],
        ["relu", NUMERIC, false],
        ["logicalNot", ["bool"], false],
      ] as const,
    );
    const x = tensorOf(r, pick(r, dtypes), shapeOf(r), positive);
    const view = maybeStrided(r, x);
    const op = opNamed<(t: Tensor) => Tensor>(name);
    return { inputs: [x], run: ([t]) => op(view(t)), rtol: 1e-6 };
  },
  binary(r) {
    const [name, dtypes] = pick(
      r,
      [
        ["add", ["float32", "float64", "int32", "int64", "uint8"]],
        ["subtract", NUMERIC],
        ["multiply", ["float32", "float64", "int32", "int64", "uint8"]],
        ["divide", FLOATS],
        ["maximum", NUMERIC],
        ["minimum", NUMERIC],
        ["equal", ALL],
        ["less", NUMERIC],
        ["greaterEqual", NUMERIC],
        ["logicalAnd", ["bool"]],
      ] as const,
    );
    const dtype = pick(r, dtypes as readonly DType[]);
    const shapes = [shapeOf(r), []];
    shapes[1] = broadcastPartner(r, shapes[0]);
    if (r() < 0.5) shapes.reverse();
    const x = tensorOf(r, dtype, shapes[0]), y = tensorOf(r, dtype, shapes[1]);
    const view = maybeStrided(r, x);
    const op = opNamed<(p: Tensor, q: Tensor) => Tensor>(name);
    return { inputs: [x, y], run: ([p, q]) => op(view(p), q) };
  },
  where(r) {
    const shape = shapeOf(r);
    const dtype = pick(r, ALL);
    const c = tensorOf(r, "bool", broadcastPartner(r, shape));
    const [x, y] = [tensorOf(r, dtype, shape), tensorOf(r, dtype, broadcastPartner(r, shape))];
    return { inputs: [c, x, y], run: ([p, q, s]) => tf.where(p, q, s) };
  },
  cast(r) {
    const x = tensorOf(r, pick(r, ALL), shapeOf(r));
    const view = maybeStrided(r, x), to = pick(r, ALL);
    return { inputs: [x], run: ([t]) => tf.cast(view(t), to) };
  },
  copies(r) {
    const dtype = pick(r, ALL);
    const shape = shapeOf(r, 3, false);
    if (shape.length === 0) shape.push(2);
    const x = tensorOf(r, dtype, shape), y = tensorOf(r, dtype, shape);
    const axis = int(r, 0, shape.length - 1);
    const which = int(r, 0, 3);
    const paddings = shape.map(() => [int(r, 0, 1), int(r, 0, 2)] as [number, number]);
    const multiples = shape.map(() => int(r, 1, 2));
    return {
      inputs: [x, y],
      run: ([p, q]) =>
        which === 0
          ? tf.concat([p, tf.reverse(q, [axis])], axis)
          : which === 1
          ? tf.pad(p, paddings)
          : which === 2
          ? tf.tile(p, multiples)
          : tf.reshape(tf.transpose(p), [-1]),
    };
  },
  reduce(r) {
    const dtype = pick(r, NUMERIC);
    const x = tensorOf(r, dtype, shapeOf(r, 4, true));
    const axes = [...Array(x.rank).keys()].filter(() => r() < 0.5);
    const keepDims = r() < 0.5;
    const name = pick(r, ["reduceSum", "reduceMax", "reduceMin", "reduceMean", "reduceProd"]);
    const nonEmpty = x.size > 0 || name === "reduceSum" || name === "reduceProd";
    const op = (tf as unknown as Record<
      string,
      (t: Tensor, a: number[], o: { keepDims: boolean }) => Tensor
    >)[nonEmpty ? name : "reduceSum"];
    const view = maybeStrided(r, x);
    return { inputs: [x], run: ([t]) => op(view(t), axes, { keepDims }), rtol: 1e-5 };
  },
  matmul(r) {
    const dtype = pick(r, ["float32", "float64", "int32"] as DType[]);
    const [m, n, k] = [int(r, 0, 5), int(r, 1, 5), int(r, 1, 5)];
    const batch = Array.from({ length: int(r, 0, 2) }, () => int(r, 1, 3));
    const [ta, tb] = [r() < 0.5, r() < 0.5];
    const a = tensorOf(r, dtype, [...batch, ...(ta ? [k, m] : [m, k])]);
    const b = tensorOf(r, dtype, [...broadcastPartner(r, batch), ...(tb ? [n, k] : [k, n])]);
    return {
      inputs: [a, b],
      run: ([p, q]) => tf.matmul(p, q, { transposeA: ta, transposeB: tb }),
      rtol: 1e-5,
    };
  },
  conv(r) {
    const dtype = pick(r, FLOATS);
    const [kh, kw, cin, cout] = [int(r, 1, 3), int(r, 1, 3), int(r, 1, 3), int(r, 1, 3)];
    const x = tensorOf(r, dtype, [int(r, 1, 2), int(r, 3, 6), int(r, 3, 6), cin]);
    const f = tensorOf(r, dtype, [kh, kw, cin, cout]);
    const stride = int(r, 1, 2), padding = pick(r, ["SAME", "VALID"] as const);
    const conv = (p: Tensor, q: Tensor) => tf.nn.conv2d(p, q, stride, padding);
    return {
      inputs: [x, f],
      run: ([p, q]) => {
        const [y, grads] = gradientsOf(() => conv(p, q), [p, q]);
        return [y, ...grads];
      },
      rtol: 1e-4,
    };
  },
  pool(r) {
    const dtype = pick(r, FLOATS);
    const x = tensorOf(r, dtype, [int(r, 1, 2), int(r, 3, 6), int(r, 3, 6), int(r, 1, 3)]);
    const k = int(r, 1, 3), stride = int(r, 1, 2), padding = pick(r, ["SAME", "VALID"] as const);
    const pool = pick(r, [tf.nn.maxPool, tf.nn.avgPool]);
    return {
      inputs: [x],
      run: ([p]) => {
        const [y, grads] = gradientsOf(() => pool(p, k, stride, padding), [p]);
        return [y, ...grads];
      },
      rtol: 1e-5,
    };
  },
  softmax(r) {
    const dtype = pick(r, FLOATS);
    const [rows, cols] = [int(r, 1, 4), int(r, 1, 5)];
    const logits = tensorOf(r, dtype, [rows, cols]);
    const labels = Int32Array.from({ length: rows }, () => int(r, 0, cols - 1));
    const ids = tf.device(CPU, () => tf.constant(labels));
    return {
      inputs: [logits, ids],
      run: ([z, l]) => [
        tf.nn.softmax(z),
        tf.nn.logSoftmax(z),
        tf.nn.sparseSoftmaxCrossEntropyWithLogits({ labels: l, logits: z }),
        ...gradientsOf(() => tf.nn.sparseSoftmaxCrossEntropyWithLogits({ labels: l, logits: z }), [
          z,
        ])[1],
        tf.nn.softmaxCrossEntropyWithLogits({ labels: tf.nn.softmax(tf.neg(z)), logits: z }),
      ],
      rtol: 1e-5,
    };
  },
  batchNorm(r) {
    const dtype = pick(r, FLOATS);
    const shape = [int(r, 1, 3), int(r, 1, 4), int(r, 1, 3)];
    const axis = int(r, 0, 2), c = shape[axis];
    const x = tensorOf(r, dtype, shape), scale = tensorOf(r, dtype, [c]);
    const training = pick(r, [true, false]);
    const variance = tf.device(CPU, () => tf.abs(tensorOf(r, dtype, [c])).add(0.5));
    return {
      inputs: [x, scale, tensorOf(r, dtype, [c]), variance],
      run: ([p, g, m, v]) => {
        const options = { axis, isTraining: training, mean: m, variance: v };
        const [y, grads] = gradientsOf(() => tf.nn.fusedBatchNorm(p, g, null, options)[0], [p, g]);
        return [y, ...grads];
      },
      rtol: 1e-4,
    };
  },
  lstm(r) {
    const dtype = pick(r, FLOATS);
    const [rows, units] = [int(r, 1, 4), int(r, 1, 5)];
    const z = tensorOf(r, dtype, [rows, 4 * units]), c = tensorOf(r, dtype, [rows, units]);
    const forgetBias = pick(r, [0, 1]);
    return {
      inputs: [z, c],
      run: ([p, q]) => {
        const [outs, grads] = gradientsOf(() => {
          const [h, c2] = tf.nn.lstmStep(p, q, forgetBias);
          return tf.concat([h, c2.mul(0.5)], 1);
        }, [p, q]);
        return [outs, ...grads];
      },
      rtol: 1e-5,
    };
  },
  indexing(r) {
    const dtype = pick(r, ["float32", "float64", "int32", "int64"] as DType[]);
    const rows = int(r, 1, 5), cols = int(r, 1, 3);
    const p = tensorOf(r, dtype, [rows, cols]);
    const picks = int(r, 0, 6);
    const idx = tf.device(
      CPU,
      () => tf.constant(Int32Array.from({ length: picks }, () => int(r, 0, rows - 1))),
    );
    const pairs = tf.device(CPU, () =>
      tf.constant(
        Int32Array.from({ length: picks * 2 }, (_, i) => int(r, 0, (i % 2 ? cols : rows) - 1)),
        "int32",
        { shape: [picks, 2] },
      ));
    return {
      inputs: [p, idx, pairs],
      run: ([t, i, ij]) => [
        tf.gather(t, i),
        tf.gatherNd(t, ij),
        tf.scatterNd(ij, tf.gatherNd(t, ij), [rows, cols]),
        tf.unsortedSegmentSum(tf.gather(t, i), i, rows),
        tf.oneHot(i, rows),
      ],
    };
  },
  random(r) {
    const seed = int(r, 0, 1000), shape = shapeOf(r, 3);
    const dtype = pick(r, FLOATS);
    return {
      inputs: [],
      run: () => [
        (tf.random.setSeed(seed), tf.randomUniform(shape, { seed, dtype })),
        tf.randomNormal(shape, { seed, dtype }),
        tf.truncatedNormal(shape, { seed, dtype }),
      ],
      rtol: 1e-6, // a GPU's log and cos round differently (the uniform bits are the same)
    };
  },
  updates(r) {
    const x = tensorOf(r, "float32", [int(r, 1, 5), int(r, 1, 4)]);
    const make = pick(r, [
      () => new tf.train.GradientDescentOptimizer(0.1),
      () => new tf.train.MomentumOptimizer(0.1, 0.9),
      () => new tf.train.AdamOptimizer(0.01),
    ]);
    return {
      inputs: [x],
      run: ([t]) => {
        const v = new tf.Variable(t), optimizer = make();
        for (let step = 0; step < 3; step++) {
          optimizer.minimize(() => tf.reduceSum(tf.square(tf.multiply(v, v))));
        }
        return v.read();
      },
      rtol: 1e-5,
    };
  },
};

/** f's value and the gradients of its sum with respect to xs. */
function gradientsOf(f: () => Tensor, xs: Tensor[]): [Tensor, Tensor[]] {
  const tape = new tf.GradientTape();
  for (const x of xs) tape.watch(x);
  let y: Tensor | undefined;
  const total = tape.record(() => tf.reduceSum(y = f()));
  return [y!, tape.gradient(total, xs) as Tensor[]];
}

/** The op of that name in tf or tf.nn. */
function opNamed<F>(name: string): F {
  const from = (ns: unknown) => (ns as Record<string, F | undefined>)[name];
  const op = from(tf) ?? from(tf.nn);
  if (!op) throw new Error(`no op ${name}`);
  return op;
}

/** got (any backend) against the CPU's want: dtype, shape, values within rtol. */
async function compare(got: Tensor, want: Tensor, rtol: number, what: string): Promise<void> {
  assertEquals(got.dtype, want.dtype, `${what}: dtype`);
  const values = await got.data(); // the only read every device has
  const read = tf.device(CPU, () => tf.constant(values, got.dtype, { shape: [...got.shape] }));
  assertClose(read, want, { rtol, atol: rtol, message: what });
}

/** The dtypes a device cannot hold: WebGPU has no float64. */
function missingDtypes(device: string): DType[] {
  return tf.device(device, () => tf.zeros([]).backend) instanceof WebGpuBackend ? ["float64"] : [];
}

const CASES_PER_FAMILY = 100;

for (const [family, make] of Object.entries(FAMILIES)) {
  Deno.test(`every backend computes ${family} as the CPU does (random shapes and dtypes)`, async () => {
    for (const device of DEVICES) {
      const missing = missingDtypes(device);
      for (let seed = 1; seed <= CASES_PER_FAMILY; seed++) {
        const c = make(rng(seed * 7919 + family.length));
        const what = `${family} #${seed} on ${device}`;
        const want = [tf.device(CPU, () => c.run(c.inputs))].flat();
        // Ops with tensor inputs run on their device whatever the scope; ops without any
        // (random fills, the optimizer's variables) follow tf.device.
        const scope = c.inputs.length === 0 || family === "updates" ? device : CPU;
        const run = () => tf.device(scope, () => c.run(c.inputs.map((x) => x.to(device))));
        const lacking = [...c.inputs, ...want].find((t) => missing.includes(t.dtype));
        if (lacking) {
          assertThrowsMatch(() => [run()].flat(), new RegExp(lacking.dtype));
          continue;
        }
        const got = [run()].flat();
        assertEquals(got.length, want.length, what);
        for (const [i, g] of got.entries()) {
          assertEquals(g.device, tf.device(device, () => tf.zeros([]).device), `${what}: device`);
          await compare(g, want[i], c.rtol ?? 0, `${what}, output ${i}`);
        }
      }
    }
  });
}

Deno.test("inputs on two devices are an error naming both; nothing moves implicitly", () => {
  const device = DEVICES[0];
  const x = tf.device(CPU, () => tf.constant([1, 2, 3])), y = x.to(device);
  const both = /add: inputs are on two devices, \S+CPU:0 and \S+GPU:\d+; move one/;
  assertThrowsMatch(() => tf.add(x, y), both);
  assertThrowsMatch(
    () => tf.matmul(tf.reshape(x, [1, 3]), tf.reshape(y, [3, 1])),
    /matmul: inputs/,
  );
  assertThrowsMatch(() => tf.concat([x, y]), /concat: inputs are on two devices/);
  assertThrowsMatch(() => tf.gather(y, x.cast("int32")), /gather: inputs are on two devices/);
  // JS values join the device of the tensor they meet.
  assertEquals(tf.add(y, 1).device, y.device);
  assertEquals(tf.where([true, false, true], y, 0).device, y.device);
});

Deno.test("tf.device places new tensors; cpu(), gpu() and to() move them", () => {
  // A device read synchronously (a stand-in), so that cpu() works: the default one when the
  // suites run on the stand-in.
  const device = DEVICES.find((d) => tf.device(d, () => tf.zeros([]).backend.readsSynchronously))!;
  const index = Number(device.split(":").at(-1));
  assertEquals(tf.numGpus(), DEVICES.length);
  const x = tf.device(`/gpu:${index}`, () => tf.ones([2, 2]));
  assertEquals(x.device, device);
  assertEquals(tf.device(`/gpu:${index}`, () => tf.constant([1, 2])).device, device);
  assertEquals(tf.device(`/gpu:${index}`, () => tf.range(3)).device, device);
  assertEquals(tf.device(`/gpu:${index}`, () => tf.eye(2)).device, device);
  assertEquals(tf.zeros([1]).device.endsWith("CPU:0") || tf.zeros([1]).device === device, true);
  const back = x.cpu();
  assertEquals(back.device.endsWith("CPU:0"), true);
  assertEquals(back.numpy(), [[1, 1], [1, 1]]);
  assertEquals(x.gpu(index), x); // already there: no copy
  assertEquals(back.to(device).device, device);
  assertThrowsMatch(() => x.gpu(DEVICES.length), /no GPU device \d+: tf.numGpus\(\) is \d+/);
  // Gradients of ops on a device are on that device.
  const v = new tf.Variable(x);
  const [grad] = tf.gradientsFunction((t: Tensor) => tf.reduceSum(tf.multiply(t, t)))(v.read());
  assertEquals(grad.device, device);
});

Deno.test("a device read only asynchronously: dataSync names await t.data(), data() works", async () => {
  const remove = useStandIn({ asyncOnly: true });
  try {
    const index = tf.numGpus() - 1;
    const x = tf.device(`/gpu:${index}`, () => tf.constant([1, 2, 3]));
    const y = tf.multiply(x, 2);
    assertThrowsMatch(
      () => y.dataSync(),
      /dataSync: \S+GPU:\d+ is read asynchronously: use `await t.data\(\)`/,
    );
    assertEquals([...await y.data()], [2, 4, 6]);
    assertEquals([...await tf.constant([5]).data()], [5]); // the CPU too
  } finally {
    remove();
  }
});
