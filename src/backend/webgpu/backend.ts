/**
 * The WebGPU device behind the backend seam (issue 18; docs/webgpu.md). Built so far:
 * storage (GPU buffers, zeroed at creation as WebGPU guarantees; uploads; asynchronous reads
 * of any view, strided ones included; early release) and the elementwise unary and binary
 * families for float32 and int32 with broadcasting and strided views. Every other op family
 * is an error naming the op and the device, never a silent copy to the CPU.
 *
 * NOTE: each op is encoded and submitted on its own for now; batching submits is planned
 * (docs/webgpu.md, "Batching").
 * @module
 */
import { arrayType, type DType, itemSize, type TypedArray } from "../../dtype.ts";
import { broadcastStrides } from "../../shape.ts";
import type { Backend, DeviceBuffer, MatrixOperand } from "../backend.ts";
import { cpuBackend } from "../cpu/backend.ts";
import { noteBorn } from "../release_scope.ts";
import { Tensor } from "../../tensor.ts";
import {
  copyShader,
  elementwiseRule,
  elementwiseShader,
  layoutWords,
  matmulShader,
  matmulWords,
  MAX_RANK,
  reduceShader,
  reduceWords,
  WGSL_TYPES,
  workgroups,
} from "./elementwise.ts";
import { avgPoolGradPass, convPass, maxPoolGradPass, poolForward } from "./conv.ts";
import { randomFill } from "./random.ts";

/** A tensor's storage on the device: a GPU buffer of at least `bytes` bytes. */
export class GpuStorage implements DeviceBuffer {
  holders = 0;
  constructor(
    readonly backend: WebGpuBackend,
    readonly buffer: GPUBuffer,
    readonly bytes: number,
  ) {}
}

/** The usage of every storage buffer. NOTE: read at first use, not at import: a runtime
 * without WebGPU can still load this module. */
const storageUsage = () =>
  GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** The WebGPU backend of one adapter's device. */
export class WebGpuBackend implements Backend<GpuStorage> {
  readonly readsSynchronously = false;
  readonly #pipelines = new Map<string, GPUComputePipeline>();

  constructor(readonly device: string, readonly gpu: GPUDevice, readonly adapterName: string) {}

  // --- storage

  allocate(dtype: DType, n: number, op: string): GpuStorage {
    const bytes = n * itemSize(dtype);
    const limit = this.gpu.limits.maxBufferSize;
    if (bytes > limit) {
      throw new RangeError(
        `${op}: ${n} ${dtype} elements (${bytes} bytes) exceed ${this.device}'s largest buffer ` +
          `(${limit} bytes, ${this.adapterName})`,
      );
    }
    // WebGPU zero-fills new buffers; sizes are whole 4-byte words, at least one.
    const buffer = this.gpu.createBuffer({
      size: Math.max(4, align4(bytes)),
      usage: storageUsage(),
    });
    const storage = new GpuStorage(this, buffer, bytes);
    noteBorn(storage);
    return storage;
  }

  allocateOutput(dtype: DType, n: number, op: string): GpuStorage {
    return this.allocate(dtype, n, op);
  }

  upload(values: TypedArray, op: string): GpuStorage {
    const storage = this.allocate(dtypeOf(values), values.length, op);
    if (values.byteLength > 0) {
      const bytes = new Uint8Array(align4(values.byteLength));
      bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
      this.gpu.queue.writeBuffer(storage.buffer, 0, bytes.buffer);
    }
    return storage;
  }

  readSync(_view: Tensor, _dtype: DType, op: string): TypedArray {
    throw new Error(
      `${op}: ${this.device} is read asynchronously: use \`await t.data()\` or move it with .cpu()`,
    );
  }

  /** Copies the whole storage back, then takes the view's elements on the CPU. */
  async read(view: Tensor, dtype: DType, op: string): Promise<TypedArray> {
    const storage = view.storage as GpuStorage;
    const size = storage.buffer.size;
    const staging = this.gpu.createBuffer({
      size,
      usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
    });
    try {
      const encoder = this.gpu.createCommandEncoder();
      encoder.copyBufferToBuffer(storage.buffer, 0, staging, 0, size);
      this.gpu.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const bytes = staging.getMappedRange().slice(0, storage.bytes);
      const ArrayType = arrayType(view.dtype) as unknown as new (buffer: ArrayBuffer) => TypedArray;
      const host = new ArrayType(bytes);
      const hostView = new Tensor(host, view.dtype, view.shape, view.strides, view.offset);
      return cpuBackend.readSync(hostView, dtype, op);
    } finally {
      staging.destroy();
    }
  }

