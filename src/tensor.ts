/**
 * Tensor: an immutable n-d array. A tensor is a view (shape, strides, offset) over a
 * backend's storage (a typed array on the CPU), so transpose, slice, reverse, expandDims
 * and broadcastTo make no copy; kernels take strides, and ops that need dense input copy
 * first.
 * Method forms of the ops (`x.add(y)`) are attached in tensor_methods.ts.
 * @module
 */
import type { DType, TypedArray } from "./dtype.ts";
import { denseStrides, showShape, sizeOf } from "./shape.ts";
import { canonicalDevice } from "./device.ts";
import type { Backend, Storage } from "./backend/backend.ts";
import { cpuBackend } from "./backend/cpu/backend.ts";
import { backendForDevice } from "./backend/registry.ts";
import { formatTensor } from "./format.ts";
import { isPinned, scopes, track } from "./lifetime.ts";
import { activeTrace } from "./graph/hooks.ts";
import { hold, RELEASE_MIN_BYTES } from "./backend/cpu/storage.ts";

/** A JS scalar a tensor can be made from. */
export type Scalar = number | boolean | bigint;
/** Nested JS arrays of scalars. */
export type NestedArray = Scalar | readonly NestedArray[];
/** The method objects implement to be accepted where a tensor is (Variable does). */
export const TO_TENSOR: unique symbol = Symbol("deno-eager.toTensor");
/** An object that stands for a tensor, such as a Variable (its current value). */
export interface TensorConvertible {
  [TO_TENSOR](): Tensor;
}
/** Anything the ops accept where a tensor is expected. */
export type TensorLike = Tensor | NestedArray | ArrayBufferView | TensorConvertible;

let nextId = 0;

/** What a new tensor owes its storage and scope: a holder count on storage that is released
 * (device storage, CPU buffers past the slabs), and its place in the innermost tf.tidy. */
function adopt(t: Tensor, storage: Storage): void {
  if (!ArrayBuffer.isView(storage)) t.backend.hold(storage);
  else if (storage.byteLength >= RELEASE_MIN_BYTES) hold(storage);
  track(t);
}

/** Flat row-major values as numpy() gives them: a scalar, or nested arrays of `shape`. */
function nest(dtype: DType, shape: readonly number[], flat: TypedArray): NestedArray {
  const read = dtype === "bool" ? (i: number) => flat[i] !== 0 : (i: number) => flat[i];
  if (shape.length === 0) return read(0);
  const build = (dim: number, start: number): NestedArray[] => {
    const n = shape[dim];
    const out = new Array<NestedArray>(n);
    if (dim === shape.length - 1) {
      for (let i = 0; i < n; i++) out[i] = read(start + i);
    } else {
      const step = sizeOf(shape.slice(dim + 1));
      for (let i = 0; i < n; i++) out[i] = build(dim + 1, start + i * step);
    }
    return out;
  };
  return build(0, 0);
}

/**
 * An immutable multi-dimensional array.
 * @example
 * ```ts
 * import * as tf from "../mod.ts";
 * const x = tf.constant([[1, 2], [3, 4]]);
 * console.log(x.matmul(x).toString());
 * ```
 */
export class Tensor {
  // NOTE: the public fields are `declare`d, set by the constructor only. A plain declaration
  // is a class field: an initializer that defines each as undefined before the constructor
  // sets it, 64 bytes of bytecode that counted against V8's inlining budget of every op.

  /** Element type. */
  declare readonly dtype: DType;
  /** Dimensions. */
  declare readonly shape: readonly number[];
  /** Number of elements. */
  declare readonly size: number;

  /** The device's backend: where the storage lives and the kernels run. */
  declare readonly backend: Backend;
  /** Element offset of element (0, ..., 0) in `storage`. */
  declare readonly offset: number;
  /** Whether the elements are dense row-major from `offset`. */
  declare readonly contiguous: boolean;
  /** Unique per tensor; the gradient tape keys on it. */
  declare readonly id: number;
  #strides: readonly number[] | undefined;
  #storage: Storage;
  #disposed = false;

