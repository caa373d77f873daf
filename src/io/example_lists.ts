/**
 * The value lists of tf.train.Example features (BytesList, FloatList, Int64List):
 * decoding a list's payload fast (packed floats are copied, not parsed one by one), and
 * building Examples (serializeExample) and reading them back whole (decodeExample).
 * @module
 */
import { describe } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { ProtobufError, ProtoWriter, WireType } from "./protobuf.ts";

/** A feature as found in a record: which list (1 bytes, 2 float, 3 int64; 0 none). */
export interface RawFeature {
  kind: 0 | 1 | 2 | 3;
  payload: Uint8Array;
}

/** Whether this host stores numbers little-endian (as the wire format does). */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Where a parse is, for messages: "record 3: Features" (record < 0: no record). */
export interface Where {
  record: number;
  what: string;
}

function label(w: Where): string {
  return w.record < 0 ? w.what : `record ${w.record}: ${w.what}`;
}

/** Reads a varint as a number (exact below 2^49) or, when longer, a bigint. */
function varint(p: Uint8Array, pos: number, end: number, w: Where): [number | bigint, number] {
  let result = 0, scale = 1;
  for (let i = pos; i < end && i < pos + 10; i++) {
    const b = p[i];
    if (i - pos === 7) {
      // 7 bytes hold 49 bits: longer values (and negative int64s) take the bigint path.
      let big = BigInt(result);
      let shift = 49n;
      for (let j = i; j < end && j < pos + 10; j++) {
        big |= BigInt(p[j] & 0x7f) << shift;
        if (p[j] < 0x80) return [BigInt.asUintN(64, big), j + 1];
        shift += 7n;
      }
      break;
    }
    result += (b & 0x7f) * scale;
    if (b < 0x80) return [result, i + 1];
    scale *= 128;
  }
  throw new ProtobufError(`${label(w)}: malformed or truncated varint at byte ${pos}`);
}

/** A field of a message: number, wire type, and the start and end of its value. */
export type Field = [field: number, wire: number, start: number, end: number];

/**
 * The fields of a message, their values located (BYTES: the payload), without copying.
 * Truncated or malformed fields are ProtobufErrors naming `w` and the byte offset.
 */
export function fieldsOf(p: Uint8Array, w: Where): Field[] {
  const fields: Field[] = [];
  let pos = 0;
  while (pos < p.length) {
    const at = pos;
    const [tag, afterTag] = varint(p, pos, p.length, w);
    if (typeof tag !== "number" || tag < 8) {
      throw new ProtobufError(`${label(w)}: bad field tag at byte ${at}`);
    }
    const wire = tag & 7;
    pos = afterTag;
    let start = pos;
    if (wire === WireType.VARINT) pos = varint(p, pos, p.length, w)[1];
    else if (wire === WireType.FIXED32) pos += 4;
    else if (wire === WireType.FIXED64) pos += 8;
    else if (wire === WireType.BYTES) {
      const [len, afterLen] = varint(p, pos, p.length, w);
      start = afterLen;
      pos = afterLen + Number(len);
    } else throw new ProtobufError(`${label(w)}: unsupported wire type ${wire} at byte ${at}`);
    if (pos > p.length) {
      throw new ProtobufError(`${label(w)}: field at byte ${at} runs past the end of the message`);
    }
    fields.push([Math.floor(tag / 8), wire, start, pos]);
  }
  return fields;
}

/** A BYTES field's payload; another wire type is a ProtobufError. */
export function payloadOf(p: Uint8Array, f: Field, w: Where): Uint8Array {
  if (f[1] !== WireType.BYTES) {
    throw new ProtobufError(
      `${label(w)}: field ${f[0]} has wire type ${f[1]}, expected a length-delimited value`,
    );
  }
  return p.subarray(f[2], f[3]);
}

/** The number of floats of a FloatList payload, checking its encoding. */
export function floatCount(p: Uint8Array, w: Where): number {
  let n = 0;
  for (const [field, wire, start, end] of fieldsOf(p, w)) {
    if (field !== 1) continue;
    if (wire === WireType.BYTES && (end - start) % 4 !== 0) {
      throw new ProtobufError(
        `${label(w)}: packed floats of ${end - start} bytes (not a multiple of 4)`,
      );
    }
    if (wire !== WireType.BYTES && wire !== WireType.FIXED32) {
      throw new ProtobufError(`${label(w)}: float_list has wire type ${wire}`);
    }
    n += (end - start) / 4;
  }
  return n;
}

