/**
 * The protocol-buffer wire format, by hand, for the few messages TensorFlow's files hold
 * (Event, Summary, TensorProto, BundleHeaderProto, BundleEntryProto, Example): a writer
 * that appends fields, and a reader that splits a message into its fields. Decisions:
 * - 64-bit integers are bigints on the wire API and may be given as numbers;
 * - the reader never throws anything but a ProtobufError naming what was being read
 *   (`what`) and the byte offset, so corrupt files give clear errors.
 * @module
 */

/** Wire types of the format. */
export const WireType = { VARINT: 0, FIXED64: 1, BYTES: 2, FIXED32: 5 } as const;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** A malformed message; the text names the message and the byte offset. */
export class ProtobufError extends Error {
  override name = "ProtobufError";
}

/** Appends fields to a growing buffer; `finish()` returns the message bytes. */
export class ProtoWriter {
  #buffer = new Uint8Array(64);
  #view = new DataView(this.#buffer.buffer);
  #length = 0;

  #reserve(extra: number): void {
    if (this.#length + extra <= this.#buffer.length) return;
    let size = this.#buffer.length * 2;
    while (size < this.#length + extra) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = grown;
    this.#view = new DataView(grown.buffer);
  }

  /** A bare varint (no tag); negative numbers as 64-bit two's complement. */
  rawVarint(value: number | bigint): this {
    let v = BigInt.asUintN(64, BigInt(value));
    this.#reserve(10);
    if (v < 0x80n) {
      this.#buffer[this.#length++] = Number(v);
      return this;
    }
    while (v >= 0x80n) {
      this.#buffer[this.#length++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.#buffer[this.#length++] = Number(v);
    return this;
  }

  #tag(field: number, wire: number): void {
    this.rawVarint(field * 8 + wire);
  }

  /** int32, int64, uint32, uint64, enum. */
  varint(field: number, value: number | bigint): this {
    this.#tag(field, WireType.VARINT);
    return this.rawVarint(value);
  }

  bool(field: number, value: boolean): this {
    return this.varint(field, value ? 1 : 0);
  }

  fixed32(field: number, value: number): this {
    this.#tag(field, WireType.FIXED32);
    this.#reserve(4);
    this.#view.setUint32(this.#length, value >>> 0, true);
    this.#length += 4;
    return this;
  }

  fixed64(field: number, value: number | bigint): this {
    this.#tag(field, WireType.FIXED64);
    this.#reserve(8);
    this.#view.setBigUint64(this.#length, BigInt.asUintN(64, BigInt(value)), true);
    this.#length += 8;
    return this;
  }

  float(field: number, value: number): this {
    this.#tag(field, WireType.FIXED32);
    this.#reserve(4);
    this.#view.setFloat32(this.#length, value, true);
    this.#length += 4;
    return this;
  }

  double(field: number, value: number): this {
    this.#tag(field, WireType.FIXED64);
    this.#reserve(8);
    this.#view.setFloat64(this.#length, value, true);
    this.#length += 8;
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.#tag(field, WireType.BYTES);
    this.rawVarint(value.length);
    this.#reserve(value.length);
    this.#buffer.set(value, this.#length);
    this.#length += value.length;
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, encoder.encode(value));
  }

  /** A nested message written by `write`. */
  message(field: number, write: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    write(inner);
    return this.bytes(field, inner.finish());
  }

  /** Packed repeated varints (int32, int64, bool, enum). */
  packedVarints(field: number, values: Iterable<number | bigint>): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.rawVarint(v);
    return this.bytes(field, inner.finish());
  }

  /** Packed repeated doubles. */
  packedDoubles(field: number, values: ArrayLike<number>): this {
    const bytes = new Uint8Array(values.length * 8);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i], true);
    return this.bytes(field, bytes);
  }

  /** Packed repeated floats. */
  packedFloats(field: number, values: ArrayLike<number>): this {
    const bytes = new Uint8Array(values.length * 4);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
    return this.bytes(field, bytes);
  }

  /** The bytes written so far (a copy). */
  finish(): Uint8Array {
    return this.#buffer.slice(0, this.#length);
  }
}

