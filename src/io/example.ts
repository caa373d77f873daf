/**
 * tf.train.Example records: parsing (tf.io.parseExample, parseSingleExample with
 * FixedLenFeature / VarLenFeature) and building (tf.io.serializeExample).
 *
 *     Example  { Features features = 1; }
 *     Features { map<string, Feature> feature = 1; }
 *     Feature  { oneof { BytesList bytes_list = 1; FloatList float_list = 2;
 *                        Int64List int64_list = 3; } }
 *     *List    { repeated <bytes | float | int64> value = 1; }   (numbers packed)
 *
 * Decisions (docs/data.md):
 * - dtypes are TensorFlow's three: "float32", "int64" and "string" (bytes). There is no
 *   string tensor here: string features come back as Uint8Arrays (a single one for a
 *   FixedLenFeature of shape [] in parseSingleExample, else a batch list, see
 *   src/data/structure.ts).
 * - A VarLenFeature comes back as TensorFlow's SparseTensor triple, a plain object
 *   { indices: int64 [nnz, rank], values, denseShape: int64 [rank] } (rank 1 for one
 *   record, 2 for a batch); tf.io.sparseToDense pads it.
 * - Readers accept packed and unpacked encodings, merge repeated messages, and let the
 *   last value of a map key or oneof win, as protobuf does.
 * @module
 */
import { describe, showShape, sizeOf } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { ProtobufError } from "./protobuf.ts";
import { type BatchList, batchList } from "../data/structure.ts";
import {
  checkFeatures,
  type FeatureDType,
  type FeatureSpec,
  type FixedLenFeatureSpec,
  type ParsedFeature,
  type SparseTensor,
  type VarLenFeatureSpec,
} from "./features.ts";
import {
  copyFloats,
  featureValues,
  fieldsOf,
  floatCount,
  LITTLE_ENDIAN,
  payloadOf,
  type RawFeature,
  type Where,
} from "./example_lists.ts";

const encoder = new TextEncoder();

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The raw features of one serialized Example that `keys` asks for, by key index (the
 * last occurrence of a key wins, as for a protobuf map). Other keys are skipped unread.
 */
function rawFeatures(
  bytes: Uint8Array,
  record: number,
  keys: Uint8Array[],
): (RawFeature | undefined)[] {
  const out: (RawFeature | undefined)[] = new Array(keys.length);
  const at = (what: string): Where => ({ record, what });
  for (const f of fieldsOf(bytes, at("Example"))) {
    if (f[0] !== 1) continue;
    const features = payloadOf(bytes, f, at("Example.features"));
    for (const e of fieldsOf(features, at("Features"))) {
      if (e[0] !== 1) continue;
      const entry = payloadOf(features, e, at("Features.feature"));
      let index = -1, value: Uint8Array | null = null;
      for (const k of fieldsOf(entry, at("Features.feature entry"))) {
        if (k[0] === 1) {
          const key = payloadOf(entry, k, at("feature key"));
          index = keys.findIndex((want) => sameBytes(want, key));
        } else if (k[0] === 2) value = payloadOf(entry, k, at("feature value"));
      }
      if (index < 0) continue;
      let raw: RawFeature = { kind: 0, payload: EMPTY };
      if (value) {
        for (const l of fieldsOf(value, at("Feature"))) {
          if (l[0] >= 1 && l[0] <= 3) {
            raw = { kind: l[0] as 1 | 2 | 3, payload: payloadOf(value, l, at("Feature")) };
          }
        }
      }
      out[index] = raw;
    }
  }
  return out;
}

const EMPTY = new Uint8Array(0);
const KIND_NAMES = ["no list", "a bytes_list", "a float_list", "an int64_list"];
const KIND_OF: Record<FeatureDType, 1 | 2 | 3> = { string: 1, float32: 2, int64: 3 };

/** Runs a parse step; a malformed message becomes an error of `op`. */
function guarded<T>(op: string, f: () => T): T {
  try {
    return f();
  } catch (error) {
    if (!(error instanceof ProtobufError)) throw error;
    throw new Error(`${op}: not a valid Example: ${error.message}`, { cause: error });
  }
}

