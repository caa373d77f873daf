/**
 * CPU storage: GC-owned typed arrays. The garbage collector frees them and V8 knows
 * their size, so CPU tensors never need dispose().
 *
 * NOTE: a fresh ArrayBuffer costs about 1 us, which would dominate a small op, so
 * buffers of at most SMALL_BYTES are views into a shared 16 KiB slab (about 0.1 us).
 * A slab is freed when the last view into it is; a long-lived small tensor keeps its
 * slab (at most 16 KiB) alive. Slabs are never reused, so new views are zero-filled.
 * @module
 */
import { arrayType, type DType, itemSize, type TypedArray } from "./dtype.ts";
import { native } from "./native/lib.ts";

const SLAB_BYTES = 16384;
const SMALL_BYTES = 256;
const ALIGN = 16;
/** From this size buffers ask for transparent huge pages, as NumPy does (see eager.h). */
const HUGE_PAGE_HINT_BYTES = 4 << 20;

let slab = new ArrayBuffer(SLAB_BYTES);
let cursor = 0;

/** A zero-filled typed array for n elements of dtype, pooled when small. */
export function allocate(dtype: DType, n: number, op = "allocate"): TypedArray {
  const ArrayType = arrayType(dtype);
  const bytes = n * itemSize(dtype);
  if (bytes > SMALL_BYTES) {
    try {
      const array = new ArrayType(n);
      if (bytes >= HUGE_PAGE_HINT_BYTES) native.eager_advise_huge_pages(array, bytes);
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
