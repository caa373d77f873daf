/**
 * TFRecord files: read as a stream (tf.io.readTFRecordsSync / readTFRecords, and
 * readRecordFile for event files) and written (tf.io.TFRecordWriter), uncompressed or
 * GZIP/ZLIB. The framing and the checks are tfrecord.ts's.
 *
 * Decisions:
 * - Every reader is chunks.ts's chunk reader (256 KiB by default, synchronous or
 *   asynchronous) feeding tfrecord.ts's RecordDecoder, so memory holds one chunk plus
 *   the record being read, and a file stays open only while its records are consumed.
 * - GZIP and ZLIB files are decompressed as they stream (zlib_stream.ts). Record
 *   offsets in errors then count uncompressed bytes (the message says so); damage
 *   the decompressor finds names the compressed byte offset.
 * - One writer, TFRecordWriter, synchronous (`Deno.writeSync`), so a synchronous
 *   training loop writes without the event loop turning. Event files are written by
 *   src/summary/event_file_writer.ts instead (encodeRecord and writeAllSync), since its
 *   flush policy opens, appends and closes the file at each flush.
 * @module
 */
import { describe } from "../shape.ts";
import { encodeRecord, RecordDecoder } from "./tfrecord.ts";
import {
  checkChunkSize,
  checkCompression,
  type Compression,
  readFileAsync,
  readFileSync,
} from "./chunks.ts";
import { ZlibStream } from "./zlib_stream.ts";

/** Options of the TFRecord readers. */
export interface TFRecordReadOptions {
  /** "" (default), "GZIP" or "ZLIB". */
  compressionType?: Compression;
  /** Bytes per read (default 256 KiB). */
  bufferSize?: number;
}

/** The arguments of chunks.ts's readers, checked, for `op` reading `path`. */
function readArgs(op: string, path: unknown, options: TFRecordReadOptions) {
  if (typeof path !== "string" || path === "") {
    throw new TypeError(`${op}: path must be a non-empty string, got ${describe(path)}`);
  }
  const compression = checkCompression(op, options?.compressionType);
  const chunkSize = checkChunkSize(op, options?.bufferSize);
  const source = compression === "" ? path : `${path} (${compression}; offsets uncompressed)`;
  return [op, path, { compression, chunkSize }, new RecordDecoder(source)] as const;
}

/**
 * The records of a TFRecord file, read synchronously as they are consumed.
 * @example
 * ```ts
 * for (const r of readTFRecordsSync("/tmp/data.tfrecord.gz", { compressionType: "GZIP" })) {
 *   console.log(r.length);
 * }
 * ```
 */
export function readTFRecordsSync(
  path: string,
  options: TFRecordReadOptions = {},
): Generator<Uint8Array, void, undefined> {
  return readFileSync(...readArgs("readTFRecordsSync", path, options));
}

/**
 * The records of a TFRecord file, read asynchronously as they are consumed.
 * @example
 * ```ts
 * for await (const r of readTFRecords("/tmp/data.tfrecord")) console.log(r.length);
 * ```
 */
export function readTFRecords(
  path: string,
  options: TFRecordReadOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  return readFileAsync(...readArgs("readTFRecords", path, options));
}

/**
 * The records of an uncompressed file (an event file), read synchronously as they are
 * consumed: readTFRecordsSync under its own name in errors. The file stays open until
 * the iteration ends or is left early.
 * @example
 * ```ts
 * for (const record of readRecordFile("/tmp/data.tfrecord")) console.log(record.length);
 * ```
 */
export function readRecordFile(path: string): Generator<Uint8Array, void, undefined> {
  return readFileSync(...readArgs("readRecordFile", path, {}));
}

/** Writes all of `bytes` (writeSync may write less than asked). */
export function writeAllSync(file: Deno.FsFile, bytes: Uint8Array): void {
  for (let pos = 0; pos < bytes.length;) pos += file.writeSync(bytes.subarray(pos));
}

/** Options of TFRecordWriter. */
export interface TFRecordWriterOptions {
  /** "" (default), "GZIP" or "ZLIB": the whole file is one compressed stream. */
  compressionType?: Compression;
  /** Append to an existing uncompressed file instead of truncating it (default false). */
  append?: boolean;
}

const encoder = new TextEncoder();

/**
 * Writes records to a TFRecord file, synchronously, optionally compressed
 * (tf.io.TFRecordWriter). Call close() to finish the file.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const w = new tf.io.TFRecordWriter("/tmp/data.tfrecord.gz", { compressionType: "GZIP" });
 * w.write("hello");
 * w.close();
 * ```
 */
export class TFRecordWriter {
  readonly path: string;
  readonly compressionType: Compression;
  #file: Deno.FsFile | null;
  #zlib: ZlibStream | null = null;

  constructor(path: string, options: TFRecordWriterOptions = {}) {
    const op = "TFRecordWriter";
    if (typeof path !== "string" || path === "") {
      throw new TypeError(`${op}: path must be a non-empty string, got ${describe(path)}`);
    }
    const compression = checkCompression(op, options?.compressionType);
    const append = options?.append === true;
    if (append && compression !== "") {
      throw new TypeError(`${op}: append works only for uncompressed files`);
    }
    this.path = path;
    this.compressionType = compression;
    try {
      this.#file = Deno.openSync(path, { write: true, create: true, append, truncate: !append });
    } catch (error) {
      throw new Error(`${op}: cannot open ${path}: ${(error as Error).message}`, { cause: error });
    }
    if (compression !== "") {
      this.#zlib = new ZlibStream(compression === "GZIP" ? "gzip" : "deflate");
    }
  }

  /** Appends one record (bytes, or a string written as UTF-8). */
  write(record: Uint8Array | string): void {
    const op = "TFRecordWriter.write";
    if (this.#file === null) throw new Error(`${op}: ${this.path} is closed`);
    const data = typeof record === "string" ? encoder.encode(record) : record;
    if (!(data instanceof Uint8Array)) {
      throw new TypeError(
        `${op}: a record must be a Uint8Array or a string, got ${describe(record)}`,
      );
    }
    const framed = encodeRecord(data);
    for (const part of this.#zlib ? this.#zlib.push(framed) : [framed]) {
      writeAllSync(this.#file, part);
    }
  }

  /**
   * Flushes the bytes written so far to disk (fsync); a no-op once closed.
   * NOTE: a compressed file's last records may still be in the compressor: only close()
   * writes them.
   */
  sync(): void {
    this.#file?.syncSync();
  }

  /** Finishes the compressed stream and closes the file. Closing twice is harmless. */
  close(): void {
    const file = this.#file;
    if (file === null) return;
    this.#file = null;
    try {
      for (const part of this.#zlib?.finish() ?? []) writeAllSync(file, part);
    } finally {
      file.close();
    }
  }
}