  /**
   * Wraps storage (its backend's: a typed array is CPU storage); ops build tensors, users
   * call `tf.constant`. When `strides` is omitted the tensor is dense row-major from
   * `offset`.
   */
  constructor(
    storage: Storage,
    dtype: DType,
    shape: readonly number[],
    strides?: readonly number[],
    offset = 0,
  ) {
    this.#storage = storage;
    this.dtype = dtype;
    this.shape = shape;
    this.size = sizeOf(shape);
    this.offset = offset;
    this.id = nextId++;
    this.#strides = strides === undefined ? undefined : stridedOnly(shape, strides);
    this.contiguous = this.#strides === undefined;
    // NOTE: every small op's path is the one test below and nothing else: a small CPU output
    // outside tf.tidy needs no holder count and no scope. With the counting and tracking
    // inline, a chain of 100 one-element ops took 21.6-22.8 us against 20.5-21.2 (adopt).
    const cpu = ArrayBuffer.isView(storage);
    this.backend = cpu ? cpuBackend : storage.backend;
    if (!cpu || storage.byteLength >= RELEASE_MIN_BYTES || scopes.length !== 0) {
      adopt(this, storage);
    }
  }

  /**
   * Backing storage (a typed array on the CPU); elements start at `offset` and follow
   * `strides`. Reading it from a disposed tensor is an error, so no op computes with freed
   * memory.
   */
  get storage(): Storage {
    if (this.#disposed) throw disposedError(this);
    return this.#storage;
  }

  /**
   * Frees this tensor's memory now instead of at a garbage collection (which is what
   * happens without it): the storage goes once every tensor that views it (reshapes,
   * slices, transposes) is disposed. Afterwards any use of this tensor is an error, and an
   * array `dataSync()` returned reads as empty once the storage is freed. A Variable's
   * value is not disposed this way (dispose the Variable). `using t = ...` disposes at the
   * end of the block (Symbol.dispose); `tf.tidy` disposes what a function made.
   */
  dispose(): void {
    if (this.#disposed || isPinned(this)) return;
    this.#disposed = true;
    this.backend.release(this.#storage);
  }

  /** Whether dispose() ran. */
  get isDisposed(): boolean {
    return this.#disposed;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Element strides (elements, not bytes); 0 on broadcast dims. */
  get strides(): readonly number[] {
    return this.#strides ??= denseStrides(this.shape);
  }

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** The device holding this tensor, as TensorFlow names it. */
  get device(): string {
    return this.backend.device;
  }

  /**
   * The elements as a flat row-major typed array (int64 as BigInt64Array, bool as
   * Uint8Array). For a dense CPU tensor this is a view of its storage: treat it as
   * read-only. On a device that cannot be read synchronously it is an error that names
   * `await t.data()`.
   */
  dataSync(): TypedArray {
    const storage = this.storage;
    activeTrace()?.hostRead(this, "dataSync");
    if (this.contiguous && ArrayBuffer.isView(storage)) {
      if (this.offset === 0 && storage.length === this.size) return storage;
      return storage.subarray(this.offset, this.offset + this.size);
    }
    if (!this.backend.readsSynchronously) {
      throw new Error(
        `dataSync: ${this.device} is read asynchronously: use \`await t.data()\`, ` +
          "or `await t.cpuAsync()` for a copy on the CPU",
      );
    }
    return this.backend.readSync(this, this.dtype, "dataSync");
  }

  /** The elements as dataSync() returns them, read without blocking (any device). */
  data(): Promise<TypedArray> {
    const storage = this.storage;
    if (ArrayBuffer.isView(storage)) return Promise.resolve(this.dataSync());
    return this.backend.read(this, this.dtype, "data");
  }

  /**
   * The value as JS data: a number, boolean or bigint (int64) for a scalar, nested
   * arrays otherwise.
   */
  numpy(): NestedArray {
    return nest(this.dtype, this.shape, this.dataSync());
  }

  /** The value as numpy() gives it, read without blocking (any device; TensorFlow.js's name). */
  async array(): Promise<NestedArray> {
    return nest(this.dtype, this.shape, await this.data());
  }

  /** Alias of numpy(), TensorFlow.js's name. */
  arraySync(): NestedArray {
    return this.numpy();
  }

  /** TensorFlow 2's printed form: `tf.Tensor([1. 2.], shape=(2,), dtype=float32)`. */
  toString(): string {
    return formatTensor(this.dtype, this.shape, this.dataSync());
  }

  /** `Number(t)` and `+t` for tensors with one element; `${t}` prints the tensor. */
  [Symbol.toPrimitive](hint: string): number | string {
    if (hint === "string") return this.toString();
    if (this.size !== 1) {
      throw new TypeError(
        `toNumber: only tensors with one element convert to a number, this one has shape ${
          showShape(this.shape)
        }`,
      );
    }
    return Number(this.dataSync()[0]);
  }

  [Symbol.for("Deno.customInspect")](): string {
    if (this.#disposed) {
      return `tf.Tensor(<disposed>, shape=${showShape(this.shape)}, dtype=${this.dtype})`;
    }
    return this.toString();
  }

  /** This tensor on the CPU: itself when it is there, else a copy. */
  cpu(): Tensor {
    return this.to("/cpu:0");
  }

  /** This tensor on GPU `index`: itself when it is there, else a copy. */
  gpu(index = 0): Tensor {
    return this.to(`/gpu:${index}`);
  }

  /**
   * This tensor on `device` ("/cpu:0", "/gpu:1", ...): itself when it is there, else a
   * dense copy. The one way tensors move between devices (ops never move them).
   */
  to(device: string): Tensor {
    const backend = backendForDevice(canonicalDevice(device));
    if (backend === this.backend) return this;
    if (!this.backend.readsSynchronously) {
      throw new Error(
        `to(${device}): ${this.device} is read asynchronously, so its tensors cannot move ` +
          `synchronously: use \`await t.toAsync("${device}")\` (or \`await t.cpuAsync()\`)`,
      );
    }
    const values = this.dataSync();
    return new Tensor(backend.upload(values, "copy"), this.dtype, this.shape);
  }

  /**
   * to(device) without blocking: the way off a device that is read asynchronously (WebGPU).
   * @example
   * ```ts
   * import * as tf from "../mod.ts";
   * const x = await tf.constant([1, 2]).toAsync("/cpu:0");
   * ```
   */
  async toAsync(device: string): Promise<Tensor> {
    const backend = backendForDevice(canonicalDevice(device));
    if (backend === this.backend) return this;
    const values = await this.data();
    return new Tensor(backend.upload(values, "copy"), this.dtype, this.shape);
  }

  /** This tensor on the CPU, without blocking: `await x.cpuAsync()` (see toAsync). */
  cpuAsync(): Promise<Tensor> {
    return this.toAsync("/cpu:0");
  }
}

/**
 * NOTE: the class's `[Symbol.dispose]` method alone is not always taken as `Disposable`:
 * where @types/node's declarations load first (a program whose first module imports a
 * `node:` module, then this one), TypeScript typed `using t = tensor` as an error. Merging
 * the interface states it whatever the order.
 */
export interface Tensor extends Disposable {}

function disposedError(t: Tensor): Error {
  return new Error(
    `a disposed tensor was used (${t.dtype} ${showShape(t.shape)}): it was freed by ` +
      "dispose(), a `using` block or tf.tidy",
  );
}

/** `strides`, or undefined where they are the dense row-major ones of `shape`. */
function stridedOnly(shape: readonly number[], strides: readonly number[]) {
  return isDense(shape, strides) ? undefined : strides;
}

function isDense(shape: readonly number[], strides: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== expected) return false;
    expected *= shape[i];
  }
  return true;
}
