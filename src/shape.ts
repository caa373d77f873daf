/**
 * Shape arithmetic shared by the ops: sizes, dense strides, broadcasting and axes.
 * Every check throws an Error that names the op.
 * @module
 */

/** The maximum rank the native kernels take (EAGER_MAX_RANK). */
export const MAX_RANK = 8;

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i];
  return n;
}

/** Row-major element strides of a dense tensor of this shape. */
export function denseStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** Whether two shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Formats a shape as TensorFlow does in messages: [2,3]. */
export function showShape(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

/** Checks that a user-given shape is a list of non-negative integers. */
export function checkShape(op: string, shape: unknown, what = "shape"): number[] {
  if (!Array.isArray(shape)) {
    throw new TypeError(`${op}: ${what} must be an array of integers, got ${typeof shape}`);
  }
  for (const d of shape) {
    if (typeof d !== "number" || !Number.isInteger(d) || d < 0) {
      throw new RangeError(`${op}: ${what} ${describe(shape)} has an invalid dimension ${d}`);
    }
  }
  checkRank(op, shape.length);
  checkSize(op, shape);
  return shape.slice();
}

/** Tensors above MAX_RANK cannot reach the kernels. */
export function checkRank(op: string, rank: number): void {
  if (rank > MAX_RANK) {
    throw new RangeError(`${op}: rank ${rank} is above the supported maximum of ${MAX_RANK}`);
  }
}

/** The largest element count a tensor may have: a JS typed array's limit. */
export const MAX_ELEMENTS = 2 ** 32;

/** Rejects shapes whose element count no typed array can hold. */
export function checkSize(op: string, shape: readonly number[]): void {
  const n = sizeOf(shape);
  if (!Number.isSafeInteger(n) || n > MAX_ELEMENTS) {
    throw new RangeError(
      `${op}: shape ${showShape(shape)} has ${n} elements, more than the ${MAX_ELEMENTS} allowed`,
    );
  }
}

/** NumPy broadcasting of two shapes; throws naming the op and both shapes. */
export function broadcastShapes(
  op: string,
  a: readonly number[],
  b: readonly number[],
): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
    const db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
    if (da !== db && da !== 1 && db !== 1) {
      throw new RangeError(
        `${op}: shapes ${showShape(a)} and ${showShape(b)} cannot be broadcast together`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides that read a tensor of (shape, strides) as if broadcast to `target`. */
export function broadcastStrides(
  shape: readonly number[],
  strides: readonly number[],
  target: readonly number[],
): number[] {
  const lead = target.length - shape.length;
  const out = new Array<number>(target.length);
  for (let i = 0; i < target.length; i++) {
    out[i] = i < lead || shape[i - lead] === 1 ? 0 : strides[i - lead];
  }
  return out;
}

/** Normalises one axis (negative counts from the end) into [0, rank). */
export function normalizeAxis(op: string, axis: number, rank: number): number {
  if (typeof axis !== "number" || !Number.isInteger(axis)) {
    throw new TypeError(`${op}: axis must be an integer, got ${String(axis)}`);
  }
  if (axis < -rank || axis >= rank) {
    throw new RangeError(`${op}: axis ${axis} is out of range for a tensor of rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Normalises an axis list (or all axes when undefined/null), sorted, no repeats. */
export function normalizeAxes(
  op: string,
  axis: number | readonly number[] | undefined | null,
  rank: number,
): number[] {
  if (axis === undefined || axis === null) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axis === "number" ? [axis] : axis;
  if (!Array.isArray(list)) throw new TypeError(`${op}: axis must be a number or an array`);
  const seen = new Set<number>();
  for (const a of list) {
    const n = normalizeAxis(op, a, rank);
    if (seen.has(n)) throw new RangeError(`${op}: axis ${a} is repeated in ${showShape(list)}`);
    seen.add(n);
  }
  return [...seen].sort((x, y) => x - y);
}

/** A user value for an error message; never throws (bigints, tensors, cycles). */
export function describe(value: unknown): string {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    return Object.prototype.toString.call(value) === "[object Object]"
      ? "an object"
      : String(value);
  }
  try {
    return JSON.stringify(value, (_, v) => (typeof v === "bigint" ? `${v}n` : v)) ?? String(value);
  } catch {
    return String(value);
  }
}
