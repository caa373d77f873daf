/**
 * PNG coding of uint8 images (tf.image.encode_png / decode_png). Encoding reuses the image
 * summaries' encoder (src/summary/png.ts: filter None, deflate by node:zlib). Decoding takes
 * every PNG: bit depths 1 to 16, gray, gray+alpha, RGB, RGBA and palette images, the five
 * row filters, Adam7 interlacing, and tRNS transparency (expanded to an alpha channel, as
 * TensorFlow's libpng settings do); 16-bit samples keep their high byte. Every chunk's CRC is
 * checked and a corrupt or truncated file is an Error naming decodePng, never a crash.
 * NOTE: with no string dtype, the
 * encoded PNG is a Uint8Array where TensorFlow returns a scalar string tensor.
 * @module
 */
import { nodeZlib } from "../../node_builtins.ts";
import { concatBytes } from "../../io/bytes.ts";
import { crc32, encodePng as encodePixels } from "../../summary/png.ts";
import { showShape } from "../../shape.ts";
import type { Tensor, TensorLike } from "../../tensor.ts";
import { placed, toTensor } from "../convert.ts";
import type { DType } from "../../dtype.ts";

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * The PNG file of a uint8 image [height, width, channels] with 1 (gray), 2 (gray+alpha),
 * 3 (RGB) or 4 (RGBA) channels (tf.image.encode_png).
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * const png = tf.image.encodePng(tf.zeros([2, 3, 3], "uint8")); // a black 2x3 RGB PNG
 * ```
 */
export function encodePng(image: TensorLike): Uint8Array {
  const op = "encodePng";
  const t = toTensor(op, image, "uint8");
  if (t.dtype !== "uint8") throw new TypeError(`${op}: image must be uint8, got ${t.dtype}`);
  if (t.rank !== 3 || t.shape[2] < 1 || t.shape[2] > 4) {
    throw new RangeError(
      `${op}: image must be [height, width, channels] with 1 to 4 channels, got shape ${
        showShape(t.shape)
      }`,
    );
  }
  const [h, w, c] = t.shape;
  if (h === 0 || w === 0) {
    throw new RangeError(`${op}: image must not be empty, got shape ${showShape(t.shape)}`);
  }
  return encodePixels(t.dataSync() as Uint8Array, h, w, c);
}

/** Options of {@link decodePng}. */
export interface DecodePngOptions {
  /** Channels of the result: 0 (default) as stored, 1 gray, 3 RGB, 4 RGBA (as TensorFlow). */
  channels?: number;
  /** "uint8" (the only one: there is no uint16 dtype). */
  dtype?: DType;
}

interface Header {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  interlaced: boolean;
}

/** Samples per pixel of each PNG color type. */
const SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Record<number, number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};

/**
 * The image [height, width, channels] (uint8) of a PNG file (tf.image.decode_png).
 * channels 0 keeps the file's (palette images give RGB, or RGBA with transparency); 1 turns
 * color into gray as TensorFlow's libpng call does (0.299 R + 0.587 G + 0.114 B, truncated)
 * and drops alpha; 3 or 4 replicate gray; missing alpha is 255.
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * const png = tf.image.encodePng(tf.zeros([2, 2, 1], "uint8"));
 * tf.image.decodePng(png, { channels: 3 }); // shape [2, 2, 3]
 * ```
 */
