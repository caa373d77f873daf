/**
 * The protocol buffers of TensorBoard event files, written and read by hand with
 * src/io/protobuf.ts. Field numbers are those of TensorFlow's `core/util/event.proto`,
 * `core/framework/summary.proto`, `tensor.proto`, `tensor_shape.proto` and `types.proto`
 * (mirrored in TensorBoard's `compat/proto/`):
 *
 *     Event           wall_time=1 (double), step=2 (int64), file_version=3, summary=5
 *     Summary         value=1 (repeated Value)
 *     Summary.Value   tag=1, simple_value=2 (float), tensor=8, metadata=9
 *     SummaryMetadata plugin_data=1 { plugin_name=1, content=2 }, display_name=2,
 *                     summary_description=3, data_class=4
 *     TensorProto     dtype=1, tensor_shape=2 { dim=2 { size=1 } }, tensor_content=4,
 *                     float_val=5, double_val=6, string_val=8
 *     DataType        DT_FLOAT=1, DT_DOUBLE=2, DT_STRING=7
 *
 * NOTE: we write what TensorFlow 2's own writer writes: plugin content empty (the
 * plugins' `version: 0` messages serialize to nothing) and data_class unset, which
 * TensorBoard fills in when it loads the file (`dataclass_compat`).
 * @module
 */
import {
  asDouble,
  asFloat,
  asInt64,
  asString,
  parseMessage,
  ProtobufError,
  type ProtoField,
  ProtoWriter,
} from "../io/protobuf.ts";

/** TensorFlow's DataType codes used by summaries. */
export const DataType = { FLOAT: 1, DOUBLE: 2, STRING: 7 } as const;

/** The file version TensorBoard 2 expects in the first event of a file. */
export const FILE_VERSION = "brain.Event:2";

/** A tensor as summaries carry it. */
export type SummaryTensor =
  | { dtype: typeof DataType.FLOAT | typeof DataType.DOUBLE; shape: number[]; values: number[] }
  | { dtype: typeof DataType.STRING; shape: number[]; values: Uint8Array[] };

/** One tagged value of a Summary. */
export interface SummaryValue {
  tag: string;
  pluginName: string;
  tensor: SummaryTensor;
}

/** An Event: the file-version header (`fileVersion`) or a summary at a step. */
export interface EventProto {
  wallTime: number;
  step: bigint;
  fileVersion?: string;
  summary?: SummaryValue[];
}

function writeTensor(w: ProtoWriter, t: SummaryTensor): void {
  w.varint(1, t.dtype);
  w.message(2, (s) => {
    for (const size of t.shape) s.message(2, (d) => d.varint(1, size));
  });
  if (t.dtype === DataType.STRING) {
    for (const v of t.values) w.bytes(8, v);
  } else if (t.dtype === DataType.DOUBLE) {
    // Raw little-endian content, as TensorFlow's AsProtoTensorContent writes it.
    const bytes = new Uint8Array(t.values.length * 8);
    const view = new DataView(bytes.buffer);
    t.values.forEach((v, i) => view.setFloat64(i * 8, v, true));
    w.bytes(4, bytes);
  } else {
    w.packedFloats(5, t.values);
  }
}

/** The bytes of an Event. */
export function encodeEvent(event: EventProto): Uint8Array {
  const w = new ProtoWriter();
  w.double(1, event.wallTime);
  if (event.step !== 0n) w.varint(2, event.step);
  if (event.fileVersion !== undefined) w.string(3, event.fileVersion);
  if (event.summary !== undefined) {
    const values = event.summary;
    w.message(5, (s) => {
      for (const v of values) {
        s.message(1, (m) => {
          m.string(1, v.tag);
          m.message(8, (t) => writeTensor(t, v.tensor));
          m.message(9, (meta) => meta.message(1, (p) => p.string(1, v.pluginName)));
        });
      }
    });
  }
  return w.finish();
}

// ---- reading (our own check of what we write; TensorBoard is the other check) ----

