/**
 * CPU storage: GC-owned typed arrays. The garbage collector frees them and V8 knows
 * their size, so CPU tensors never need dispose().
 *
 * NOTE: a fresh ArrayBuffer costs about 1 us (1.5 us at 16 KiB), which would dominate a
 * small op, so buffers of at most 256 bytes are views into a shared 16 KiB slab and
 * buffers of at most 16 KiB views into a shared 128 KiB one (about 0.1 us; a 64x64
 * matmul went from 7.2 to 6.0 us). A slab is freed when the last view into it is: a
 * long-lived tensor keeps its slab alive (at most 16 or 128 KiB, the price of the speed).
 * Slabs are never reused, so new views are zero-filled (those for outputs that their kernel
 * writes whole come from an unzeroed slab).
 *
 * Freeing early: a buffer that the library itself allocated and that provably nothing
 * else can reach (a gradient between two backward steps, an optimizer slot's previous
 * value) is released at once with ArrayBuffer.transfer(0), which detaches it and frees
 * its memory; otherwise it would wait for a garbage collection, which V8 starts only
 * after tens of megabytes of such garbage. A ReleaseScope (src/backend/release_scope.ts) is
 * the proof of origin: this module notes each large buffer it allocates (`noteBorn`), and
 * `release` frees only those an open scope saw.
 *
 * Reuse: a buffer freed at once is not given back but moved (ArrayBuffer.transfer(), no
 * copy) into a small pool, and the next output of the same size takes it. Its old views are
 * detached all the same. NOTE: V8 counts every new ArrayBuffer's bytes towards its external
 * memory and starts a collection each few tens of megabytes, even when they were detached
 * again; on 2 cores its concurrent marking then takes a core from the kernels' threads. The
 * PTB model's step (inside tf.tidy) made 134 MB of new buffers a step and one mark-compact a
 * step, its vocabulary product taking 13-19 ms instead of 9 ms (docs/design.md).
 * @module
 */
import { arrayType, type DType, itemSize, type TypedArray } from "../../dtype.ts";
import { native } from "../../native/lib.ts";
import { movingBuffer, poisonsOutputs, takeBuffer } from "../../native/buffers.ts";

/** One full garbage collection now, through the output buffer helper (for memory V8 does not
 * see: the GPU's); false without the helper. */
export { requestCollection } from "../../native/buffers.ts";
import { noteBorn } from "../release_scope.ts";

/**
 * Views of fresh ArrayBuffers of `size` bytes, handed out in order, `align`ed. An
 * `uninitialised` slab takes its buffers from the output buffer helper (takeBuffer),
 * unzeroed.
 */
class Slab {
  #buffer: ArrayBuffer | undefined; // made at the first view, not at import
  #cursor = 0;
  constructor(
    readonly size: number,
    readonly maxBytes: number,
    readonly align: number,
    readonly uninitialised = false,
  ) {}

  view(ArrayType: ReturnType<typeof arrayType>, n: number, bytes: number): TypedArray {
    if (this.#buffer === undefined || this.#cursor + bytes > this.size) this.#refill();
    const view = new ArrayType(this.#buffer!, this.#cursor, n);
    this.#cursor += (bytes + this.align - 1) & -this.align || this.align; // align: a power of 2
    return view;
  }

  #refill(): void {
    this.#buffer = (this.uninitialised ? takeBuffer(this.size) : undefined) ??
      new ArrayBuffer(this.size);
    this.#cursor = 0;
  }
}

const smallSlab = new Slab(16 << 10, 256, 16);
const mediumSlab = new Slab(128 << 10, 16 << 10, 64);
/**
 * Medium outputs that their kernel writes whole. NOTE: V8 zero-fills a fresh ArrayBuffer,
 * which for a 16 KiB output (a 64x64 float32 matmul) cost about 0.3 us of the call's 6 us
 * (NumPy's malloc hands back the block it just freed, unzeroed).
 */
const mediumOutputSlab = new Slab(mediumSlab.size, mediumSlab.maxBytes, mediumSlab.align, true);
/** From this size buffers ask for transparent huge pages, as NumPy does (see eager.h). */
const HUGE_PAGE_HINT_BYTES = 4 << 20;

/** Buffers from this size up (those beyond the slabs) are counted, freed at once and reused;
 * the slabs' views are left to the garbage collector. */
export const RELEASE_MIN_BYTES = mediumSlab.maxBytes + 1;

/** Its constructor returns `target`, so a subclass's private fields land on `target`. */
class OnObject {
  constructor(target: object) {
    return target;
  }
}

/**
 * The buffers of at least RELEASE_MIN_BYTES that this module allocated carry, as a private
 * field, how many undisposed tensors view them (Tensor's constructor and dispose keep the
 * count). When the last one is disposed the buffer is freed; one never viewed by a tensor
 * stays with the garbage collector, and so do buffers from elsewhere (a user's typed array).
 * NOTE: on the buffer, not in a WeakMap keyed by it: each reuse makes a new ArrayBuffer
 * (transfer()), so the WeakMap took a new key per cycle; with its ephemeron bookkeeping an
 * allocate-and-dispose cycle of a 64 KiB output cost 1.9-5.7 us against 0.8-1.3 now
 * (docs/design.md, "A buffer's holder count lives on the buffer").
 */
class Holders extends OnObject {
  /** Tensors viewing the buffer; -1 once it was freed (the buffer is no longer counted). */
  #count = 0;

