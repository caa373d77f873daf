/**
 * TFRecord files read as a stream and written with compression: what tf.data's
 * TFRecordDataset and tf.io.TFRecordWriter need beyond tfrecord.ts (which frames
 * records and reads them three reads per record).
 *
 * Decisions:
 * - Records are decoded from chunks (256 KiB by default), synchronously or
 *   asynchronously, so memory holds one chunk plus the record being read.
 * - GZIP and ZLIB files are decompressed as they stream (zlib_stream.ts). Record
 *   offsets in errors then count uncompressed bytes (the message says so); damage
 *   the decompressor finds names the compressed byte offset.
 * - The checks and their messages are tfrecord.ts's: a TFRecordError naming the file,
 *   the record index and the offset.
 * @module
 */
import { describe } from "../shape.ts";
import {
  checkedRecordLength,
  checkRecordData,
  encodeRecord,
  FOOTER_BYTES,
  HEADER_BYTES,
  TFRecordError,
  writeAllSync,
} from "./tfrecord.ts";
import {
  checkChunkSize,
  checkCompression,
  type ChunkDecoder,
  type Compression,
  readFileAsync,
  readFileSync,
} from "./chunks.ts";
import { ZlibStream } from "./zlib_stream.ts";

/**
 * Records from pushed chunks of a record stream, checked as tfrecord.ts checks them.
 * Whole records are read in place from the chunk; only a record cut by the chunk's end
 * is gathered in a buffer, so each byte is copied once (into its record).
 */
export class RecordDecoder implements ChunkDecoder<Uint8Array> {
  readonly source: string;
  #pending = new Uint8Array(HEADER_BYTES);
  #filled = 0;
  #offset = 0;
  #index = 0;

  constructor(source: string) {
    this.source = source;
  }

  #fail(problem: string): TFRecordError {
    return new TFRecordError(this.source, this.#index, this.#offset, problem);
  }

  /** The size of the record whose header is at `at` (checked), or -1 if incomplete. */
  #size(buf: Uint8Array, at: number, end: number): number {
    if (end - at < HEADER_BYTES) return -1;
    return HEADER_BYTES + checkedRecordLength(buf, at, (p) => this.#fail(p)) + FOOTER_BYTES;
  }

  /** The checked data of the complete record of `size` bytes at `at`. */
  #record(buf: Uint8Array, view: DataView, at: number, size: number): Uint8Array {
    const data = buf.slice(at + HEADER_BYTES, at + size - FOOTER_BYTES);
    const stored = view.getUint32(at + size - FOOTER_BYTES, true);
    checkRecordData(data, stored, (p) => this.#fail(p));
    this.#offset += size;
    this.#index++;
    return data;
  }

  /** Moves up to `want` bytes of chunk[pos...] to the pending buffer; returns the count. */
  #gather(chunk: Uint8Array, pos: number, want: number): number {
    const n = Math.min(want, chunk.length - pos);
    if (this.#filled + n > this.#pending.length) {
      const grown = new Uint8Array(Math.max(2 * this.#pending.length, this.#filled + n));
      grown.set(this.#pending.subarray(0, this.#filled));
      this.#pending = grown;
    }
    this.#pending.set(chunk.subarray(pos, pos + n), this.#filled);
    this.#filled += n;
    return n;
  }

  /** The records completed by `chunk`. */
  push(chunk: Uint8Array): Uint8Array[] {
    const records: Uint8Array[] = [];
    let pos = 0;
    // First complete the record the previous chunk cut.
    while (this.#filled > 0 && pos < chunk.length) {
      if (this.#filled < HEADER_BYTES) {
        pos += this.#gather(chunk, pos, HEADER_BYTES - this.#filled);
        if (this.#filled < HEADER_BYTES) break;
      }
      const p = this.#pending;
      const size = this.#size(p, 0, this.#filled);
      pos += this.#gather(chunk, pos, size - this.#filled);
      if (this.#filled < size) break;
      const q = this.#pending;
      records.push(this.#record(q, new DataView(q.buffer, q.byteOffset, q.byteLength), 0, size));
      this.#filled = 0;
    }
    // Then the whole records of the chunk, in place.
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    while (this.#filled === 0 && pos < chunk.length) {
      const size = this.#size(chunk, pos, chunk.length);
      if (size < 0 || pos + size > chunk.length) {
        pos += this.#gather(chunk, pos, chunk.length - pos);
        break;
      }
      records.push(this.#record(chunk, view, pos, size));
      pos += size;
    }
    return records;
  }

  /** Checks that the stream did not end inside a record. */
  finish(): Uint8Array[] {
    const left = this.#filled;
    if (left === 0) return [];
    if (left < HEADER_BYTES) {
      throw this.#fail(
        `truncated: the header needs ${HEADER_BYTES} bytes, the file has ${left} more`,
      );
    }
    const length = Number(new DataView(this.#pending.buffer).getBigUint64(0, true));
    if (left < HEADER_BYTES + length) {
      throw this.#fail(
        `truncated: the data needs ${length} bytes, the file has ${left - HEADER_BYTES} more`,
      );
    }
    const more = left - HEADER_BYTES - length;
    throw this.#fail(`truncated: the data checksum needs 4 bytes, the file has ${more} more`);
  }
}

/** Options of the TFRecord readers. */
export interface TFRecordReadOptions {
  /** "" (default), "GZIP" or "ZLIB". */
  compressionType?: Compression;
  /** Bytes per read (default 256 KiB). */
  bufferSize?: number;
}

function readArgs(op: string, path: unknown, options: TFRecordReadOptions) {
  if (typeof path !== "string" || path === "") {
    throw new TypeError(`${op}: path must be a non-empty string, got ${describe(path)}`);
  }
  const compression = checkCompression(op, options?.compressionType);
  const chunkSize = checkChunkSize(op, options?.bufferSize);
  const source = compression === "" ? path : `${path} (${compression}; offsets uncompressed)`;
  return { path, compression, chunkSize, decoder: new RecordDecoder(source) };
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
  const op = "readTFRecordsSync";
  const a = readArgs(op, path, options);
  return readFileSync(op, a.path, a, a.decoder);
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
  const op = "readTFRecords";
  const a = readArgs(op, path, options);
  return readFileAsync(op, a.path, a, a.decoder);
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