/** Copies the floats of a FloatList payload into `out` from element `at`. */
export function copyFloats(p: Uint8Array, w: Where, out: Float32Array, at: number): void {
  const bytes = new Uint8Array(out.buffer, out.byteOffset);
  let pos = at * 4;
  for (const [field, , start, end] of fieldsOf(p, w)) {
    if (field !== 1) continue;
    bytes.set(p.subarray(start, end), pos);
    pos += end - start;
  }
  if (!LITTLE_ENDIAN) {
    const view = new DataView(out.buffer, out.byteOffset);
    for (let i = at; i < pos / 4; i++) out[i] = view.getFloat32(4 * i, true);
  }
}

function floats(p: Uint8Array, w: Where): Float32Array {
  const out = new Float32Array(floatCount(p, w));
  copyFloats(p, w, out, 0);
  return out;
}

function int64s(p: Uint8Array, w: Where): BigInt64Array {
  const values: bigint[] = [];
  for (const [field, wire, start, end] of fieldsOf(p, w)) {
    if (field !== 1) continue;
    if (wire === WireType.VARINT) values.push(toInt64(varint(p, start, end, w)[0]));
    else if (wire === WireType.BYTES) {
      for (let pos = start; pos < end;) {
        const [v, next] = varint(p, pos, end, w);
        values.push(toInt64(v));
        pos = next;
      }
    } else throw new ProtobufError(`${label(w)}: int64_list has wire type ${wire}`);
  }
  return BigInt64Array.from(values);
}

function toInt64(v: number | bigint): bigint {
  return typeof v === "number" ? BigInt(v) : BigInt.asIntN(64, v);
}

function bytesValues(p: Uint8Array, w: Where): Uint8Array[] {
  return fieldsOf(p, w).filter((f) => f[0] === 1).map((f) => payloadOf(p, f, w).slice());
}

/** The values of a raw feature (kind 1 bytes, 2 floats, 3 int64s). */
export function featureValues(
  raw: RawFeature,
  w: Where,
): Float32Array | BigInt64Array | Uint8Array[] {
  if (raw.kind === 2) return floats(raw.payload, w);
  if (raw.kind === 3) return int64s(raw.payload, w);
  return bytesValues(raw.payload, w);
}

/** One feature's values for serializeExample (tf.train.Feature). */
export type FeatureValue =
  | { floatList: ArrayLike<number> | Tensor }
  | { int64List: ArrayLike<number | bigint> | Tensor }
  | { bytesList: readonly (Uint8Array | string)[] };

const encoder = new TextEncoder();

function listOf(op: string, key: string, value: unknown): ArrayLike<unknown> {
  if (value instanceof Tensor) return value.dataSync() as ArrayLike<unknown>;
  const ok = Array.isArray(value) ||
    (ArrayBuffer.isView(value) && !(value instanceof DataView));
  if (!ok) {
    throw new TypeError(`${op}: feature "${key}": expected an array, got ${describe(value)}`);
  }
  return value as ArrayLike<unknown>;
}

function writeFeature(op: string, key: string, w: ProtoWriter, value: unknown): void {
  const v = value as Record<string, unknown>;
  const kinds = typeof v === "object" && v !== null
    ? ["bytesList", "floatList", "int64List"].filter((k) => k in v)
    : [];
  if (kinds.length !== 1) {
    throw new TypeError(
      `${op}: feature "${key}" must be one of { floatList }, { int64List }, { bytesList }, got ${
        describe(value)
      }`,
    );
  }
  const list = listOf(op, key, v[kinds[0]]);
  if (kinds[0] === "floatList") {
    const values = Float32Array.from(list as ArrayLike<number>, (x) => {
      if (typeof x !== "number") {
        throw new TypeError(`${op}: feature "${key}": ${describe(x)} is not a number`);
      }
      return x;
    });
    w.message(2, (m) => values.length > 0 && m.packedFloats(1, values));
  } else if (kinds[0] === "int64List") {
    const values = Array.from(list, (x) => {
      const ok = typeof x === "bigint"
        ? x >= -(2n ** 63n) && x < 2n ** 63n
        : typeof x === "number" && Number.isSafeInteger(x);
      if (!ok) throw new TypeError(`${op}: feature "${key}": ${describe(x)} is not an int64`);
      return x as number | bigint;
    });
    w.message(3, (m) => values.length > 0 && m.packedVarints(1, values));
  } else {
    const values = Array.from(list, (x) => {
      if (typeof x === "string") return encoder.encode(x);
      if (x instanceof Uint8Array) return x;
      throw new TypeError(`${op}: feature "${key}": ${describe(x)} is not a string or Uint8Array`);
    });
    w.message(1, (m) => values.forEach((b) => m.bytes(1, b)));
  }
}

