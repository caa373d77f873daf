/**
 * The WebGPU device's command queue: kernels are recorded into one compute pass and
 * submitted in groups, their parameter words packed into one arena buffer per group.
 *
 * Why (docs/webgpu.md, "Batching"): a submit costs as much as a dispatch on llvmpipe, and a
 * small parameter buffer created per kernel cost another allocation; one pass also needs no
 * begin / end per kernel. WebGPU orders the kernels of a pass (each dispatch is its own usage
 * scope, so a kernel sees the writes of the one before it).
 *
 * Invariants:
 * - Work is submitted before anything leaves the queue's order: a read (`flush` first), an
 *   upload into a buffer that recorded kernels may still read (`writeBuffer` runs at once),
 *   or when the group reaches MAX_GROUP kernels or the arena is full.
 * - Validation and out-of-memory errors of the device are caught by error scopes around each
 *   group and each new pipeline, and re-thrown by the next read (`takeError`), naming what
 *   failed: a kernel that did not compile never leaves zeros behind silently.
 * @module
 */
import { workgroups } from "./elementwise.ts";

/** Kernels a group holds before it is submitted. */
const MAX_GROUP = 256;
/** Bytes of parameter words a group holds (each kernel's words start 256-byte aligned). */
const ARENA_BYTES = 256 * 1024;

export class CommandQueue {
  #encoder: GPUCommandEncoder | undefined;
  #pass: GPUComputePassEncoder | undefined;
  #kernels = 0;
  /** The group's parameter words, written to `#arena` just before the group is submitted. */
  #words = new Int32Array(ARENA_BYTES / 4);
  #used = 0;
  #arena: GPUBuffer;
  #error: Error | undefined;
  readonly #pipelines = new Map<string, GPUComputePipeline>();

  constructor(readonly gpu: GPUDevice, readonly device: string) {
    this.#arena = gpu.createBuffer({
      size: ARENA_BYTES,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    gpu.addEventListener("uncapturederror", (event) => {
      this.#remember("device error", (event as GPUUncapturedErrorEvent).error);
    });
  }

  /** The pipeline cached under key, compiled from `source()` on first use. */
  pipeline(key: string, source: () => string): GPUComputePipeline {
    let pipeline = this.#pipelines.get(key);
    if (!pipeline) {
      this.gpu.pushErrorScope("validation");
      const module = this.gpu.createShaderModule({ code: source() });
      pipeline = this.gpu.createComputePipeline({
        layout: "auto",
        compute: { module, entryPoint: "main" },
      });
      this.#watch(`kernel ${key} did not compile`);
      this.#pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  /** Records one kernel over n threads: `words` at binding 0, then `buffers` in order. */
  record(pipeline: GPUComputePipeline, words: Int32Array, n: number, buffers: GPUBuffer[]): void {
    const slot = Math.ceil(words.length / 64) * 64; // 256 bytes: the binding offset alignment
    if (this.#used + slot > this.#words.length || this.#kernels === MAX_GROUP) this.flush();
    if (slot > this.#words.length) throw new Error("webgpu: kernel parameters exceed the arena");
    const offset = this.#used;
    this.#words.set(words, offset);
    this.#used += slot;
    if (!this.#pass) {
      this.gpu.pushErrorScope("validation");
      this.gpu.pushErrorScope("out-of-memory");
      this.#encoder = this.gpu.createCommandEncoder();
      this.#pass = this.#encoder.beginComputePass();
    }
    const bindGroup = this.gpu.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        {
          binding: 0,
          resource: { buffer: this.#arena, offset: offset * 4, size: words.byteLength },
        },
        ...buffers.map((buffer, k) => ({ binding: k + 1, resource: { buffer } })),
      ],
    });
    this.#pass.setPipeline(pipeline);
    this.#pass.setBindGroup(0, bindGroup);
    this.#pass.dispatchWorkgroups(...workgroups(n));
    this.#kernels++;
  }

  /** Submits the recorded kernels, if any. */
  flush(): void {
    if (!this.#pass) return;
    this.#pass.end();
    this.gpu.queue.writeBuffer(this.#arena, 0, this.#words.buffer, 0, this.#used * 4);
    this.gpu.queue.submit([this.#encoder!.finish()]);
    this.#watch(`${this.#kernels} kernels ran out of device memory`);
    this.#watch(`${this.#kernels} kernels were refused`);
    this.#pass = this.#encoder = undefined;
    this.#kernels = this.#used = 0;
  }

  /** Whether kernels are recorded and not yet submitted. */
  get pending(): boolean {
    return this.#pass !== undefined;
  }

  /** The first device error seen since the last call, taken (undefined if none). */
  takeError(): Error | undefined {
    const error = this.#error;
    this.#error = undefined;
    return error;
  }

  /** Pops an error scope and remembers its error, if any, as `what`. */
  #watch(what: string): void {
    this.gpu.popErrorScope().then((error) => error && this.#remember(what, error));
  }

  #remember(what: string, error: GPUError): void {
    this.#error ??= new Error(`${this.device}: ${what}: ${error.message}`);
  }
}
