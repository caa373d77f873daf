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
 * @module
 */
import { requestCollection } from "../cpu/storage.ts";

const HEADROOM_MIN_BYTES = 256 * 2 ** 20;

/** The size class of a request of `bytes` (at least 256). */
export function sizeClass(bytes: number): number {
  if (bytes <= 4096) return Math.max(256, Math.ceil(bytes / 256) * 256);
  const step = 2 ** Math.floor(Math.log2(bytes)) / 8;
  return Math.ceil(bytes / step) * step;
}

export class BufferPool {
  readonly #free = new Map<number, GPUBuffer[]>();
  /** Bytes in buffers handed out and not returned. */
  liveBytes = 0;
  /** Bytes in buffers waiting in the pool. */
  pooledBytes = 0;
  /** The most liveBytes has been. */
  peakBytes = 0;
  #liveAfterCollection = 0;
  #collected = false;
  readonly #registry = new FinalizationRegistry<GPUBuffer>((buffer) => this.give(buffer));

  constructor(readonly gpu: GPUDevice, readonly usage: number) {}

  /** A buffer of at least `bytes`; `track` it with its owner next. */
  take(bytes: number): GPUBuffer {
    const size = sizeClass(bytes);
    this.#account(size);
    let buffer = this.#free.get(size)?.pop();
    if (buffer) this.pooledBytes -= size;
    else buffer = this.gpu.createBuffer({ size, usage: this.usage });
    this.liveBytes += size;
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes);
    return buffer;
  }

  /** The buffer comes back to the pool if `owner` is collected without giving it back. */
  track(owner: object, buffer: GPUBuffer): void {
    this.#registry.register(owner, buffer, owner);
  }

  /** owner's buffer comes back now (owner will not be collected with it any more). */
  giveBack(owner: object, buffer: GPUBuffer): void {
    this.#registry.unregister(owner);
    this.give(buffer);
  }

  /** A buffer comes back to the pool. */
  give(buffer: GPUBuffer): void {
    const list = this.#free.get(buffer.size);
    if (list) list.push(buffer);
    else this.#free.set(buffer.size, [buffer]);
    this.liveBytes -= buffer.size;
    this.pooledBytes += buffer.size;
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