/**
 * A serialized tf.train.Example, the features given as TensorFlow's tf.train.Feature
 * (floatList, int64List or bytesList).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const bytes = tf.io.serializeExample({
 *   image: { floatList: new Float32Array(784) },
 *   label: { int64List: [7] },
 *   name: { bytesList: ["seven"] },
 * });
 * ```
 */
export function serializeExample(features: Record<string, FeatureValue>): Uint8Array {
  const op = "serializeExample";
  if (typeof features !== "object" || features === null || Array.isArray(features)) {
    throw new TypeError(
      `${op}: features must be an object of feature values, got ${describe(features)}`,
    );
  }
  const w = new ProtoWriter();
  w.message(1, (f) => {
    for (const [key, value] of Object.entries(features)) {
      f.message(1, (entry) => {
        entry.string(1, key);
        entry.message(2, (m) => writeFeature(op, key, m, value));
      });
    }
  });
  return w.finish();
}

/** A feature read back by decodeExample. */
export type DecodedFeature =
  | { floatList: Float32Array }
  | { int64List: BigInt64Array }
  | { bytesList: Uint8Array[] }
  | Record<string, never>;

/**
 * Every feature of a serialized Example with its values (tf.train.Example.FromString).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.io.decodeExample(tf.io.serializeExample({ y: { int64List: [1, 2] } })); // { y: { int64List: [1n, 2n] } }
 * ```
 */
export function decodeExample(serialized: Uint8Array): Record<string, DecodedFeature> {
  const op = "decodeExample";
  if (!(serialized instanceof Uint8Array)) {
    throw new TypeError(`${op}: serialized must be a Uint8Array, got ${describe(serialized)}`);
  }
  const out: Record<string, DecodedFeature> = {};
  const at = (what: string): Where => ({ record: -1, what });
  try {
    for (const f of fieldsOf(serialized, at("Example"))) {
      if (f[0] !== 1) continue;
      const features = payloadOf(serialized, f, at("Example.features"));
      for (const e of fieldsOf(features, at("Features"))) {
        if (e[0] !== 1) continue;
        const entry = payloadOf(features, e, at("Features.feature"));
        let key = "";
        let decoded: DecodedFeature = {};
        for (const k of fieldsOf(entry, at("Features.feature entry"))) {
          if (k[0] === 1) key = decodeKey(payloadOf(entry, k, at("feature key")));
          if (k[0] !== 2) continue;
          const feature = payloadOf(entry, k, at(`feature "${key}"`));
          for (const l of fieldsOf(feature, at(`feature "${key}"`))) {
            const w = at(`feature "${key}"`);
            if (l[0] < 1 || l[0] > 3) continue;
            const list = payloadOf(feature, l, w);
            if (l[0] === 1) decoded = { bytesList: bytesValues(list, w) };
            if (l[0] === 2) decoded = { floatList: floats(list, w) };
            if (l[0] === 3) decoded = { int64List: int64s(list, w) };
          }
        }
        out[key] = decoded;
      }
    }
  } catch (error) {
    if (!(error instanceof ProtobufError)) throw error;
    throw new Error(`${op}: not a valid Example: ${error.message}`, { cause: error });
  }
  return out;
}

const keyDecoder = new TextDecoder("utf-8", { fatal: true });

/** A feature key as text; invalid UTF-8 is a ProtobufError. */
export function decodeKey(bytes: Uint8Array): string {
  try {
    return keyDecoder.decode(bytes);
  } catch {
    throw new ProtobufError("a feature key is not valid UTF-8");
  }
}