export function decodePng(bytes: Uint8Array | ArrayBuffer, options: DecodePngOptions = {}): Tensor {
  const op = "decodePng";
  const channels = options.channels ?? 0;
  if (![0, 1, 3, 4].includes(channels)) {
    throw new RangeError(`${op}: channels must be 0, 1, 3 or 4, got ${String(channels)}`);
  }
  if ((options.dtype ?? "uint8") !== "uint8") {
    throw new TypeError(`${op}: dtype must be uint8, got ${String(options.dtype)}`);
  }
  const data = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
  if (!(data instanceof Uint8Array)) throw new TypeError(`${op}: bytes must be a Uint8Array`);
  const { header, palette, transparency, idat } = readChunks(data);
  const raw = inflate(idat, dataBytes(header));
  const [pixels, stored, natural] = header.interlaced
    ? deinterlace(header, raw, palette, transparency)
    : toRgba(header, unfilter(header, raw), palette, transparency);
  const want = channels === 0 ? natural : channels;
  const n = header.width * header.height;
  const out = convertChannels(pixels, n, stored, want, header.depth === 16);
  return placed(op, out, "uint8", [header.height, header.width, want]);
}

function fail(message: string): Error {
  return new Error(`decodePng: ${message}`);
}

function readChunks(data: Uint8Array) {
  if (data.length < 8 || SIGNATURE.some((b, i) => data[i] !== b)) {
    throw fail("not a PNG file (bad signature)");
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let at = 8, header: Header | undefined;
  let palette: Uint8Array | undefined, transparency: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  for (;;) {
    if (at + 12 > data.length) throw fail(`truncated file: chunk header at byte ${at}`);
    const length = view.getUint32(at);
    const type = String.fromCharCode(...data.subarray(at + 4, at + 8));
    if (length > data.length - at - 12) throw fail(`truncated file: ${type} chunk at byte ${at}`);
    const body = data.subarray(at + 8, at + 8 + length);
    if (crc32(data.subarray(at + 4, at + 8 + length)) !== view.getUint32(at + 8 + length)) {
      throw fail(`CRC mismatch in the ${type} chunk at byte ${at}: the file is corrupt`);
    }
    at += 12 + length;
    if (header === undefined && type !== "IHDR") throw fail(`first chunk is ${type}, not IHDR`);
    if (type === "IHDR") header = readHeader(body);
    else if (type === "PLTE") palette = body;
    else if (type === "tRNS") transparency = body;
    else if (type === "IDAT") idat.push(body);
    else if (type === "IEND") break;
    else if ((type.charCodeAt(0) & 0x20) === 0) {
      throw fail(`unknown critical chunk ${type}`);
    }
  }
  if (header === undefined) throw fail("no IHDR chunk");
  if (header.colorType === 3 && palette === undefined) throw fail("palette image without PLTE");
  if (idat.length === 0) throw fail("no IDAT chunk");
  return { header, palette, transparency, idat: concatBytes(idat) };
}

function readHeader(body: Uint8Array): Header {
  if (body.length !== 13) throw fail(`IHDR has ${body.length} bytes, expected 13`);
  const view = new DataView(body.buffer, body.byteOffset, 13);
  const width = view.getUint32(0), height = view.getUint32(4);
  const [depth, colorType, compression, filter, interlace] = body.subarray(8);
  if (width === 0 || height === 0 || width * height > 2 ** 28) {
    throw fail(`unsupported size ${width}x${height} (at most 2^28 pixels)`);
  }
  if (!(colorType in SAMPLES) || !DEPTHS[colorType].includes(depth)) {
    throw fail(`invalid color type ${colorType} with bit depth ${depth}`);
  }
  if (compression !== 0 || filter !== 0) throw fail("unknown compression or filter method");
  if (interlace > 1) throw fail(`unknown interlace method ${interlace}`);
  return { width, height, depth, colorType, interlaced: interlace === 1 };
}

/** The inflated size of the image data: each (pass's) row and its filter byte. */
function dataBytes(h: Header): number {
  const passes = h.interlaced ? PASSES : [[0, 0, 1, 1]];
  let n = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const width = Math.ceil((h.width - x0) / dx), height = Math.ceil((h.height - y0) / dy);
    if (width > 0 && height > 0) {
      n += height * (Math.ceil((width * SAMPLES[h.colorType] * h.depth) / 8) + 1);
    }
  }
  return n;
}

