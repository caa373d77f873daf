/**
 * Dataset elements ("structures"): a tensor, a text or bytes value, or nested arrays
 * (tuples) and plain objects (dicts) of them.
 *
 * Decisions (docs/data.md):
 * - Leaves are Tensors, strings (a line of text) and Uint8Arrays (a record's bytes):
 *   this library has no string dtype. A Uint8Array in a structure is always bytes; use
 *   `tf.constant(u8)` for a uint8 tensor.
 * - Arrays are tuples, except nested arrays of numbers/booleans/bigints (and typed
 *   arrays other than Uint8Array), which become tensors as with tf.constant. A batch of
 *   strings or bytes is a JS array tagged as a leaf (isBatchList), so batch/unbatch
 *   round-trip.
 * @module
 */
import { type NestedArray, Tensor, type TensorConvertible, TO_TENSOR } from "../tensor.ts";
import { constant } from "../ops/convert.ts";
import { describe, showShape } from "../shape.ts";

/** A leaf of an element: a tensor, a string, a bytes value, or a batch of strings or bytes. */
export type Leaf = Tensor | string | Uint8Array | BatchList;
/** A batch of strings or bytes values (see batchList). */
export type BatchList = string[] | Uint8Array[];
/** A dataset element: a leaf, or arrays (tuples) and objects (dicts) of elements. */
export type Element = Leaf | readonly Element[] | { readonly [key: string]: Element };

/** The element a JS value converts to (numbers and nested number arrays become tensors). */
export type AsElement<U> = U extends Element ? U
  : U extends NestedArray | ArrayBufferView | TensorConvertible ? Tensor
  : U extends readonly unknown[] ? { -readonly [K in keyof U]: AsElement<U[K]> }
  : U extends object ? { -readonly [K in keyof U]: AsElement<U[K]> }
  : never;

const BATCH_LIST: unique symbol = Symbol("deno-eager.data.batchList");

/** A batch of strings or bytes values: an array tagged as one leaf. */
export function batchList(values: (string | Uint8Array)[]): BatchList {
  Object.defineProperty(values, BATCH_LIST, { value: true });
  return values as BatchList;
}

/** Whether `v` is a batch of strings or bytes made by batchList. */
export function isBatchList(v: unknown): v is BatchList {
  return Array.isArray(v) && (v as unknown as Record<symbol, unknown>)[BATCH_LIST] === true;
}