/** Parses records into the features asked for; `single` drops the batch dimension. */
function parse(
  op: string,
  records: readonly Uint8Array[],
  features: [string, FeatureSpec][],
  single: boolean,
): Record<string, ParsedFeature> {
  const keys = features.map(([key]) => encoder.encode(key));
  const raws = records.map((r, i) => {
    if (!(r instanceof Uint8Array)) {
      throw new TypeError(`${op}: record ${i} must be a Uint8Array, got ${describe(r)}`);
    }
    return guarded(op, () => rawFeatures(r, i, keys));
  });
  const result: Record<string, ParsedFeature> = {};
  features.forEach(([key, spec], f) => {
    const present = raws.map((raw, i) => {
      const feature = raw[f];
      if (feature === undefined || feature.kind === 0) return undefined;
      if (feature.kind !== KIND_OF[spec.dtype]) {
        throw new TypeError(
          `${op}: record ${i}: feature "${key}" is ${
            KIND_NAMES[feature.kind]
          }, the spec wants ${spec.dtype}`,
        );
      }
      return feature;
    });
    const where = (i: number): Where => ({ record: i, what: `feature "${key}"` });
    if (spec.kind === "fixed" && spec.dtype === "float32") {
      result[key] = guarded(op, () => fixedFloats(op, key, spec, present, single, where));
      return;
    }
    const values = present.map((raw, i) =>
      raw === undefined ? null : guarded(op, () => featureValues(raw, where(i)))
    );
    result[key] = spec.kind === "fixed"
      ? assembleFixed(op, key, spec, values, single)
      : assembleVarLen(spec, values, single);
  });
  return result;
}

function missing(op: string, key: string, i: number): RangeError {
  return new RangeError(`${op}: record ${i}: feature "${key}" is required but missing`);
}

function wrongCount(op: string, key: string, i: number, n: number, spec: FixedLenFeatureSpec) {
  return new RangeError(
    `${op}: record ${i}: feature "${key}" has ${n} values, the shape ` +
      `${showShape(spec.shape)} needs ${sizeOf(spec.shape)}`,
  );
}

/** The varint of `n` bytes after p[0], or -1 if it is not exactly n bytes long. */
function packedLength(p: Uint8Array, n: number): number {
  let v = 0, scale = 1;
  for (let i = 1; i <= n; i++) {
    const b = p[i];
    if ((b >= 0x80) !== (i < n)) return -1;
    v += (b & 0x7f) * scale;
    scale *= 128;
  }
  return v;
}

/** The fast path of float features: values copied straight into the batch. */
function fixedFloats(
  op: string,
  key: string,
  spec: FixedLenFeatureSpec,
  present: (RawFeature | undefined)[],
  single: boolean,
  where: (i: number) => Where,
): Tensor {
  const k = sizeOf(spec.shape), n = present.length;
  const out = new Float32Array(n * k);
  present.forEach((raw, i) => {
    if (raw === undefined) {
      if (spec.defaultValue === undefined) throw missing(op, key, i);
      out.set(spec.defaultValue as Float32Array, i * k);
      return;
    }
    const p = raw.payload;
    // Fast path: one packed field (tag 0x0a) whose varint length spans the rest.
    const lengthBytes = p.length - 1 - 4 * k;
    if (
      LITTLE_ENDIAN && p[0] === 0x0a && lengthBytes >= 1 && lengthBytes <= 5 &&
      packedLength(p, lengthBytes) === 4 * k
    ) {
      new Uint8Array(out.buffer, i * k * 4, 4 * k).set(p.subarray(1 + lengthBytes));
      return;
    }
    const count = floatCount(p, where(i));
    if (count !== k) throw wrongCount(op, key, i, count, spec);
    copyFloats(p, where(i), out, i * k);
  });
  return new Tensor(out, "float32", single ? [...spec.shape] : [n, ...spec.shape]);
}

type Values = Float32Array | BigInt64Array | Uint8Array[];

function assembleFixed(
  op: string,
  key: string,
  spec: FixedLenFeatureSpec,
  values: (Values | null)[],
  single: boolean,
): ParsedFeature {
  const k = sizeOf(spec.shape), n = values.length;
  const rows = values.map((v, i) => {
    const row = v ?? spec.defaultValue;
    if (row === undefined) throw missing(op, key, i);
    if (row.length !== k) throw wrongCount(op, key, i, row.length, spec);
    return row;
  });
  const shape = single ? [...spec.shape] : [n, ...spec.shape];
  if (spec.dtype === "string") {
    const flat = (rows as Uint8Array[][]).flat();
    return single && spec.shape.length === 0 ? flat[0] : batchList(flat);
  }
  const data = spec.dtype === "int64" ? new BigInt64Array(n * k) : new Float32Array(n * k);
  rows.forEach((row, i) => (data as Float32Array).set(row as Float32Array, i * k));
  return new Tensor(data, spec.dtype, shape);
}

