/**
 * In-memory sources of datasets: slices of tensors, a single element, a generator, a
 * range of integers.
 * @module
 */
import { checkDType, type DType, numberFits } from "../dtype.ts";
import { describe } from "../shape.ts";
import { allocate } from "../backend/cpu/storage.ts";
import { type NestedArray, Tensor } from "../tensor.ts";
import { constant } from "../ops/convert.ts";
import { rowOf, rowsOf } from "./batching.ts";
import { type Source, syncSource } from "./pipeline.ts";
import {
  batchList,
  describeStructure,
  type Element,
  isLeaf,
  mapLeaves,
  toElement,
} from "./structure.ts";

/** Arrays of only strings, or only Uint8Arrays, are lists to slice (not tuples). */
function markLists(value: unknown): unknown {
  if (isLeaf(value) || typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    const texts = value.length > 0 &&
      (value.every((v) => typeof v === "string") || value.every((v) => v instanceof Uint8Array));
    return texts ? batchList([...value]) : value.map(markLists);
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, markLists(v)]));
}

/** The rows of every leaf of `value` (they must agree in number). */
export function sliceSource(value: unknown): Source<Element> {
  const op = "Dataset.fromTensorSlices";
  const whole = toElement(op, markLists(value), "value");
  let rows = -1, firstPath = "";
  mapLeaves(whole, (leaf, path) => {
    const n = rowsOf(op, leaf, path);
    if (rows >= 0 && n !== rows) {
      throw new RangeError(
        `${op}: components have different first dimensions: ${rows} (at ${firstPath || "value"}) ` +
          `and ${n} (at ${path || "value"})`,
      );
    }
    if (rows < 0) [rows, firstPath] = [n, path];
    return leaf;
  });
  return syncSource(function* () {
    for (let i = 0; i < rows; i++) yield mapLeaves(whole, (leaf) => rowOf(leaf, i));
  });
}

/** One element: `value`. */
export function tensorsSource(value: unknown): Source<Element> {
  const element = toElement("Dataset.fromTensors", value, "value");
  return syncSource(function* () {
    yield element;
  });
}

/** The dtype and shape an element component must have (TensorFlow's tf.TensorSpec). */
export class TensorSpec {
  /** Dimensions; null entries (or a null shape) accept any size. */
  readonly shape: readonly (number | null)[] | null;
  /** A tensor dtype, or "string" for string and bytes values. */
  readonly dtype: DType | "string";
  /**
   * @example
   * ```ts
   * import * as tf from "../../mod.ts";
   * new tf.data.TensorSpec([null, 3], "float32");
   * ```
   */
  constructor(shape: readonly (number | null)[] | null, dtype: DType | "string" = "float32") {
    const op = "TensorSpec";
    if (
      shape !== null &&
      (!Array.isArray(shape) || !shape.every((d) => d === null || (Number.isInteger(d) && d >= 0)))
    ) {
      throw new TypeError(
        `${op}: shape must be null or an array of sizes or nulls, got ${describe(shape)}`,
      );
    }
    if (dtype !== "string") checkDType(op, dtype);
    this.shape = shape === null ? null : [...shape];
    this.dtype = dtype;
  }

  /** Whether a leaf matches this spec. */
  isCompatibleWith(leaf: unknown): boolean {
    if (this.dtype === "string") return typeof leaf === "string" || leaf instanceof Uint8Array;
    if (!(leaf instanceof Tensor) || leaf.dtype !== this.dtype) return false;
    const s = this.shape;
    return s === null ||
      (s.length === leaf.rank && s.every((d, i) => d === null || d === leaf.shape[i]));
  }

  toString(): string {
    const shape = this.shape === null
      ? "None"
      : `(${this.shape.map((d) => d ?? "None").join(", ")})`;
    return `TensorSpec(shape=${shape}, dtype=${this.dtype})`;
  }
}

