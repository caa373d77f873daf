/**
 * Device memory of the WebGPU backend: buffers reused by size class, returned by explicit
 * release (dispose, tf.tidy, release scopes) or, as the last resort, when the garbage
 * collector drops a storage nobody disposed (a FinalizationRegistry).
 *
 * Decisions (docs/webgpu.md, "Memory"):
 * - Size classes: multiples of 256 bytes up to 4 KiB, then eight classes per power of two
 *   (at most 12.5% unused), so a training loop's same-shaped tensors reuse each other's
 *   buffers.
 * - V8 does not see device memory, so nothing would make it collect dropped tensors: the
 *   pool keeps its own account, as the CPU's output buffers do (csrc/buffers/napi_buffers.c),
 *   and asks for one full collection when the bytes handed out exceed what was live after
 *   the last one by the headroom (the larger of 256 MiB and four times the request).
 *   Collected storage comes back when the registry's callbacks run: at the next turn of the
 *   event loop, which a GPU program reaches at each `await t.data()`.
 * - Buffers are never destroyed while kernels that use them may be unsubmitted (the pool is
 *   trimmed only after a flush); reuse is safe without that, since the queue keeps order.
 * - A memory limit (`tf.setGpuMemoryLimit`, EAGER_GPU_MEMORY_LIMIT; none by default, since
 *   WebGPU does not tell how much memory a device has) bounds the bytes in buffers handed out
 *   and pooled, as TensorFlow's per-device memory_limit does. A request past it first takes
 *   back the buffers of tensors that are already garbage (one full collection, then each
 *   owner's WeakRef: the registry's callbacks would come too late), then destroys the pooled
 *   buffers of other sizes, and only then fails with a GpuMemoryError naming the request.
 *   NOTE: JS keeps every object made in the current synchronous job alive until the job
 *   ends (WeakRef semantics), so tensors dropped in a loop that never awaits are not
 *   reclaimable until it does: dispose them or use tf.tidy there.
 * @module
 */
import { requestCollection } from "../cpu/storage.ts";
import { env } from "../../env.ts";

/** An allocation the device's memory limit refuses (TensorFlow's ResourceExhaustedError). */
export class GpuMemoryError extends RangeError {
  override name = "GpuMemoryError";
}

const HEADROOM_MIN_BYTES = 256 * 2 ** 20;

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
};

/**
 * Bytes of a memory size: a number of bytes, or text such as "512MiB", "1.5 GiB", "800MB".
 * `what` names the setting in errors.
 */
export function parseMemorySize(value: number | string, what: string): number {
  const match = typeof value === "string"
    ? /^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?\s*$/i.exec(value)
    : null;
  const bytes = typeof value === "number"
    ? value
    : match
    ? Number(match[1]) * UNITS[(match[2] ?? "").toLowerCase()]
    : NaN;
  if (!(bytes > 0)) {
    throw new RangeError(
      `${what}: expected a positive number of bytes or a size such as "512MiB", got ${
        JSON.stringify(value)
      }`,
    );
  }
  return Math.floor(bytes);
}

/** EAGER_GPU_MEMORY_LIMIT's bytes, or no limit. */
export function memoryLimitFromEnv(): number {
  const text = env("EAGER_GPU_MEMORY_LIMIT");
  return text ? parseMemorySize(text, "EAGER_GPU_MEMORY_LIMIT") : Infinity;
}

/** The size class of a request of `bytes` (at least 256). */
export function sizeClass(bytes: number): number {
  if (bytes <= 4096) return Math.max(256, Math.ceil(bytes / 256) * 256);
  const step = 2 ** Math.floor(Math.log2(bytes)) / 8;
  return Math.ceil(bytes / step) * step;
}

/** A handed-out buffer's owner, and which handing-out this is (a buffer is handed out again). */
interface Lease {
  owner: WeakRef<object>;
  id: number;
}

