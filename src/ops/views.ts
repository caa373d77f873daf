/**
 * Ops that only re-describe a tensor's storage: reshape (of a dense tensor), expandDims,
 * squeeze, transpose, slice, stridedSlice, reverse, broadcastTo, identity. They make
 * no copy; kernels read the resulting strides (see tensor.ts).
 * @module
 */
import {
  checkRank,
  denseStrides,
  describe,
  normalizeAxes,
  normalizeAxis,
  showShape,
} from "../shape.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { active, record1 } from "../tape.ts";
import { contiguous, copyInto, emptyTensor } from "./cast.ts";
import { toTensor } from "./convert.ts";

/** A strided region: shape, element strides and offset. */
interface Layout {
  shape: readonly number[];
  strides: readonly number[];
  offset: number;
}

/** A new tensor over x's storage with another layout. */
export function view(
  x: Tensor,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
): Tensor {
  return new Tensor(x.storage, x.dtype, shape, strides, offset);
}

/** A view of `storage` (default t) recorded as an op of t with a gradient rule. */
function recordedView(
  op: string,
  t: Tensor,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
  grad: (dy: Tensor) => Tensor,
  storage: Tensor = t,
): Tensor {
  const out = view(storage, shape, strides, offset);
  if (active.length !== 0) record1(op, [t], out, (dy) => [() => grad(dy)]);
  return out;
}

/**
 * A slice-like view. `layout(strides, start)` maps the source's layout to the view's;
 * the gradient writes dy into the same region of zeros, found by applying `layout` to a
 * dense tensor of the source's shape.
 */
function sliceView(
  op: string,
  t: Tensor,
  layout: (strides: readonly number[], start: number) => Layout,
): Tensor {
  const l = layout(t.strides, t.offset);
  return recordedView(
    op,
    t,
    l.shape,
    l.strides,
    l.offset,
    (dy) => scatterRegion(dy, t.shape, layout(denseStrides(t.shape), 0)),
  );
}

/** Zeros of `shape` with dy written into `region` (the gradient of a slice). */
function scatterRegion(dy: Tensor, shape: readonly number[], region: Layout): Tensor {
  const out = emptyTensor("sliceGrad", dy.dtype, shape, dy.backend);
  copyInto("sliceGrad", out, region.strides, region.offset, dy);
  if (active.length !== 0) {
    record1("sliceGrad", [dy], out, (g) => [() => gatherRegion(g, region)]);
  }
  return out;
}

/** The region of x (read as dense) as a view: the gradient of scatterRegion. */
function gatherRegion(x: Tensor, region: Layout): Tensor {
  const dense = contiguous(x, "slice");
  return recordedView(
    "slice",
    x,
    region.shape,
    region.strides,
    dense.offset + region.offset,
    (dy) => scatterRegion(dy, x.shape, region),
    dense,
  );
}

function checkIntegers(op: string, what: string, values: unknown, length?: number): number[] {
  if (!Array.isArray(values) || values.some((v) => typeof v !== "number" || !Number.isInteger(v))) {
    throw new TypeError(
      `${op}: ${what} must be an array of integers, got ${describe(values)}`,
    );
  }
  if (length !== undefined && values.length !== length) {
    throw new RangeError(`${op}: ${what} has ${values.length} entries, expected ${length}`);
  }
  // A copy: gradient rules run later and must not see the caller's later edits.
  return [...values] as number[];
}

