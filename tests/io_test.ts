import { crc32c, maskCrc, maskedCrc32c, unmaskCrc } from "../src/io/crc32c.ts";
import {
  asDouble,
  asFloat,
  asInt64,
  asString,
  parseMessage,
  ProtobufError,
  ProtoWriter,
  repeatedVarints,
} from "../src/io/protobuf.ts";
import { assertEquals, assertThrowsMatch } from "./helpers.ts";

Deno.test("crc32c matches the published check values (RFC 3720 B.4)", () => {
  const text = (s: string) => new TextEncoder().encode(s);
  assertEquals(crc32c(text("123456789")), 0xe3069283);
  assertEquals(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assertEquals(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assertEquals(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assertEquals(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
  assertEquals(crc32c(new Uint8Array(0)), 0);
  // Continuing a checksum equals checksumming the concatenation, at every split.
  const bytes = Uint8Array.from({ length: 100 }, (_, i) => (i * 37) & 0xff);
  for (let cut = 0; cut <= 100; cut += 7) {
    assertEquals(crc32c(bytes.subarray(cut), crc32c(bytes.subarray(0, cut))), crc32c(bytes));
  }
});

Deno.test("masked crc32c round-trips and matches TensorFlow's constant", () => {
  // TensorFlow's crc32c_test: Mask(Value("foo")) differs from Value("foo") and unmasks back.
  const foo = crc32c(new TextEncoder().encode("foo"));
  for (const crc of [0, 1, foo, 0xffffffff, 0x80000000, 0x12345678]) {
    assertEquals(unmaskCrc(maskCrc(crc)), crc);
  }
  assertEquals(maskCrc(0), 0xa282ead8);
  assertEquals(maskedCrc32c(new TextEncoder().encode("foo")), maskCrc(foo));
});

Deno.test("protobuf fields round-trip through the writer and the reader", () => {
  const w = new ProtoWriter()
    .varint(1, 150)
    .varint(2, -1)
    .varint(3, 2n ** 63n - 1n)
    .double(4, Math.PI)
    .float(5, 0.5)
    .string(6, "dense/kernel")
    .message(7, (m) => m.varint(1, 7).string(2, "x"))
    .packedVarints(8, [1, 300, 70000])
    .fixed32(9, 0xdeadbeef)
    .bool(10, true);
  const bytes = w.finish();
  // The varint 150 is the format's own example: 08 96 01.
  assertEquals([...bytes.subarray(0, 3)], [0x08, 0x96, 0x01]);
  const f = parseMessage(bytes, "test");
  assertEquals(f.map((x) => x.field), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assertEquals(f[0].int, 150n);
  assertEquals(asInt64(f[1]), -1n);
  assertEquals(asInt64(f[2]), 2n ** 63n - 1n);
  assertEquals(asDouble(f[3]), Math.PI);
  assertEquals(asFloat(f[4]), 0.5);
  assertEquals(asString(f[5], "test"), "dense/kernel");
  const inner = parseMessage(f[6].bytes, "inner");
  assertEquals([inner[0].int, asString(inner[1], "inner")], [7n, "x"]);
  assertEquals(repeatedVarints(f, 8, "test"), [1n, 300n, 70000n]);
  assertEquals(f[8].int, 0xdeadbeefn);
  assertEquals(f[9].int, 1n);
});

Deno.test("every truncation of a message is an error naming it, never a wrong parse", () => {
  const bytes = new ProtoWriter().varint(1, 300).string(2, "abcdef").double(3, 1).finish();
  const boundaries = new Set<number>([0, bytes.length]);
  for (const f of parseMessage(bytes, "m")) boundaries.add(f.offset);
  for (let n = 1; n < bytes.length; n++) {
    if (boundaries.has(n)) continue; // a cut between fields is a shorter valid message
    assertThrowsMatch(() => parseMessage(bytes.subarray(0, n), "m"), /^m: /);
  }
  assertThrowsMatch(() => parseMessage(Uint8Array.of(0x0b), "m"), /unsupported wire type 3/);
  assertThrowsMatch(() => parseMessage(Uint8Array.of(0x00, 0x01), "m"), /field number 0/);
  const badUtf8 = parseMessage(Uint8Array.of(0x0a, 0x01, 0xff), "m");
  assertThrowsMatch(() => asString(badUtf8[0], "m"), /not valid UTF-8/);
  try {
    parseMessage(Uint8Array.of(0x08, 0x80), "m");
  } catch (error) {
    if (!(error instanceof ProtobufError)) throw error;
  }
});
