/**
 * A SavedModel's fingerprint.pb (TensorFlow's FingerprintDef), read on load and written on
 * save. Its saved_model_checksum is FarmHash's Fingerprint64 of saved_model.pb as TensorFlow's
 * C++ re-serialises it deterministically after parsing (fingerprinting.cc, HashSavedModel),
 * not of the file's bytes: Python writes map entries in another order and leaves out a map
 * entry's default key or value, which C++ always writes. `canonicalSavedModel` makes those
 * bytes without a full schema: it parses only the messages on a path to a map field (SCHEMA,
 * from TensorFlow's protos), puts fields in field-number order (stable), sorts map entries by
 * key and writes each entry's key and value; every other payload is copied as it is, which
 * holds because TensorFlow's writers already emit those in canonical form (checked against
 * TensorFlow's own checksums in tests/saved_model_load_test.ts and the interop tests).
 * checkpoint_hash is the Fingerprint64 of variables/variables.index.
 * @module
 */
import { fingerprint64 } from "../../io/farmhash.ts";
import { parseMessage, type ProtoField, ProtoWriter, WireType } from "../../io/protobuf.ts";

/** A map field's key or scalar value: protobuf's string, uint32 and fixed64. */
type Scalar = "string" | "uint32" | "fixed64";
/** A field to look inside: a message (named in SCHEMA, else copied) or a map. */
type Entry = { message: string } | { key: Scalar; value: Scalar | { message: string } };

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

/** A parsed map entry: its key (for sorting and rewriting) and its value field, if any. */
interface MapEntry {
  key: Uint8Array | bigint;
  value: ProtoField | undefined;
}

function compareKeys(a: Uint8Array | bigint, b: Uint8Array | bigint): number {
  if (typeof a === "bigint" && typeof b === "bigint") return a < b ? -1 : a > b ? 1 : 0;
  const x = a as Uint8Array, y = b as Uint8Array;
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

function writeScalar(w: ProtoWriter, field: number, kind: Scalar, v: Uint8Array | bigint): void {
  if (kind === "string") w.bytes(field, v as Uint8Array);
  else if (kind === "uint32") w.varint(field, BigInt.asUintN(32, v as bigint));
  else w.fixed64(field, v as bigint);
}

function scalarOf(f: ProtoField | undefined, kind: Scalar): Uint8Array | bigint {
  if (kind === "string") return f?.wire === WireType.BYTES ? f.bytes : new Uint8Array(0);
  return f === undefined || f.wire === WireType.BYTES ? 0n : f.int;
}

/** One map field's entries, deduplicated (the last wins, as protobuf's parser keeps it). */
function writeMap(w: ProtoWriter, field: number, entries: ProtoField[], e: Entry, what: string) {
  if (!("key" in e)) return;
  const byKey = new Map<string, MapEntry>();
  for (const f of entries) {
    const parts = parseMessage(f.bytes, what);
    const key = scalarOf(parts.findLast((p) => p.field === 1), e.key);
    const id = typeof key === "bigint" ? key.toString() : Array.from(key).join(",");
    byKey.set(id, { key, value: parts.findLast((p) => p.field === 2) });
  }
  const sorted = [...byKey.values()].sort((a, b) => compareKeys(a.key, b.key));
  for (const { key, value } of sorted) {
    w.message(field, (entry) => {
      writeScalar(entry, 1, e.key, key);
      if (typeof e.value === "string") writeScalar(entry, 2, e.value, scalarOf(value, e.value));
      else {
        const payload = value?.wire === WireType.BYTES ? value.bytes : new Uint8Array(0);
        entry.bytes(2, canonical(payload, e.value.message, what));
      }
    });
  }
}

/** A field copied as it was read: its tag and payload. */
function copyField(w: ProtoWriter, f: ProtoField): void {
  if (f.wire === WireType.VARINT) w.varint(f.field, f.int);
  else if (f.wire === WireType.FIXED64) w.fixed64(f.field, f.int);
  else if (f.wire === WireType.FIXED32) w.fixed32(f.field, Number(f.int));
  else w.bytes(f.field, f.bytes);
}

function canonical(bytes: Uint8Array, type: string, what: string): Uint8Array {
  const schema = SCHEMA[type];
  if (schema === undefined) return bytes;
  const fields = parseMessage(bytes, what).sort((a, b) => a.field - b.field);
  const w = new ProtoWriter();
  for (let i = 0; i < fields.length;) {
    let j = i;
    while (j < fields.length && fields[j].field === fields[i].field) j++;
    const group = fields.slice(i, j);
    const entry = schema[fields[i].field];
    if (entry !== undefined && group.every((f) => f.wire === WireType.BYTES)) {
      if ("key" in entry) writeMap(w, fields[i].field, group, entry, what);
      else for (const f of group) w.bytes(f.field, canonical(f.bytes, entry.message, what));
    } else {
      for (const f of group) copyField(w, f);
    }
    i = j;
  }
  return w.finish();
}

/** saved_model.pb as TensorFlow's C++ serialises it deterministically (see the module doc). */
export function canonicalSavedModel(pb: Uint8Array, what: string): Uint8Array {
  return canonical(pb, "SavedModel", what);
}

/** TensorFlow's saved_model_checksum of saved_model.pb's bytes. */
export function savedModelChecksum(pb: Uint8Array, what: string): bigint {
  return fingerprint64(canonicalSavedModel(pb, what));
}

/** The fields of fingerprint.pb this library reads and writes (0: absent). */
export interface Fingerprint {
  savedModelChecksum: bigint;
  checkpointHash: bigint;
}

/** FingerprintDef's field numbers (fingerprint.proto). */
const FINGERPRINT = { checksum: 1, checkpointHash: 5, version: 6, uuid: 7 } as const;
/** VersionDef.producer TensorFlow 2.21 writes for a saved_model.pb fingerprint. */
const PRODUCER = 4;

export function decodeFingerprint(bytes: Uint8Array, what: string): Fingerprint {
  const out: Fingerprint = { savedModelChecksum: 0n, checkpointHash: 0n };
  for (const f of parseMessage(bytes, what)) {
    if (f.wire !== WireType.VARINT) continue;
    if (f.field === FINGERPRINT.checksum) out.savedModelChecksum = f.int;
    if (f.field === FINGERPRINT.checkpointHash) out.checkpointHash = f.int;
  }
  return out;
}

/**
 * fingerprint.pb for a model this library writes: the checksum of `pb`, the checkpoint hash
 * of `index` and a random UUID, as TensorFlow fills them. The regularised program hashes
 * (graph_def_program_hash, signature_def_hash, saved_object_graph_hash) are left out: they
 * serve TensorFlow's model tracking, not loading, and TensorFlow loads the model without them.
 */
export function encodeFingerprint(pb: Uint8Array, index: Uint8Array, what: string): Uint8Array {
  const uuid = BigInt(`0x${crypto.randomUUID().replaceAll("-", "")}`).toString();
  return new ProtoWriter()
    .varint(FINGERPRINT.checksum, savedModelChecksum(pb, what))
    .varint(FINGERPRINT.checkpointHash, fingerprint64(index))
    .message(FINGERPRINT.version, (v) => v.varint(1, PRODUCER))
    .string(FINGERPRINT.uuid, uuid)
    .finish();
}