/** The target shape of a reshape, with one -1 inferred. */
function inferShape(op: string, shape: readonly number[], x: Tensor): number[] {
  const dims = checkIntegers(op, "shape", shape);
  checkRank(op, dims.length);
  let unknown = -1, known = 1;
  for (let i = 0; i < dims.length; i++) {
    if (dims[i] === -1) {
      if (unknown >= 0) {
        throw new RangeError(`${op}: shape ${showShape(dims)} has more than one -1`);
      }
      unknown = i;
    } else if (dims[i] < 0) {
      throw new RangeError(`${op}: shape ${showShape(dims)} has a negative dimension`);
    } else known *= dims[i];
  }
  const out = dims.slice();
  if (unknown >= 0) {
    if (known === 0 || x.size % known !== 0) {
      throw new RangeError(
        `${op}: cannot infer the -1 in ${showShape(dims)} for a tensor of shape ` +
          `${showShape(x.shape)} (${x.size} elements)`,
      );
    }
    out[unknown] = x.size / known;
  } else if (known !== x.size) {
    throw new RangeError(
      `${op}: cannot reshape a tensor of shape ${showShape(x.shape)} (${x.size} elements) into ` +
        `shape ${showShape(dims)} (${known} elements)`,
    );
  }
  return out;
}

/**
 * The same elements in a new shape; one dimension may be -1 (inferred).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.reshape([1, 2, 3, 4, 5, 6], [2, -1]); // shape [2, 3]
 * ```
 */
export function reshape(x: TensorLike, shape: readonly number[]): Tensor {
  const t = toTensor("reshape", x);
  const target = inferShape("reshape", shape, t);
  const dense = contiguous(t, "reshape");
  return recordedView(
    "reshape",
    t,
    target,
    denseStrides(target),
    dense.offset,
    (dy) => reshape(dy, t.shape),
    dense,
  );
}

/**
 * Inserts a dimension of size 1 at `axis` (negative counts from the end).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.expandDims([1, 2], 0); // shape [1, 2]
 * ```
 */
export function expandDims(x: TensorLike, axis = 0): Tensor {
  const t = toTensor("expandDims", x);
  const a = normalizeAxis("expandDims", axis, t.rank + 1);
  checkRank("expandDims", t.rank + 1);
  const shape = [...t.shape], strides = [...t.strides];
  shape.splice(a, 0, 1);
  strides.splice(a, 0, a < t.rank ? t.strides[a] * t.shape[a] : 1);
  return recordedView("expandDims", t, shape, strides, t.offset, (dy) => reshape(dy, t.shape));
}

/**
 * Removes dimensions of size 1 (all of them, or those in `axis`).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.squeeze([[1], [2]]); // shape [2]
 * ```
 */
export function squeeze(x: TensorLike, axis?: number | readonly number[]): Tensor {
  const t = toTensor("squeeze", x);
  const drop = axis === undefined
    ? t.shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)
    : normalizeAxes("squeeze", axis, t.rank);
  for (const a of drop) {
    if (t.shape[a] !== 1) {
      throw new RangeError(
        `squeeze: cannot squeeze axis ${a} of size ${t.shape[a]} (shape ${showShape(t.shape)})`,
      );
    }
  }
  const keep = new Set(drop);
  const shape: number[] = [], strides: number[] = [];
  for (let i = 0; i < t.rank; i++) {
    if (!keep.has(i)) (shape.push(t.shape[i]), strides.push(t.strides[i]));
  }
  return recordedView("squeeze", t, shape, strides, t.offset, (dy) => reshape(dy, t.shape));
}

/**
 * Permutes dimensions (reverses them when `perm` is omitted).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.transpose([[1, 2, 3], [4, 5, 6]]); // shape [3, 2]
 * ```
 */
export function transpose(x: TensorLike, perm?: readonly number[]): Tensor {
  const t = toTensor("transpose", x);
  const p = perm === undefined
    ? t.shape.map((_, i) => t.rank - 1 - i)
    : checkIntegers("transpose", "perm", perm, t.rank);
  const seen = new Set(p.map((a) => normalizeAxis("transpose", a, t.rank)));
  if (seen.size !== t.rank) {
    throw new RangeError(
      `transpose: perm ${showShape(p)} is not a permutation of 0..${t.rank - 1}`,
    );
  }
  const axes = p.map((a) => normalizeAxis("transpose", a, t.rank));
  const inverse = axes.map((_, i) => axes.indexOf(i));
  return recordedView(
    "transpose",
    t,
    axes.map((a) => t.shape[a]),
    axes.map((a) => t.strides[a]),
    t.offset,
    (dy) => transpose(dy, inverse),
  );
}

