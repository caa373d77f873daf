/**
 * The messages of a SavedModel's saved_model.pb, written by hand with the project's protobuf
 * writer (src/io/protobuf.ts). Field numbers from TensorFlow's protos:
 * saved_model.proto (SavedModel), meta_graph.proto (MetaGraphDef, MetaInfoDef, SignatureDef,
 * TensorInfo), graph.proto / node_def.proto / versions.proto (GraphDef, NodeDef, VersionDef),
 * attr_value.proto (AttrValue, ListValue), tensor.proto / tensor_shape.proto (TensorProto,
 * TensorShapeProto) and saver.proto (SaverDef). A map<string, M> field is a repeated entry
 * message with the key as field 1 and the value as field 2.
 * Fields are written as TensorFlow's C++ serialises them (in field-number order, proto3
 * defaults left out), so fingerprint.pb's checksum is TensorFlow's (fingerprint.ts).
 * @module
 */
import type { DType, TypedArray } from "../../dtype.ts";
import { ProtoWriter } from "../../io/protobuf.ts";
import { codeOfDType } from "../../train/bundle/protos.ts";

/** TensorFlow's DataType codes beyond ours: strings and resource handles. */
export const DT_STRING = 7;
export const DT_RESOURCE = 20;

/** An attribute value of a node. */
export type AttrValue =
  | { readonly s: string }
  | { readonly i: number }
  | { readonly f: number }
  | { readonly b: boolean }
  | { readonly type: number }
  | { readonly shape: readonly number[] }
  | { readonly tensor: TensorValue }
  | { readonly ints: readonly number[] }
  | { readonly types: readonly number[] }
  | { readonly strings: readonly string[] };

/** A constant: numbers as raw little-endian bytes, or strings. */
export type TensorValue =
  | { readonly dtype: DType; readonly shape: readonly number[]; readonly data: TypedArray }
  | { readonly strings: readonly string[]; readonly shape: readonly number[] };

/** A node of a GraphDef. */
export interface NodeDef {
  readonly name: string;
  readonly op: string;
  readonly inputs: readonly string[];
  readonly attrs: Readonly<Record<string, AttrValue>>;
}

/** A signature's tensor: its graph name ("x:0"), dtype code and shape. */
export interface TensorInfo {
  readonly name: string;
  readonly dtype: number;
  readonly shape: readonly number[];
}

/** One signature: named inputs and outputs. */
export interface Signature {
  readonly inputs: Readonly<Record<string, TensorInfo>>;
  readonly outputs: Readonly<Record<string, TensorInfo>>;
  readonly methodName: string;
}

/** The one MetaGraphDef this library writes. */
export interface MetaGraph {
  readonly tags: readonly string[];
  readonly nodes: readonly NodeDef[];
  /** GraphDef's VersionDef.producer. */
  readonly producer: number;
  readonly tensorflowVersion: string;
  readonly saver?: { filenameTensor: string; saveTensor: string; restoreOp: string };
  readonly signatures: Readonly<Record<string, Signature>>;
}

const encoder = new TextEncoder();

function writeShape(w: ProtoWriter, shape: readonly number[]): void {
  for (const d of shape) {
    w.message(2, (dim) => {
      if (d !== 0) dim.varint(1, d);
    });
  }
}

function writeTensor(w: ProtoWriter, t: TensorValue): void {
  if ("strings" in t) {
    w.varint(1, DT_STRING);
    w.message(2, (s) => writeShape(s, t.shape));
    for (const s of t.strings) w.bytes(8, encoder.encode(s));
    return;
  }
  w.varint(1, codeOfDType(t.dtype));
  w.message(2, (s) => writeShape(s, t.shape));
  if (t.data.byteLength > 0) {
    w.bytes(4, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
}

/** A packed repeated field; an empty one is left out, as TensorFlow's C++ writes it. */
function packedUnlessEmpty(w: ProtoWriter, field: number, values: readonly number[]): void {
  if (values.length > 0) w.packedVarints(field, values);
}

function writeAttr(w: ProtoWriter, v: AttrValue): void {
  if ("s" in v) w.bytes(2, encoder.encode(v.s));
  else if ("i" in v) w.varint(3, v.i);
  else if ("f" in v) w.float(4, v.f);
  else if ("b" in v) w.bool(5, v.b);
  else if ("type" in v) w.varint(6, v.type);
  else if ("shape" in v) w.message(7, (s) => writeShape(s, v.shape));
  else if ("tensor" in v) w.message(8, (t) => writeTensor(t, v.tensor));
  else if ("ints" in v) w.message(1, (l) => packedUnlessEmpty(l, 3, v.ints));
  else if ("types" in v) w.message(1, (l) => packedUnlessEmpty(l, 6, v.types));
  else w.message(1, (l) => v.strings.forEach((s) => l.bytes(2, encoder.encode(s))));
}

function writeNode(w: ProtoWriter, node: NodeDef): void {
  w.string(1, node.name);
  w.string(2, node.op);
  for (const input of node.inputs) w.string(3, input);
  for (const [key, value] of Object.entries(node.attrs).sort(([a], [b]) => a < b ? -1 : 1)) {
    w.message(5, (e) => e.string(1, key).message(2, (a) => writeAttr(a, value)));
  }
}

function writeTensorInfo(w: ProtoWriter, t: TensorInfo): void {
  w.string(1, t.name);
  w.varint(2, t.dtype);
  w.message(3, (s) => writeShape(s, t.shape));
}

function writeSignature(w: ProtoWriter, s: Signature): void {
  for (const [key, info] of Object.entries(s.inputs)) {
    w.message(1, (e) => e.string(1, key).message(2, (t) => writeTensorInfo(t, info)));
  }
  for (const [key, info] of Object.entries(s.outputs)) {
    w.message(2, (e) => e.string(1, key).message(2, (t) => writeTensorInfo(t, info)));
  }
  w.string(3, s.methodName);
}

/** saved_model.pb: a SavedModel holding one MetaGraphDef. */
export function encodeSavedModel(meta: MetaGraph): Uint8Array {
  const w = new ProtoWriter();
  w.varint(1, 1); // saved_model_schema_version
  w.message(2, (m) => {
    m.message(1, (info) => {
      for (const tag of meta.tags) info.string(4, tag);
      // NOTE: TensorFlow parses tensorflow_version as a version number when present.
      if (meta.tensorflowVersion) info.string(5, meta.tensorflowVersion);
    });
    m.message(2, (g) => {
      for (const node of meta.nodes) g.message(1, (n) => writeNode(n, node));
      g.message(4, (v) => v.varint(1, meta.producer));
    });
    if (meta.saver) {
      const saver = meta.saver;
      m.message(3, (s) => {
        s.string(1, saver.filenameTensor);
        s.string(2, saver.saveTensor);
        s.string(3, saver.restoreOp);
        s.varint(4, 5);
        s.float(6, 10000);
        s.varint(7, 2); // V2
      });
    }
    for (const [key, signature] of Object.entries(meta.signatures)) {
      m.message(5, (e) => e.string(1, key).message(2, (s) => writeSignature(s, signature)));
    }
  });
  return w.finish();
}