function assembleVarLen(
  spec: VarLenFeatureSpec,
  values: (Values | null)[],
  single: boolean,
): SparseTensor {
  const lengths = values.map((v) => v?.length ?? 0);
  const nnz = lengths.reduce((a, b) => a + b, 0);
  const rank = single ? 1 : 2;
  const indices = new BigInt64Array(nnz * rank);
  let pos = 0;
  lengths.forEach((len, i) => {
    for (let j = 0; j < len; j++, pos++) {
      if (single) indices[pos] = BigInt(j);
      else [indices[2 * pos], indices[2 * pos + 1]] = [BigInt(i), BigInt(j)];
    }
  });
  const longest = Math.max(0, ...lengths);
  const denseShape = single ? [BigInt(longest)] : [BigInt(values.length), BigInt(longest)];
  let flat: Tensor | BatchList;
  if (spec.dtype === "string") flat = batchList(values.flatMap((v) => (v ?? []) as Uint8Array[]));
  else {
    const data = spec.dtype === "int64" ? new BigInt64Array(nnz) : new Float32Array(nnz);
    let at = 0;
    for (const v of values) {
      if (v) (data as Float32Array).set(v as Float32Array, at), at += v.length;
    }
    flat = new Tensor(data, spec.dtype, [nnz]);
  }
  return {
    indices: new Tensor(indices, "int64", [nnz, rank]),
    values: flat,
    denseShape: new Tensor(new BigInt64Array(denseShape), "int64", [rank]),
  };
}

/**
 * Parses a batch of serialized Examples (an array of records, e.g. a batched
 * TFRecordDataset element): FixedLen features get a leading batch dimension, VarLen
 * features a rank-2 SparseTensor. A single Uint8Array is parsed as parseSingleExample.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const record = tf.io.serializeExample({ x: { floatList: [1, 2] }, y: { int64List: [3] } });
 * const parsed = tf.io.parseExample([record, record], {
 *   x: tf.io.FixedLenFeature([2], "float32"),
 *   y: tf.io.FixedLenFeature([], "int64"),
 * }); // x: [2, 2] float32, y: [2] int64
 * ```
 */
export function parseExample(
  serialized: readonly Uint8Array[] | Uint8Array,
  features: Record<string, FeatureSpec>,
): Record<string, ParsedFeature> {
  const op = "parseExample";
  const specs = checkFeatures(op, features);
  if (serialized instanceof Uint8Array) return parse(op, [serialized], specs, true);
  if (!Array.isArray(serialized)) {
    throw new TypeError(
      `${op}: serialized must be a Uint8Array or an array of them, got ${describe(serialized)}`,
    );
  }
  return parse(op, serialized, specs, false);
}

/**
 * Parses one serialized Example: FixedLen features have their own shape, VarLen
 * features a rank-1 SparseTensor.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const record = tf.io.serializeExample({ label: { int64List: [7] } });
 * tf.io.parseSingleExample(record, { label: tf.io.FixedLenFeature([], "int64") });
 * ```
 */
export function parseSingleExample(
  serialized: Uint8Array,
  features: Record<string, FeatureSpec>,
): Record<string, ParsedFeature> {
  const op = "parseSingleExample";
  const specs = checkFeatures(op, features);
  if (!(serialized instanceof Uint8Array)) {
    throw new TypeError(`${op}: serialized must be a Uint8Array, got ${describe(serialized)}`);
  }
  return parse(op, [serialized], specs, true);
}

export { decodeExample, serializeExample } from "./example_lists.ts";
export type { FeatureValue } from "./example_lists.ts";
export { FixedLenFeature, sparseToDense, VarLenFeature } from "./features.ts";
export type {
  FeatureDType,
  FeatureSpec,
  FixedLenFeatureSpec,
  ParsedFeature,
  SparseTensor,
  VarLenFeatureSpec,
} from "./features.ts";
