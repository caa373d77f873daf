/**
 * A minimal PNG encoder for image summaries: 8-bit grayscale, RGB or RGBA, no
 * interlacing, filter 0 (None) on every row, the image data deflated by `node:zlib`.
 * NOTE: PNG's chunk checksum is plain CRC-32 (ISO 3309, polynomial 0xEDB88320), not the
 * CRC-32C of TFRecords.
 * @module
 */
import { nodeZlib } from "../node_builtins.ts";
import { concatBytes } from "../io/bytes.ts";

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 of `bytes` (the PNG and zip checksum). */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** PNG color types by channel count: gray, gray+alpha, RGB, RGBA. */
const COLOR_TYPE: Record<number, number> = { 1: 0, 2: 4, 3: 2, 4: 6 };

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * The PNG file of an image of `height` x `width` pixels of `channels` (1 to 4) bytes each,
 * given row-major in `pixels`.
 * @example
 * ```ts
 * const png = encodePng(new Uint8Array([0, 255, 255, 0]), 2, 2, 1); // a 2x2 checkerboard
 * ```
 */
export function encodePng(
  pixels: Uint8Array,
  height: number,
  width: number,
  channels: number,
): Uint8Array {
  const dims = [height, width];
  if (!dims.every((d) => Number.isInteger(d) && d >= 1 && d < 2 ** 31)) {
    throw new RangeError(`encodePng: height and width must be positive, got ${height}x${width}`);
  }
  if (!(channels in COLOR_TYPE)) {
    throw new RangeError(`encodePng: channels must be 1, 2, 3 or 4, got ${channels}`);
  }
  const rowBytes = width * channels;
  if (pixels.length !== height * rowBytes) {
    throw new RangeError(
      `encodePng: ${pixels.length} bytes for a ${height}x${width}x${channels} image`,
    );
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8; // bit depth
  header[9] = COLOR_TYPE[channels];
  // Compression, filter and interlace methods are 0 (deflate, adaptive, none).
  const raw = new Uint8Array(height * (rowBytes + 1));
  for (let y = 0; y < height; y++) {
    // Each row starts with its filter type, 0: the bytes as they are.
    raw.set(pixels.subarray(y * rowBytes, (y + 1) * rowBytes), y * (rowBytes + 1) + 1);
  }
  const parts = [
    SIGNATURE,
    chunk("IHDR", header),
    chunk("IDAT", new Uint8Array(nodeZlib().deflateSync(raw))),
    chunk("IEND", new Uint8Array(0)),
  ];
  return concatBytes(parts);
}
