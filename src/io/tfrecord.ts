/**
 * TFRecord framing, the container of TensorBoard event files and of `tf.data`'s record
 * files. Each record is:
 *
 *     uint64 length (little-endian)
 *     uint32 masked crc32c of the 8 length bytes
 *     byte   data[length]
 *     uint32 masked crc32c of the data
 *
 * Decisions:
 * - Writers are synchronous (`Deno.writeSync`), so a synchronous training loop can write
 *   without the event loop turning.
 * - Readers check both checksums before trusting a length or returning data; any
 *   mismatch or truncation is a TFRecordError naming the source, the record index and
 *   the byte offset of the record. A file cut exactly between two records is a valid,
 *   shorter file (the format cannot tell): readers then return a prefix of the records,
 *   never wrong data.
 * - Uncompressed records here; GZIP and ZLIB files are read and written in chunks by
 *   tfrecord_stream.ts (tf.data's TFRecordDataset and TFRecordWriter).
 * @module
 */
import { maskedCrc32c, unmaskCrc } from "./crc32c.ts";
import { describe } from "../shape.ts";
import { concatBytes } from "./bytes.ts";

/** Bytes before a record's data: the length and its checksum. */
export const HEADER_BYTES = 12;
/** Bytes after a record's data: its checksum. */
export const FOOTER_BYTES = 4;

/** A corrupt or truncated record; the message names the source, record and offset. */
export class TFRecordError extends Error {
  override name = "TFRecordError";
  constructor(
    /** The file (or the name given for in-memory bytes). */
    readonly source: string,
    /** Index of the bad record (0-based). */
    readonly record: number,
    /** Byte offset of the start of the bad record. */
    readonly offset: number,
    problem: string,
  ) {
    super(`tfrecord: ${source}: record ${record} at byte ${offset}: ${problem}`);
  }
}

const hex = (n: number) => `0x${n.toString(16).padStart(8, "0")}`;

/** The framed bytes of one record. */
export function encodeRecord(data: Uint8Array): Uint8Array {
  if (!(data instanceof Uint8Array)) {
    throw new TypeError(`encodeRecord: data must be a Uint8Array, got ${describe(data)}`);
  }
  const out = new Uint8Array(HEADER_BYTES + data.length + FOOTER_BYTES);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, HEADER_BYTES);
  view.setUint32(HEADER_BYTES + data.length, maskedCrc32c(data), true);
  return out;
}

/** The framed bytes of several records, concatenated. */
export function encodeRecords(records: Iterable<Uint8Array>): Uint8Array {
  return concatBytes([...records].map(encodeRecord));
}

/** Options of TFRecordWriter. */
export interface TFRecordWriterOptions {
  /** Append to an existing file instead of truncating it (default false). */
  append?: boolean;
}

/**
 * Writes records to a file synchronously.
 * @example
 * ```ts
 * const w = new TFRecordWriter("/tmp/data.tfrecord");
 * w.write(new TextEncoder().encode("hello"));
 * w.close();
 * ```
 */
export class TFRecordWriter {
  readonly path: string;
  #file: Deno.FsFile | null;

  constructor(path: string, options: TFRecordWriterOptions = {}) {
    if (typeof path !== "string" || path === "") {
      throw new TypeError(`TFRecordWriter: path must be a non-empty string, got ${describe(path)}`);
    }
    this.path = path;
    const append = options?.append === true;
    this.#file = Deno.openSync(path, { write: true, create: true, append, truncate: !append });
  }

