/**
 * Leaf-level batching: stacking leaves into a batch, padding them to a common shape,
 * and slicing a batch back into rows (zero-copy views).
 * @module
 */
import { type DType, numberFits } from "../dtype.ts";
import { checkSize, denseStrides, describe, showShape, sizeOf } from "../shape.ts";
import { allocate } from "../backend/cpu/storage.ts";
import { Tensor } from "../tensor.ts";
import { copyInto } from "../ops/cast.ts";
import { batchList, isBatchList, type Leaf } from "./structure.ts";

function where(path: string): string {
  return path ? ` at ${path}` : "";
}

/** The common dtype of tensor leaves, or a batch list of string/bytes leaves. */
function kindOf(op: string, leaves: readonly Leaf[], path: string): DType | "text" {
  const first = leaves[0];
  if (first instanceof Tensor) {
    leaves.forEach((l, i) => {
      if (!(l instanceof Tensor) || l.dtype !== first.dtype) {
        const got = l instanceof Tensor ? l.dtype : typeof l === "string" ? "a string" : "bytes";
        throw new TypeError(
          `${op}: element ${i} is ${got}, element 0 is ${first.dtype}${where(path)}`,
        );
      }
    });
    return first.dtype;
  }
  if (isBatchList(first) || leaves.some(isBatchList)) {
    throw new TypeError(`${op}: cannot batch batches of strings or bytes${where(path)}`);
  }
  const text = typeof first === "string";
  leaves.forEach((l, i) => {
    if ((typeof l === "string") !== text || l instanceof Tensor) {
      throw new TypeError(`${op}: element ${i} and element 0 differ in kind${where(path)}`);
    }
  });
  return "text";
}

/** Stacks leaves along a new first axis; strings and bytes become a batch list. */
export function stackLeaves(op: string, leaves: readonly Leaf[], path: string): Leaf {
  const kind = kindOf(op, leaves, path);
  if (kind === "text") return batchList([...leaves] as (string | Uint8Array)[]);
  const ts = leaves as Tensor[];
  const shape = ts[0].shape;
  ts.forEach((t, i) => {
    if (t.rank !== shape.length || !t.shape.every((d, j) => d === shape[j])) {
      throw new RangeError(
        `${op}: cannot stack shapes ${showShape(shape)} (element 0) and ${showShape(t.shape)} ` +
          `(element ${i})${where(path)}; use paddedBatch for elements of varying shape`,
      );
    }
  });
  const outShape = [ts.length, ...shape];
  checkSize(op, outShape);
  const size = sizeOf(shape);
  const out = allocate(kind, ts.length * size, op);
  for (let i = 0; i < ts.length; i++) {
    (out as Float32Array).set(ts[i].dataSync() as Float32Array, i * size);
  }
  return new Tensor(out, kind, outShape);
}

/** A padding value of a dtype (a number, boolean, bigint or one-element tensor; 0 by default). */
function padFill(op: string, value: unknown, dtype: DType, path: string): number | bigint {
  if (value === undefined) return dtype === "int64" ? 0n : 0;
  let v = value;
  if (v instanceof Tensor && v.size === 1) v = v.dataSync()[0];
  if (typeof v === "boolean") v = v ? 1 : 0;
  if (typeof v === "bigint" && dtype !== "int64") v = Number(v);
  if (typeof v === "number" && dtype === "int64" && Number.isSafeInteger(v)) v = BigInt(v);
  const fits = dtype === "int64"
    ? typeof v === "bigint"
    : typeof v === "number" && numberFits(v, dtype);
  if (!fits) {
    throw new TypeError(
      `${op}: padding value ${describe(value)} does not suit dtype ${dtype}${where(path)}`,
    );
  }
  return v as number | bigint;
}

/**
 * Stacks tensors padded at the end of each dimension to `target` (null or -1 entries,
 * or an undefined target: the longest of the batch). Strings and bytes batch as usual.
 */
export function padLeaves(
  op: string,
  leaves: readonly Leaf[],
  path: string,
  target: readonly (number | null)[] | undefined,
  padValue: unknown,
): Leaf {
  const kind = kindOf(op, leaves, path);
  if (kind === "text") return batchList([...leaves] as (string | Uint8Array)[]);
  const ts = leaves as Tensor[];
  const rank = ts[0].rank;
  ts.forEach((t, i) => {
    if (t.rank !== rank) {
      throw new RangeError(
        `${op}: element ${i} has rank ${t.rank}, element 0 has rank ${rank}${where(path)}`,
      );
    }
  });
  if (target !== undefined && (!Array.isArray(target) || target.length !== rank)) {
    throw new RangeError(
      `${op}: paddedShapes${where(path)} must have ${rank} entries, got ${describe(target)}`,
    );
  }
  const shape = Array.from({ length: rank }, (_, d) => {
    const longest = Math.max(...ts.map((t) => t.shape[d]));
    const want = target?.[d];
    if (want === undefined || want === null || want === -1) return longest;
    if (!Number.isInteger(want) || want < 0) {
      throw new RangeError(`${op}: paddedShapes${where(path)} has an invalid dimension ${want}`);
    }
    if (want < longest) {
      throw new RangeError(
        `${op}: an element${where(path)} has dimension ${d} of ${longest}, more than the ` +
          `padded shape ${describe(target)} allows`,
      );
    }
    return want;
  });
  const outShape = [ts.length, ...shape];
  checkSize(op, outShape);
  const size = sizeOf(shape);
  const data = allocate(kind, ts.length * size, op);
  const fill = padFill(op, padValue, kind, path);
  if (fill !== 0 && fill !== 0n) (data as unknown as { fill(v: unknown): void }).fill(fill);
  const out = new Tensor(data, kind, outShape);
  const strides = denseStrides(shape);
  ts.forEach((t, i) => copyInto(op, out, strides, i * size, t));
  return out;
}

/** Row i of a tensor (a view) or of a batch list. */
export function rowOf(leaf: Leaf, i: number): Leaf {
  if (leaf instanceof Tensor) {
    return new Tensor(
      leaf.storage,
      leaf.dtype,
      leaf.shape.slice(1),
      leaf.strides.slice(1),
      leaf.offset + i * leaf.strides[0],
    );
  }
  return (leaf as unknown as (string | Uint8Array)[])[i];
}

/** The number of rows of a leaf; scalars and single strings/bytes are an error. */
export function rowsOf(op: string, leaf: Leaf, path: string): number {
  if (leaf instanceof Tensor) {
    if (leaf.rank === 0) throw new RangeError(`${op}: cannot slice a scalar tensor${where(path)}`);
    return leaf.shape[0];
  }
  if (isBatchList(leaf)) return leaf.length;
  throw new TypeError(
    `${op}: cannot slice a single ${typeof leaf === "string" ? "string" : "bytes value"}` +
      `${where(path)} (a Uint8Array is bytes: use tf.constant(x) for a uint8 tensor)`,
  );
}
