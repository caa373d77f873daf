/**
 * saved_model.pb as TensorFlow's C++ re-serialises it deterministically after parsing, the
 * bytes whose FarmHash fingerprint.pb's saved_model_checksum holds (fingerprint.ts). Python
 * writes map entries in another order and leaves out a map entry's default key or value,
 * which C++ always writes; otherwise both write canonical bytes (fields in number order,
 * minimal varints, no proto3 defaults). So this needs no full schema: it parses only the
 * messages on a path to a map field (SCHEMA, from TensorFlow's protos), orders their fields by
 * number (stably), sorts each map's entries by key with both halves written, and copies every
 * other field's bytes as they are. Checked against TensorFlow's own checksums: the committed
 * fixture (tests/saved_model_load_test.ts) and every model of the interop tests.
 * Decisions: varints are read as numbers (tags and lengths stay far below 2^53) and values
 * are copied, never decoded, except map keys; an unchanged message is copied, not rebuilt.
 * @module
 */
import { ProtobufError } from "../../io/protobuf.ts";

/** A map field's key or scalar value: protobuf's string, uint32 and fixed64. */
type Scalar = "string" | "uint32" | "fixed64";
/** A map field: its key's kind and its value's (a scalar or a message type). */
type MapField = { key: Scalar; value: Scalar | { message: string } };
/** A field to look inside: a message (named in SCHEMA, else copied) or a map. */
type Entry = { message: string } | MapField;

const msg = (message: string): Entry => ({ message });
const map = (key: Scalar, value: Scalar | string): Entry => ({
  key,
  value: value === "string" || value === "uint32" || value === "fixed64"
    ? value
    : { message: value },
});

/**
 * Every message of saved_model.proto that holds a map field, directly or below, with the
 * fields that lead to one (field numbers from TensorFlow 2.21's protos). Map values of
 * message types not listed here (CollectionDef, TensorProto, SaveableObject, stack traces)
 * hold no maps and are copied.
 */
const SCHEMA: Record<string, Record<number, Entry>> = {
  SavedModel: { 2: msg("MetaGraphDef") },
  MetaGraphDef: {
    1: msg("MetaInfoDef"),
    2: msg("GraphDef"),
    4: map("string", "CollectionDef"),
    5: map("string", "SignatureDef"),
    6: msg("AssetFileDef"),
    7: msg("SavedObjectGraph"),
  },
  MetaInfoDef: { 2: msg("OpList"), 8: map("string", "string") },
  OpList: { 1: msg("OpDef") },
  OpDef: { 4: msg("AttrDef") },
  AttrDef: { 3: msg("AttrValue"), 7: msg("AttrValue") },
  AttrValue: { 1: msg("ListValue"), 10: msg("NameAttrList") },
  ListValue: { 9: msg("NameAttrList") },
  NameAttrList: { 2: map("string", "AttrValue") },
  GraphDef: { 1: msg("NodeDef"), 2: msg("FunctionDefLibrary"), 5: msg("GraphDebugInfo") },
  NodeDef: { 5: map("string", "AttrValue") },
  FunctionDefLibrary: { 1: msg("FunctionDef") },
  FunctionDef: {
    1: msg("OpDef"),
    3: msg("NodeDef"),
    4: map("string", "string"),
    5: map("string", "AttrValue"),
    6: map("string", "string"),
    7: map("uint32", "ArgAttrs"),
    8: map("uint32", "uint32"),
  },
  ArgAttrs: { 1: map("string", "AttrValue") },
  GraphDebugInfo: {
    2: map("string", "StackTrace"),
    4: map("fixed64", "FileLineCol"),
    5: map("string", "fixed64"),
    6: map("fixed64", "StackTrace"),
  },
  SignatureDef: {
    1: map("string", "TensorInfo"),
    2: map("string", "TensorInfo"),
    4: map("string", "TensorProto"),
  },
  TensorInfo: { 5: msg("CompositeTensor") },
  CompositeTensor: { 1: msg("TypeSpecProto"), 2: msg("TensorInfo") },
  TypeSpecProto: { 2: msg("StructuredValue") },
  StructuredValue: {
    34: msg("TypeSpecProto"),
    51: msg("StructuredList"),
    52: msg("StructuredList"), // TupleValue: the same shape as ListValue
    53: msg("DictValue"),
    54: msg("NamedTupleValue"),
  },
  StructuredList: { 1: msg("StructuredValue") },
  DictValue: { 1: map("string", "StructuredValue") },
  NamedTupleValue: { 2: msg("PairValue") },
  PairValue: { 2: msg("StructuredValue") },
  AssetFileDef: { 1: msg("TensorInfo") },
  SavedObjectGraph: { 1: msg("SavedObject"), 2: map("string", "SavedConcreteFunction") },
  SavedObject: {
    6: msg("SavedFunction"),
    8: msg("SavedBareConcreteFunction"),
    11: map("string", "SaveableObject"),
  },
  SavedFunction: { 2: msg("FunctionSpec") },
  SavedBareConcreteFunction: { 4: msg("FunctionSpec") },
  FunctionSpec: { 1: msg("StructuredValue"), 5: msg("StructuredValue") },
  SavedConcreteFunction: { 3: msg("StructuredValue"), 4: msg("StructuredValue") },
};