/** Whether `v` is a leaf (including tagged batch lists). */
export function isLeaf(v: unknown): v is Leaf {
  return v instanceof Tensor || typeof v === "string" || v instanceof Uint8Array ||
    isBatchList(v);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function isNumericNest(v: unknown): boolean {
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return true;
  return Array.isArray(v) && v.every(isNumericNest);
}

/**
 * Converts a JS value to an element: leaves stay, numbers, nested number arrays, typed
 * arrays and Variables become tensors, arrays and plain objects recurse. `op` and
 * `path` name the value in errors.
 */
export function toElement(op: string, value: unknown, path = "element"): Element {
  if (isLeaf(value)) return value;
  if (isNumericNest(value) || ArrayBuffer.isView(value)) {
    try {
      return constant(value as NestedArray);
    } catch (error) {
      throw new TypeError(`${op}: ${path}: ${(error as Error).message}`, { cause: error });
    }
  }
  if (typeof value === "object" && value !== null && TO_TENSOR in value) {
    return (value as TensorConvertible)[TO_TENSOR]();
  }
  if (Array.isArray(value)) return value.map((v, i) => toElement(op, v, `${path}[${i}]`));
  if (isPlainObject(value)) {
    const out: Record<string, Element> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toElement(op, v, `${path}.${k}`);
    return out;
  }
  throw new TypeError(
    `${op}: ${path} must be a tensor, a number array, a string, a Uint8Array, or an ` +
      `array or object of them, got ${value === null ? "null" : typeof value} ${describe(value)}`,
  );
}

/** Applies f to every leaf, keeping the structure; `path` names the leaf. */
export function mapLeaves(
  s: Element,
  f: (leaf: Leaf, path: string) => Element,
  path = "",
): Element {
  if (isLeaf(s)) return f(s, path);
  if (Array.isArray(s)) return s.map((v, i) => mapLeaves(v, f, `${path}[${i}]`));
  const out: Record<string, Element> = {};
  for (const [k, v] of Object.entries(s)) out[k] = mapLeaves(v, f, `${path}.${k}`);
  return out;
}

/** The leaves in structure order. */
export function leavesOf(s: Element, out: Leaf[] = []): Leaf[] {
  if (isLeaf(s)) out.push(s);
  else if (Array.isArray(s)) { for (const v of s) leavesOf(v, out); }
  else for (const v of Object.values(s)) leavesOf(v as Element, out);
  return out;
}

/** A short description of a structure, for errors: {a: [2,3] float32, b: string}. */
export function describeStructure(s: Element): string {
  if (s instanceof Tensor) return `${showShape(s.shape)} ${s.dtype}`;
  if (typeof s === "string") return "string";
  if (s instanceof Uint8Array) return "bytes";
  if (isBatchList(s)) return `${s.length} x ${typeof s[0] === "string" ? "string" : "bytes"}`;
  if (Array.isArray(s)) return `[${s.map(describeStructure).join(", ")}]`;
  return `{${Object.entries(s).map(([k, v]) => `${k}: ${describeStructure(v)}`).join(", ")}}`;
}

/**
 * Combines several elements of one structure leaf by leaf: f receives the i-th leaves
 * of all elements. Elements of a different structure are an error naming `op`.
 */
export function zipLeaves(
  op: string,
  elements: readonly Element[],
  f: (leaves: Leaf[], path: string) => Element,
): Element {
  const first = elements[0];
  const walk = (nodes: Element[], path: string): Element => {
    const head = nodes[0];
    const mismatch = (i: number) =>
      new TypeError(
        `${op}: element ${i} has structure ${describeStructure(elements[i])}, element 0 has ` +
          `${describeStructure(first)}${path ? ` (at ${path})` : ""}`,
      );
    if (isLeaf(head)) {
      nodes.forEach((n, i) => {
        if (!isLeaf(n)) throw mismatch(i);
      });
      return f(nodes as Leaf[], path);
    }
    if (Array.isArray(head)) {
      nodes.forEach((n, i) => {
        if (!Array.isArray(n) || isLeaf(n) || (n as Element[]).length !== head.length) {
          throw mismatch(i);
        }
      });
      return head.map((_, j) => walk(nodes.map((n) => (n as Element[])[j]), `${path}[${j}]`));
    }
    const keys = Object.keys(head);
    nodes.forEach((n, i) => {
      if (isLeaf(n) || Array.isArray(n)) throw mismatch(i);
      const k = Object.keys(n);
      if (k.length !== keys.length || !keys.every((key) => key in n)) throw mismatch(i);
    });
    const out: Record<string, Element> = {};
    for (const k of keys) {
      out[k] = walk(nodes.map((n) => (n as Record<string, Element>)[k]), `${path}.${k}`);
    }
    return out;
  };
  return walk(elements as Element[], "");
}

/** The element type of fromTensorSlices(value): each leaf loses its first dimension. */
export type SliceOf<U> = U extends Tensor ? Tensor
  : U extends Uint8Array ? never
  : U extends NestedArray | ArrayBufferView | TensorConvertible ? Tensor
  : U extends readonly string[] ? string
  : U extends readonly Uint8Array[] ? Uint8Array
  : U extends readonly unknown[] ? { -readonly [K in keyof U]: SliceOf<U[K]> }
  : U extends object ? { -readonly [K in keyof U]: SliceOf<U[K]> }
  : never;

/**
 * The entries of a structure given per component (paddedShapes, paddingValues), keyed by
 * the component paths mapLeaves reports; `isEntry` says where the walk stops.
 */
export function pathTable(value: unknown, isEntry: (v: unknown) => boolean): Map<string, unknown> {
  const table = new Map<string, unknown>();
  const walk = (v: unknown, path: string) => {
    if (isEntry(v)) table.set(path, v);
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
    else if (isPlainObject(v)) { for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`); }
    else table.set(path, v);
  };
  walk(value, "");
  return table;
}
