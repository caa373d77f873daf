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
import { arrayType, type DType, dtypeOfArray, type TypedArray } from "../../dtype.ts";
import { broadcastStrides, sizeOf } from "../../shape.ts";
import type { Backend, MatrixOperand } from "../backend.ts";
import { cpuBackend } from "../cpu/backend.ts";
import { noteBorn } from "../release_scope.ts";
import { Tensor } from "../../tensor.ts";
import {
  copyShader,
  elementwiseRule,
  elementwiseShader,
  MAX_RANK,
  walkWords,
  whereShader,
  WORKGROUP,
} from "./elementwise.ts";
import { argChooseShader, hasReducer, REDUCE_CHUNK, reduceShader, reduceWords } from "./reduce.ts";
import { Reduce } from "../../native/codes.ts";

/** Chunks an argmax in chunks chooses among at most (one thread loops over them). */
const ARG_MAX_PARTS = 4096;
import {
  blockedMatmulShader,
  blockOf,
  isThin,
  K_PIECE,
  matmulShader,
  matmulWords,
  TILE_COLS,
  TILE_ROWS,
  TILE_THREADS,
} from "./matmul.ts";
import { deviceItemSize, deviceType } from "./types.ts";
import { CommandQueue } from "./queue.ts";
import { BufferPool, memoryLimitFromEnv } from "./memory.ts";
import { GpuStorage } from "./storage.ts";

export { GpuStorage };
import { convPass } from "./conv.ts";
import { avgPoolGradPass, maxPoolGradPass, poolForward } from "./pool.ts";
import { randomFill } from "./random.ts";
import { biasActivation, fusedUpdate, softmaxRows, sparseXentGrad } from "./nn.ts";
import { gather, gatherNd, oneHot, scatterNd, segmentSum } from "./index.ts";
import { lstmStep, lstmStepGrad } from "./recurrent.ts";
import { resample2d } from "./resample.ts";
import { scan } from "./scan.ts";
import { searchSorted } from "./search.ts";
import { sort, topK } from "./sort.ts";
import { segmentReduce } from "./segment.ts";

/** The usage of every storage buffer. NOTE: read at first use, not at import: a runtime
 * without WebGPU can still load this module. */
const storageUsage = () =>
  GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** Pooled bytes kept after a read; past this the pool is emptied. */
const POOL_KEEP_BYTES = 512 * 2 ** 20;

/** The WebGPU backend of one adapter's device. */
export class WebGpuBackend implements Backend<GpuStorage> {
  readonly readsSynchronously = false;
  readonly queue: CommandQueue;
  readonly memory: BufferPool;

  constructor(readonly device: string, readonly gpu: GPUDevice, readonly adapterName: string) {
    this.queue = new CommandQueue(gpu, device);
    this.memory = new BufferPool(gpu, storageUsage(), () => this.queue.flush());
    this.memory.limit = memoryLimitFromEnv();
  }

  /** Every dtype but float64, which WGSL has no type for (types.ts). */
  holds(dtype: DType): boolean {
    return deviceType(dtype) !== undefined;
  }

  // --- storage

  allocate(dtype: DType, n: number, op: string): GpuStorage {
    const storage = this.allocateOutput(dtype, n, op);
    // Pooled buffers hold old values: zero the words a kernel may read.
    const words = Math.ceil(storage.bytes / 4);
    if (words > 0) {
      this.dispatch("zero", zeroShader, Int32Array.of(words), words, [storage]);
    }
    return storage;
  }

  allocateOutput(dtype: DType, n: number, op: string): GpuStorage {
    if (!deviceType(dtype)) {
      throw new TypeError(
        `${op}: ${dtype} tensors cannot live on ${this.device} (WebGPU, ${this.adapterName}): ` +
          "WGSL has no 64-bit float; cast to float32 first",
      );
    }
    const bytes = n * deviceItemSize(dtype);
    const limit = this.gpu.limits.maxBufferSize;
    if (bytes > limit) {
      throw new RangeError(
        `${op}: ${n} ${dtype} elements (${bytes} bytes) exceed ${this.device}'s largest buffer ` +
          `(${limit} bytes, ${this.adapterName})`,
      );
    }
    const storage = new GpuStorage(this, this.memory.take(bytes, op), bytes);
    this.memory.track(storage, storage.buffer);
    noteBorn(storage);
    return storage;
  }

