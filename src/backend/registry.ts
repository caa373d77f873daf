/**
 * Which backends exist and which one new tensors go to. The CPU is always there; GPU
 * backends register themselves (the WebGPU device when an adapter is found; tests register
 * a stand-in) and are numbered in order, as `/gpu:0`, `/gpu:1`, ...
 * @module
 */
import type { Backend } from "./backend.ts";
import { cpuBackend } from "./cpu/backend.ts";

const gpus: Backend[] = [];
let placed: Backend = cpuBackend;

/** The canonical name of GPU `index`. */
export function gpuDeviceName(index: number): string {
  return `/job:localhost/replica:0/task:0/device:GPU:${index}`;
}

/**
 * Adds a GPU backend made for the next index (its `device` must be gpuDeviceName of it);
 * returns a function that removes it again (tests).
 */
export function registerGpu(make: (device: string) => Backend): () => void {
  const backend = make(gpuDeviceName(gpus.length));
  gpus.push(backend);
  return () => {
    const at = gpus.indexOf(backend);
    if (at !== gpus.length - 1) throw new Error("registerGpu: remove GPUs in reverse order");
    if (placed === backend) placed = cpuBackend;
    gpus.pop();
  };
}

/** The GPU backends, in index order. */
export function gpuBackends(): readonly Backend[] {
  return gpus;
}

/** The backend of a canonical device name (checked by device.ts's canonicalDevice). */
export function backendForDevice(canonical: string): Backend {
  if (canonical === cpuBackend.device) return cpuBackend;
  const found = gpus.find((b) => b.device === canonical);
  if (!found) throw new Error(`device: no backend for ${canonical}`);
  return found;
}

/** Where tensors made without tensor inputs go: the innermost tf.device scope's backend. */
export function placement(): Backend {
  return placed;
}

/**
 * Makes `backend` the placement outside any tf.device scope (as TensorFlow places ops on
 * GPU:0 when there is one); returns a function that restores the previous default.
 */
export function setDefaultPlacement(backend: Backend): () => void {
  const previous = placed;
  placed = backend;
  return () => {
    placed = previous;
  };
}

/** Runs fn with `backend` as the placement. */
export function withPlacement<T>(backend: Backend, fn: () => T): T {
  const restore = setDefaultPlacement(backend);
  try {
    return fn();
  } finally {
    restore();
  }
}
