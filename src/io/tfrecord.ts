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
 * - One reading algorithm: RecordDecoder, a push decoder fed chunks of a record stream.
 *   Every reader runs on it: readRecords (in-memory bytes) here, and through chunks.ts
 *   the file readers of tfrecord_stream.ts and tf.data's TFRecordDataset (files.ts).
 * - The decoder checks both checksums before trusting a length or returning data; any
 *   mismatch or truncation is a TFRecordError naming the source, the record index and
 *   the byte offset of the record. A stream cut exactly between two records is a valid,
 *   shorter file (the format cannot tell): readers then return a prefix of the records,
 *   never wrong data.
 * - No file I/O here: files (reading, writing, compression) are tfrecord_stream.ts's.
 * @module
 */
import { maskedCrc32c, unmaskCrc } from "./crc32c.ts";
import { describe } from "../shape.ts";
import { concatBytes } from "./bytes.ts";
import { type ChunkDecoder, DEFAULT_CHUNK } from "./chunks.ts";

/** Bytes before a record's data: the length and its checksum. */
const HEADER_BYTES = 12;
/** Bytes after a record's data: its checksum. */
const FOOTER_BYTES = 4;

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

const hex = (n: number) => `0x${n.toString(16).padStart(8, "0")}`;

/**
 * Records from pushed chunks of a record stream, checked (the library's only record
 * checks). Whole records are read in place from the chunk; only a record cut by the
 * chunk's end is gathered in a buffer, so each byte is copied once (into its record).
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

  /** Throws unless a `what` checksum matches its data. */
  #checkCrc(what: string, stored: number, data: Uint8Array): void {
    const computed = maskedCrc32c(data);
    if (stored === computed) return;
    throw this.#fail(
      `${what} checksum mismatch (stored ${hex(unmaskCrc(stored))}, computed ` +
        `${hex(unmaskCrc(computed))}): the file is corrupt`,
    );
  }

  /** The size of the record whose header is at `at` (checked), or -1 if incomplete. */
  #size(buf: Uint8Array, at: number, end: number): number {
    if (end - at < HEADER_BYTES) return -1;
    const view = new DataView(buf.buffer, buf.byteOffset + at, HEADER_BYTES);
    this.#checkCrc("length", view.getUint32(8, true), buf.subarray(at, at + 8));
    const length = view.getBigUint64(0, true);
    if (length > BigInt(2 ** 31)) throw this.#fail(`record length ${length} is larger than 2 GiB`);
    return HEADER_BYTES + Number(length) + FOOTER_BYTES;
  }

  /** The checked data of the complete record of `size` bytes at `at`. */
  #record(buf: Uint8Array, at: number, size: number): Uint8Array {
    const data = buf.slice(at + HEADER_BYTES, at + size - FOOTER_BYTES);
    const view = new DataView(buf.buffer, buf.byteOffset + at + size - FOOTER_BYTES, FOOTER_BYTES);
    this.#checkCrc("data", view.getUint32(0, true), data);
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
      const size = this.#size(this.#pending, 0, this.#filled);
      pos += this.#gather(chunk, pos, size - this.#filled);
      if (this.#filled < size) break;
      records.push(this.#record(this.#pending, 0, size));
      this.#filled = 0;
    }
    // Then the whole records of the chunk, in place.
    while (this.#filled === 0 && pos < chunk.length) {
      const size = this.#size(chunk, pos, chunk.length);
      if (size < 0 || pos + size > chunk.length) {
        pos += this.#gather(chunk, pos, chunk.length - pos);
        break;
      }
      records.push(this.#record(chunk, pos, size));
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
    // NOTE: push() checked this header when it had its 12 bytes.
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
  return decodeBytes(bytes, new RecordDecoder(source));
}

/**
 * NOTE: pushed a file chunk at a time, as the file readers do, so that one chunk's
 * records (not a copy of all the bytes) are held at once, and an error comes only after
 * the records of the chunks before it.
 */
function* decodeBytes(bytes: Uint8Array, decoder: RecordDecoder): Generator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += DEFAULT_CHUNK) {
    yield* decoder.push(bytes.subarray(at, at + DEFAULT_CHUNK));
  }
  yield* decoder.finish();
}