function one(fields: ProtoField[], field: number): ProtoField | undefined {
  let found: ProtoField | undefined;
  for (const f of fields) if (f.field === field) found = f;
  return found;
}

function expectWire(f: ProtoField, wire: number, what: string): ProtoField {
  if (f.wire !== wire) {
    throw new ProtobufError(`${what}: field ${f.field} has wire type ${f.wire}, expected ${wire}`);
  }
  return f;
}

function decodeTensor(bytes: Uint8Array): SummaryTensor {
  const what = "TensorProto";
  const fields = parseMessage(bytes, what);
  const dtype = Number(one(fields, 1)?.int ?? 0n);
  const shape: number[] = [];
  const shapeField = one(fields, 2);
  if (shapeField) {
    for (const dim of parseMessage(shapeField.bytes, "TensorShapeProto")) {
      if (dim.field !== 2) continue;
      const size = one(parseMessage(dim.bytes, "TensorShapeProto.Dim"), 1);
      shape.push(size ? Number(asInt64(size)) : 0);
    }
  }
  const content = one(fields, 4)?.bytes;
  if (dtype === DataType.STRING) {
    return { dtype, shape, values: fields.filter((f) => f.field === 8).map((f) => f.bytes) };
  }
  if (dtype !== DataType.FLOAT && dtype !== DataType.DOUBLE) {
    throw new ProtobufError(`${what}: unsupported dtype ${dtype}`);
  }
  const width = dtype === DataType.FLOAT ? 4 : 8;
  const values: number[] = [];
  const readPacked = (b: Uint8Array) => {
    if (b.length % width !== 0) {
      throw new ProtobufError(`${what}: ${b.length} value bytes are not a multiple of ${width}`);
    }
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (let i = 0; i < b.length; i += width) {
      values.push(width === 4 ? view.getFloat32(i, true) : view.getFloat64(i, true));
    }
  };
  if (content) readPacked(content);
  for (const f of fields) {
    if (f.field !== (dtype === DataType.FLOAT ? 5 : 6)) continue;
    if (f.wire === 2) readPacked(f.bytes);
    else values.push(width === 4 ? asFloat(f) : asDouble(f));
  }
  return { dtype, shape, values };
}

function decodeValue(bytes: Uint8Array): SummaryValue {
  const fields = parseMessage(bytes, "Summary.Value");
  const tag = one(fields, 1);
  const tensor = one(fields, 8);
  if (!tag || !tensor) throw new ProtobufError("Summary.Value: no tag or no tensor");
  let pluginName = "";
  const metadata = one(fields, 9);
  if (metadata) {
    const pluginData = one(parseMessage(metadata.bytes, "SummaryMetadata"), 1);
    const name = pluginData && one(parseMessage(pluginData.bytes, "PluginData"), 1);
    if (name) pluginName = asString(name, "PluginData");
  }
  return {
    tag: asString(expectWire(tag, 2, "Summary.Value"), "Summary.Value"),
    pluginName,
    tensor: decodeTensor(expectWire(tensor, 2, "Summary.Value").bytes),
  };
}

/** Parses an Event written by encodeEvent (the subset of fields summaries use). */
export function decodeEvent(bytes: Uint8Array): EventProto {
  const fields = parseMessage(bytes, "Event");
  const wall = one(fields, 1);
  const step = one(fields, 2);
  const event: EventProto = {
    wallTime: wall ? asDouble(expectWire(wall, 1, "Event")) : 0,
    step: step ? asInt64(expectWire(step, 0, "Event")) : 0n,
  };
  const version = one(fields, 3);
  if (version) event.fileVersion = asString(expectWire(version, 2, "Event"), "Event");
  const summary = one(fields, 5);
  if (summary) {
    event.summary = parseMessage(expectWire(summary, 2, "Event").bytes, "Summary")
      .filter((f) => f.field === 1)
      .map((f) => decodeValue(expectWire(f, 2, "Summary").bytes));
  }
  return event;
}
