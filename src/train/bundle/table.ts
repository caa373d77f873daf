/**
 * The sorted string table of a checkpoint's `.index` file: LevelDB's table format as
 * TensorFlow keeps it in tensorflow/core/lib/io (table_builder.cc, block_builder.cc,
 * format.cc), without compression.
 *
 *     file    = data block* metaindex-block index-block footer
 *     block   = entry* restart:u32* num_restarts:u32, then a 5-byte trailer:
 *               type:u8 (0 = uncompressed) and the masked crc32c of block + type
 *     entry   = shared:varint unshared:varint value_length:varint key-suffix value
 *               (the key shares `shared` leading bytes with the previous key; every
 *               16th entry is a restart point with shared = 0)
 *     index   = one entry per data block: a key >= the block's last key (we use that
 *               last key), value = BlockHandle (offset:varint64 size:varint64)
 *     footer  = metaindex handle, index handle, zero padding to 40 bytes, then the
 *               magic 0xdb4775248b80fb57 as a little-endian u64: 48 bytes in all
 *
 * Decisions: the writer makes 256 KiB data blocks (TensorFlow's default block size) and
 * an empty metaindex block, as TensorFlow does. The reader checks every block's checksum
 * (metaindex included), every length and offset, and that keys strictly increase; any
 * fault is a TableError naming the block's offset, never an out-of-range read.
 * @module
 */
import { crc32c, maskCrc, unmaskCrc } from "../../io/crc32c.ts";
import { ProtoWriter, readVarint } from "../../io/protobuf.ts";
import { concatBytes } from "../../io/bytes.ts";

/** A malformed table; the message says where. */
export class TableError extends Error {
  override name = "TableError";
}

/** A key and its value. */
export type TableEntry = readonly [key: Uint8Array, value: Uint8Array];

const BLOCK_SIZE = 256 * 1024;
const RESTART_INTERVAL = 16;
const TRAILER = 5;
const FOOTER = 48;
const HANDLES = 40;
const MAGIC_LO = 0x8b80fb57;
const MAGIC_HI = 0xdb477524;
const NO_COMPRESSION = 0;

/** Byte-wise comparison (LevelDB's default comparator). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** Builds one block from entries in key order. */
function buildBlock(entries: readonly TableEntry[], interval: number): Uint8Array {
  const parts: Uint8Array[] = [];
  const restarts: number[] = [];
  let previous: Uint8Array = new Uint8Array(0), length = 0;
  for (const [i, [key, value]] of entries.entries()) {
    let shared = 0;
    if (i % interval === 0) restarts.push(length);
    else {
      const n = Math.min(previous.length, key.length);
      while (shared < n && previous[shared] === key[shared]) shared++;
    }
    const entry = new ProtoWriter().rawVarint(shared).rawVarint(key.length - shared)
      .rawVarint(value.length).finish();
    parts.push(entry, key.subarray(shared), value);
    length += entry.length + key.length - shared + value.length;
    previous = key;
  }
  if (restarts.length === 0) restarts.push(0);
  const tail = new Uint8Array(4 * restarts.length + 4);
  const view = new DataView(tail.buffer);
  restarts.forEach((r, i) => view.setUint32(4 * i, r, true));
  view.setUint32(4 * restarts.length, restarts.length, true);
  parts.push(tail);
  return concatBytes(parts);
}

/** A block followed by its trailer (type 0, masked crc32c of block + type). */
function withTrailer(block: Uint8Array): Uint8Array {
  const trailer = new Uint8Array(TRAILER);
  trailer[0] = NO_COMPRESSION;
  const crc = crc32c(trailer.subarray(0, 1), crc32c(block));
  new DataView(trailer.buffer).setUint32(1, maskCrc(crc), true);
  return concatBytes([block, trailer]);
}

function handle(offset: number, size: number): Uint8Array {
  return new ProtoWriter().rawVarint(offset).rawVarint(size).finish();
}

/** The table file holding `entries`, whose keys must strictly increase. */
export function buildTable(entries: readonly TableEntry[]): Uint8Array {
  for (let i = 1; i < entries.length; i++) {
    if (compareBytes(entries[i - 1][0], entries[i][0]) >= 0) {
      throw new TableError("table keys must strictly increase");
    }
  }
  const parts: Uint8Array[] = [];
  const index: TableEntry[] = [];
  let offset = 0, start = 0, estimate = 0;
  const flush = (end: number) => {
    const block = buildBlock(entries.slice(start, end), RESTART_INTERVAL);
    index.push([entries[end - 1][0], handle(offset, block.length)]);
    parts.push(withTrailer(block));
    offset += block.length + TRAILER;
    start = end;
    estimate = 0;
  };
  for (let i = 0; i < entries.length; i++) {
    estimate += entries[i][0].length + entries[i][1].length + 12;
    if (estimate >= BLOCK_SIZE) flush(i + 1);
  }
  if (start < entries.length) flush(entries.length);
  const metaindex = buildBlock([], 1);
  const metaHandle = handle(offset, metaindex.length);
  parts.push(withTrailer(metaindex));
  offset += metaindex.length + TRAILER;
  const indexBlock = buildBlock(index, 1);
  const indexHandle = handle(offset, indexBlock.length);
  parts.push(withTrailer(indexBlock));
  const footer = new Uint8Array(FOOTER);
  footer.set(metaHandle, 0);
  footer.set(indexHandle, metaHandle.length);
  const view = new DataView(footer.buffer);
  view.setUint32(HANDLES, MAGIC_LO, true);
  view.setUint32(HANDLES + 4, MAGIC_HI, true);
  parts.push(footer);
  return concatBytes(parts);
}

