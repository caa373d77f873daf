/**
 * NumPy's .npy format, read and written: float32, float64, int32, int64, uint8 and bool
 * arrays, C or Fortran order, format versions 1.0, 2.0 and 3.0 (read; written as 1.0
 * unless the header needs 2.0).
 *
 *     "\x93NUMPY" major minor  header-length (uint16 LE; uint32 from 2.0)
 *     header: a Python dict literal {'descr': '<f4', 'fortran_order': False,
 *             'shape': (2, 3), } padded with spaces and "\n" to a multiple of 64 bytes
 *     data: the elements, C (row-major) or Fortran (column-major) order
 *
 * Decisions: the header is parsed strictly (exactly the three keys, nothing after the
 * dict but padding); the data must be exactly the size the header gives. Every problem
 * is an error naming the file and the byte offset. Big-endian ('>') data is swapped on
 * read; bool bytes other than 0 read as true (stored as 1). Other dtypes (float16,
 * int16, complex, objects, structured) are errors listing the supported ones.
 * @module
 */
import { type DType, itemSize } from "../dtype.ts";
import { checkRank, checkSize, describe, MAX_RANK, sizeOf } from "../shape.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { copyAs } from "../ops/cast.ts";
import { toTensor } from "../ops/convert.ts";
import { transpose } from "../ops/views.ts";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

const DESCR: Record<DType, string> = {
  float32: "<f4",
  float64: "<f8",
  int32: "<i4",
  int64: "<i8",
  uint8: "|u1",
  bool: "|b1",
};
const KINDS: Record<string, DType> = {
  f4: "float32",
  f8: "float64",
  i4: "int32",
  i8: "int64",
  u1: "uint8",
  b1: "bool",
};

/** A malformed .npy file; the message names the file and the byte offset. */
export class NpyError extends Error {
  override name = "NpyError";
}

interface Header {
  dtype: DType;
  bigEndian: boolean;
  fortran: boolean;
  shape: number[];
}

/** Parses the header dict; `base` is its offset in the file, for messages. */
function parseHeader(op: string, text: string, base: number): Header {
  let pos = 0;
  const fail = (problem: string) => new NpyError(`${op}: header: ${problem} at byte ${base + pos}`);
  const space = () => {
    while (pos < text.length && (text[pos] === " " || text[pos] === "\t")) pos++;
  };
  const expect = (c: string) => {
    space();
    if (text[pos] !== c) {
      throw fail(`expected "${c}", found ${JSON.stringify(text[pos] ?? "the end")}`);
    }
    pos++;
  };
  const string = (): string => {
    space();
    const q = text[pos];
    if (q !== "'" && q !== '"') throw fail("expected a quoted string");
    const end = text.indexOf(q, pos + 1);
    if (end < 0) throw fail("unterminated string");
    const s = text.slice(pos + 1, end);
    pos = end + 1;
    return s;
  };
  const value = (): unknown => {
    space();
    if (text[pos] === "'" || text[pos] === '"') return string();
    if (text.startsWith("True", pos)) return (pos += 4), true;
    if (text.startsWith("False", pos)) return (pos += 5), false;
    if (text[pos] !== "(") throw fail("expected a string, True, False or a tuple");
    pos++;
    const dims: number[] = [];
    for (;;) {
      space();
      if (text[pos] === ")") break;
      const m = /^\d+L?/.exec(text.slice(pos, pos + 24));
      if (!m) throw fail("expected a dimension");
      dims.push(Number(m[0].replace("L", "")));
      pos += m[0].length;
      space();
      if (text[pos] === ",") pos++;
      else if (text[pos] !== ")") throw fail('expected "," or ")" in the shape');
    }
    pos++;
    return dims;
  };
  const dict: Record<string, unknown> = {};
  expect("{");
  for (;;) {
    space();
    if (text[pos] === "}") break;
    const key = string();
    expect(":");
    if (key in dict) throw fail(`repeated key '${key}'`);
    dict[key] = value();
    space();
    if (text[pos] === ",") pos++;
    else if (text[pos] !== "}") throw fail('expected "," or "}"');
  }
  pos++;
  if (!/^[ \t\r\n]*$/.test(text.slice(pos))) {
    throw fail("unexpected text after the header dict");
  }
  pos = 0;
  const keys = Object.keys(dict).sort().join(",");
  if (keys !== "descr,fortran_order,shape") {
    throw fail(`the header must have the keys descr, fortran_order and shape, it has ${keys}`);
  }
  const { descr, fortran_order: fortran, shape } = dict;
  if (typeof descr !== "string") throw fail("descr must be a string");
  const m = /^([<>|=])([a-z]\d+)$/.exec(descr);
  const dtype = m ? KINDS[m[2]] : undefined;
  if (!m || !dtype || (m[1] === "|" && itemSize(dtype) !== 1)) {
    throw fail(
      `dtype '${descr}' is not supported (supported: ${Object.values(DESCR).join(", ")})`,
    );
  }
  if (typeof fortran !== "boolean") throw fail("fortran_order must be True or False");
  if (!Array.isArray(shape)) throw fail("shape must be a tuple");
  if (shape.length > MAX_RANK) {
    throw fail(`rank ${shape.length} is above the maximum of ${MAX_RANK}`);
  }
  return { dtype, bigEndian: m[1] === ">" && itemSize(dtype) > 1, fortran, shape };
}

