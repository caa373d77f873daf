/**
 * Reading saved_model.pb: the parts of a SavedModel that running its signatures needs
 * (GraphDef nodes, the function library, signatures, the SaverDef), decoded with the
 * project's protobuf reader. Field numbers as in protos.ts (the writer), plus
 * function.proto's FunctionDefLibrary (function = 1), FunctionDef (signature = 1,
 * node_def = 3, ret = 4) and op_def.proto's OpDef (name = 1, input_arg = 2, output_arg = 3),
 * ArgDef (name = 1). Unknown fields are skipped; malformed bytes are a ProtobufError naming
 * the message being read.
 * @module
 */
import type { DType } from "../../dtype.ts";
import {
  asDouble,
  asFloat,
  asInt64,
  asString,
  parseMessage,
  type ProtoField,
  readVarint,
} from "../../io/protobuf.ts";
import { dtypeOfCode } from "../../train/bundle/protos.ts";
import { DT_STRING } from "./protos.ts";

/** A decoded attribute value (lists as arrays). */
export type Attr =
  | { s: Uint8Array }
  | { i: number }
  | { f: number }
  | { b: boolean }
  | { type: number }
  | { shape: number[] | null }
  | { tensor: DecodedTensor }
  | { func: string }
  | {
    list: {
      s: Uint8Array[];
      i: number[];
      f: number[];
      b: boolean[];
      type: number[];
      shape: (number[] | null)[];
      /** Function names (a Case's branches). */
      func: string[];
    };
  };

/** A TensorProto: numbers as a typed array of our dtype, or strings. */
export type DecodedTensor =
  | {
    dtype: DType;
    shape: number[];
    values: ArrayLike<number> | ArrayLike<bigint> | ArrayLike<boolean>;
    content?: Uint8Array;
  }
  | { dtype: "string"; shape: number[]; strings: string[] };

export interface Node {
  name: string;
  op: string;
  inputs: string[];
  attrs: Map<string, Attr>;
}

export interface FunctionDef {
  name: string;
  inputs: string[];
  outputs: string[];
  nodes: Node[];
  ret: Map<string, string>;
}

export interface SignatureDef {
  inputs: Map<string, string>;
  outputs: Map<string, string>;
}

export interface MetaGraph {
  tags: string[];
  nodes: Node[];
  functions: Map<string, FunctionDef>;
  signatures: Map<string, SignatureDef>;
  saver?: { filenameTensor: string; restoreOp: string };
}

const fieldsOf = (fields: ProtoField[], n: number) => fields.filter((f) => f.field === n);
const first = (fields: ProtoField[], n: number) => fields.find((f) => f.field === n);

/** Map entries (key = 1, value = 2) of field n. */
function entries(
  fields: ProtoField[],
  n: number,
  what: string,
): [string, ProtoField | undefined][] {
  return fieldsOf(fields, n).map((f) => {
    const e = parseMessage(f.bytes, what);
    const key = first(e, 1);
    return [key ? asString(key, what) : "", first(e, 2)];
  });
}

function decodeShape(bytes: Uint8Array, what: string): number[] | null {
  const fields = parseMessage(bytes, what);
  if (first(fields, 3)?.int) return null; // unknown rank
  return fieldsOf(fields, 2).map((d) => {
    const size = first(parseMessage(d.bytes, what), 1);
    return size ? Number(asInt64(size)) : 0;
  });
}

/** Repeated numbers written packed (one BYTES field) or one field each. */
function numbers(fields: ProtoField[], n: number, kind: "varint" | "float" | "double"): number[] {
  const out: number[] = [];
  for (const f of fieldsOf(fields, n)) {
    if (f.wire !== 2) {
      out.push(
        kind === "float" ? asFloat(f) : kind === "double" ? asDouble(f) : Number(asInt64(f)),
      );
      continue;
    }
    const b = f.bytes, view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    if (kind === "float") {
      for (let p = 0; p + 4 <= b.length; p += 4) out.push(view.getFloat32(p, true));
    } else if (kind === "double") {
      for (let p = 0; p + 8 <= b.length; p += 8) out.push(view.getFloat64(p, true));
    } else {
      for (let p = 0; p < b.length;) {
        const [v, next] = readVarint(b, p, "packed field");
        out.push(Number(BigInt.asIntN(64, v)));
        p = next;
      }
    }
  }
  return out;
}

export function decodeTensor(bytes: Uint8Array, what: string): DecodedTensor {
  const fields = parseMessage(bytes, what);
  const code = Number(first(fields, 1)?.int ?? 0n);
  const shapeField = first(fields, 2);
  const shape = shapeField ? decodeShape(shapeField.bytes, what) ?? [] : [];
  if (code === DT_STRING) {
    const decoder = new TextDecoder();
    return {
      dtype: "string",
      shape,
      strings: fieldsOf(fields, 8).map((f) => decoder.decode(f.bytes)),
    };
  }
  const dtype = dtypeOfCode(code);
  if (dtype === undefined) {
    throw new TypeError(`${what}: a constant of TensorFlow type ${code}, which this library lacks`);
  }
  const content = first(fields, 4)?.bytes;
  if (content && content.length > 0) return { dtype, shape, values: [], content };
  const values = dtype === "float32"
    ? numbers(fields, 5, "float")
    : dtype === "float64"
    ? numbers(fields, 6, "double")
    : dtype === "int64"
    ? numbers(fields, 10, "varint")
    : dtype === "bool"
    ? numbers(fields, 11, "varint")
    : numbers(fields, 7, "varint");
  return { dtype, shape, values };
}