  hold(storage: GpuStorage): void {
    storage.holders++;
  }

  release(storage: GpuStorage): void {
    if (--storage.holders <= 0) storage.buffer.destroy();
  }

  free(storage: GpuStorage): boolean {
    storage.buffer.destroy();
    return true;
  }

  storageKey(storage: GpuStorage): object {
    return storage;
  }

  // --- elementwise

  unary(op: string, code: number, x: Tensor, outDtype: DType): GpuStorage {
    const type = this.#elementType(op, x.dtype, outDtype);
    const rule = elementwiseRule(1, code, type) ?? this.unsupported(op, `${x.dtype} kernel`);
    const out = this.allocateOutput(outDtype, x.size, op);
    if (x.size > 0) {
      this.#checkRank(op, x.rank);
      const words = layoutWords(x.shape, x.size, x);
      this.dispatch(`u${code}${type}`, () => elementwiseShader(1, rule, type), words, x.size, [
        out,
        x.storage as GpuStorage,
      ]);
    }
    return out;
  }

  binary(
    op: string,
    code: number,
    x: Tensor,
    y: Tensor,
    shape: readonly number[],
    n: number,
    outDtype: DType,
  ): GpuStorage {
    const type = this.#elementType(op, x.dtype, outDtype);
    const rule = elementwiseRule(2, code, type) ?? this.unsupported(op, `${x.dtype} kernel`);
    const out = this.allocateOutput(outDtype, n, op);
    if (n > 0) {
      this.#checkRank(op, shape.length);
      const words = layoutWords(
        shape,
        n,
        { offset: x.offset, strides: broadcastStrides(x.shape, x.strides, shape) },
        { offset: y.offset, strides: broadcastStrides(y.shape, y.strides, shape) },
      );
      this.dispatch(`b${code}${type}`, () => elementwiseShader(2, rule, type), words, n, [
        out,
        x.storage as GpuStorage,
        y.storage as GpuStorage,
      ]);
    }
    return out;
  }

  /** Copies src (any layout) into the strided region (src's shape) of out, converting. */
  copyStrided(
    op: string,
    out: GpuStorage,
    outDtype: DType,
    strides: readonly number[],
    offset: number,
    src: Tensor,
  ): void {
    const from = WGSL_TYPES[src.dtype], to = WGSL_TYPES[outDtype];
    if (!from || !to) this.unsupported(op, `a ${src.dtype} -> ${outDtype} copy`);
    if (src.size === 0) return;
    this.#checkRank(op, src.rank);
    const words = layoutWords(src.shape, src.size, src, { offset, strides });
    this.dispatch(`c${from}${to}`, () => copyShader(from, to), words, src.size, [
      out,
      src.storage as GpuStorage,
    ]);
  }

  /** Reduces x walked as shape / strides (the kept dims first, keepRank of them) into out. */
  reduce(
    op: string,
    code: number,
    x: Tensor,
    shape: readonly number[],
    strides: readonly number[],
    keepRank: number,
    out: GpuStorage,
  ): void {
    const type = this.#elementType(op, x.dtype, x.dtype);
    const source = reduceShader(code, type) ?? this.unsupported(op, `this ${x.dtype} reduction`);
    this.#checkRank(op, shape.length);
    const outputs = shape.slice(0, keepRank).reduce((a, b) => a * b, 1);
    if (outputs === 0) return;
    const words = reduceWords(outputs, keepRank, shape, strides, x.offset);
    this.dispatch(`r${code}${type}`, () => source, words, outputs, [out, x.storage as GpuStorage]);
  }

  /** out [batch..., m, n] = a [batch..., m, k] . b [batch..., k, n] (a naive kernel). */
  matmul(
    op: string,
    batch: readonly number[],
    m: number,
    n: number,
    k: number,
    a: MatrixOperand,
    aBatchStrides: readonly number[],
    b: MatrixOperand,
    bBatchStrides: readonly number[],
    out: GpuStorage,
  ): void {
    const type = this.#elementType(op, a.t.dtype, a.t.dtype);
    this.#checkRank(op, batch.length);
    const outputs = batch.reduce((x, y) => x * y, m * n);
    if (outputs === 0) return;
    const words = matmulWords(
      batch,
      [m, n, k],
      { offset: a.t.offset, rs: a.rs, cs: a.cs, batchStrides: aBatchStrides },
      { offset: b.t.offset, rs: b.rs, cs: b.cs, batchStrides: bBatchStrides },
    );
    this.dispatch(`mm${type}`, () => matmulShader(type), words, outputs, [
      out,
      a.t.storage as GpuStorage,
      b.t.storage as GpuStorage,
    ]);
  }