/** One field of a message: its number, wire type and byte ranges in the message. */
interface Field {
  field: number;
  wire: number;
  start: number; // the tag
  payload: number; // a BYTES field's payload (after its length), else the value
  end: number;
}

/** A varint at `pos` as a number, and the position after it. */
function varint(b: Uint8Array, pos: number, what: string): [number, number] {
  let value = 0, scale = 1;
  for (let i = pos; i < b.length && i < pos + 10; i++) {
    value += (b[i] & 0x7f) * scale;
    if (b[i] < 0x80) return [value, i + 1];
    scale *= 128;
  }
  throw new ProtobufError(`${what}: malformed or truncated varint at byte ${pos}`);
}

/** The fields of message `b`, in file order. */
function scan(b: Uint8Array, what: string): Field[] {
  const out: Field[] = [];
  for (let pos = 0; pos < b.length;) {
    const start = pos;
    const [key, after] = varint(b, pos, what);
    const field = Math.floor(key / 8), wire = key % 8;
    if (field === 0) throw new ProtobufError(`${what}: field number 0 at byte ${start}`);
    let payload = after, end: number;
    if (wire === 0) end = varint(b, after, what)[1];
    else if (wire === 1) end = after + 8;
    else if (wire === 5) end = after + 4;
    else if (wire === 2) {
      const [length, at] = varint(b, after, what);
      payload = at;
      end = at + length;
    } else {
      throw new ProtobufError(`${what}: unsupported wire type ${wire} at byte ${start}`);
    }
    if (end > b.length) {
      throw new ProtobufError(`${what}: field at byte ${start} runs past the end of the message`);
    }
    out.push({ field, wire, start, payload, end });
    pos = end;
  }
  return out;
}