  upload(values: TypedArray, op: string): GpuStorage {
    // Uint8Array holds uint8 and bool alike: one byte each.
    const storage = this.allocateOutput(dtypeOfArray(values) ?? "uint8", values.length, op);
    if (values.length > 0) {
      // writeBuffer runs before kernels still recorded: submit them first, since the pooled
      // buffer may be one they read.
      this.queue.flush();
      // bool and uint8 widen to one word an element (src/backend/webgpu/types.ts).
      const words = values instanceof Uint8Array ? Uint32Array.from(values) : values;
      const bytes = new Uint8Array(align4(words.byteLength));
      bytes.set(new Uint8Array(words.buffer, words.byteOffset, words.byteLength));
      this.gpu.queue.writeBuffer(storage.buffer, 0, bytes.buffer);
    }
    return storage;
  }

  readSync(_view: Tensor, _dtype: DType, op: string): TypedArray {
    throw new Error(
      `${op}: ${this.device} is read asynchronously: use \`await t.data()\` or move it with .cpu()`,
    );
  }

  /** Copies the storage back, then takes the view's elements on the CPU. */
  async read(view: Tensor, dtype: DType, op: string): Promise<TypedArray> {
    const storage = view.storage as GpuStorage;
    const size = align4(storage.bytes);
    let bytes = new ArrayBuffer(0);
    if (size > 0) {
      const staging = this.gpu.createBuffer({
        size,
        usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
      });
      try {
        this.queue.flush();
        const encoder = this.gpu.createCommandEncoder();
        encoder.copyBufferToBuffer(storage.buffer, 0, staging, 0, size);
        this.gpu.queue.submit([encoder.finish()]);
        await staging.mapAsync(GPUMapMode.READ);
        bytes = staging.getMappedRange().slice(0, storage.bytes);
      } finally {
        staging.destroy();
      }
    }
    const error = this.queue.takeError();
    if (error) throw new Error(`${op}: ${error.message}`, { cause: error });
    if (this.memory.pooledBytes > POOL_KEEP_BYTES && !this.queue.pending) this.memory.trim();
    const host = hostArray(view.dtype, bytes);
    const hostView = new Tensor(host, view.dtype, view.shape, view.strides, view.offset);
    return cpuBackend.readSync(hostView, dtype, op);
  }

  hold(storage: GpuStorage): void {
    storage.holders++;
  }

  release(storage: GpuStorage): void {
    if (--storage.holders <= 0) this.free(storage);
  }

  /** Returns the storage's buffer to the pool (once). */
  free(storage: GpuStorage): boolean {
    if (storage.returned) return false;
    storage.returned = true;
    this.memory.giveBack(storage, storage.buffer);
    return true;
  }

  storageKey(storage: GpuStorage): object {
    return storage;
  }

  // --- elementwise