/** Converts a generated value to the structure of `spec` (TensorSpec leaves). */
function conform(op: string, value: unknown, spec: unknown, path: string): Element {
  if (spec instanceof TensorSpec) {
    let leaf: unknown = value;
    if (spec.dtype !== "string" && !(value instanceof Tensor)) {
      try {
        leaf = constant(value as NestedArray, spec.dtype);
      } catch (error) {
        throw new TypeError(`${op}: ${path}: ${(error as Error).message}`, { cause: error });
      }
    }
    if (!spec.isCompatibleWith(leaf)) {
      throw new TypeError(
        `${op}: ${path} is ${
          isLeaf(leaf) ? describeStructure(leaf) : typeof leaf
        }, the output signature wants ${spec}`,
      );
    }
    return leaf as Element;
  }
  if (Array.isArray(spec)) {
    if (!Array.isArray(value) || value.length !== spec.length) {
      throw new TypeError(`${op}: ${path} must be an array of ${spec.length} components`);
    }
    return spec.map((s, i) => conform(op, value[i], s, `${path}[${i}]`));
  }
  if (typeof spec === "object" && spec !== null) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new TypeError(`${op}: ${path} must be an object with keys ${Object.keys(spec)}`);
    }
    const out: Record<string, Element> = {};
    for (const [k, s] of Object.entries(spec)) {
      out[k] = conform(op, (value as Record<string, unknown>)[k], s, `${path}.${k}`);
    }
    return out;
  }
  throw new TypeError(`${op}: outputSignature must be TensorSpecs in arrays or objects`);
}

/** Elements of a generator function, called once per pass. */
export function generatorSource(
  generator: () => Iterable<unknown> | AsyncIterable<unknown>,
  signature: unknown,
): Source<Element> {
  const op = "Dataset.fromGenerator";
  if (typeof generator !== "function") {
    throw new TypeError(
      `${op}: generator must be a function returning an iterable, got ${describe(generator)}`,
    );
  }
  if (signature !== undefined) conformCheck(op, signature);
  const convert = (v: unknown) =>
    signature === undefined ? toElement(op, v) : conform(op, v, signature, "element");
  const open = (): Iterable<unknown> | AsyncIterable<unknown> => {
    const it = generator();
    const ok = typeof it === "object" && it !== null &&
      (Symbol.iterator in it || Symbol.asyncIterator in it);
    if (!ok) {
      throw new TypeError(
        `${op}: the generator function returned ${describe(it)}, not an iterable`,
      );
    }
    return it;
  };
  return {
    asyncOnly: generator.constructor?.name === "AsyncGeneratorFunction"
      ? "an async generator"
      : undefined,
    *openSync() {
      const it = open();
      if (!(Symbol.iterator in it)) {
        throw new TypeError(`${op}: the generator is async: iterate the dataset with for await`);
      }
      for (const v of it) yield convert(v);
    },
    async *openAsync() {
      for await (const v of open()) yield convert(v);
    },
  };
}

function conformCheck(op: string, spec: unknown): void {
  if (spec instanceof TensorSpec) return;
  if (typeof spec !== "object" || spec === null) {
    throw new TypeError(
      `${op}: outputSignature must be TensorSpecs in arrays or objects, got ${describe(spec)}`,
    );
  }
  for (const s of Object.values(spec)) conformCheck(op, s);
}

/** Integers start, start + step, ... before stop, as scalars of `dtype`. */
export function rangeSource(
  start: number,
  stop: number,
  step: number,
  dtype: DType,
): Source<Element> {
  const op = "Dataset.range";
  for (const [name, v] of [["start", start], ["stop", stop], ["step", step]] as const) {
    if (typeof v !== "number" || !Number.isSafeInteger(v)) {
      throw new TypeError(`${op}: ${name} must be a safe integer, got ${describe(v)}`);
    }
  }
  if (step === 0) throw new RangeError(`${op}: step must not be 0`);
  checkDType(op, dtype);
  if (dtype === "bool" || !numberFits(start, dtype) || !numberFits(stop - step, dtype)) {
    throw new RangeError(`${op}: the range [${start}, ${stop}) does not fit dtype ${dtype}`);
  }
  return syncSource(function* () {
    for (let v = start; step > 0 ? v < stop : v > stop; v += step) {
      const data = allocate(dtype, 1, op);
      if (dtype === "int64") (data as BigInt64Array)[0] = BigInt(v);
      else (data as Float32Array)[0] = v;
      yield new Tensor(data, dtype, []);
    }
  });
}
