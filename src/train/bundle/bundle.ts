/**
 * TensorFlow's tensor bundle (checkpoint V2): `<prefix>.index`, a table (table.ts) mapping
 * each key to a BundleEntryProto, with a BundleHeaderProto under the empty key, and
 * `<prefix>.data-<shard>-of-<shards>`, the tensors' raw little-endian bytes end to end.
 *
 * Decisions:
 * - We write one shard, tensors in key order, unaligned (TensorFlow's default), each
 *   entry carrying the masked crc32c of its bytes. The host is assumed little-endian
 *   (every platform Deno runs on is).
 * - The reader reads TensorFlow's bundles too: several shards, entries of dtypes we lack
 *   (strings, such as TensorFlow 2's object graph) are listed but not loadable, sliced
 *   (partitioned) variables are refused.
 * - Opening checks the whole index (checksums, key order, every entry's dtype, shape,
 *   size and its range in its data file); `tensor(key)` checks the bytes' crc. Every
 *   error starts with the caller's op name and names the file (and key).
 * @module
 */
import { type DType, itemSize } from "../../dtype.ts";
import { Tensor } from "../../tensor.ts";
import { allocate } from "../../backend/cpu/storage.ts";
import { crc32c, maskCrc, unmaskCrc } from "../../io/crc32c.ts";
import { buildTable, compareBytes, readTable, type TableEntry } from "./table.ts";
import {
  type BundleEntry,
  decodeEntry,
  decodeHeader,
  dtypeName,
  dtypeOfCode,
  encodeEntry,
  encodeHeader,
} from "./protos.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** `<prefix>.index`. */
export function indexFilename(prefix: string): string {
  return `${prefix}.index`;
}

/** `<prefix>.data-00000-of-00001` for shard 0 of 1. */
export function dataFilename(prefix: string, shard = 0, shards = 1): string {
  const pad = (n: number) => String(n).padStart(5, "0");
  return `${prefix}.data-${pad(shard)}-of-${pad(shards)}`;
}

/** A tensor's bytes as stored: a view of its (contiguous) storage. */
function tensorBytes(t: Tensor): Uint8Array {
  const flat = t.dataSync();
  return new Uint8Array(flat.buffer, flat.byteOffset, flat.byteLength);
}

/** A bundle's two files: the index bytes and the data file as a list of chunks. */
export interface EncodedBundle {
  index: Uint8Array;
  data: Uint8Array[];
}

/** Encodes tensors by key (any order; the empty key is reserved for the header). */
export function encodeBundle(tensors: ReadonlyMap<string, Tensor>): EncodedBundle {
  // Byte order of the UTF-8 keys (the table's order), which is not JS string order.
  const keys = [...tensors.keys()].map((k) => [k, encoder.encode(k)] as const)
    .sort((a, b) => compareBytes(a[1], b[1]));
  const entries: TableEntry[] = [[new Uint8Array(0), encodeHeader()]];
  const data: Uint8Array[] = [];
  let offset = 0;
  for (const [key, keyBytes] of keys) {
    const t = tensors.get(key)!;
    const bytes = tensorBytes(t);
    const crc = maskCrc(crc32c(bytes));
    entries.push([keyBytes, encodeEntry(t.dtype, t.shape, offset, bytes.length, crc)]);
    data.push(bytes);
    offset += bytes.length;
  }
  return { index: buildTable(entries), data };
}

/** One readable entry of a bundle. */
export interface BundleTensorInfo {
  /** Our dtype, or TensorFlow's name of one we lack ("string", "float16", ...). */
  dtype: DType | string;
  shape: number[];
}

/** Product of dims, or -1 past 2^53. */
function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (n > Number.MAX_SAFE_INTEGER) return -1;
  }
  return n;
}

/** A checkpoint opened for reading; see the module comment for what is checked when. */
export class BundleReader {
  readonly prefix: string;
  readonly #entries = new Map<string, BundleEntry>();
  readonly #shards: number;
  readonly #data = new Map<number, Uint8Array>();

  private constructor(prefix: string, shards: number) {
    this.prefix = prefix;
    this.#shards = shards;
  }

