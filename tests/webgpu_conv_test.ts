/**
 * The WebGPU device's convolution and pooling kernels (src/backend/webgpu/conv.ts, pool.ts)
 * against the CPU's: every pass over random shapes (strides, dilations, SAME / VALID /
 * explicit padding, empty batches, operands with an offset, ties in max pooling), the tape's
 * gradients through them, the MNIST model's shapes once, and the float64 error. Runs on Mesa's
 * llvmpipe with EAGER_ALLOW_SOFTWARE_GPU=1, as tests/webgpu_test.ts; without an adapter the
 * tests are reported as ignored.
 * @module
 */
import * as tf from "../mod.ts";
import type { Tensor } from "../src/tensor.ts";
import type { WebGpuBackend } from "../src/backend/webgpu/backend.ts";
import { assertClose, assertEquals, assertThrowsMatch, rng } from "./helpers.ts";
import { useWebGpu } from "./backends/webgpu.ts";

const ignore = (await useWebGpu()) === 0;
const CPU = "/cpu:0";

type Rng = () => number;
type Shape = readonly number[];
const int = (r: Rng, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const sizeOf = (shape: Shape) => shape.reduce((a, b) => a * b, 1);

/**
 * A float32 CPU tensor of `shape` with values in [-1, 1) (`ties`: small integers, so that
 * windows hold equal maxima). With `offset`, it is a contiguous view one image into a larger
 * tensor, so the kernels see a non-zero offset.
 */
function cpuTensor(r: Rng, shape: Shape, { ties = false, offset = false } = {}): Tensor {
  const outer = offset ? [shape[0] + 1, ...shape.slice(1)] : [...shape];
  const values = Float32Array.from(
    { length: sizeOf(outer) },
    () => ties ? int(r, 0, 2) : 2 * r() - 1,
  );
  return tf.device(CPU, () => {
    const t = tf.constant(values, "float32", { shape: outer });
    return offset ? tf.slice(t, [1, 0, 0, 0], [...shape]) : t;
  });
}

/** The GPU's values of `got` as a CPU tensor, checked against the CPU's `want`. */
async function assertSame(what: string, got: Tensor, want: Tensor, rtol = 1e-4, atol = 1e-4) {
  assertEquals(got.device.endsWith("GPU:0"), true, `${what}: device`);
  assertEquals([...got.shape], [...want.shape], `${what}: shape`);
  const values = await got.data();
  const read = tf.device(CPU, () => tf.constant(values, "float32", { shape: [...got.shape] }));
  assertClose(read, want, { rtol, atol, message: what });
}

/** f over the CPU inputs and over their GPU copies, each result compared (`atol` for sums of
 * many products, whose order differs from the CPU's). */
async function same(
  what: string,
  inputs: Tensor[],
  f: (xs: Tensor[]) => Tensor | Tensor[],
  atol = 1e-4,
) {
  const want = [f(inputs)].flat();
  const got = [f(inputs.map((x) => x.gpu()))].flat();
  for (let k = 0; k < want.length; k++) {
    await assertSame(`${what} [${k}]`, got[k], want[k], 1e-4, atol);
  }
}

/** sum(w * op(xs)) for fixed weights w (a CPU tensor, moved to op's device). */
function weighted(op: (xs: Tensor[]) => Tensor, w: Tensor) {
  return (...xs: Tensor[]) => {
    const y = op(xs);
    return tf.reduceSum(tf.multiply(y, y.device === w.device ? w : w.gpu()));
  };
}

// ---- convolution -------------------------------------------------------------------

interface ConvCase {
  xs: Shape;
  fs: Shape;
  strides: number;
  dilations: number;
  padding: tf.Padding;
}

/** A random conv: kernels 1-3 or 5, strides or dilations 1-2 (not both > 1), SAME, VALID or
 * explicit pads, inputs large enough for the padding; a batch of 0 one time in ten, and one
 * time in five wide channels (a thread's 32-channel block then overhangs or splits them). */
function convCase(r: Rng): ConvCase {
  const [k1, k2] = [pick(r, [1, 2, 3, 5]), pick(r, [1, 2, 3, 5])];
  const strides = int(r, 1, 2);
  const dilations = strides === 1 ? int(r, 1, 2) : 1; // both > 1 is not supported
  const [eh, ew] = [(k1 - 1) * dilations + 1, (k2 - 1) * dilations + 1];
  const kind = pick(r, ["SAME", "VALID", "explicit"] as const);
  const [pt, pb, pl, pr] = [int(r, 0, 2), int(r, 0, 2), int(r, 0, 2), int(r, 0, 2)];
  const padding: tf.Padding = kind === "explicit" ? [[0, 0], [pt, pb], [pl, pr], [0, 0]] : kind;
  const room = (e: number, pads: number) => kind === "SAME" ? 1 : Math.max(1, e - pads);
  const h = Math.max(int(r, 1, 7), room(eh, kind === "explicit" ? pt + pb : 0));
  const w = Math.max(int(r, 1, 7), room(ew, kind === "explicit" ? pl + pr : 0));
  const n = r() < 0.1 ? 0 : int(r, 1, 2);
  const channels = () => r() < 0.2 ? pick(r, [8, 12, 36]) : int(r, 1, 4);
  const [c, oc] = [channels(), channels()];
  return { xs: [n, h, w, c], fs: [k1, k2, c, oc], strides, dilations, padding };
}

Deno.test({
  name: "WebGPU: conv2d and both of its gradients match the CPU over random shapes",
  ignore,
  async fn() {
    for (let seed = 1; seed <= 50; seed++) {
      const r = rng(500 + seed);
      const { xs, fs, strides, dilations, padding } = convCase(r);
      const what = `#${seed} x ${xs} f ${fs} s ${strides} d ${dilations} ${
        JSON.stringify(padding)
      }`;
      const opts = { dilations };
      const conv = ([x, f]: Tensor[]) => tf.nn.conv2d(x, f, strides, padding, opts);
      const offset = r() < 0.5;
      const x = cpuTensor(r, xs, { offset }), f = cpuTensor(r, fs);
      const y = conv([x, f]);
      const dy = cpuTensor(r, y.shape, { offset: !offset && y.shape[0] > 0 });
      await same(`conv2d ${what}`, [x, f], conv);
      await same(
        `conv2dBackpropInput ${what}`,
        [f, dy],
        ([a, b]) => tf.nn.conv2dBackpropInput(xs, a, b, strides, padding, opts),
      );
      await same(
        `conv2dBackpropFilter ${what}`,
        [x, dy],
        ([a, b]) => tf.nn.conv2dBackpropFilter(a, fs, b, strides, padding, opts),
      );
      await same(
        `tape ${what}`,
        [x, f],
        (inputs) => tf.gradientsFunction(weighted(conv, dy))(...inputs),
      );
    }
  },
});

// ---- pooling -----------------------------------------------------------------------

interface PoolCase {
  xs: Shape;
  ksize: number[];
  strides: number[];
  padding: tf.Padding;
}

function poolCase(r: Rng): PoolCase {
  const ksize = [pick(r, [1, 2, 3, 5]), pick(r, [1, 2, 3])];
  const strides = [int(r, 1, 2), int(r, 1, 3)];
  const kind = pick(r, ["SAME", "VALID", "explicit"] as const);
  // Explicit pads must be smaller than the window.
  const pads = ksize.map((k) => [int(r, 0, k - 1), int(r, 0, k - 1)]);
  const padding: tf.Padding = kind === "explicit" ? [[0, 0], pads[0], pads[1], [0, 0]] : kind;
  const size = (k: number, [a, b]: number[]) =>
    Math.max(int(r, 1, 7), kind === "VALID" ? k : kind === "explicit" ? k - a - b : 1);
  const n = r() < 0.1 ? 0 : int(r, 1, 2);
  const [h, w] = [size(ksize[0], pads[0]), size(ksize[1], pads[1])];
  return { xs: [n, h, w, int(r, 1, 4)], ksize, strides, padding };
}

Deno.test({
  name: "WebGPU: max and average pooling and their gradients match the CPU, ties included",
  ignore,
  async fn() {
    for (let seed = 1; seed <= 50; seed++) {
      const r = rng(700 + seed);
      const { xs, ksize, strides, padding } = poolCase(r);
      const what = `#${seed} x ${xs} k ${ksize} s ${strides} ${JSON.stringify(padding)}`;
      const x = cpuTensor(r, xs, { ties: r() < 0.5, offset: r() < 0.3 });
      const maxPool = ([t]: Tensor[]) => tf.nn.maxPool(t, ksize, strides, padding);
      const avgPool = ([t]: Tensor[]) => tf.nn.avgPool(t, ksize, strides, padding);
      const y = maxPool([x]);
      const dy = cpuTensor(r, y.shape), ddx = cpuTensor(r, xs);
      await same(`maxPool ${what}`, [x], maxPool);
      await same(`avgPool ${what}`, [x], avgPool);
      await same(
        `maxPoolGrad ${what}`,
        [x, y, dy],
        ([a, b, c]) => tf.nn.maxPoolGrad(a, b, c, ksize, strides, padding),
      );
      await same(
        `avgPoolGrad ${what}`,
        [dy],
        ([a]) => tf.nn.avgPoolGrad(xs, a, ksize, strides, padding),
      );
      // The gradient of maxPoolGrad w.r.t. dy is the second-order kernel (MaxPoolGradGrad).
      await same(`maxPoolGradGrad ${what}`, [x, y, dy], ([a, b, c]) => {
        const grad = ([t]: Tensor[]) => tf.nn.maxPoolGrad(a, b, t, ksize, strides, padding);
        return tf.gradientsFunction(weighted(grad, ddx))(c);
      });
      await same(`tape ${what}`, [x], ([t]) => [
        ...tf.gradientsFunction(weighted(maxPool, dy))(t),
        ...tf.gradientsFunction(weighted(avgPool, dy))(t),
      ]);
    }
  },
});

// ---- the MNIST model's shapes, and errors ------------------------------------------

Deno.test({
  name: "WebGPU: the MNIST model's convolutions and pooling match the CPU",
  ignore,
  async fn() {
    const r = rng(900);
    for (
      const [xs, fs] of [[[100, 28, 28, 1], [5, 5, 1, 32]], [[100, 14, 14, 32], [5, 5, 32, 64]]]
    ) {
      const x = cpuTensor(r, xs),
        f = cpuTensor(r, fs),
        dy = cpuTensor(r, [...xs.slice(0, 3), fs[3]]);
      const what = `x ${xs} f ${fs}`;
      // Sums of up to 1,600 products (forward, inputGrad) and of 78,400 and 19,600 (filterGrad).
      await same(`conv2d ${what}`, [x, f], ([a, b]) => tf.nn.conv2d(a, b, 1, "SAME"), 1e-3);
      await same(
        `conv2dBackpropInput ${what}`,
        [f, dy],
        ([a, b]) => tf.nn.conv2dBackpropInput(xs, a, b, 1, "SAME"),
        1e-3,
      );
      await same(
        `conv2dBackpropFilter ${what}`,
        [x, dy],
        ([a, b]) => tf.nn.conv2dBackpropFilter(a, fs, b, 1, "SAME"),
        1e-2,
      );
    }
    const x = cpuTensor(r, [100, 28, 28, 32]);
    const y = tf.nn.maxPool(x, 2, 2, "SAME"), dy = cpuTensor(r, y.shape);
    await same("maxPool", [x], ([t]) => tf.nn.maxPool(t, 2, 2, "SAME"));
    await same("maxPoolGrad", [x, y, dy], ([a, b, c]) => tf.nn.maxPoolGrad(a, b, c, 2, 2, "SAME"));
  },
});

// ---- image resampling ----------------------------------------------------------------

Deno.test({
  name: "WebGPU: tf.image.resize and its gradient match the CPU for every resampling method",
  ignore,
  async fn() {
    const r = rng(23);
    const methods = ["bilinear", "bicubic", "area", "lanczos3", "lanczos5", "gaussian"] as const;
    for (let trial = 0; trial < 12; trial++) {
      const method = methods[trial % methods.length];
      const xs = [int(r, 0, 2), int(r, 1, 9), int(r, 1, 9), int(r, 1, 4)];
      const size = [int(r, 1, 12), int(r, 1, 12)];
      const antialias = r() < 0.5;
      const x = cpuTensor(r, xs, { offset: xs[0] > 0 && r() < 0.5 });
      const resize = ([t]: Tensor[]) => tf.image.resize(t, size, { method, antialias });
      const what = `${method} ${JSON.stringify(xs)} -> ${size}${antialias ? " antialias" : ""}`;
      await same(what, [x], resize);
      const dy = cpuTensor(r, resize([x]).shape);
      await same(
        `gradient ${what}`,
        [x],
        (inputs) => tf.gradientsFunction(weighted(resize, dy))(...inputs),
      );
    }
    // an antialiased shrink reading more pixels an output than llvmpipe's loops allow
    const huge = tf.zeros([1, 400, 400, 1]).gpu();
    assertThrowsMatch(
      () => tf.image.resize(huge, [1, 1], { antialias: true, method: "lanczos5" }),
      /^resize: a resampling reading \d+ pixels an output \(at most 32768\) is not implemented/,
    );
  },
});

Deno.test({
  name: "WebGPU: convolution and pooling name the op and the dtype for float64",
  ignore,
  fn() {
    const x = tf.device("/gpu:0", () => tf.zeros([1, 2, 2, 1]));
    const gpu = x.backend as unknown as WebGpuBackend;
    const out = gpu.allocate("float32", 4, "test");
    const conv = {
      out: [1, 2, 2, 1],
      params: { ...PADS, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1 },
    };
    assertThrowsMatch(
      () => gpu.conv("conv2d", "forward", "float64", [x.shape, [1, 1, 1, 1], conv], out, x, x),
      /^conv2d: conv2d in float64 is not implemented on \S+GPU:0 \(WebGPU, .+\) yet/,
    );
    const pool = {
      out: [1, 1, 1, 1],
      params: { ...PADS, windowH: 2, windowW: 2, strideH: 2, strideW: 2 },
    };
    assertThrowsMatch(
      () => gpu.pool("maxPool", true, "float64", [x.shape, pool], out, x),
      /^maxPool: max pooling in float64 is not implemented/,
    );
    assertThrowsMatch(
      () => gpu.avgPoolGrad("avgPoolGrad", "float64", [x.shape, pool], out, x),
      /^avgPoolGrad: average pooling's gradient in float64 is not implemented/,
    );
    // Through the ops, a float64 tensor does not reach the device at all.
    assertThrowsMatch(
      () =>
        tf.nn.conv2d(
          tf.zeros([1, 2, 2, 1], "float64").gpu(),
          tf.zeros([1, 1, 1, 1], "float64").gpu(),
          1,
          "SAME",
        ),
      /float64/,
    );
    gpu.free(out);
  },
});

const PADS = { padTop: 0, padBottom: 0, padLeft: 0, padRight: 0 };

if (ignore) {
  Deno.test({ name: "WebGPU: no adapter found (install mesa-vulkan-drivers)", ignore, fn() {} });
}
