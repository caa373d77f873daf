/**
 * Finding GPUs: `await tf.initGpus()` asks Deno's WebGPU for an adapter and registers its
 * device as the next `/gpu:N` (src/backend/registry.ts). Explicit and asynchronous because
 * asking costs 50-150 ms (docs/webgpu.md), which every program would pay if it happened at
 * import. A software adapter (Mesa's llvmpipe / lavapipe, SwiftShader, a fallback adapter)
 * is not a GPU unless `EAGER_ALLOW_SOFTWARE_GPU=1`.
 * @module
 */
import { env } from "../../env.ts";
import { backendForDevice, gpuBackends, registerGpu } from "../registry.ts";
import { canonicalDevice } from "../../device.ts";
import { describe } from "../../shape.ts";
import { WebGpuBackend } from "./backend.ts";
import { parseMemorySize } from "./memory.ts";

/** What discovery reads of an adapter. */
export interface AdapterFacts {
  description: string;
  vendor: string;
  isFallbackAdapter?: boolean;
}

/** Whether an adapter is a CPU pretending to be a GPU. */
export function isSoftwareAdapter(facts: AdapterFacts): boolean {
  return facts.isFallbackAdapter === true ||
    /llvmpipe|lavapipe|swiftshader|software|softpipe/i.test(`${facts.description} ${facts.vendor}`);
}

let found: Promise<number> | undefined;

/**
 * Finds the WebGPU adapter (at most one: the one Deno offers) and registers its device;
 * returns tf.numGpus() afterwards. Calling it again does nothing more.
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * if (await tf.initGpus() > 0) console.log(tf.device("/gpu:0", () => tf.ones([2])).device);
 * ```
 */
export function initGpus(): Promise<number> {
  return found ??= discover();
}

async function discover(): Promise<number> {
  const gpu = (navigator as { gpu?: GPU }).gpu;
  const adapter = await gpu?.requestAdapter().catch(() => null);
  if (adapter) {
    const info = adapter.info;
    const facts: AdapterFacts = {
      description: info.description || info.device || "unknown adapter",
      vendor: info.vendor,
      isFallbackAdapter: (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter,
    };
    if (!isSoftwareAdapter(facts) || env("EAGER_ALLOW_SOFTWARE_GPU") === "1") {
      const device = await adapter.requestDevice({
        requiredLimits: {
          maxBufferSize: adapter.limits.maxBufferSize,
          maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
          // A centered RMSprop update out of place binds 10 buffers (the default is 8).
          maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
        },
      });
      registerGpu((name) => new WebGpuBackend(name, device, facts.description));
    }
  }
  return gpuBackends().length;
}

/** The answer of {@linkcode getMemoryInfo}: bytes of device memory. */
export interface MemoryInfo {
  /** In buffers that tensors hold now. */
  current: number;
  /** The most `current` has been. */
  peak: number;
  /** In freed buffers the device keeps for reuse. */
  pooled: number;
  /** The most `current` and `pooled` may hold together (setGpuMemoryLimit); Infinity: none. */
  limit: number;
}

/**
 * A GPU's memory use, as TensorFlow's `tf.config.experimental.get_memory_info`.
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * if (await tf.initGpus() > 0) console.log(tf.getMemoryInfo("/gpu:0").current);
 * ```
 */
export function getMemoryInfo(device: string = "/gpu:0"): MemoryInfo {
  const { liveBytes, peakBytes, pooledBytes, limit } = gpuBackend("getMemoryInfo", device).memory;
  return { current: liveBytes, peak: peakBytes, pooled: pooledBytes, limit };
}

/**
 * Bounds a GPU's memory: the bytes its tensors hold plus its pool of freed buffers may not
 * pass `limit` (bytes, or a size such as "2GiB"; null: no limit, the default unless
 * EAGER_GPU_MEMORY_LIMIT is set), as TensorFlow's per-device `memory_limit`. An allocation
 * that would pass it first reclaims garbage tensors and empties the pool, then raises a
 * GpuMemoryError naming the request (docs/webgpu.md, "Memory").
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * if (await tf.initGpus() > 0) tf.setGpuMemoryLimit("1GiB", "/gpu:0");
 * ```
 */
export function setGpuMemoryLimit(limit: number | string | null, device: string = "/gpu:0"): void {
  const bytes = limit === null ? Infinity : parseMemorySize(limit, "setGpuMemoryLimit");
  gpuBackend("setGpuMemoryLimit", device).memory.limit = bytes;
}

/** The WebGPU backend behind `device`, or an error naming `op`. */
function gpuBackend(op: string, device: string): WebGpuBackend {
  if (typeof device !== "string") {
    throw new TypeError(`${op}: device must be a name such as "/gpu:0", got ${describe(device)}`);
  }
  let backend;
  try {
    backend = backendForDevice(canonicalDevice(device));
  } catch (error) {
    throw new Error(`${op}: ${(error as Error).message}`, { cause: error });
  }
  if (!(backend instanceof WebGpuBackend)) {
    throw new Error(`${op}: ${device} is not a GPU (for the CPU see Deno.memoryUsage())`);
  }
  return backend;
}