/** Reads a BlockHandle at `pos` of `bytes`; returns [offset, size, next position]. */
function readHandle(bytes: Uint8Array, pos: number, what: string): [number, number, number] {
  let offset, size;
  try {
    [offset, pos] = readVarint(bytes, pos, what);
    [size, pos] = readVarint(bytes, pos, what);
  } catch {
    throw new TableError(`${what}: malformed block handle`);
  }
  if (offset > BigInt(Number.MAX_SAFE_INTEGER) || size > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new TableError(`${what}: block handle out of range`);
  }
  return [Number(offset), Number(size), pos];
}

/** The contents of the block at [offset, offset + size) after checking its trailer. */
function readBlock(file: Uint8Array, offset: number, size: number, what: string): Uint8Array {
  const where = `${what} at byte ${offset}`;
  if (offset + size + TRAILER > file.length - FOOTER) {
    throw new TableError(`${where}: ${size} bytes run past the end of the table`);
  }
  const block = file.subarray(offset, offset + size);
  const type = file[offset + size];
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const stored = unmaskCrc(view.getUint32(offset + size + 1, true));
  const actual = crc32c(file.subarray(offset + size, offset + size + 1), crc32c(block));
  if (stored !== actual) throw new TableError(`${where}: checksum mismatch (corrupt block)`);
  if (type !== NO_COMPRESSION) {
    throw new TableError(`${where}: compression type ${type} is not supported (only none)`);
  }
  return block;
}

/** The entries of a block, in order, with every length checked. */
function parseBlock(block: Uint8Array, what: string): TableEntry[] {
  if (block.length < 4) throw new TableError(`${what}: block of ${block.length} bytes`);
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const restarts = view.getUint32(block.length - 4, true);
  const limit = block.length - 4 - 4 * restarts;
  if (restarts === 0 || limit < 0) {
    throw new TableError(`${what}: bad restart count ${restarts}`);
  }
  const entries: TableEntry[] = [];
  let previous: Uint8Array = new Uint8Array(0), pos = 0;
  while (pos < limit) {
    const at = pos;
    let shared, unshared, valueLength;
    try {
      [shared, pos] = readVarint(block, pos, what);
      [unshared, pos] = readVarint(block, pos, what);
      [valueLength, pos] = readVarint(block, pos, what);
    } catch {
      throw new TableError(`${what}: malformed entry at block byte ${at}`);
    }
    if (shared > BigInt(previous.length) || unshared + valueLength > BigInt(limit - pos)) {
      throw new TableError(`${what}: entry at block byte ${at} runs out of bounds`);
    }
    const keyEnd = pos + Number(unshared), valueEnd = keyEnd + Number(valueLength);
    const key = concatBytes([previous.subarray(0, Number(shared)), block.subarray(pos, keyEnd)]);
    entries.push([key, block.subarray(keyEnd, valueEnd)]);
    previous = key;
    pos = valueEnd;
  }
  return entries;
}

/** Every entry of a table file, in key order; throws TableError on any fault. */
export function readTable(file: Uint8Array): TableEntry[] {
  if (file.length < FOOTER) {
    throw new TableError(`${file.length} bytes: too short for a table (footer is ${FOOTER})`);
  }
  const footer = file.subarray(file.length - FOOTER);
  const view = new DataView(footer.buffer, footer.byteOffset, FOOTER);
  if (
    view.getUint32(HANDLES, true) !== MAGIC_LO || view.getUint32(HANDLES + 4, true) !== MAGIC_HI
  ) {
    throw new TableError("bad magic number in the footer (not a table, or truncated)");
  }
  const handles = footer.subarray(0, HANDLES);
  const [metaOffset, metaSize, next] = readHandle(handles, 0, "footer");
  const [indexOffset, indexSize] = readHandle(handles, next, "footer");
  parseBlock(readBlock(file, metaOffset, metaSize, "metaindex block"), "metaindex block");
  const index = parseBlock(readBlock(file, indexOffset, indexSize, "index block"), "index block");
  const entries: TableEntry[] = [];
  for (const [, value] of index) {
    const [offset, size, end] = readHandle(value, 0, "index entry");
    if (end !== value.length) throw new TableError("index entry: trailing bytes");
    const what = `data block at byte ${offset}`;
    for (const entry of parseBlock(readBlock(file, offset, size, "data block"), what)) {
      const last = entries[entries.length - 1];
      if (last && compareBytes(last[0], entry[0]) >= 0) {
        throw new TableError(`${what}: keys do not strictly increase`);
      }
      entries.push(entry);
    }
  }
  return entries;
}
