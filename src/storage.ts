/**
 * CPU storage: GC-owned typed arrays. The garbage collector frees them and V8 knows
 * their size, so CPU tensors never need dispose().
 *
 * NOTE: a fresh ArrayBuffer costs about 1 us, which would dominate a small op, so
 * buffers of at most SMALL_BYTES are views into a shared 16 KiB slab (about 0.1 us).
 * A slab is freed when the last view into it is; a long-lived small tensor keeps its
 * slab (at most 16 KiB) alive. Slabs are never reused, so new views are zero-filled.
 *
 * Freeing early: a buffer that the library itself allocated and that provably nothing
 * else can reach (a gradient between two backward steps, an optimizer slot's previous
 * value) is released at once with ArrayBuffer.transfer(0), which detaches it and frees
 * its memory; otherwise it would wait for a garbage collection, which V8 starts only
 * after tens of megabytes of such garbage. A ReleaseScope is the proof of origin: it
 * records the large buffers allocated while it is open, and `release` frees only those.
 * @module
 */
import { arrayType, type DType, itemSize, type TypedArray } from "./dtype.ts";
import { native } from "./native/lib.ts";

const SLAB_BYTES = 16384;
const SMALL_BYTES = 256;
const ALIGN = 16;
/** From this size buffers ask for transparent huge pages, as NumPy does (see eager.h). */
const HUGE_PAGE_HINT_BYTES = 4 << 20;

/** Buffers below this size are left to the garbage collector (slabs among them). */
const RELEASE_MIN_BYTES = 64 << 10;

let slab = new ArrayBuffer(SLAB_BYTES);
let cursor = 0;

/** Records the large buffers allocated while it is open (see `inReleaseScope`). */
export class ReleaseScope {
  readonly born: Set<ArrayBufferLike> = new Set();
}

let openScopes: ReleaseScope[] = [];

/** Runs fn with `scope` recording the large buffers allocated meanwhile. */
export function inReleaseScope<T>(scope: ReleaseScope, fn: () => T): T {
  const outer = openScopes;
  openScopes = [...outer, scope];
  try {
    return fn();
  } finally {
    openScopes = outer;
  }
}

/**
 * Frees `array`'s buffer now if `scope` saw it allocated, and returns whether it did.
 * NOTE: the caller guarantees that nothing else holds the buffer (see `free`).
 */
export function release(scope: ReleaseScope, array: ArrayBufferView): boolean {
  return scope.born.delete(array.buffer) && free(array);
}

/**
 * Frees the buffer of `array` now when `array` spans a whole one of at least 64 KiB (never
 * a slab), and returns whether it did. NOTE: the caller guarantees that nothing else
 * holds the buffer: every view of it reads as empty afterwards.
 */
export function free(array: ArrayBufferView): boolean {
  const buffer = array.buffer;
  if (!(buffer instanceof ArrayBuffer) || buffer.detached) return false;
  if (buffer.byteLength < RELEASE_MIN_BYTES || array.byteLength !== buffer.byteLength) {
    return false;
  }
  buffer.transfer(0);
  return true;
}

/** A zero-filled typed array for n elements of dtype, pooled when small. */
export function allocate(dtype: DType, n: number, op = "allocate"): TypedArray {
  const ArrayType = arrayType(dtype);
  const bytes = n * itemSize(dtype);
  if (bytes > SMALL_BYTES) {
    try {
      const array = new ArrayType(n);
      if (bytes >= HUGE_PAGE_HINT_BYTES) native.eager_advise_huge_pages(array, bytes);
      if (bytes >= RELEASE_MIN_BYTES) { for (const s of openScopes) s.born.add(array.buffer); }
      return array;
    } catch (cause) {
      throw new RangeError(`${op}: cannot allocate ${n} ${dtype} elements (${bytes} bytes)`, {
        cause,
      });
    }
  }
  if (cursor + bytes > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    cursor = 0;
  }
  const view = new ArrayType(slab, cursor, n);
  cursor += (bytes + ALIGN - 1) & -ALIGN || ALIGN;
  return view;
}
