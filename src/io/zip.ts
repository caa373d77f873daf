/**
 * The little of the zip format that .npz files use: reading stored and deflated
 * entries (zip64 records included, as NumPy writes them), and writing stored entries.
 * Entries are found through the central directory and checked against their CRC-32.
 * @module
 */
import { nodeZlib } from "../node_builtins.ts";

/** A malformed archive; the message names the archive, and the entry and offset. */
export class ZipError extends Error {
  override name = "ZipError";
}

/** One archive member. */
export interface ZipEntry {
  name: string;
  data: Uint8Array;
}

const LOCAL = 0x04034b50, CENTRAL = 0x02014b50, END = 0x06054b50;
const END64 = 0x06064b50, LOCATOR64 = 0x07064b50;
const U32 = 0xffffffff;

/** CRC-32 (IEEE, as zip uses). */
export function crc32(bytes: Uint8Array): number {
  return (nodeZlib() as unknown as { crc32(b: Uint8Array): number }).crc32(bytes) >>> 0;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The entries of an archive; `name` labels errors. */
export function readZip(op: string, bytes: Uint8Array, name: string): ZipEntry[] {
  const fail = (problem: string, at: number) =>
    new ZipError(`${op}: ${name}: ${problem} at byte ${at}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number) => view.getUint16(at, true);
  const u32 = (at: number) => view.getUint32(at, true);
  const u64 = (at: number) => {
    const v = view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw fail("a 64-bit size is too large", at);
    return Number(v);
  };
  let end = -1;
  for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - 22 - 65535); at--) {
    if (u32(at) === END && at + 22 + u16(at + 20) === bytes.length) {
      end = at;
      break;
    }
  }
  if (end < 0) throw fail("not a zip archive (no end of central directory record)", bytes.length);
  let count = u16(end + 10), dirSize = u32(end + 12), dirStart = u32(end + 16);
  if (count === 0xffff || dirSize === U32 || dirStart === U32) {
    const locator = end - 20;
    if (locator < 0 || u32(locator) !== LOCATOR64) {
      throw fail("missing zip64 locator", Math.max(0, locator));
    }
    const record = u64(locator + 8);
    if (record + 56 > bytes.length || u32(record) !== END64) {
      throw fail("bad zip64 end record", record);
    }
    [count, dirSize, dirStart] = [u64(record + 32), u64(record + 40), u64(record + 48)];
  }
  if (dirStart + dirSize > bytes.length) {
    throw fail("the central directory runs past the end", dirStart);
  }
  const entries: ZipEntry[] = [];
  let at = dirStart;
  for (let i = 0; i < count; i++) {
    if (at + 46 > bytes.length || u32(at) !== CENTRAL) {
      throw fail(`bad central directory entry ${i}`, at);
    }
    const flags = u16(at + 8), method = u16(at + 10), crc = u32(at + 16);
    let packed = u32(at + 20), size = u32(at + 24), local = u32(at + 42);
    const nameLength = u16(at + 28), extraLength = u16(at + 30), commentLength = u16(at + 32);
    const next = at + 46 + nameLength + extraLength + commentLength;
    if (next > bytes.length) throw fail(`central directory entry ${i} runs past the end`, at);
    let entryName: string;
    try {
      entryName = utf8.decode(bytes.subarray(at + 46, at + 46 + nameLength));
    } catch {
      throw fail(`entry ${i} has a name that is not UTF-8`, at + 46);
    }
    // zip64 extra field: the 64-bit values of the fields set to 0xffffffff, in order.
    for (let e = at + 46 + nameLength; e + 4 <= at + 46 + nameLength + extraLength;) {
      const id = u16(e), length = u16(e + 2);
      if (id === 1) {
        let p = e + 4;
        if (size === U32) (size = u64(p)), (p += 8);
        if (packed === U32) (packed = u64(p)), (p += 8);
        if (local === U32) local = u64(p);
      }
      e += 4 + length;
    }
    const what = `entry '${entryName}'`;
    if (flags & 1) throw fail(`${what} is encrypted`, at);
    if (local + 30 > bytes.length || u32(local) !== LOCAL) {
      throw fail(`${what}: bad local header`, local);
    }
    // The local header repeats the name, method, checksum and sizes: they must agree (its
    // checksum and sizes may be 0 when a data descriptor follows, or 0xffffffff in zip64).
    const localName = bytes.subarray(local + 30, local + 30 + u16(local + 26));
    const nameBytes = bytes.subarray(at + 46, at + 46 + nameLength);
    const agrees = (field: number, value: number) => {
      const v = u32(local + field);
      return v === value || v === U32 || ((u16(local + 6) & 8) !== 0 && v === 0);
    };
    if (
      localName.length !== nameBytes.length || localName.some((b, k) => b !== nameBytes[k]) ||
      u16(local + 8) !== method || !agrees(14, crc) || !agrees(18, packed) || !agrees(22, size)
    ) {
      throw fail(`${what}: the local header disagrees with the central directory`, local);
    }
    const dataStart = local + 30 + u16(local + 26) + u16(local + 28);
    if (dataStart + packed > bytes.length) throw fail(`${what}: truncated data`, dataStart);
    const stored = bytes.subarray(dataStart, dataStart + packed);
    let data: Uint8Array;
    if (method === 0) data = stored.slice();
    else if (method === 8) {
      try {
        data = new Uint8Array(nodeZlib().inflateRawSync(stored));
      } catch (error) {
        throw fail(`${what}: bad deflate data (${(error as Error).message})`, dataStart);
      }
    } else throw fail(`${what} uses compression method ${method} (only stored and deflate)`, at);
    if (data.length !== size) {
      throw fail(`${what}: ${data.length} bytes, the directory says ${size}`, dataStart);
    }
    if (crc32(data) !== crc) {
      throw fail(`${what}: CRC-32 mismatch: the archive is corrupt`, dataStart);
    }
    entries.push({ name: entryName, data });
    at = next;
  }
  return entries;
}

/** A zip archive of stored (uncompressed) entries. */
export function writeZip(op: string, entries: readonly ZipEntry[]): Uint8Array {
  const encoder = new TextEncoder();
  const names = entries.map((e) => encoder.encode(e.name));
  const localSize = entries.reduce((n, e, i) => n + 30 + names[i].length + e.data.length, 0);
  const dirSize = names.reduce((n, b) => n + 46 + b.length, 0);
  if (localSize + dirSize > U32 || entries.length > 0xfffe) {
    throw new RangeError(`${op}: archives over 4 GiB or 65,534 entries are not supported`);
  }
  const out = new Uint8Array(localSize + dirSize + 22);
  const view = new DataView(out.buffer);
  const offsets: number[] = [];
  let at = 0;
  const header = (sig: number, i: number) => {
    const e = entries[i], crc = crc32(e.data);
    view.setUint32(at, sig, true);
    const central = sig === CENTRAL;
    if (central) view.setUint16(at + 4, 20, true); // made by: version 2.0
    const p = central ? at + 6 : at + 4; // the fields the two headers share
    view.setUint16(p, 20, true); // version needed
    view.setUint16(p + 4, 0, true); // method: stored
    view.setUint16(p + 8, 0x21, true); // date: 1980-01-01
    view.setUint32(p + 10, crc, true);
    view.setUint32(p + 14, e.data.length, true);
    view.setUint32(p + 18, e.data.length, true);
    view.setUint16(p + 22, names[i].length, true);
    if (central) view.setUint32(at + 42, offsets[i], true);
    const fixed = central ? 46 : 30;
    out.set(names[i], at + fixed);
    at += fixed + names[i].length;
  };
  entries.forEach((e, i) => {
    offsets.push(at);
    header(LOCAL, i);
    out.set(e.data, at);
    at += e.data.length;
  });
  const dirStart = at;
  entries.forEach((_, i) => header(CENTRAL, i));
  view.setUint32(at, END, true);
  view.setUint16(at + 8, entries.length, true);
  view.setUint16(at + 10, entries.length, true);
  view.setUint32(at + 12, at - dirStart, true);
  view.setUint32(at + 16, dirStart, true);
  return out;
}