/** A NameAttrList's function name. */
function funcName(bytes: Uint8Array, what: string): string {
  const name = first(parseMessage(bytes, what), 1);
  return name ? asString(name, what) : "";
}

function decodeAttr(bytes: Uint8Array, what: string): Attr {
  const fields = parseMessage(bytes, what);
  const f = fields[fields.length - 1];
  if (f === undefined) {
    return { list: { s: [], i: [], f: [], b: [], type: [], shape: [], func: [] } };
  }
  switch (f.field) {
    case 1: {
      const l = parseMessage(f.bytes, what);
      return {
        list: {
          s: fieldsOf(l, 2).map((x) => x.bytes),
          i: numbers(l, 3, "varint"),
          f: numbers(l, 4, "float"),
          b: numbers(l, 5, "varint").map((x) => x !== 0),
          type: numbers(l, 6, "varint"),
          shape: fieldsOf(l, 7).map((x) => decodeShape(x.bytes, what)),
          func: fieldsOf(l, 9).map((x) => funcName(x.bytes, what)),
        },
      };
    }
    case 2:
      return { s: f.bytes };
    case 3:
      return { i: Number(asInt64(f)) };
    case 4:
      return { f: asFloat(f) };
    case 5:
      return { b: f.int !== 0n };
    case 6:
      return { type: Number(f.int) };
    case 7:
      return { shape: decodeShape(f.bytes, what) };
    case 8:
      return { tensor: decodeTensor(f.bytes, what) };
    case 10:
      return { func: funcName(f.bytes, what) };
    default:
      return { s: new Uint8Array(0) };
  }
}

function decodeNode(bytes: Uint8Array, what: string): Node {
  const fields = parseMessage(bytes, what);
  const name = first(fields, 1) ? asString(first(fields, 1)!, what) : "";
  const where = `${what}, node ${name}`;
  const attrs = new Map<string, Attr>();
  for (const [key, value] of entries(fields, 5, where)) {
    if (value) attrs.set(key, decodeAttr(value.bytes, `${where}, attr ${key}`));
  }
  return {
    name,
    op: first(fields, 2) ? asString(first(fields, 2)!, where) : "",
    inputs: fieldsOf(fields, 3).map((f) => asString(f, where)),
    attrs,
  };
}

function decodeFunction(bytes: Uint8Array, what: string): FunctionDef {
  const fields = parseMessage(bytes, what);
  const sig = first(fields, 1);
  const opDef = sig ? parseMessage(sig.bytes, what) : [];
  const name = first(opDef, 1) ? asString(first(opDef, 1)!, what) : "";
  const where = `${what} ${name}`;
  const argNames = (n: number) =>
    fieldsOf(opDef, n).map((a) => {
      const arg = first(parseMessage(a.bytes, where), 1);
      return arg ? asString(arg, where) : "";
    });
  const ret = new Map<string, string>();
  for (const [key, value] of entries(fields, 4, where)) {
    ret.set(key, value ? asString(value, where) : "");
  }
  return {
    name,
    inputs: argNames(2),
    outputs: argNames(3),
    nodes: fieldsOf(fields, 3).map((f) => decodeNode(f.bytes, where)),
    ret,
  };
}

function decodeSignature(bytes: Uint8Array, what: string): SignatureDef {
  const fields = parseMessage(bytes, what);
  const infos = (n: number) =>
    new Map(
      entries(fields, n, what).map(([key, value]) => {
        const name = value ? first(parseMessage(value.bytes, what), 1) : undefined;
        return [key, name ? asString(name, what) : ""];
      }),
    );
  return { inputs: infos(1), outputs: infos(2) };
}

/** The first MetaGraphDef of a saved_model.pb (`what` names the file in errors). */
export function decodeSavedModel(bytes: Uint8Array, what: string): MetaGraph {
  const meta = first(parseMessage(bytes, what), 2);
  if (!meta) throw new TypeError(`${what}: no MetaGraphDef (not a SavedModel)`);
  const fields = parseMessage(meta.bytes, `${what} MetaGraphDef`);
  const info = first(fields, 1);
  const tags = info
    ? fieldsOf(parseMessage(info.bytes, what), 4).map((f) => asString(f, what))
    : [];
  const graph = first(fields, 2);
  const graphFields = graph ? parseMessage(graph.bytes, `${what} GraphDef`) : [];
  const library = first(graphFields, 2);
  const functions = new Map<string, FunctionDef>();
  if (library) {
    for (const f of fieldsOf(parseMessage(library.bytes, `${what} library`), 1)) {
      const fn = decodeFunction(f.bytes, `${what} function`);
      functions.set(fn.name, fn);
    }
  }
  const signatures = new Map<string, SignatureDef>();
  for (const [key, value] of entries(fields, 5, `${what} signatures`)) {
    if (value) signatures.set(key, decodeSignature(value.bytes, `${what} signature ${key}`));
  }
  const saverField = first(fields, 3);
  let saver: MetaGraph["saver"];
  if (saverField) {
    const s = parseMessage(saverField.bytes, `${what} SaverDef`);
    const text = (n: number) => (first(s, n) ? asString(first(s, n)!, what) : "");
    saver = { filenameTensor: text(1), restoreOp: text(3) };
  }
  return {
    tags,
    nodes: fieldsOf(graphFields, 1).map((f) => decodeNode(f.bytes, `${what} GraphDef`)),
    functions,
    signatures,
    saver,
  };
}