  /** Starts counting the tensors over `buffer`, which this module just allocated. */
  static count(buffer: ArrayBufferLike): void {
    if (#count in buffer) (buffer as unknown as Holders).#count = 0;
    else new Holders(buffer);
  }

  /** The count of `buffer`, or -1 when it is not counted. */
  static of(buffer: ArrayBufferLike): number {
    return #count in buffer ? (buffer as unknown as Holders).#count : -1;
  }

  static set(buffer: ArrayBufferLike, count: number): void {
    (buffer as unknown as Holders).#count = count;
  }
}

/** Counts one more tensor over `array`'s buffer (a no-op for buffers not from here). */
export function hold(array: ArrayBufferView): void {
  const count = Holders.of(array.buffer);
  if (count >= 0) Holders.set(array.buffer, count + 1);
}

/** Counts one tensor less over `array`'s buffer and frees it when none is left. */
export function letGo(array: ArrayBufferView): void {
  const buffer = array.buffer, count = Holders.of(buffer);
  if (count < 0) return;
  if (count > 1) {
    Holders.set(buffer, count - 1);
    return;
  }
  Holders.set(buffer, -1);
  if (buffer instanceof ArrayBuffer && !buffer.detached) retire(buffer);
}

/**
 * The identity of a releasable CPU buffer: the ArrayBuffer of one this module allocated (at
 * least RELEASE_MIN_BYTES, spanning it whole), the key release scopes record it under.
 */
export function releasableBuffer(array: ArrayBufferView): ArrayBufferLike | undefined {
  const buffer = array.buffer;
  return Holders.of(buffer) >= 0 && array.byteLength === buffer.byteLength ? buffer : undefined;
}

/**
 * Frees the buffer of `array` now when `array` spans a whole one of more than 16 KiB (never
 * a slab), and returns whether it did. NOTE: the caller guarantees that nothing else
 * holds the buffer: every view of it reads as empty afterwards.
 */
export function free(array: ArrayBufferView): boolean {
  const buffer = array.buffer;
  if (!(buffer instanceof ArrayBuffer) || buffer.detached) return false;
  if (buffer.byteLength < RELEASE_MIN_BYTES || array.byteLength !== buffer.byteLength) {
    return false;
  }
  retire(buffer);
  return true;
}

/** The most bytes kept for reuse. */
const REUSE_MAX_BYTES = 256 << 20;
/**
 * Buffers freed at once, by size, each the only reference to its memory; `used` counts the
 * retirements up to the last one of that size, so that sizes no longer in use go first when
 * the pool is full. NOTE: a size's entry stays when its last buffer is taken (a loop that
 * allocates and disposes one output each call would otherwise delete and remake it each
 * call); empty entries go once there are more than EMPTY_SIZES_MAX of them.
 */
const reusable = new Map<number, { buffers: ArrayBuffer[]; used: number }>();
let reusableBytes = 0, clock = 0;
const EMPTY_SIZES_MAX = 256;

/** Detaches `buffer` (every view of it reads as empty) and keeps its memory for reuse. */
function retire(buffer: ArrayBuffer): void {
  const bytes = buffer.byteLength;
  if (buffer.resizable || bytes > REUSE_MAX_BYTES) {
    buffer.transfer(0);
    return;
  }
  let entry = reusable.get(bytes);
  if (!entry) {
    if (reusable.size > EMPTY_SIZES_MAX) dropEmptySizes();
    reusable.set(bytes, entry = { buffers: [], used: 0 });
  }
  entry.used = ++clock;
  movingBuffer(buffer);
  entry.buffers.push(buffer.transfer());
  reusableBytes += bytes;
  while (reusableBytes > REUSE_MAX_BYTES) evictStalest();
}

/** Frees one buffer of the size least recently retired. */
function evictStalest(): void {
  let stalest: number | undefined, oldest = Infinity;
  for (const [bytes, { buffers, used }] of reusable) {
    if (buffers.length > 0 && used < oldest) [stalest, oldest] = [bytes, used];
  }
  const entry = reusable.get(stalest!)!;
  entry.buffers.pop()!.transfer(0);
  reusableBytes -= stalest!;
}

/** Forgets the sizes whose buffers were all taken. */
function dropEmptySizes(): void {
  for (const [bytes, { buffers }] of reusable) if (buffers.length === 0) reusable.delete(bytes);
}

/** Buffers of more than 16 KiB allocated anew so far (not reused), for tests and diagnostics. */
let freshBuffers = 0;

/** The bytes kept for reuse now, and how many buffers were allocated anew so far. */
export function reuseStats(): { pooledBytes: number; freshBuffers: number } {
  return { pooledBytes: reusableBytes, freshBuffers };
}

/** A kept buffer of exactly `bytes`, zero-filled or (for outputs) as it was. */
function reuse(bytes: number, uninitialised: boolean): ArrayBuffer | undefined {
  const entry = reusable.get(bytes);
  if (!entry) return undefined;
  const buffer = entry.buffers.pop();
  if (!buffer) return undefined;
  reusableBytes -= bytes;
  if (!uninitialised) new Uint8Array(buffer).fill(0);
  else if (poisonsOutputs()) new Uint8Array(buffer).fill(0xff);
  return buffer;
}

/** A zero-filled typed array for n elements of dtype, pooled when small. */
export function allocate(dtype: DType, n: number, op = "allocate"): TypedArray {
  return allocateArray(dtype, n, op, false);
}

/**
 * A typed array for n elements of dtype whose contents are unspecified: for an op's output
 * when its kernel writes every element (a 10 MB conv output was zero-filled and then
 * written again). Small ones come from the zeroed slabs all the same. NOTE: the test
 * suite runs with EAGER_POISON_OUTPUTS=1, which fills these with NaN (-1 for integers),
 * so a kernel that reads its output before writing it fails its tests.
 */
export function allocateOutput(dtype: DType, n: number, op = "allocate"): TypedArray {
  return allocateArray(dtype, n, op, true);
}

/** NOTE: the slabs' path inline, the rest apart: every small op's output comes this way, and
 * V8 inlines it into the op only while the op's call chain fits its bytecode budget. */
function allocateArray(dtype: DType, n: number, op: string, uninitialised: boolean) {
  const ArrayType = arrayType(dtype);
  const bytes = n * itemSize(dtype);
  if (bytes <= smallSlab.maxBytes) return smallSlab.view(ArrayType, n, bytes);
  if (bytes <= mediumSlab.maxBytes) {
    return (uninitialised ? mediumOutputSlab : mediumSlab).view(ArrayType, n, bytes);
  }
  return allocateLarge(dtype, n, bytes, op, uninitialised);
}

/** A buffer past the slabs: counted, releasable, reusable. */
function allocateLarge(
  dtype: DType,
  n: number,
  bytes: number,
  op: string,
  uninitialised: boolean,
): TypedArray {
  const ArrayType = arrayType(dtype);
  try {
    // Past the slabs every buffer is at least RELEASE_MIN_BYTES.
    let buffer = reuse(bytes, uninitialised);
    if (!buffer) {
      freshBuffers++;
      buffer = uninitialised ? takeBuffer(bytes) : undefined;
    }
    const array = buffer ? new ArrayType(buffer, 0, n) : new ArrayType(n);
    if (!buffer && bytes >= HUGE_PAGE_HINT_BYTES) native.eager_advise_huge_pages(array, bytes);
    Holders.count(array.buffer);
    noteBorn(array.buffer);
    return array;
  } catch (cause) {
    throw new RangeError(`${op}: cannot allocate ${n} ${dtype} elements (${bytes} bytes)`, {
      cause,
    });
  }
}