  // --- the families not built yet: each an error naming the op and the device

  where(op: string): void {
    this.unsupported(op, "where");
  }
  softmax(op: string): void {
    this.unsupported(op, "softmax");
  }
  randomFill(...args: Parameters<Backend<GpuStorage>["randomFill"]>): void {
    randomFill(this, ...args);
  }
  biasActivation(op: string): void {
    this.unsupported(op, "bias + activation");
  }
  fusedUpdate(op: string): void {
    this.unsupported(op, "optimizer updates");
  }
  conv(...args: Parameters<Backend<GpuStorage>["conv"]>): void {
    convPass(this, ...args);
  }
  pool(...args: Parameters<Backend<GpuStorage>["pool"]>): void {
    poolForward(this, ...args);
  }
  maxPoolGrad(...args: Parameters<Backend<GpuStorage>["maxPoolGrad"]>): void {
    maxPoolGradPass(this, ...args);
  }
  avgPoolGrad(...args: Parameters<Backend<GpuStorage>["avgPoolGrad"]>): void {
    avgPoolGradPass(this, ...args);
  }
  gather(op: string): number {
    return this.unsupported(op, "gather");
  }
  gatherNd(op: string): number {
    return this.unsupported(op, "gatherNd");
  }
  scatterNd(op: string): number {
    return this.unsupported(op, "scatterNd");
  }
  segmentSum(op: string): void {
    this.unsupported(op, "segment sums");
  }
  oneHot(op: string): void {
    this.unsupported(op, "oneHot");
  }

  // --- helpers

  unsupported(op: string, what: string): never {
    throw new Error(
      `${op}: ${what} is not implemented on ${this.device} (WebGPU, ${this.adapterName}) yet; ` +
        "compute it on the CPU: move the inputs with .cpu()",
    );
  }

  /** WGSL's type for an elementwise op whose inputs and output are `dtype`. */
  #elementType(op: string, dtype: DType, outDtype: DType): "f32" | "i32" {
    const type = WGSL_TYPES[dtype];
    if (!type || outDtype !== dtype) {
      this.unsupported(op, outDtype !== dtype ? `a ${dtype} -> ${outDtype} kernel` : `${dtype}`);
    }
    return type;
  }

  #checkRank(op: string, rank: number): void {
    if (rank > MAX_RANK) this.unsupported(op, `rank ${rank} (at most ${MAX_RANK})`);
  }

  /**
   * Runs the pipeline cached under `key` (compiled from `source()` on first use) over n
   * threads, with the parameter words at binding 0 and `buffers` bound in order from 1.
   * The kernel modules of this folder (conv.ts, random.ts, ...) run their shaders through it.
   */
  dispatch(
    key: string,
    source: () => string,
    words: Int32Array,
    n: number,
    buffers: readonly GpuStorage[],
  ): void {
    let pipeline = this.#pipelines.get(key);
    if (!pipeline) {
      const module = this.gpu.createShaderModule({ code: source() });
      pipeline = this.gpu.createComputePipeline({
        layout: "auto",
        compute: { module, entryPoint: "main" },
      });
      this.#pipelines.set(key, pipeline);
    }
    const params = this.gpu.createBuffer({
      size: words.byteLength,
      usage: GPUBufferUsage.STORAGE,
      mappedAtCreation: true,
    });
    new Int32Array(params.getMappedRange()).set(words);
    params.unmap();
    const bindGroup = this.gpu.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [params, ...buffers.map((b) => b.buffer)].map((buffer, binding) => ({
        binding,
        resource: { buffer },
      })),
    });
    const encoder = this.gpu.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(...workgroups(n));
    pass.end();
    this.gpu.queue.submit([encoder.finish()]);
    params.destroy(); // WebGPU frees it once the work already submitted is done
  }
}

function align4(bytes: number): number {
  return (bytes + 3) & ~3;
}

/** The dtype of a host array handed to upload. */
function dtypeOf(values: TypedArray): DType {
  if (values instanceof Float32Array) return "float32";
  if (values instanceof Float64Array) return "float64";
  if (values instanceof Int32Array) return "int32";
  if (values instanceof BigInt64Array) return "int64";
  return "uint8"; // Uint8Array: uint8 and bool alike, one byte each
}
