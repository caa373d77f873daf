/**
 * Devices as TensorFlow names them. The CPU always exists; GPUs are the GPU backends that
 * registered (src/backend/registry.ts). Asking for a GPU that is not there raises
 * `no GPU device: tf.numGpus() is 0`.
 * @module
 */
import { describe } from "./shape.ts";
import { backendForDevice, gpuBackends, placement, withPlacement } from "./backend/registry.ts";
export { CPU_DEVICE } from "./backend/cpu/backend.ts";

/** Number of GPUs this process can use. */
export function numGpus(): number {
  return gpuBackends().length;
}

/** Parses "/cpu:0", "/gpu:0", "/device:GPU:0", "CPU", ... into a canonical device name. */
export function canonicalDevice(name: string): string {
  if (typeof name !== "string") {
    throw new TypeError(`device: expected a device name such as "/cpu:0", got ${typeof name}`);
  }
  const match =
    /^(?:\/job:[^/]+)?(?:\/replica:\d+)?(?:\/task:\d+)?\/?(?:device:)?(cpu|gpu)(?::(\d+))?$/i
      .exec(name.trim());
  if (!match) throw new Error(`device: cannot parse device name ${describe(name)}`);
  const kind = match[1].toUpperCase();
  const index = Number(match[2] ?? 0);
  if (kind === "GPU") {
    if (numGpus() === 0) throw new Error(`no GPU device: tf.numGpus() is 0 (asked for ${name})`);
    if (index >= numGpus()) {
      throw new Error(`no GPU device ${index}: tf.numGpus() is ${numGpus()} (asked for ${name})`);
    }
  }
  if (kind === "CPU" && index !== 0) throw new Error(`device: there is only CPU:0, not ${name}`);
  return `/job:localhost/replica:0/task:0/device:${kind}:${index}`;
}

/**
 * Runs fn with new tensors and ops without tensor inputs placed on `name`; ops with tensor
 * inputs run where their inputs are.
 * @example
 * ```ts
 * import * as tf from "../mod.ts";
 * const x = tf.device("/cpu:0", () => tf.ones([2, 2]));
 * ```
 */
export function device<T>(name: string, fn: () => T): T {
  return withPlacement(backendForDevice(canonicalDevice(name)), fn);
}

/** The device of the innermost tf.device scope. */
export function currentDevice(): string {
  return placement().device;
}