  unary(op: string, code: number, x: Tensor, outDtype: DType): GpuStorage {
    const rule = elementwiseRule(1, code, x.dtype);
    if (!rule || (rule.out ?? x.dtype) !== outDtype) this.unsupported(op, `${x.dtype} ${op}`);
    const out = this.allocateOutput(outDtype, x.size, op);
    if (x.size > 0) {
      this.#checkRank(op, x.rank);
      const words = walkWords(x.shape, x.size, [x]);
      this.dispatch(
        `u${code}${x.dtype}`,
        () => elementwiseShader(1, rule, x.dtype),
        words,
        x.size,
        [
          out,
          x.storage as GpuStorage,
        ],
      );
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
    const rule = elementwiseRule(2, code, x.dtype);
    if (!rule || (rule.out ?? x.dtype) !== outDtype) this.unsupported(op, `${x.dtype} ${op}`);
    const out = this.allocateOutput(outDtype, n, op);
    if (n > 0) {
      this.#checkRank(op, shape.length);
      const words = walkWords(shape, n, [broadcastOperand(x, shape), broadcastOperand(y, shape)]);
      this.dispatch(`b${code}${x.dtype}`, () => elementwiseShader(2, rule, x.dtype), words, n, [
        out,
        x.storage as GpuStorage,
        y.storage as GpuStorage,
      ]);
    }
    return out;
  }

  where(
    op: string,
    cond: Tensor,
    a: Tensor,
    b: Tensor,
    shape: readonly number[],
    out: GpuStorage,
  ): void {
    const n = sizeOf(shape);
    if (n === 0) return;
    this.#checkRank(op, shape.length);
    const operands = [cond, a, b].map((t) => broadcastOperand(t, shape));
    this.dispatch(`w${a.dtype}`, () => whereShader(a.dtype), walkWords(shape, n, operands), n, [
      out,
      cond.storage as GpuStorage,
      a.storage as GpuStorage,
      b.storage as GpuStorage,
    ]);
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
    if (!deviceType(src.dtype) || !deviceType(outDtype)) {
      this.unsupported(op, `a ${src.dtype} -> ${outDtype} copy`);
    }
    if (src.size === 0) return;
    this.#checkRank(op, src.rank);
    const words = walkWords(src.shape, src.size, [src, { offset, strides }]);
    this.dispatch(
      `c${src.dtype}${outDtype}`,
      () => copyShader(src.dtype, outDtype),
      words,
      src.size,
      [
        out,
        src.storage as GpuStorage,
      ],
    );
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
    if (!hasReducer(code, x.dtype)) this.unsupported(op, `${x.dtype} ${op}`);
    this.#checkRank(op, shape.length);
    const outputs = sizeOf(shape.slice(0, keepRank));
    if (outputs === 0) return;
    const divisor = sizeOf(shape.slice(keepRank));
    if ((code === Reduce.ARGMAX || code === Reduce.ARGMIN) && divisor > REDUCE_CHUNK) {
      return this.#argInChunks(op, code, x, shape, strides, keepRank, out);
    }
    // Passes of at most REDUCE_CHUNK elements a thread: each before the last writes a partial
    // a chunk, [outputs, parts], which the next reduces with the same rule.
    let source = x.storage as GpuStorage, walk = { shape, strides, keepRank, offset: x.offset };
    for (;;) {
      const count = sizeOf(walk.shape.slice(walk.keepRank));
      const parts = Math.max(1, Math.ceil(count / REDUCE_CHUNK));
      const partial = parts > 1;
      const target = partial ? this.allocateOutput(x.dtype, outputs * parts, op) : out;
      const words = reduceWords(
        outputs * parts,
        walk.keepRank,
        walk.shape,
        walk.strides,
        walk.offset,
        [
          parts,
          REDUCE_CHUNK,
          divisor,
        ],
      );
      const shader = () => reduceShader(code, x.dtype, partial)!; // built on a cache miss only
      this.dispatch(`r${code}${x.dtype}${partial}`, shader, words, outputs * parts, [
        target,
        source,
      ]);
      if (source !== x.storage) this.free(source); // the queue keeps order: safe to reuse
      if (!partial) return;
      source = target;
      walk = { shape: [outputs, parts], strides: [parts, 1], keepRank: 1, offset: 0 };
    }
  }

  /**
   * argmax / argmin past one chunk: each chunk's index (int32), then one thread an output
   * choosing among its chunks (argChooseShader). That last thread loops over the chunks, so
   * ARG_MAX_PARTS bounds them (llvmpipe's loop limit).
   */
  #argInChunks(
    op: string,
    code: number,
    x: Tensor,
    shape: readonly number[],
    strides: readonly number[],
    keepRank: number,
    out: GpuStorage,
  ): void {
    const outputs = sizeOf(shape.slice(0, keepRank));
    const count = sizeOf(shape.slice(keepRank));
    const parts = Math.ceil(count / REDUCE_CHUNK);
    if (parts > ARG_MAX_PARTS) {
      this.unsupported(
        op,
        `${op} over more than ${ARG_MAX_PARTS * REDUCE_CHUNK} elements an output`,
      );
    }
    const chunks = this.allocateOutput("int32", outputs * parts, op);
    const words = reduceWords(outputs * parts, keepRank, shape, strides, x.offset, [
      parts,
      REDUCE_CHUNK,
      count,
    ]);
    const first = () => reduceShader(code, x.dtype, true)!;
    this.dispatch(`r${code}${x.dtype}true`, first, words, outputs * parts, [
      chunks,
      x.storage as GpuStorage,
    ]);
    const choose = reduceWords(outputs, keepRank, shape, strides, x.offset, [parts, 0, count]);
    this.dispatch(`a${code}${x.dtype}`, () => argChooseShader(code, x.dtype)!, choose, outputs, [
      out,
      x.storage as GpuStorage,
      chunks,
    ]);
    this.free(chunks); // the queue keeps order: reused only after the kernel above read it
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
    const dtype = a.t.dtype;
    if (dtype !== "float32" && dtype !== "int32") this.unsupported(op, `${dtype} ${op}`);
    const type = dtype === "float32" ? "f32" : "i32";
    this.#checkRank(op, batch.length);
    const thin = isThin(m, n, k), block = blockOf(m, n);
    const [rowsPer, colsPer] = thin ? block : [TILE_ROWS, TILE_COLS];
    const units = sizeOf(batch) * Math.ceil(m / rowsPer) * Math.ceil(n / colsPer);
    if (units === 0) return;
    const [key, source, threads] = thin
      ? [`mm${type}${block}`, () => blockedMatmulShader(type, block), units]
      : [`mm${type}`, () => matmulShader(type), units * TILE_THREADS];
    // k = 0 still runs once: the kernel writes the zeros.
    for (let k0 = 0; k0 === 0 || k0 < k; k0 += K_PIECE) {
      const words = matmulWords(
        batch,
        [m, n, Math.min(K_PIECE, k - k0)],
        { offset: a.t.offset + k0 * a.cs, rs: a.rs, cs: a.cs, batchStrides: aBatchStrides },
        { offset: b.t.offset + k0 * b.rs, rs: b.rs, cs: b.cs, batchStrides: bBatchStrides },
        k0 > 0,
      );
      this.dispatch(key, source, words, threads, [
        out,
        a.t.storage as GpuStorage,
        b.t.storage as GpuStorage,
      ]);
    }
  }

