/**
 * The two messages of a checkpoint's index (tensorflow/core/protobuf/tensor_bundle.proto)
 * and the pieces they use (TensorShapeProto, VersionDef, the DataType enum of types.proto):
 *
 *     BundleHeaderProto { int32 num_shards = 1; Endianness endianness = 2 (LITTLE = 0);
 *                         VersionDef version = 3 }            VersionDef { int32 producer = 1;
 *                                                             int32 min_consumer = 2; ... }
 *     BundleEntryProto  { DataType dtype = 1; TensorShapeProto shape = 2; int32 shard_id = 3;
 *                         int64 offset = 4; int64 size = 5; fixed32 crc32c = 6;
 *                         repeated TensorSliceProto slices = 7 }
 *     TensorShapeProto  { repeated Dim dim = 2 (Dim { int64 size = 1; string name = 2 });
 *                         bool unknown_rank = 3 }
 *
 * Written as proto3 serializes them: zero scalars are left out, the shape always present.
 * @module
 */
import type { DType } from "../../dtype.ts";
import {
  asInt64,
  parseMessage,
  type ProtoField,
  ProtoWriter,
  WireType,
} from "../../io/protobuf.ts";

/** DataType enum values (types.proto) of the dtypes we store. */
const DT_CODES: Record<DType, number> = {
  float32: 1,
  float64: 2,
  int32: 3,
  uint8: 4,
  int64: 9,
  bool: 10,
};

/** TensorFlow's names of the other DataType values, for listings and errors. */
const OTHER_NAMES: Record<number, string> = {
  5: "int16",
  6: "int8",
  7: "string",
  8: "complex64",
  14: "bfloat16",
  17: "uint16",
  18: "complex128",
  19: "float16",
  20: "resource",
  21: "variant",
  22: "uint32",
  23: "uint64",
};

const BY_CODE = new Map(Object.entries(DT_CODES).map(([d, c]) => [c, d as DType]));

/** Our dtype of a DataType value, or undefined for one we do not have. */
export function dtypeOfCode(code: number): DType | undefined {
  return BY_CODE.get(code);
}

/** A DataType value's name: ours, TensorFlow's, or `DataType(<n>)`. */
export function dtypeName(code: number): string {
  return BY_CODE.get(code) ?? OTHER_NAMES[code] ?? `DataType(${code})`;
}

/** The DataType value of a dtype. */
export function codeOfDType(dtype: DType): number {
  return DT_CODES[dtype];
}

/** A parsed BundleEntryProto. */
export interface BundleEntry {
  dtype: number;
  shape: number[];
  shardId: number;
  offset: number;
  size: number;
  /** The masked crc32c of the tensor's bytes. */
  crc32c: number;
  /** Whether the entry describes a partitioned (sliced) variable. */
  sliced: boolean;
}

/** The header every bundle index starts with (num_shards 1, LITTLE, producer 1). */
export function encodeHeader(): Uint8Array {
  return new ProtoWriter().varint(1, 1).message(3, (v) => v.varint(1, 1)).finish();
}

/** The BundleEntryProto of one tensor in shard 0. */
export function encodeEntry(
  dtype: DType,
  shape: readonly number[],
  offset: number,
  size: number,
  crc: number,
): Uint8Array {
  const w = new ProtoWriter().varint(1, DT_CODES[dtype]);
  w.message(2, (s) => {
    for (const d of shape) {
      s.message(2, (dim) => {
        if (d !== 0) dim.varint(1, d);
      });
    }
  });
  if (offset !== 0) w.varint(4, offset);
  if (size !== 0) w.varint(5, size);
  if (crc !== 0) w.fixed32(6, crc);
  return w.finish();
}

/** A non-negative int64 field that fits a JS number, else an Error naming it. */
function safeInt(f: ProtoField, what: string): number {
  const v = asInt64(f);
  if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${what} ${v} out of range`);
  return Number(v);
}

/** The header's num_shards, after checking endianness and version. */
export function decodeHeader(bytes: Uint8Array): number {
  let shards = 0, endianness = 0n, producer = 0n;
  for (const f of parseMessage(bytes, "BundleHeaderProto")) {
    if (f.field === 1) shards = safeInt(f, "num_shards");
    else if (f.field === 2) endianness = f.int;
    else if (f.field === 3) {
      for (const v of parseMessage(f.bytes, "VersionDef")) if (v.field === 1) producer = v.int;
    }
  }
  if (shards < 1) throw new Error(`num_shards is ${shards}`);
  if (endianness !== 0n) throw new Error("the bundle is big-endian (only little-endian is read)");
  if (producer > 1n) throw new Error(`bundle format version ${producer} is newer than 1`);
  return shards;
}

/** Wire types of BundleEntryProto's fields. */
const ENTRY_WIRES: Record<number, number> = {
  1: WireType.VARINT,
  2: WireType.BYTES,
  3: WireType.VARINT,
  4: WireType.VARINT,
  5: WireType.VARINT,
  6: WireType.FIXED32,
  7: WireType.BYTES,
};

/** A BundleEntryProto; malformed fields are Errors naming the field. */
export function decodeEntry(bytes: Uint8Array): BundleEntry {
  const entry: BundleEntry = {
    dtype: 0,
    shape: [],
    shardId: 0,
    offset: 0,
    size: 0,
    crc32c: 0,
    sliced: false,
  };
  for (const f of parseMessage(bytes, "BundleEntryProto")) {
    const wire = ENTRY_WIRES[f.field];
    if (wire !== undefined && f.wire !== wire) {
      throw new Error(`BundleEntryProto: field ${f.field} has wire type ${f.wire}`);
    }
    if (f.field === 1) entry.dtype = Number(BigInt.asUintN(32, f.int));
    else if (f.field === 2) entry.shape = decodeShape(f.bytes);
    else if (f.field === 3) entry.shardId = safeInt(f, "shard_id");
    else if (f.field === 4) entry.offset = safeInt(f, "offset");
    else if (f.field === 5) entry.size = safeInt(f, "size");
    else if (f.field === 6) entry.crc32c = Number(f.int);
    else if (f.field === 7) entry.sliced = true;
  }
  return entry;
}

function decodeShape(bytes: Uint8Array): number[] {
  const shape: number[] = [];
  for (const f of parseMessage(bytes, "TensorShapeProto")) {
    if (f.field === 3 && f.int !== 0n) throw new Error("the shape has unknown rank");
    if (f.field !== 2) continue;
    let size = 0;
    for (const d of parseMessage(f.bytes, "TensorShapeProto.Dim")) {
      if (d.field === 1) size = safeInt(d, "dimension");
    }
    shape.push(size);
  }
  return shape;
}