/** One field of a parsed message. */
export interface ProtoField {
  field: number;
  wire: number;
  /** VARINT, FIXED64 (raw bits) and FIXED32 (raw bits) values. */
  int: bigint;
  /** BYTES payloads (a view into the message). */
  bytes: Uint8Array;
  /** Byte offset of the field's tag in the message. */
  offset: number;
}

const EMPTY = new Uint8Array(0);

/** Reads a varint at `pos`; returns [value, next position]. */
export function readVarint(bytes: Uint8Array, pos: number, what: string): [bigint, number] {
  let result = 0n, shift = 0n;
  for (let i = pos; i < bytes.length && i < pos + 10; i++) {
    const b = bytes[i];
    result |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return [BigInt.asUintN(64, result), i + 1];
    shift += 7n;
  }
  throw new ProtobufError(`${what}: malformed or truncated varint at byte ${pos}`);
}

/**
 * The fields of a message in order. Unknown wire types (groups) and payloads running
 * past the end are errors naming `what` and the offset.
 */
export function parseMessage(bytes: Uint8Array, what: string): ProtoField[] {
  const fields: ProtoField[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  while (pos < bytes.length) {
    const offset = pos;
    const [key, afterKey] = readVarint(bytes, pos, what);
    const field = Number(key >> 3n), wire = Number(key & 7n);
    if (field === 0) throw new ProtobufError(`${what}: field number 0 at byte ${offset}`);
    pos = afterKey;
    let int = 0n, payload: Uint8Array = EMPTY;
    if (wire === WireType.VARINT) {
      [int, pos] = readVarint(bytes, pos, what);
    } else if (wire === WireType.FIXED64) {
      if (pos + 8 > bytes.length) throw truncated(what, offset);
      int = view.getBigUint64(pos, true);
      pos += 8;
    } else if (wire === WireType.FIXED32) {
      if (pos + 4 > bytes.length) throw truncated(what, offset);
      int = BigInt(view.getUint32(pos, true));
      pos += 4;
    } else if (wire === WireType.BYTES) {
      const [length, start] = readVarint(bytes, pos, what);
      if (length > BigInt(bytes.length - start)) throw truncated(what, offset);
      payload = bytes.subarray(start, start + Number(length));
      pos = start + Number(length);
    } else {
      throw new ProtobufError(`${what}: unsupported wire type ${wire} at byte ${offset}`);
    }
    fields.push({ field, wire, int, bytes: payload, offset });
  }
  return fields;
}

function truncated(what: string, offset: number): ProtobufError {
  return new ProtobufError(`${what}: field at byte ${offset} runs past the end of the message`);
}

/** A field's value as a signed 64-bit integer (int64, int32 as written by encoders). */
export function asInt64(f: ProtoField): bigint {
  return BigInt.asIntN(64, f.int);
}

/** A FIXED32 field as a float. */
export function asFloat(f: ProtoField): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, Number(f.int), true);
  return view.getFloat32(0, true);
}

/** A FIXED64 field as a double. */
export function asDouble(f: ProtoField): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, f.int, true);
  return view.getFloat64(0, true);
}

/** A BYTES field as UTF-8 text; invalid UTF-8 is an error naming `what`. */
export function asString(f: ProtoField, what: string): string {
  try {
    return decoder.decode(f.bytes);
  } catch {
    throw new ProtobufError(`${what}: field ${f.field} at byte ${f.offset} is not valid UTF-8`);
  }
}

/** Values of a packed (or unpacked, repeated) varint field: every occurrence, in order. */
export function repeatedVarints(fields: ProtoField[], field: number, what: string): bigint[] {
  const out: bigint[] = [];
  for (const f of fields) {
    if (f.field !== field) continue;
    if (f.wire === WireType.VARINT) out.push(f.int);
    else if (f.wire === WireType.BYTES) {
      for (let pos = 0; pos < f.bytes.length;) {
        const [v, next] = readVarint(f.bytes, pos, what);
        out.push(v);
        pos = next;
      }
    } else {
      throw new ProtobufError(`${what}: field ${field} has wire type ${f.wire}, not a varint`);
    }
  }
  return out;
}
