/**
 * Reading event files back (the counterpart of the writer, for tests and tools; TensorBoard
 * is the other reader): every record's checksums are checked and every Event parsed, and
 * any problem is an error naming the file and the record.
 * @module
 */
import { readRecordFile } from "../io/tfrecord_stream.ts";
import { ProtobufError } from "../io/protobuf.ts";
import { describe } from "../shape.ts";
import { decodeEvent, type EventProto } from "./protos.ts";

/**
 * The events of an event file, in order (the first is the file-version header).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const writer = tf.summary.createSummaryFileWriter("/tmp/logs");
 * writer.close();
 * tf.summary.readEventFile(writer.path)[0].fileVersion; // "brain.Event:2"
 * ```
 */
export function readEventFile(path: string): EventProto[] {
  const op = "readEventFile";
  if (typeof path !== "string" || path === "") {
    throw new TypeError(`${op}: path must be a non-empty string, got ${describe(path)}`);
  }
  const events: EventProto[] = [];
  let index = 0;
  try {
    for (const record of readRecordFile(path)) {
      events.push(decodeEvent(record));
      index++;
    }
  } catch (error) {
    const message = (error as Error).message;
    if (error instanceof ProtobufError) {
      throw new Error(`${op}: ${path}: record ${index} is not an Event: ${message}`, {
        cause: error,
      });
    }
    throw new Error(`${op}: ${message}`, { cause: error });
  }
  return events;
}
