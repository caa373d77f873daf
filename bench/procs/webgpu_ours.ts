/**
 * deno-eager's side of the WebGPU comparison (issue 18): a long-lived process that bench/webgpu.ts
 * drives like a peer (protocol and timing rule: ../harness.ts), so that the GPU device, its
 * buffers and its threads live apart from the harness and from the tfjs-webgpu process.
 * `deno run -A bench/procs/webgpu_ours.ts`; a software adapter counts only with
 * `EAGER_ALLOW_SOFTWARE_GPU=1`, as everywhere in the library.
 *
 * Inputs are drawn on the CPU and moved with `.gpu()` before they are timed; every timed
 * call ends with `await t.data()` and disposes its result, as the tfjs side does. A case
 * whose op family the device does not have yet ("<op>: ... is not implemented on ...GPU")
 * answers "not yet: <op>" instead of failing, so the table fills in as kernels land.
 * @module
 */
import * as tf from "../../mod.ts";
import { MNISTModel } from "../../examples/mnist.ts";
import {
  type AsyncTimed,
  type CaseSpec,
  type Column,
  measureAsync,
  type Result,
  serve,
} from "../harness.ts";
import { adapterName, GPU_RULE, type GpuHello, inARow } from "../cases/webgpu.ts";

const column: Column = "webgpu";
const GPU = "/gpu:0";

type Params = Record<string, unknown>;
type Shape = number[];

/** What the current case created and disposes when it is done. */
let created: tf.Tensor[] = [];
const keep = (t: tf.Tensor): tf.Tensor => (created.push(t), t);

/** Uniform values drawn on the CPU (the default device here) and moved to the GPU. */
const uniform = (shape: Shape) => keep(tf.randomUniform(shape).gpu());

/** A call that runs `fn`, reads its result back and disposes it. */
const read = (fn: () => tf.Tensor): AsyncTimed => ({
  fn: async () => {
    const t = fn();
    await t.data();
    t.dispose();
  },
});

/**
 * One training step of examples/mnist.ts's model on the GPU, as bench/cases/training.ts's
 * step on the CPU (dropout on, sparse softmax cross-entropy, Adam), inside tf.tidy so that
 * the step's temporaries go back to the device at once; the loss is read back.
 */
function mnistStep(p: Params): AsyncTimed {
  const batch = p.batch as number;
  const images = uniform([batch, 784]);
  const labels = keep(tf.randomUniform([batch], { dtype: "int32", maxval: 10 }).gpu());
  const model = tf.device(GPU, () => new MNISTModel());
  const optimizer = new tf.train.AdamOptimizer(p.learningRate as number);
  const loss = () =>
    tf.losses.sparseSoftmaxCrossEntropy(labels, model.apply(images, { training: true }));
  return read(() => tf.device(GPU, () => tf.tidy(() => optimizer.minimize(loss))));
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
    return { ...read(() => tf.tidy(inARow(count, () => tf.matmul(a, b)))), inner: count };
  },
  conv2d: (p) => {
    const x = uniform(p.x as Shape), f = uniform(p.filter as Shape);
    const padding = p.padding as "SAME" | "VALID";
    return read(() => tf.nn.conv2d(x, f, p.strides as number, padding));
  },
  mnist_step: mnistStep,
};

/** The op named by a "not implemented on ...GPU" error in `error` or its causes. */
export function notYet(error: unknown): string | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const match = /^([^\s:]+): .*is not implemented on \S*GPU/s.exec(e.message);
    if (match) return match[1];
  }
  return undefined;
}

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
    const op = notYet(error);
    if (op) return [{ column, skipped: `not yet: ${op}` }];
    throw error;
  }
}

/** Finds the GPU and times its first add and read; a null adapter says why there is none. */
async function start(): Promise<GpuHello> {
  const begin = performance.now();
  const gpus = await tf.initGpus();
  const initS = (performance.now() - begin) / 1000;
  // Asked again after the timings, only to name the adapter (discovery keeps its own).
  const adapter = await navigator.gpu?.requestAdapter().catch(() => null);
  const name = adapter ? adapterName(adapter) : null;
  if (gpus === 0) {
    const reason = name
      ? `the only adapter, ${name}, is a software one: EAGER_ALLOW_SOFTWARE_GPU=1 measures it`
      : "navigator.gpu offers no adapter (no Vulkan driver or GPU?)";
    return { adapter: null, reason };
  }
  const a = uniform([1]), b = uniform([1]);
  const first = performance.now();
  await read(() => tf.add(a, b)).fn();
  const firstAddS = (performance.now() - first) / 1000;
  dispose();
  return { adapter: name ?? "unknown adapter", initS, firstAddS };
}

if (import.meta.main) {
  const hello = await start();
  const versions = { deno: Deno.version.deno };
  await serve(column, versions, hello.adapter ? handle : () => [], { ...hello });
}
