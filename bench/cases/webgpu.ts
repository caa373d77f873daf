/**
 * The WebGPU cases (issue 18): deno-eager's WebGPU device against TensorFlow.js's webgpu
 * backend on the same adapter. bench/webgpu.ts drives them; bench/procs/webgpu_ours.ts and
 * bench/peers/tfjs_webgpu.ts run them, each in its own process, by `kind` and `params`.
 * Every timed call ends with a read back of its result (`await t.data()` on both sides), so
 * a time is the GPU's work plus its dispatches and one round trip (`params.count` products
 * per call, or 1000 adds, spread that round trip over several ops).
 *
 * This file must not import the library: the TensorFlow.js runner imports it too.
 * @module
 */
import type { TimingRule } from "../harness.ts";

/** One row of the WebGPU table. */
export interface GpuCase {
  id: string;
  label: string;
  /** What each runner implements. */
  kind: string;
  params: Record<string, unknown>;
}

/** The MNIST layers' convolutions (examples/mnist.ts): 5x5, SAME, stride 1, batch 100. */
const conv = (x: number[], filter: number[]) => ({ x, filter, strides: 1, padding: "SAME" });

/** A function making `count` results of `once` in a row and returning the last (both runners'
 * chained rows: the others are left to their tidy scope). */
export function inARow<T>(count: number, once: () => T): () => T {
  return () => {
    let last = once();
    for (let i = 1; i < count; i++) last = once();
    return last;
  };
}

/** The timed cases, in table order. */
export const WEBGPU_CASES: GpuCase[] = [
  {
    id: "webgpu_add_chain",
    label: "add, 1-element float32, 1000 in a row, one read (per add)",
    kind: "add_chain",
    // NOTE: 1000, not 100: one read costs about 12 ms on llvmpipe (as much as 100 adds), and
    // the row is about the cost of an op, so the read is spread over many.
    params: { size: 1, length: 1000 },
  },
  {
    id: "webgpu_add_read",
    label: "add, 1-element float32, and its read",
    kind: "add_read",
    params: { size: 1 },
  },
  { id: "webgpu_matmul_256", label: "matmul 256x256 float32", kind: "matmul", params: { n: 256 } },
  {
    id: "webgpu_matmul_256_chain",
    label: "matmul 256x256 float32, 10 in a row, one read (per matmul)",
    kind: "matmul",
    // NOTE: a read costs at least 10 ms under Deno 2.9.6 on any adapter (its mapAsync polls the
    // device, then sleeps 10 ms before it looks whether the map is done; docs/webgpu.md), which
    // is most of one 256 product's time on llvmpipe: spread over 10 products, the row is about
    // the product. The single product and its read stays above.
    params: { n: 256, count: 10 },
  },
  {
    id: "webgpu_matmul_1024",
    label: "matmul 1024x1024 float32",
    kind: "matmul",
    params: { n: 1024 },
  },
  {
    id: "webgpu_conv1",
    label: "conv2d 100x28x28x1 * 5x5x1x32 SAME",
    kind: "conv2d",
    params: conv([100, 28, 28, 1], [5, 5, 1, 32]),
  },
  {
    id: "webgpu_conv2",
    label: "conv2d 100x14x14x32 * 5x5x32x64 SAME",
    kind: "conv2d",
    params: conv([100, 14, 14, 32], [5, 5, 32, 64]),
  },
  {
    id: "webgpu_mnist_step",
    label: "MNIST training step, batch 100, Adam",
    kind: "mnist_step",
    params: { batch: 100, learningRate: 1e-4 },
  },
];

/** Rows measured once per process, reported by each runner in its ready line. */
export const WEBGPU_PROCESS_CASES: GpuCase[] = [
  {
    id: "webgpu_init",
    label: "init: adapter and device (fresh process)",
    kind: "init",
    params: {},
  },
  {
    id: "webgpu_first_add",
    label: "first add + read of a fresh process",
    kind: "first_add",
    params: { size: 1 },
  },
];

/** What each runner's ready line carries besides its versions. */
export interface GpuHello {
  /** `adapter.info.description` (or `device`), or null when there is no usable adapter. */
  adapter: string | null;
  /** Why there is no adapter to measure. */
  reason?: string;
  /** Seconds to get the device ready (ours: tf.initGpus(); tfjs: setBackend("webgpu")). */
  initS?: number;
  /** Seconds of the process's first 1-element add and its read (pipeline creation included). */
  firstAddS?: number;
}

/**
 * The timing rule of the WebGPU cases: CPU_RULE's shape with fewer calls, because a GPU
 * call's cost settles after its first call (pipelines are compiled then) and calls are slow
 * on a software adapter (llvmpipe: our naive matmul 1024 took 2.5-5.6 s a call, tfjs's
 * 0.55-0.75 s, tfjs's MNIST step 9.4 s). Calls over a second are timed once more in the
 * first round and once in each later one.
 */
export const GPU_RULE: TimingRule = {
  warmupS: 0.3,
  rewarmS: 0.02,
  warmupCalls: 3,
  warmupMaxS: 3,
  sampleS: 0.05,
  slowCallS: 1,
  reuseSlowFirst: true,
  minSamples: 6,
  maxSamples: 9,
  minRoundSamples: 2,
};

/** Rounds per case: the two runners alternate, ours first in even rounds. */
export const GPU_ROUNDS = 3;

/**
 * Seconds one side may spend on one case before it takes no more rounds (it keeps the
 * samples it has). NOTE: on llvmpipe tfjs's MNIST step costs 9.4 s a call, so three rounds
 * of it alone took 56 s; with the cap the whole table stays near two minutes there, and on a
 * real GPU no case comes near it.
 */
export const GPU_CASE_CAP_S = 12;

/** How the table names an adapter: its description (Vulkan's device name), else what it has. */
export function adapterName(adapter: GPUAdapter): string {
  const info = adapter.info;
  return info.description || info.device || info.vendor || "unknown adapter";
}
