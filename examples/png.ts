/**
 * A minimal PNG writer for 8-bit RGB images: signature, IHDR, one IDAT, IEND. Rows use
 * filter 0 (none): the images here are flat swatches, which deflate shrinks well without
 * filtering. IDAT holds a zlib stream (RFC 1950), which is what node:zlib's deflateSync
 * writes; the chunk CRC is CRC-32 (ISO 3309, polynomial 0xedb88320), computed here.
 * @module
 */
import { deflateSync } from "node:zlib";

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

/** The CRC-32 table: entry n is the CRC of the byte n. */
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * CRC-32 of `bytes` (the one of PNG, zlib and gzip).
 * @example
 * ```ts
 * import { crc32 } from "./png.ts";
 * crc32(new TextEncoder().encode("123456789")); // 0xcbf43926
 * ```
 */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A chunk: length, type, data, CRC of type and data. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * A PNG file of an 8-bit RGB image; `rgb` holds width x height x 3 bytes, row by row.
 * @example
 * ```ts
 * import { encodePng } from "./png.ts";
 * const red = encodePng(2, 1, Uint8Array.of(255, 0, 0, 255, 0, 0));
 * ```
 */
export function encodePng(width: number, height: number, rgb: Uint8Array): Uint8Array {
  for (const [name, value] of [["width", width], ["height", height]] as const) {
    if (!Number.isInteger(value) || value < 1 || value > 0x7fffffff) {
      throw new RangeError(`png.ts: ${name} must be a positive integer, got ${value}`);
    }
  }
  if (rgb.length !== width * height * 3) {
    throw new RangeError(
      `png.ts: ${width}x${height} RGB needs ${width * height * 3} bytes, got ${rgb.length}`,
    );
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 2, 0, 0, 0], 8); // bit depth 8, colour type 2 (RGB), deflate, filter, no interlace
  const stride = width * 3;
  const raw = new Uint8Array(height * (stride + 1)); // each row: filter byte 0, then pixels
  for (let y = 0; y < height; y++) {
    raw.set(rgb.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  }
  const parts = [
    SIGNATURE,
    chunk("IHDR", header),
    chunk("IDAT", new Uint8Array(deflateSync(raw))),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
