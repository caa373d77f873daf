import { encodeRecord, encodeRecords, readRecords, TFRecordError } from "../src/io/tfrecord.ts";
import { readRecordFile, TFRecordWriter } from "../src/io/tfrecord_stream.ts";
import { maskedCrc32c } from "../src/io/crc32c.ts";
import { assertEquals, assertThrowsMatch } from "./helpers.ts";

const text = (s: string) => new TextEncoder().encode(s);
const RECORDS = [
  text("hello"),
  new Uint8Array(0),
  text("a longer record, with some bytes"),
  text("z"),
];

Deno.test("a record is length, masked crc of the length, data, masked crc of the data", () => {
  const framed = encodeRecord(text("abc"));
  const view = new DataView(framed.buffer);
  assertEquals(framed.length, 8 + 4 + 3 + 4);
  assertEquals(view.getBigUint64(0, true), 3n);
  assertEquals(view.getUint32(8, true), maskedCrc32c(framed.subarray(0, 8)));
  assertEquals([...framed.subarray(12, 15)], [...text("abc")]);
  assertEquals(view.getUint32(15, true), maskedCrc32c(text("abc")));
});

Deno.test("records round-trip through a file and through bytes", () => {
  const path = Deno.makeTempFileSync({ suffix: ".tfrecord" });
  try {
    const w = new TFRecordWriter(path);
    for (const r of RECORDS) w.write(r);
    w.close();
    assertThrowsMatch(() => w.write(text("late")), /^TFRecordWriter\.write: .* is closed/);
    const fromFile = [...readRecordFile(path)].map((r) => [...r]);
    assertEquals(fromFile, RECORDS.map((r) => [...r]));
    const bytes = Deno.readFileSync(path);
    assertEquals(bytes, encodeRecords(RECORDS));
    assertEquals([...readRecords(bytes)].map((r) => [...r]), RECORDS.map((r) => [...r]));
    // Appending continues the file.
    const more = new TFRecordWriter(path, { append: true });
    more.write(text("more"));
    more.close();
    assertEquals([...readRecordFile(path)].length, RECORDS.length + 1);
    // Leaving the iteration early closes the file (the test's resource sanitizer checks).
    for (const _ of readRecordFile(path)) break;
  } finally {
    Deno.removeSync(path);
  }
});

Deno.test("an empty file has no records; a missing file is a clear error", () => {
  assertEquals([...readRecords(new Uint8Array(0))], []);
  assertThrowsMatch(
    () => [...readRecordFile("/nonexistent/x.tfrecord")],
    /^readRecordFile: cannot open \/nonexistent\/x\.tfrecord/,
  );
  assertThrowsMatch(() => readRecords("abc" as never), /^readRecords: bytes must be a Uint8Array/);
  assertThrowsMatch(() => encodeRecord([1] as never), /^encodeRecord: data must be a Uint8Array/);
});

/** Reads all records; returns them, or the error. */
function tryRead(bytes: Uint8Array): Uint8Array[] | Error {
  try {
    return [...readRecords(bytes, "test.tfrecord")];
  } catch (error) {
    return error as Error;
  }
}

Deno.test("every single-byte flip of a small file is an error naming record and offset", () => {
  const bytes = encodeRecords(RECORDS);
  const starts: number[] = [];
  for (let pos = 0, i = 0; i < RECORDS.length; i++) {
    starts.push(pos);
    pos += 16 + RECORDS[i].length;
  }
  for (let i = 0; i < bytes.length; i++) {
    for (const mask of [0x01, 0x80, 0xff]) {
      const bad = bytes.slice();
      bad[i] ^= mask;
      const result = tryRead(bad);
      if (!(result instanceof TFRecordError)) {
        throw new Error(`flipping byte ${i} with ${mask} was not detected`);
      }
      const record = starts.findLastIndex((s) => s <= i);
      assertEquals(result.record, record);
      assertEquals(result.offset, starts[record]);
      assertEquals(
        new RegExp(
          `^tfrecord: test\\.tfrecord: record ${record} at byte ${starts[record]}: ` +
            `(length|data) checksum mismatch`,
        ).test(result.message),
        true,
        result.message,
      );
    }
  }
});

Deno.test("every truncation is an error, except at a record boundary (a prefix of the records)", () => {
  const bytes = encodeRecords(RECORDS);
  const boundaries = new Map<number, number>([[0, 0]]);
  for (let pos = 0, i = 0; i < RECORDS.length; i++) {
    pos += 16 + RECORDS[i].length;
    boundaries.set(pos, i + 1);
  }
  for (let n = 0; n < bytes.length; n++) {
    const result = tryRead(bytes.slice(0, n));
    if (boundaries.has(n)) {
      if (result instanceof Error) throw result;
      assertEquals(
        result.map((r) => [...r]),
        RECORDS.slice(0, boundaries.get(n)).map((r) => [...r]),
      );
    } else {
      if (!(result instanceof TFRecordError)) throw new Error(`truncation to ${n} bytes was read`);
      assertEquals(/: truncated: the (header|data|data checksum) needs/.test(result.message), true);
    }
  }
});

Deno.test("the file reader names the file in its errors", () => {
  const path = Deno.makeTempFileSync({ suffix: ".tfrecord" });
  try {
    const bytes = encodeRecords(RECORDS);
    bytes[bytes.length - 1] ^= 1;
    Deno.writeFileSync(path, bytes);
    assertThrowsMatch(
      () => [...readRecordFile(path)],
      new RegExp(`^tfrecord: ${path.replaceAll(".", "\\.")}: record 3 at byte \\d+: data checksum`),
    );
  } finally {
    Deno.removeSync(path);
  }
});