/** The image data inflated, at most `limit` bytes of it (a bigger stream is not this image). */
function inflate(idat: Uint8Array, limit: number): Uint8Array {
  try {
    return new Uint8Array(nodeZlib().inflateSync(idat, { maxOutputLength: Math.max(limit, 1) }));
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
      throw fail(`image data inflates to more than the ${limit} bytes the header implies`);
    }
    throw fail(`corrupt image data (${(error as Error).message})`);
  }
}

/** The scanlines with their filters undone, packed as stored (no filter-type bytes). */
function unfilter(h: Header, raw: Uint8Array): Uint8Array {
  const bitsPerPixel = SAMPLES[h.colorType] * h.depth;
  const rowBytes = Math.ceil((h.width * bitsPerPixel) / 8), bpp = Math.max(1, bitsPerPixel >> 3);
  if (raw.length < h.height * (rowBytes + 1)) {
    throw fail(`image data has ${raw.length} bytes, expected ${h.height * (rowBytes + 1)}`);
  }
  const out = new Uint8Array(h.height * rowBytes);
  for (let y = 0; y < h.height; y++) {
    const filter = raw[y * (rowBytes + 1)];
    const src = raw.subarray(y * (rowBytes + 1) + 1, (y + 1) * (rowBytes + 1));
    const row = out.subarray(y * rowBytes, (y + 1) * rowBytes);
    const up = y > 0 ? out.subarray((y - 1) * rowBytes, y * rowBytes) : new Uint8Array(rowBytes);
    for (let i = 0; i < rowBytes; i++) {
      const a = i >= bpp ? row[i - bpp] : 0, b = up[i], c = i >= bpp ? up[i - bpp] : 0;
      let p: number;
      switch (filter) {
        case 0:
          p = 0;
          break;
        case 1:
          p = a;
          break;
        case 2:
          p = b;
          break;
        case 3:
          p = (a + b) >> 1;
          break;
        case 4: {
          const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
          p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default:
          throw fail(`unknown filter type ${filter} on row ${y}`);
      }
      row[i] = (src[i] + p) & 0xff;
    }
  }
  return out;
}

/** Adam7's passes: first column, first row, column step, row step. */
const PASSES = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

/** toRgba of an interlaced image: each pass is a small image of its own, then scattered. */
function deinterlace(
  h: Header,
  raw: Uint8Array,
  palette: Uint8Array | undefined,
  trns: Uint8Array | undefined,
): [Uint16Array, number, number] {
  let out: Uint16Array | undefined, channels = 0, natural = 0, at = 0;
  for (const [x0, y0, dx, dy] of PASSES) {
    const width = Math.ceil((h.width - x0) / dx), height = Math.ceil((h.height - y0) / dy);
    if (width <= 0 || height <= 0) continue;
    const pass = { ...h, width, height };
    const rowBytes = Math.ceil((width * SAMPLES[h.colorType] * h.depth) / 8);
    const size = height * (rowBytes + 1);
    if (raw.length - at < size) {
      throw fail(`image data has ${raw.length} bytes, too few for the interlaced image`);
    }
    const [px, c, n] = toRgba(pass, unfilter(pass, raw.subarray(at, at + size)), palette, trns);
    at += size;
    out ??= new Uint16Array(h.width * h.height * c);
    (channels = c), (natural = n);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const to = ((y0 + y * dy) * h.width + x0 + x * dx) * c, from = (y * width + x) * c;
        for (let k = 0; k < c; k++) out[to + k] = px[from + k];
      }
    }
  }
  return [out!, channels, natural];
}

/**
 * The pixels (gray, gray+alpha, RGB or RGBA; 16-bit samples kept whole), their channel
 * count, and the count channels 0 asks for: as TensorFlow, a gray or RGB file's tRNS color
 * key becomes an alpha channel only when one is asked for.
 */