  // --- the families not built yet: each an error naming the op and the device

  randomFill(...args: Parameters<Backend<GpuStorage>["randomFill"]>): void {
    randomFill(this, ...args);
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
  softmax(...args: Parameters<Backend<GpuStorage>["softmax"]>): void {
    softmaxRows(this, ...args);
  }
  sparseXentGrad(...args: Parameters<Backend<GpuStorage>["sparseXentGrad"]>): void {
    sparseXentGrad(this, ...args);
  }
  biasActivation(...args: Parameters<Backend<GpuStorage>["biasActivation"]>): void {
    biasActivation(this, ...args);
  }
  fusedUpdate(...args: Parameters<Backend<GpuStorage>["fusedUpdate"]>): void {
    fusedUpdate(this, ...args);
  }
  lstmStep(...args: Parameters<Backend<GpuStorage>["lstmStep"]>): void {
    lstmStep(this, ...args);
  }
  lstmStepGrad(...args: Parameters<Backend<GpuStorage>["lstmStepGrad"]>): void {
    lstmStepGrad(this, ...args);
  }
  gather(...args: Parameters<Backend<GpuStorage>["gather"]>): number {
    return gather(this, ...args);
  }
  gatherNd(...args: Parameters<Backend<GpuStorage>["gatherNd"]>): number {
    return gatherNd(this, ...args);
  }
  scatterNd(...args: Parameters<Backend<GpuStorage>["scatterNd"]>): number {
    return scatterNd(this, ...args);
  }
  segmentSum(...args: Parameters<Backend<GpuStorage>["segmentSum"]>): void {
    segmentSum(this, ...args);
  }
  oneHot(...args: Parameters<Backend<GpuStorage>["oneHot"]>): void {
    oneHot(this, ...args);
  }
  resample2d(...args: Parameters<NonNullable<Backend<GpuStorage>["resample2d"]>>): void {
    resample2d(this, ...args);
  }
  scan(...args: Parameters<NonNullable<Backend<GpuStorage>["scan"]>>): void {
    scan(this, ...args);
  }
  searchSorted(...args: Parameters<NonNullable<Backend<GpuStorage>["searchSorted"]>>): void {
    searchSorted(this, ...args);
  }
  segmentReduce(...args: Parameters<NonNullable<Backend<GpuStorage>["segmentReduce"]>>): void {
    segmentReduce(this, ...args);
  }
  sort(...args: Parameters<NonNullable<Backend<GpuStorage>["sort"]>>): void {
    sort(this, ...args);
  }
  topK(...args: Parameters<NonNullable<Backend<GpuStorage>["topK"]>>): void {
    topK(this, ...args);
  }

  // --- helpers

  unsupported(op: string, what: string): never {
    throw new Error(
      `${op}: ${what} is not implemented on ${this.device} (WebGPU, ${this.adapterName}) yet; ` +
        "compute it on the CPU: move the inputs with .cpu()",
    );
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
    const pipeline = this.queue.pipeline(key, source);
    this.queue.record(pipeline, words, n, buffers.map((b) => b.buffer));
  }
}

/** t's layout walked as `shape` (t broadcast to it). */
function broadcastOperand(t: Tensor, shape: readonly number[]) {
  return { offset: t.offset, strides: broadcastStrides(t.shape, t.strides, shape) };
}

/** Zeroes the first p[0] words of a buffer. */
const zeroShader = () => `
@group(0) @binding(0) var<storage, read> p: array<i32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = i32(id.x + id.y * groups.x * ${WORKGROUP}u);
  if (i < p[0]) { out[i] = 0u; }
}
`;

function align4(bytes: number): number {
  return (bytes + 3) & ~3;
}

/** Device storage's bytes as the host array of dtype (bool and uint8 narrow from words). */
function hostArray(dtype: DType, bytes: ArrayBuffer): TypedArray {
  if (dtype === "bool" || dtype === "uint8") return Uint8Array.from(new Uint32Array(bytes));
  const ArrayType = arrayType(dtype) as unknown as new (buffer: ArrayBuffer) => TypedArray;
  return new ArrayType(bytes);
}
