/**
 * Tensor: an immutable n-d array. A tensor is a view (shape, strides, offset) over
 * typed-array storage, so transpose, slice, reverse, expandDims and broadcastTo make
 * no copy; kernels take strides, and ops that need dense input copy first.
 * Method forms of the ops (`x.add(y)`) are attached in tensor_methods.ts.
 * @module
 */
import type { DType, TypedArray } from "./dtype.ts";
import { denseStrides, showShape, sizeOf } from "./shape.ts";
import { CPU_DEVICE } from "./device.ts";
import { denseElements } from "./backend/cpu/copy.ts";
import { formatTensor } from "./format.ts";
import { isPinned, track } from "./lifetime.ts";
import { hold, letGo, RELEASE_MIN_BYTES } from "./backend/cpu/storage.ts";

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
  /** Element type. */
  readonly dtype: DType;
  /** Dimensions. */
  readonly shape: readonly number[];
  /** Number of elements. */
  readonly size: number;

  /** Element offset of element (0, ..., 0) in `data`. */
  readonly offset: number;
  /** Whether the elements are dense row-major from `offset`. */
  readonly contiguous: boolean;
  /** Unique per tensor; the gradient tape keys on it. */
  readonly id: number;
  #strides: readonly number[] | undefined;
  #data: TypedArray;
  #disposed = false;

  /**
   * Wraps storage; ops build tensors, users call `tf.constant`. When `strides` is
   * omitted the tensor is dense row-major from `offset`.
   */
  constructor(
    data: TypedArray,
    dtype: DType,
    shape: readonly number[],
    strides?: readonly number[],
    offset = 0,
  ) {
    this.#data = data;
    this.dtype = dtype;
    this.shape = shape;
    this.size = sizeOf(shape);
    this.offset = offset;
    this.id = nextId++;
    if (strides === undefined || isDense(shape, strides)) {
      this.#strides = undefined;
      this.contiguous = true;
    } else {
      this.#strides = strides;
      this.contiguous = false;
    }
    if (data.byteLength >= RELEASE_MIN_BYTES) hold(data);
    track(this);
  }

  /**
   * Backing storage; elements start at `offset` and follow `strides`. Reading it from a
   * disposed tensor is an error, so no op computes with freed memory.
   */
  get data(): TypedArray {
    if (this.#disposed) throw disposedError(this);
    return this.#data;
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
    if (this.#data.byteLength >= RELEASE_MIN_BYTES) letGo(this.#data);
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
    return CPU_DEVICE;
  }

  /**
   * The elements as a flat row-major typed array (int64 as BigInt64Array, bool as
   * Uint8Array). For a dense tensor this is a view of its storage: treat it as
   * read-only.
   */
  dataSync(): TypedArray {
    if (this.contiguous) {
      if (this.offset === 0 && this.data.length === this.size) return this.data;
      return this.data.subarray(this.offset, this.offset + this.size);
    }
    return denseElements(this, this.dtype, "dataSync");
  }

  /**
   * The value as JS data: a number, boolean or bigint (int64) for a scalar, nested
   * arrays otherwise.
   */
  numpy(): NestedArray {
    const flat = this.dataSync();
    const read = this.dtype === "bool" ? (i: number) => flat[i] !== 0 : (i: number) => flat[i];
    if (this.rank === 0) return read(0);
    const build = (dim: number, start: number): NestedArray[] => {
      const n = this.shape[dim];
      const out = new Array<NestedArray>(n);
      if (dim === this.rank - 1) {
        for (let i = 0; i < n; i++) out[i] = read(start + i);
      } else {
        const step = sizeOf(this.shape.slice(dim + 1));
        for (let i = 0; i < n; i++) out[i] = build(dim + 1, start + i * step);
      }
      return out;
    };
    return build(0, 0);
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

  /** This tensor on the CPU (it already is). */
  cpu(): Tensor {
    return this;
  }

  /** A copy on GPU `index`; raises while tf.numGpus() is 0. */
  gpu(index = 0): Tensor {
    throw new Error(`no GPU device: tf.numGpus() is 0 (asked for /gpu:${index})`);
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

function isDense(shape: readonly number[], strides: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== expected) return false;
    expected *= shape[i];
  }
  return true;
}
