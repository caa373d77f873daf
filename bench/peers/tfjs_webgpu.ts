/**
 * TensorFlow.js's webgpu backend as the peer of deno-eager's WebGPU device (issue 18), run
 * under Deno as its own process by bench/webgpu.ts: `deno run -A --lock=bench/deno.lock
 * bench/peers/tfjs_webgpu.ts`. Answers each case of bench/cases/webgpu.ts (protocol and
 * timing rule: ../harness.ts); its ready line says which adapter it got, how long the
 * backend took to start and its first add and read (GpuHello).
 *
 * Every timed call ends with `await t.data()` and disposes what it made, as tfjs users must.
 * Inputs are uploaded before they are timed. NOTE: tfjs-webgpu computes an op in JS on the
 * CPU when all its inputs are still CPU-side and smaller than 1000 elements
 * (WEBGPU_CPU_FORWARD, on by default): a fresh 1-element add then takes 0.0 ms and times no
 * GPU at all. Inputs on the GPU, as the results of earlier GPU ops are, keep every op on it,
 * with tfjs's flags left at their defaults.
 * @module
 */
// NOTE: full npm: specifiers, not deno.json's import map: TensorFlow.js is bench-only and its
// lock entries live in bench/deno.lock (bench/lock.ts says why). The union package, as
// tfjs-backend-webgpu's README imports it, not tfjs-core alone: only the union's bundle
// registers the gradients (tfjs-core's register_all_gradients is ESM with extensionless
// imports, which Deno cannot load) and the chained ops. Its tfjs-core is 4.22.0 too.
// deno-lint-ignore no-import-prefix
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
// deno-lint-ignore no-import-prefix
import "npm:@tensorflow/tfjs-backend-webgpu@4.22.0";
import {
  type AsyncTimed,
  type CaseSpec,
  type Column,
  measureAsync,
  type Result,
  serve,
} from "../harness.ts";
import { adapterName, GPU_RULE, type GpuHello, inARow } from "../cases/webgpu.ts";

/** The version of the import above (the package exports none). */
const WEBGPU_VERSION = "4.22.0";
const column: Column = "tfjs-webgpu";

type Params = Record<string, unknown>;
type Shape = number[];

/** What the current case created and must dispose when it is done (inputs, weights). */
let created: { dispose(): void }[] = [];
const keep = <T extends { dispose(): void }>(t: T): T => (created.push(t), t);

/** Moves a tensor's values to a GPU buffer now, so that no timed op computes it in JS. */
function onGpu<T extends tf.Tensor>(t: T): T {
  (tf.backend() as unknown as { uploadToGPU(id: object): void }).uploadToGPU(t.dataId);
  return t;
}

const uniform = (shape: Shape) => onGpu(keep(tf.randomUniform(shape, 0, 1, "float32")));

/** A call that runs `fn`, reads its result back and disposes it. */
const read = (fn: () => tf.Tensor): AsyncTimed => ({
  fn: async () => {
    const t = fn();
    await t.data();
    t.dispose();
  },
});

/** A weight of the MNIST model: Glorot-uniform as Keras initializes it, or zeros. */
function weight(shape: Shape, fans?: [number, number]): tf.Variable {
  const limit = fans ? Math.sqrt(6 / (fans[0] + fans[1])) : 0;
  return keep(tf.tidy(() => tf.variable(tf.randomUniform(shape, -limit, limit))));
}

/**
 * One step of examples/mnist.ts's model written with tfjs's ops (no layers): conv 5x5x32,
 * pool, conv 5x5x64, pool, dense 1024, dropout 0.5, dense 10; softmax cross-entropy over
 * one-hot labels (tfjs has no sparse form), Adam; the loss read back.
 */
