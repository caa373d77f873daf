/**
 * tf.image.encodePng / decodePng: round trips, PNGs written by TensorFlow 2.21 and by the
 * fixture script (palette, low and high bit depths, transparency, every row filter, Adam7) decoded
 * to TensorFlow's pixels (tests/fixtures/make_image_fixtures.py), and clear errors on
 * corrupt or truncated files.
 */
import * as tf from "../mod.ts";
import { crc32 } from "../src/summary/png.ts";
import { assertEquals, assertThrowsMatch } from "./helpers.ts";
import fixtures from "./fixtures/image.json" with { type: "json" };

const decodeBase64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

/** png with its chunk at byte `at` given new contents (same length) and a correct CRC. */
function rewrite(png: Uint8Array, at: number, body: Uint8Array): Uint8Array {
  const copy = png.slice();
  const view = new DataView(copy.buffer);
  copy.set(body, at + 8);
  view.setUint32(at + 8 + body.length, crc32(copy.subarray(at + 4, at + 8 + body.length)));
  return copy;
}

Deno.test("decodePng gives TensorFlow's pixels", () => {
  for (const c of fixtures.png) {
    const image = tf.image.decodePng(decodeBase64(c.png), { channels: c.channels });
    assertEquals(image.dtype, "uint8", c.name);
    assertEquals([...image.shape], c.expected.shape, c.name);
    assertEquals(Array.from(image.dataSync() as Uint8Array), c.expected.values, c.name);
  }
  assertEquals(fixtures.png.length, 42);
});

Deno.test("encodePng round-trips 1 to 4 channels", () => {
  for (const channels of [1, 2, 3, 4]) {
    const n = 6 * 5 * channels;
    const pixels = Uint8Array.from({ length: n }, (_, i) => (i * 37 + channels) % 256);
    const image = tf.constant(pixels, "uint8", { shape: [6, 5, channels] });
    const png = tf.image.encodePng(image);
    assertEquals(Array.from(png.subarray(1, 4)), [0x50, 0x4e, 0x47]);
    const back = tf.image.decodePng(png);
    assertEquals([...back.shape], [6, 5, channels]);
    assertEquals(back.dataSync(), pixels);
  }
});

function corrupt(png: Uint8Array, at: number): Uint8Array {
  const copy = png.slice();
  copy[at] ^= 0x55;
  return copy;
}

Deno.test("decodePng and encodePng reject bad input naming the op", () => {
  const png = tf.image.encodePng(tf.fill([3, 4, 3], 7, "uint8"));
  assertThrowsMatch(() => tf.image.decodePng(new Uint8Array(0)), /^decodePng: not a PNG/);
  assertThrowsMatch(() => tf.image.decodePng(corrupt(png, 0)), /^decodePng: not a PNG/);
  assertThrowsMatch(
    () => tf.image.decodePng(corrupt(png, 20)),
    /^decodePng: CRC mismatch in the IHDR/,
  );
  assertThrowsMatch(
    () => tf.image.decodePng(corrupt(png, 45)),
    /^decodePng: CRC mismatch in the IDAT/,
  );
  for (const cut of [8, 20, 33, 40, png.length - 6]) {
    assertThrowsMatch(() => tf.image.decodePng(png.subarray(0, cut)), /^decodePng: truncated/);
  }
  const header = png.slice(16, 29);
  header[12] = 1; // Adam7: the rows no longer line up with their filter bytes
  assertThrowsMatch(
    () => tf.image.decodePng(rewrite(png, 8, header)),
    /^decodePng: (unknown filter type 7 on row 0|image data has \d+ bytes)/,
  );
  header[12] = 2;
  assertThrowsMatch(
    () => tf.image.decodePng(rewrite(png, 8, header)),
    /^decodePng: unknown interlace/,
  );
  header[12] = 0;
  new DataView(header.buffer).setUint32(0, 1); // width 1: the data is that of width 4
  assertThrowsMatch(
    () => tf.image.decodePng(rewrite(png, 8, header)),
    /^decodePng: image data inflates to more than the 12 bytes the header implies/,
  );
  new DataView(header.buffer).setUint32(0, 2 ** 20);
  new DataView(header.buffer).setUint32(4, 2 ** 20);
  assertThrowsMatch(
    () => tf.image.decodePng(rewrite(png, 8, header)),
    /^decodePng: unsupported size/,
  );
  new DataView(header.buffer).setUint32(0, 4);
  new DataView(header.buffer).setUint32(4, 3);
  header[9] = 5;
  assertThrowsMatch(() => tf.image.decodePng(rewrite(png, 8, header)), /^decodePng: invalid color/);
  const idatLength = new DataView(png.buffer).getUint32(33);
  assertThrowsMatch(
    () => tf.image.decodePng(rewrite(png, 33, new Uint8Array(idatLength).fill(0xab))),
    /^decodePng: corrupt image data/,
  );
  assertThrowsMatch(() => tf.image.decodePng(png, { channels: 2 }), /^decodePng: channels/);
  assertThrowsMatch(
    () => tf.image.decodePng(png, { dtype: "int32" }),
    /^decodePng: dtype must be uint8/,
  );
  assertThrowsMatch(
    () => tf.image.encodePng(tf.zeros([2, 2, 3])),
    /^encodePng: image must be uint8/,
  );
  assertThrowsMatch(
    () => tf.image.encodePng(tf.zeros([2, 2, 5], "uint8")),
    /^encodePng: image must be \[height, width, channels\]/,
  );
  assertThrowsMatch(() => tf.image.encodePng(tf.zeros([0, 2, 1], "uint8")), /^encodePng: .*empty/);
});