  /** Appends one record. */
  write(data: Uint8Array): void {
    if (this.#file === null) throw new Error(`TFRecordWriter.write: ${this.path} is closed`);
    writeAllSync(this.#file, encodeRecord(data));
  }

  /** Flushes the file to disk (fsync). */
  sync(): void {
    this.#file?.syncSync();
  }

  /** Closes the file; further writes are errors. Closing twice is harmless. */
  close(): void {
    this.#file?.close();
    this.#file = null;
  }
}

/** Writes all of `bytes` (writeSync may write less than asked). */
export function writeAllSync(file: Deno.FsFile, bytes: Uint8Array): void {
  for (let pos = 0; pos < bytes.length;) pos += file.writeSync(bytes.subarray(pos));
}

/**
 * The data length of the record whose 12-byte header starts at `header[at]`, after
 * checking the header's checksum and the 2 GiB limit; `fail` makes the error. Shared by
 * every reader of the format (here and tfrecord_stream.ts).
 */
export function checkedRecordLength(
  header: Uint8Array,
  at: number,
  fail: (problem: string) => TFRecordError,
): number {
  const view = new DataView(header.buffer, header.byteOffset + at, HEADER_BYTES);
  const stored = view.getUint32(8, true);
  const computed = maskedCrc32c(header.subarray(at, at + 8));
  if (stored !== computed) {
    throw fail(
      `length checksum mismatch (stored ${hex(unmaskCrc(stored))}, computed ` +
        `${hex(unmaskCrc(computed))}): the file is corrupt`,
    );
  }
  const length = view.getBigUint64(0, true);
  if (length > BigInt(2 ** 31)) throw fail(`record length ${length} is larger than 2 GiB`);
  return Number(length);
}

/** Checks a record's data against its stored (masked) checksum; `fail` makes the error. */
export function checkRecordData(
  data: Uint8Array,
  stored: number,
  fail: (problem: string) => TFRecordError,
): void {
  const computed = maskedCrc32c(data);
  if (stored !== computed) {
    throw fail(
      `data checksum mismatch (stored ${hex(unmaskCrc(stored))}, computed ` +
        `${hex(unmaskCrc(computed))}): the file is corrupt`,
    );
  }
}

/** A reader of bytes: fills as much of `into` as it can, returns the count (0 at the end). */
type Fill = (into: Uint8Array) => number;

function* parseRecords(fill: Fill, source: string): Generator<Uint8Array> {
  const header = new Uint8Array(HEADER_BYTES);
  const footer = new Uint8Array(FOOTER_BYTES);
  let offset = 0;
  for (let index = 0;; index++) {
    const fail = (problem: string) => new TFRecordError(source, index, offset, problem);
    const got = fill(header);
    if (got === 0) return;
    if (got < HEADER_BYTES) {
      throw fail(`truncated: the header needs ${HEADER_BYTES} bytes, the file has ${got} more`);
    }
    const length = checkedRecordLength(header, 0, fail);
    const data = new Uint8Array(length);
    const gotData = fill(data);
    if (gotData < data.length) {
      throw fail(`truncated: the data needs ${data.length} bytes, the file has ${gotData} more`);
    }
    const gotFooter = fill(footer);
    if (gotFooter < FOOTER_BYTES) {
      throw fail(`truncated: the data checksum needs 4 bytes, the file has ${gotFooter} more`);
    }
    checkRecordData(data, new DataView(footer.buffer).getUint32(0, true), fail);
    yield data;
    offset += HEADER_BYTES + data.length + FOOTER_BYTES;
  }
}

/**
 * The records of in-memory bytes, checked. `source` names the bytes in errors.
 * @example
 * ```ts
 * for (const record of readRecords(bytes, "events")) console.log(record.length);
 * ```
 */
export function readRecords(bytes: Uint8Array, source = "<bytes>"): Generator<Uint8Array> {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`readRecords: bytes must be a Uint8Array, got ${describe(bytes)}`);
  }
  let pos = 0;
  return parseRecords((into) => {
    const n = Math.min(into.length, bytes.length - pos);
    into.set(bytes.subarray(pos, pos + n));
    pos += n;
    return n;
  }, source);
}

/**
 * The records of a file, read as they are consumed (the file stays open until the
 * iteration ends or is left early), checked.
 * @example
 * ```ts
 * for (const record of readRecordFile("/tmp/data.tfrecord")) console.log(record.length);
 * ```
 */
export function* readRecordFile(path: string): Generator<Uint8Array> {
  if (typeof path !== "string" || path === "") {
    throw new TypeError(`readRecordFile: path must be a non-empty string, got ${describe(path)}`);
  }
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch (error) {
    throw new Error(`readRecordFile: cannot open ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    yield* parseRecords((into) => {
      let pos = 0;
      while (pos < into.length) {
        const n = file.readSync(into.subarray(pos));
        if (n === null || n === 0) break;
        pos += n;
      }
      return pos;
    }, path);
  } finally {
    file.close();
  }
}