function encodeVarint(value: number): number[] {
  const out: number[] = [];
  while (value >= 0x80) {
    out.push((value % 128) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return out;
}

/** Output built from pieces, joined once. */
class Pieces {
  readonly parts: Uint8Array[] = [];
  length = 0;
  add(part: Uint8Array): void {
    this.parts.push(part);
    this.length += part.length;
  }
  /** A BYTES field: tag, length, payload. */
  bytesField(field: number, payload: Uint8Array): void {
    this.add(Uint8Array.from([...encodeVarint(field * 8 + 2), ...encodeVarint(payload.length)]));
    this.add(payload);
  }
  join(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

/** Bytes as text one character a byte: a map key's identity. */
const LATIN1 = new TextDecoder("latin1");

const WIRE: Record<Scalar, number> = { string: 2, uint32: 0, fixed64: 1 };
/** A missing key or scalar value as C++ writes it: "", 0, or eight zero bytes (no tag). */
const DEFAULT_BODY: Record<Scalar, number[]> = {
  string: [0],
  uint32: [0],
  fixed64: [0, 0, 0, 0, 0, 0, 0, 0],
};

/** The last field numbered `n` with wire type `wire`, if any. */
function last(fields: Field[], n: number, wire: number): Field | undefined {
  for (let i = fields.length - 1; i >= 0; i--) {
    if (fields[i].field === n && fields[i].wire === wire) return fields[i];
  }
  return undefined;
}

/** A map entry's key or scalar value as written (tag included), or C++'s default. */
function scalarBytes(n: number, kind: Scalar, b: Uint8Array, f: Field | undefined): Uint8Array {
  return f ? b.subarray(f.start, f.end) : Uint8Array.of(n * 8 + WIRE[kind], ...DEFAULT_BODY[kind]);
}

function sortKeyOf(kind: Scalar, b: Uint8Array, f: Field | undefined, what: string) {
  if (kind === "string") return f ? b.subarray(f.payload, f.end) : new Uint8Array(0);
  if (!f) return 0n;
  if (kind === "uint32") return BigInt(varint(b, f.payload, what)[0] % 2 ** 32);
  return new DataView(b.buffer, b.byteOffset + f.payload, 8).getBigUint64(0, true);
}

function compareKeys(a: Uint8Array | bigint, b: Uint8Array | bigint): number {
  if (typeof a === "bigint" && typeof b === "bigint") return a < b ? -1 : a > b ? 1 : 0;
  const x = a as Uint8Array, y = b as Uint8Array;
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/** One map field's entries: sorted by key, the last of equal keys kept, both halves written. */
function addMap(out: Pieces, n: number, group: Field[], b: Uint8Array, e: MapField, what: string) {
  const byKey = new Map<string, { sortKey: Uint8Array | bigint; entry: Uint8Array }>();
  for (const f of group) {
    const body = b.subarray(f.payload, f.end);
    const parts = scan(body, what);
    const keyField = last(parts, 1, WIRE[e.key]);
    const sortKey = sortKeyOf(e.key, body, keyField, what);
    const entry = new Pieces();
    entry.add(scalarBytes(1, e.key, body, keyField));
    if (typeof e.value === "string") {
      entry.add(scalarBytes(2, e.value, body, last(parts, 2, WIRE[e.value])));
    } else {
      const v = last(parts, 2, 2);
      const payload = v ? body.subarray(v.payload, v.end) : new Uint8Array(0);
      entry.bytesField(2, canonical(payload, e.value.message, what));
    }
    const id = typeof sortKey === "bigint" ? `n${sortKey}` : `s${LATIN1.decode(sortKey)}`;
    byKey.set(id, { sortKey, entry: entry.join() });
  }
  const sorted = [...byKey.values()].sort((x, y) => compareKeys(x.sortKey, y.sortKey));
  for (const { entry } of sorted) out.bytesField(n, entry);
}

/** Message `b` of `type` in canonical form (`b` itself when nothing in it changes). */
function canonical(b: Uint8Array, type: string, what: string): Uint8Array {
  const schema = SCHEMA[type];
  if (schema === undefined) return b;
  const fields = scan(b, what);
  const ordered = fields.slice().sort((x, y) => x.field - y.field);
  const out = new Pieces();
  let changed = ordered.some((f, i) => f !== fields[i]);
  for (let i = 0; i < ordered.length;) {
    let j = i;
    while (j < ordered.length && ordered[j].field === ordered[i].field) j++;
    const group = ordered.slice(i, j);
    const entry = schema[ordered[i].field];
    if (entry !== undefined && group.every((f) => f.wire === 2)) {
      if ("key" in entry) {
        addMap(out, ordered[i].field, group, b, entry, what);
        changed = true;
      } else {
        for (const f of group) {
          const payload = b.subarray(f.payload, f.end);
          const fixed = canonical(payload, entry.message, what);
          if (fixed === payload) out.add(b.subarray(f.start, f.end));
          else {
            out.bytesField(f.field, fixed);
            changed = true;
          }
        }
      }
    } else {
      for (const f of group) out.add(b.subarray(f.start, f.end));
    }
    i = j;
  }
  return changed ? out.join() : b;
}

/** saved_model.pb as TensorFlow's C++ serialises it deterministically (see the module doc). */
export function canonicalSavedModel(pb: Uint8Array, what: string): Uint8Array {
  return canonical(pb, "SavedModel", what);
}