  /** Opens `<prefix>.index` and checks it against the data files' sizes. */
  static open(op: string, prefix: string): BundleReader {
    const file = indexFilename(prefix);
    const fail = (detail: string, cause?: unknown): never => {
      throw new Error(`${op}: ${file}: ${detail}`, { cause });
    };
    let bytes: Uint8Array;
    try {
      bytes = Deno.readFileSync(file);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        fail(`no checkpoint at '${prefix}' (the index file does not exist)`, error);
      }
      return fail(`cannot read: ${(error as Error).message}`, error);
    }
    let table: TableEntry[] = [];
    try {
      table = readTable(bytes);
    } catch (error) {
      fail((error as Error).message, error);
    }
    if (table.length === 0 || table[0][0].length !== 0) fail("no header entry (empty key)");
    let shards = 0;
    try {
      shards = decodeHeader(table[0][1]);
    } catch (error) {
      fail(`bad header: ${(error as Error).message}`, error);
    }
    const reader = new BundleReader(prefix, shards);
    for (const [keyBytes, value] of table.slice(1)) {
      let key = "";
      try {
        key = decoder.decode(keyBytes);
        reader.#entries.set(key, decodeEntry(value));
      } catch (error) {
        fail(`entry '${key || "(not UTF-8)"}': ${(error as Error).message}`, error);
      }
    }
    reader.#checkEntries(op, fail);
    return reader;
  }

  #checkEntries(op: string, fail: (detail: string) => never): void {
    const sizes = new Map<number, number>();
    for (const [key, e] of this.#entries) {
      const what = `tensor '${key}'`;
      if (e.sliced) continue;
      if (e.shardId >= this.#shards) fail(`${what}: shard ${e.shardId} of ${this.#shards}`);
      const dtype = dtypeOfCode(e.dtype);
      const n = elementCount(e.shape);
      if (dtype && (n < 0 || e.size !== n * itemSize(dtype))) {
        fail(`${what}: ${e.size} bytes stored for ${n} ${dtype} elements`);
      }
      const dataFile = dataFilename(this.prefix, e.shardId, this.#shards);
      let size = sizes.get(e.shardId);
      if (size === undefined) {
        try {
          size = Deno.statSync(dataFile).size;
        } catch (error) {
          throw new Error(`${op}: ${dataFile}: cannot read: ${(error as Error).message}`, {
            cause: error,
          });
        }
        sizes.set(e.shardId, size);
      }
      if (e.offset + e.size > size) {
        throw new Error(
          `${op}: ${dataFile}: ${what} at bytes [${e.offset}, ${e.offset + e.size}) ` +
            `runs past the end of the file (${size} bytes): truncated data file`,
        );
      }
    }
  }

  /** The keys, sorted. */
  keys(): string[] {
    return [...this.#entries.keys()];
  }

  /** Whether the bundle holds `key`. */
  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /** dtype and shape of `key`, or undefined when absent. */
  info(key: string): BundleTensorInfo | undefined {
    const e = this.#entries.get(key);
    return e && { dtype: dtypeName(e.dtype), shape: [...e.shape] };
  }

  /** The tensor stored under `key`, after checking its crc; errors start with `op`. */
  tensor(key: string, op: string): Tensor {
    const e = this.#entries.get(key);
    if (!e) throw new Error(`${op}: key '${key}' not found in checkpoint '${this.prefix}'`);
    const dtype = dtypeOfCode(e.dtype);
    const dataFile = dataFilename(this.prefix, e.shardId, this.#shards);
    const fail = (detail: string): never => {
      throw new Error(`${op}: ${dataFile}: tensor '${key}': ${detail}`);
    };
    if (e.sliced) fail("partitioned (sliced) variables are not supported");
    if (!dtype) fail(`dtype ${dtypeName(e.dtype)} is not supported`);
    const bytes = this.#shard(e.shardId, dataFile, op).subarray(e.offset, e.offset + e.size);
    if (bytes.length !== e.size) fail(`${bytes.length} of ${e.size} bytes: truncated data file`);
    if (crc32c(bytes) !== unmaskCrc(e.crc32c)) fail("checksum mismatch (corrupt data file)");
    const out = allocate(dtype!, elementCount(e.shape), op);
    new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(bytes);
    if (dtype === "bool") { for (let i = 0; i < out.length; i++) out[i] = out[i] ? 1 : 0; }
    return new Tensor(out, dtype!, [...e.shape]);
  }

  #shard(shard: number, file: string, op: string): Uint8Array {
    let bytes = this.#data.get(shard);
    if (!bytes) {
      try {
        bytes = Deno.readFileSync(file);
      } catch (error) {
        throw new Error(`${op}: ${file}: cannot read: ${(error as Error).message}`, {
          cause: error,
        });
      }
      this.#data.set(shard, bytes);
    }
    return bytes;
  }
}