/**
 * The block starting at `begin` with `size` (-1: to the end) along each dimension.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.slice([[1, 2, 3], [4, 5, 6]], [0, 1], [2, -1]); // [[2, 3], [5, 6]]
 * ```
 */
export function slice(
  x: TensorLike,
  begin: number | readonly number[],
  size?: number | readonly number[],
): Tensor {
  const op = "slice";
  const t = toTensor(op, x);
  const b = checkIntegers(op, "begin", typeof begin === "number" ? [begin] : begin);
  if (b.length > t.rank) {
    throw new RangeError(`${op}: begin has ${b.length} entries for a tensor of rank ${t.rank}`);
  }
  const s = size === undefined
    ? b.map(() => -1)
    : checkIntegers(op, "size", typeof size === "number" ? [size] : size, b.length);
  const layout = (strides: readonly number[], start: number): Layout => {
    const shape = [...t.shape];
    let offset = start;
    for (let i = 0; i < b.length; i++) {
      const len = s[i] === -1 ? t.shape[i] - b[i] : s[i];
      if (b[i] < 0 || len < 0 || b[i] + len > t.shape[i]) {
        throw new RangeError(
          `${op}: begin ${showShape(b)} and size ${showShape(s)} are out of bounds for shape ` +
            `${showShape(t.shape)} (dimension ${i})`,
        );
      }
      shape[i] = len;
      if (len > 0) offset += b[i] * strides[i];
    }
    return { shape, strides, offset };
  };
  return sliceView(op, t, layout);
}

/** Masks of tf.strided_slice (bit i refers to entry i of begin/end/strides). */
export interface StridedSliceOptions {
  beginMask?: number;
  endMask?: number;
  ellipsisMask?: number;
  newAxisMask?: number;
  shrinkAxisMask?: number;
}

/**
 * NumPy-style slicing with TensorFlow's masks: `x[b0:e0:s0, ...]`.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.stridedSlice([0, 1, 2, 3, 4, 5], [5], [0], [-2]); // [5, 3, 1]
 * ```
 */
export function stridedSlice(
  x: TensorLike,
  begin: readonly number[],
  end: readonly number[],
  strides?: readonly number[],
  options: StridedSliceOptions = {},
): Tensor {
  const op = "stridedSlice";
  const t = toTensor(op, x);
  const starts = checkIntegers(op, "begin", begin), n = starts.length;
  const ends = checkIntegers(op, "end", end, n);
  const steps = strides ? checkIntegers(op, "strides", strides, n) : starts.map(() => 1);
  const masks = { ...options };
  const bit = (mask: number | undefined, i: number) => ((mask ?? 0) >> i) & 1;
  const ellipses = [...Array(n).keys()].filter((i) => bit(masks.ellipsisMask, i));
  if (ellipses.length > 1) throw new RangeError(`${op}: only one ellipsis is allowed`);
  // Dims the spec names explicitly; an ellipsis (or the implicit one at the end) covers the rest.
  const named =
    [...Array(n).keys()].filter((i) => !bit(masks.ellipsisMask, i) && !bit(masks.newAxisMask, i))
      .length;
  if (named > t.rank) {
    throw new RangeError(`${op}: the slice names ${named} dims of a tensor of rank ${t.rank}`);
  }
  const layout = (strides: readonly number[], start: number): Layout => {
    const shape: number[] = [], outStrides: number[] = [];
    let offset = start, dim = 0;
    const full = (count: number) => {
      for (let k = 0; k < count; k++, dim++) {
        shape.push(t.shape[dim]);
        outStrides.push(strides[dim]);
      }
    };
    for (let i = 0; i < n; i++) {
      if (bit(masks.ellipsisMask, i)) {
        full(t.rank - named);
        continue;
      }
      if (bit(masks.newAxisMask, i)) {
        shape.push(1);
        outStrides.push(0);
        continue;
      }
      const size = t.shape[dim], stride = strides[dim], step = steps[i];
      if (step === 0) throw new RangeError(`${op}: strides[${i}] is 0`);
      if (bit(masks.shrinkAxisMask, i)) {
        const index = starts[i] < 0 ? starts[i] + size : starts[i];
        if (index < 0 || index >= size) {
          throw new RangeError(
            `${op}: index ${starts[i]} is out of bounds for dimension ${dim} of size ${size}`,
          );
        }
        offset += index * stride;
        dim++;
        continue;
      }
      const [lo, hi] = step > 0 ? [0, size] : [-1, size - 1];
      const clamp = (v: number) => Math.min(Math.max(v, lo), hi);
      const b = bit(masks.beginMask, i)
        ? (step > 0 ? 0 : size - 1)
        : clamp(starts[i] < 0 ? starts[i] + size : starts[i]);
      const e = bit(masks.endMask, i)
        ? (step > 0 ? size : -1)
        : clamp(ends[i] < 0 ? ends[i] + size : ends[i]);
      const len = Math.max(0, Math.ceil((e - b) / step));
      shape.push(len);
      outStrides.push(stride * step);
      if (len > 0) offset += b * stride;
      dim++;
    }
    full(t.rank - dim);
    checkRank(op, shape.length);
    return { shape, strides: outStrides, offset };
  };
  return sliceView(op, t, layout);
}