/**
 * The tensor held by .npy bytes; `name` (a file name) labels errors.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const t = tf.io.decodeNpy(tf.io.encodeNpy(tf.constant([[1, 2], [3, 4]])));
 * ```
 */
export function decodeNpy(bytes: Uint8Array, name = "<bytes>"): Tensor {
  const op = "decodeNpy";
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`${op}: bytes must be a Uint8Array, got ${describe(bytes)}`);
  }
  if (typeof name !== "string") throw new TypeError(`${op}: name must be a string`);
  const fail = (problem: string, at: number) =>
    new NpyError(`${op}: ${name}: ${problem} at byte ${at}`);
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) {
      throw fail(
        i >= bytes.length ? "truncated magic string" : "not a .npy file (bad magic string)",
        i,
      );
    }
  }
  if (bytes.length < 8) throw fail("truncated version", bytes.length);
  const major = bytes[6], minor = bytes[7];
  if (major < 1 || major > 3 || minor !== 0) {
    throw fail(`unsupported format version ${major}.${minor}`, 6);
  }
  const lengthBytes = major === 1 ? 2 : 4;
  const headerStart = 8 + lengthBytes;
  if (bytes.length < headerStart) throw fail("truncated header length", bytes.length);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = headerStart + headerLength;
  if (bytes.length < dataStart) {
    throw fail(
      `truncated header: it needs ${headerLength} bytes, the file has ${
        bytes.length - headerStart
      }`,
      bytes.length,
    );
  }
  let text: string;
  try {
    const decoder = new TextDecoder(major === 3 ? "utf-8" : "latin1", { fatal: true });
    text = decoder.decode(bytes.subarray(headerStart, dataStart));
  } catch {
    throw fail("the header is not valid text", headerStart);
  }
  if (major !== 3 && /[^\x20-\x7e\n\t]/.test(text)) {
    const bad = text.search(/[^\x20-\x7e\n\t]/);
    throw fail("the header has a non-ASCII character", headerStart + bad);
  }
  let header: Header;
  try {
    header = parseHeader(`${op}: ${name}`, text, headerStart);
  } catch (error) {
    if (error instanceof NpyError) throw error;
    throw fail((error as Error).message, headerStart);
  }
  const { dtype, shape } = header;
  try {
    checkRank(op, shape.length);
    checkSize(op, shape);
  } catch (error) {
    throw fail((error as Error).message, headerStart);
  }
  const n = sizeOf(shape), size = itemSize(dtype);
  const want = n * size, have = bytes.length - dataStart;
  if (have !== want) {
    throw fail(
      `the shape (${shape.join(", ")}) of ${dtype} needs ${want} data bytes, the file has ` +
        `${have}${have < want ? " (truncated)" : ""}`,
      dataStart + Math.min(have, want),
    );
  }
  const raw = bytes.slice(dataStart, dataStart + want);
  if (header.bigEndian) {
    for (let i = 0; i < raw.length; i += size) raw.subarray(i, i + size).reverse();
  }
  if (dtype === "bool") { for (let i = 0; i < raw.length; i++) raw[i] = raw[i] !== 0 ? 1 : 0; }
  const data = dtype === "uint8" || dtype === "bool" ? raw : toTyped(dtype, raw.buffer, n);
  if (!header.fortran || shape.length < 2) return new Tensor(data, dtype, shape);
  const reversed = new Tensor(data, dtype, [...shape].reverse());
  return copyAs(transpose(reversed), dtype, op);
}