function mnistStep(p: Params): AsyncTimed {
  const batch = p.batch as number;
  const w1 = weight([5, 5, 1, 32], [25, 800]), b1 = weight([32]);
  const w2 = weight([5, 5, 32, 64], [800, 1600]), b2 = weight([64]);
  const w3 = weight([3136, 1024], [3136, 1024]), b3 = weight([1024]);
  const w4 = weight([1024, 10], [1024, 10]), b4 = weight([10]);
  const optimizer = keep(tf.train.adam(p.learningRate as number));
  const images = uniform([batch, 784]);
  const labels = onGpu(keep(tf.tidy(() => {
    return tf.cast(tf.oneHot(tf.randomUniform([batch], 0, 10, "int32"), 10), "float32");
  })));
  const block = (x: tf.Tensor4D, w: tf.Variable, b: tf.Variable): tf.Tensor4D => {
    const y = tf.relu(tf.add(tf.conv2d(x, w as tf.Tensor4D, 1, "same"), b)) as tf.Tensor4D;
    return tf.maxPool(y, 2, 2, "same");
  };
  const logits = () => {
    let x = block(tf.reshape(images, [batch, 28, 28, 1]), w1, b1);
    x = block(x, w2, b2);
    const h = tf.dropout(tf.relu(tf.add(tf.matMul(tf.reshape(x, [batch, 3136]), w3), b3)), 0.5);
    return tf.add(tf.matMul(h, w4), b4);
  };
  return {
    fn: async () => {
      const loss = optimizer.minimize(
        () => tf.losses.softmaxCrossEntropy(labels, logits()) as tf.Scalar,
        true,
      )!;
      await loss.data();
      loss.dispose();
    },
  };
}

const KINDS: Record<string, (p: Params) => AsyncTimed> = {
  add_chain: (p) => {
    const a = uniform([p.size as number]), b = uniform([p.size as number]);
    const length = p.length as number;
    return {
      ...read(() =>
        tf.tidy(() => {
          let y = a;
          for (let i = 0; i < length; i++) y = tf.add(y, b);
          return y;
        })
      ),
      inner: length,
    };
  },
  add_read: (p) => {
    const a = uniform([p.size as number]), b = uniform([p.size as number]);
    return read(() => tf.add(a, b));
  },
  matmul: (p) => {
    const a = uniform([p.n as number, p.n as number]), b = uniform([p.n as number, p.n as number]);
    const count = (p.count as number | undefined) ?? 1;
    return { ...read(() => tf.tidy(inARow(count, () => tf.matMul(a, b)))), inner: count };
  },
  conv2d: (p) => {
    const x = uniform(p.x as Shape) as tf.Tensor4D, f = uniform(p.filter as Shape) as tf.Tensor4D;
    const pad = (p.padding as string).toLowerCase() as "same" | "valid";
    return read(() => tf.conv2d(x, f, p.strides as number, pad));
  },
  mnist_step: mnistStep,
};

/** The case being run: set up in its first round, timed in every round, then disposed. */
let current: { id: string; timed: AsyncTimed } | undefined;

function dispose(): void {
  for (const t of created) t.dispose();
  created = [];
  current = undefined;
}

async function handle(spec: CaseSpec): Promise<Result[]> {
  const make = KINDS[spec.kind];
  if (!make) return [{ column, skipped: "not applicable" }];
  try {
    if (current?.id !== spec.id || spec.round === 0) {
      dispose(); // the last case's tensors go before the next case's are made
      current = { id: spec.id, timed: make(spec.params) };
    }
    const stats = await measureAsync(current.timed, spec.budget, spec.round, spec.rounds, GPU_RULE);
    return [{ column, stats }];
  } catch (error) {
    dispose();
    throw error;
  }
}

/** Starts the backend and times its first add and read; null adapter when there is none. */
async function start(): Promise<GpuHello> {
  const begin = performance.now();
  const ok = await tf.setBackend("webgpu").catch(() => false);
  if (!ok) return { adapter: null, reason: "tfjs-webgpu found no WebGPU adapter" };
  await tf.ready();
  const initS = (performance.now() - begin) / 1000;
  const a = uniform([1]), b = uniform([1]);
  const first = performance.now();
  await read(() => tf.add(a, b)).fn();
  const firstAddS = (performance.now() - first) / 1000;
  dispose();
  // tfjs asks for the high-performance adapter; ask the same, after the timings.
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
  return { adapter: adapter ? adapterName(adapter) : "unknown adapter", initS, firstAddS };
}

const hello = await start();
const versions = { "tfjs-core": tf.version_core, "tfjs-backend-webgpu": WEBGPU_VERSION };
await serve(column, versions, hello.adapter ? handle : () => [], { ...hello });