/**
 * Reverses the order of elements along the given axes.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.reverse([1, 2, 3], 0); // [3, 2, 1]
 * ```
 */
export function reverse(x: TensorLike, axis: number | readonly number[]): Tensor {
  const t = toTensor("reverse", x);
  const strides = [...t.strides];
  let offset = t.offset;
  const axes = normalizeAxes("reverse", axis, t.rank);
  for (const a of axes) {
    if (t.shape[a] > 1) offset += (t.shape[a] - 1) * strides[a];
    strides[a] = -strides[a];
  }
  return recordedView("reverse", t, t.shape, strides, offset, (dy) => reverse(dy, axes));
}

/**
 * x repeated (without a copy) to `shape` by NumPy's broadcasting rules.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.broadcastTo([1, 2], [3, 2]); // [[1, 2], [1, 2], [1, 2]]
 * ```
 */
export function broadcastTo(x: TensorLike, shape: readonly number[]): Tensor {
  const op = "broadcastTo";
  const t = toTensor(op, x);
  const target = checkIntegers(op, "shape", shape);
  checkRank(op, target.length);
  const lead = target.length - t.rank;
  const ok = lead >= 0 && t.shape.every((d, i) => d === 1 || d === target[lead + i]);
  if (!ok || target.some((d) => d < 0)) {
    throw new RangeError(
      `${op}: cannot broadcast shape ${showShape(t.shape)} to ${showShape(target)}`,
    );
  }
  const strides = target.map((_, i) =>
    i < lead || t.shape[i - lead] === 1 ? 0 : t.strides[i - lead]
  );
  // The tape sums the gradient back to t's shape (backprop's one unbroadcast).
  return recordedView(op, t, target, strides, t.offset, (dy) => dy);
}

/**
 * A tensor with x's value (a new tensor object over the same storage).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.identity([1, 2]);
 * ```
 */
export function identity(x: TensorLike): Tensor {
  const t = toTensor("identity", x);
  return recordedView("identity", t, t.shape, t.strides, t.offset, (dy) => dy);
}

/**
 * x's value as a tensor no gradient flows through (the tape does not record it).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.stopGradient([1, 2]);
 * ```
 */
export function stopGradient(x: TensorLike): Tensor {
  const t = toTensor("stopGradient", x);
  return view(t, t.shape, t.strides, t.offset);
}