export class BufferPool {
  readonly #free = new Map<number, GPUBuffer[]>();
  /** Bytes in buffers handed out and not returned. */
  liveBytes = 0;
  /** Bytes in buffers waiting in the pool. */
  pooledBytes = 0;
  /** The most liveBytes has been. */
  peakBytes = 0;
  /** Bytes handed out and pooled together may not pass this (see the module doc). */
  limit = Infinity;
  #liveAfterCollection = 0;
  #collected = false;
  readonly #leases = new Map<GPUBuffer, Lease>();
  #nextLease = 0;
  readonly #registry = new FinalizationRegistry<{ buffer: GPUBuffer; id: number }>(
    ({ buffer, id }) => {
      // Stale when the buffer came back by another way (and may be handed out again).
      if (this.#leases.get(buffer)?.id === id) this.#return(buffer);
    },
  );

  /** `submit` sends every recorded kernel to the device (before pooled buffers are destroyed). */
  constructor(readonly gpu: GPUDevice, readonly usage: number, readonly submit: () => void) {}

  /** A buffer of at least `bytes` for `op`; `track` it with its owner next. */
  take(bytes: number, op: string): GPUBuffer {
    const size = sizeClass(bytes);
    this.#account(size);
    let buffer = this.#reuse(size);
    if (!buffer) {
      if (this.liveBytes + this.pooledBytes + size > this.limit) {
        buffer = this.#makeRoom(bytes, size, op);
      }
      buffer ??= this.gpu.createBuffer({ size, usage: this.usage });
    }
    this.liveBytes += size;
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes);
    return buffer;
  }

  /** The buffer comes back to the pool if `owner` is collected without giving it back. */
  track(owner: object, buffer: GPUBuffer): void {
    const id = this.#nextLease++;
    this.#leases.set(buffer, { owner: new WeakRef(owner), id });
    this.#registry.register(owner, { buffer, id }, owner);
  }

  /** owner's buffer comes back now (owner will not be collected with it any more). */
  giveBack(owner: object, buffer: GPUBuffer): void {
    this.#registry.unregister(owner);
    this.#return(buffer);
  }

  #return(buffer: GPUBuffer): void {
    this.#leases.delete(buffer);
    const list = this.#free.get(buffer.size);
    if (list) list.push(buffer);
    else this.#free.set(buffer.size, [buffer]);
    this.liveBytes -= buffer.size;
    this.pooledBytes += buffer.size;
  }

  #reuse(size: number): GPUBuffer | undefined {
    const buffer = this.#free.get(size)?.pop();
    if (buffer) this.pooledBytes -= size;
    return buffer;
  }

  /**
   * Room for `size` more bytes under the limit: garbage tensors' buffers taken back (one of
   * them may be reused at once), then the pool emptied; else a GpuMemoryError.
   */
  #makeRoom(bytes: number, size: number, op: string): GPUBuffer | undefined {
    if (requestCollection()) {
      for (const [buffer, lease] of this.#leases) {
        if (lease.owner.deref() === undefined) this.#return(buffer);
      }
      const reused = this.#reuse(size);
      if (reused) return reused;
    }
    if (this.pooledBytes > 0) {
      this.submit();
      this.trim();
    }
    if (this.liveBytes + size <= this.limit) return undefined;
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    throw new GpuMemoryError(
      `${op}: out of device memory: ${bytes} bytes (${mib(size)} buffer) would pass the ` +
        `memory limit of ${mib(this.limit)} with ${mib(this.liveBytes)} held by live tensors ` +
        "(after collecting garbage and emptying the pool). Dispose tensors or wrap steps in " +
        "tf.tidy; tensors dropped since the program last awaited cannot be reclaimed yet; or " +
        "raise tf.setGpuMemoryLimit",
    );
  }

  /** Destroys every pooled buffer (the caller has submitted all recorded kernels). */
  trim(): void {
    for (const list of this.#free.values()) for (const buffer of list) buffer.destroy();
    this.#free.clear();
    this.pooledBytes = 0;
  }

  /** Counts a request and asks for a collection when dropped storage may be piling up. */
  #account(size: number): void {
    if (this.#collected) {
      this.#liveAfterCollection = this.liveBytes;
      this.#collected = false;
    }
    const headroom = Math.max(HEADROOM_MIN_BYTES, 4 * size);
    if (this.liveBytes + size > this.#liveAfterCollection + headroom) {
      this.#collected = requestCollection();
    }
  }
}