function toRgba(
  h: Header,
  rows: Uint8Array,
  palette: Uint8Array | undefined,
  trns: Uint8Array | undefined,
): [Uint16Array, number, number] {
  const n = h.width * h.height, samples = SAMPLES[h.colorType];
  const rowBytes = Math.ceil((h.width * samples * h.depth) / 8);
  const sample = (y: number, i: number): number => {
    const row = y * rowBytes;
    if (h.depth === 8) return rows[row + i];
    if (h.depth === 16) return (rows[row + 2 * i] << 8) | rows[row + 2 * i + 1];
    const bit = i * h.depth, byte = rows[row + (bit >> 3)];
    return (byte >> (8 - h.depth - (bit & 7))) & ((1 << h.depth) - 1);
  };
  // Samples keep 16 bits until the channels are converted, as libpng converts before it
  // strips; low bit depths scale to 8 bits.
  const widen = (v: number) => h.depth >= 8 ? v : (v * 255) / ((1 << h.depth) - 1);
  if (h.colorType === 3) {
    const entries = palette!.length / 3, alpha = trns !== undefined;
    const out = new Uint16Array(n * (alpha ? 4 : 3));
    for (let y = 0, p = 0; y < h.height; y++) {
      for (let x = 0; x < h.width; x++, p++) {
        const k = sample(y, x);
        if (k >= entries) throw fail(`palette index ${k} is out of range (${entries} entries)`);
        const o = p * (alpha ? 4 : 3);
        for (let j = 0; j < 3; j++) out[o + j] = palette![3 * k + j];
        if (alpha) out[o + 3] = k < trns!.length ? trns![k] : 255;
      }
    }
    return [out, alpha ? 4 : 3, alpha ? 4 : 3];
  }
  // A tRNS chunk on gray or RGB names one fully transparent color: an alpha channel.
  const key = trns !== undefined && (h.colorType === 0 || h.colorType === 2)
    ? Array.from({ length: samples }, (_, s) => (trns[2 * s] << 8) | trns[2 * s + 1])
    : undefined;
  const stored = samples + (key ? 1 : 0);
  const out = new Uint16Array(n * stored);
  for (let y = 0, p = 0; y < h.height; y++) {
    for (let x = 0; x < h.width; x++, p++) {
      let transparent = key !== undefined;
      for (let s = 0; s < samples; s++) {
        const v = sample(y, x * samples + s);
        if (key && v !== key[s]) transparent = false;
        out[p * stored + s] = widen(v);
      }
      if (key) out[p * stored + samples] = transparent ? 0 : h.depth === 16 ? 65535 : 255;
    }
  }
  return [out, stored, samples];
}

/** 8-bit pixels of `to` channels from `from` channels (1 to 4) of 8 or 16 (`wide`) bits. */
function convertChannels(
  px: Uint16Array,
  n: number,
  from: number,
  to: number,
  wide: boolean,
): Uint8Array {
  const out = new Uint8Array(n * to), shift = wide ? 8 : 0, opaque = wide ? 65535 : 255;
  if (from === to) {
    for (let i = 0; i < out.length; i++) out[i] = px[i] >> shift;
    return out;
  }
  const color = from >= 3, alpha = from === 2 || from === 4;
  for (let p = 0; p < n; p++) {
    const i = p * from;
    const a = (alpha ? px[i + from - 1] : opaque) >> shift;
    const r = px[i], g = px[i + 1], b = px[i + 2];
    // libpng's rgb_to_gray with TensorFlow's weights 0.299, 0.587 in 1/32768ths, truncated.
    const gray = !color ? r : r === g && g === b ? r : (9797 * r + 19234 * g + 3737 * b) >> 15;
    const o = p * to;
    if (to <= 2) {
      out[o] = gray >> shift;
      if (to === 2) out[o + 1] = a;
    } else {
      out[o] = (color ? r : gray) >> shift;
      out[o + 1] = (color ? g : gray) >> shift;
      out[o + 2] = (color ? b : gray) >> shift;
      if (to === 4) out[o + 3] = a;
    }
  }
  return out;
}