function toTyped(dtype: DType, buffer: ArrayBuffer, n: number) {
  switch (dtype) {
    case "float32":
      return new Float32Array(buffer, 0, n);
    case "float64":
      return new Float64Array(buffer, 0, n);
    case "int32":
      return new Int32Array(buffer, 0, n);
    default:
      return new BigInt64Array(buffer, 0, n);
  }
}

/** Options of encodeNpy and saveNpy. */
export interface NpyOptions {
  /** Write the data in Fortran (column-major) order (default false: C order). */
  fortranOrder?: boolean;
}

/**
 * The .npy bytes of a tensor (version 1.0, header padded to 64 bytes as NumPy does).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const bytes = tf.io.encodeNpy(tf.constant([1, 2, 3], "int32"));
 * ```
 */
export function encodeNpy(x: TensorLike, options: NpyOptions = {}): Uint8Array {
  return encode("encodeNpy", x, options);
}

/** encodeNpy under the name of the calling op. */
export function encode(op: string, x: TensorLike, options: NpyOptions = {}): Uint8Array {
  const t = toTensor(op, x);
  const fortran = options?.fortranOrder === true;
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(", ")})`;
  const dict = `{'descr': '${DESCR[t.dtype]}', 'fortran_order': ${fortran ? "True" : "False"}, ` +
    `'shape': ${shape}, }`;
  let version = 1, prefix = 10;
  if (dict.length + 1 + prefix > 65535) [version, prefix] = [2, 12];
  const total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  const header = dict + " ".repeat(total - prefix - dict.length - 1) + "\n";
  const ordered = fortran && t.rank >= 2 ? copyAs(transpose(t), t.dtype, op) : t;
  const data = ordered.dataSync();
  const payload = new Uint8Array(data.buffer, data.byteOffset, t.size * itemSize(t.dtype));
  const out = new Uint8Array(total + payload.length);
  out.set(MAGIC);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, total - prefix, true);
  else view.setUint32(8, total - prefix, true);
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i);
  out.set(payload, total);
  return out;
}

function checkPath(op: string, path: unknown): string {
  if (typeof path !== "string" || path === "") {
    throw new TypeError(`${op}: path must be a non-empty string, got ${describe(path)}`);
  }
  return path;
}

/** Reads a whole file; errors name the op and the path. */
export function readWhole(op: string, path: unknown): Uint8Array {
  const p = checkPath(op, path);
  try {
    return Deno.readFileSync(p);
  } catch (error) {
    throw new Error(`${op}: cannot read ${p}: ${(error as Error).message}`, { cause: error });
  }
}

/** Writes a whole file; errors name the op and the path. */
export function writeWhole(op: string, path: unknown, bytes: Uint8Array): void {
  const p = checkPath(op, path);
  try {
    Deno.writeFileSync(p, bytes);
  } catch (error) {
    throw new Error(`${op}: cannot write ${p}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * The tensor in a .npy file (np.save's format).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const x = tf.io.loadNpy("weights.npy");
 * ```
 */
export function loadNpy(path: string): Tensor {
  const bytes = readWhole("loadNpy", path);
  try {
    return decodeNpy(bytes, path);
  } catch (error) {
    if (!(error instanceof NpyError)) throw error;
    throw new NpyError(error.message.replace(/^decodeNpy:/, "loadNpy:"), { cause: error });
  }
}

/**
 * Writes a tensor as a .npy file that np.load reads.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.io.saveNpy("/tmp/x.npy", tf.constant([[1, 2], [3, 4]]));
 * ```
 */
export function saveNpy(path: string, x: TensorLike, options: NpyOptions = {}): void {
  checkPath("saveNpy", path);
  writeWhole("saveNpy", path, encode("saveNpy", x, options));
}
