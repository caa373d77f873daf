/**
 * tf.io's file formats when damaged: every byte flip and every truncation of small
 * TFRecord (raw and GZIP), IDX (raw and gzip), .npy and .npz files gives a clear error
 * naming the file and the offset, or, where the bytes carry no checksum (array data),
 * exactly what the damaged file holds. The process never crashes.
 */
import zlib from "node:zlib";
import * as tf from "../mod.ts";
import { assertEquals, assertThrowsMatch } from "./helpers.ts";

const text = new TextEncoder();
const RECORDS = [text.encode("hello"), new Uint8Array(0), text.encode("a longer record of bytes")];

function withDir(fn: (dir: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const dir = Deno.makeTempDirSync({ prefix: "io_files_" });
    try {
      await fn(dir);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  };
}

/** Runs fn, returning its result or the error's message. */
function attempt<T>(fn: () => T): { value?: T; error?: string } {
  try {
    return { value: fn() };
  } catch (error) {
    if (!(error instanceof Error)) throw new Error(`a non-Error was thrown: ${String(error)}`);
    return { error: error.message };
  }
}

const same = (a: Uint8Array[], b: Uint8Array[]) =>
  a.length === b.length &&
  a.every((r, i) => r.length === b[i].length && r.every((x, j) => x === b[i][j]));

Deno.test(
  "TFRecord: every byte flip is a checksum error naming the file, record and offset",
  withDir((dir) => {
    const path = `${dir}/r.tfrecord`;
    const w = new tf.io.TFRecordWriter(path);
    RECORDS.forEach((r) => w.write(r));
    w.close();
    const good = Deno.readFileSync(path);
    const starts = [0];
    for (const r of RECORDS) starts.push(starts[starts.length - 1] + 16 + r.length);
    for (let i = 0; i < good.length; i++) {
      for (const mask of [0xff, 0x01]) {
        const bad = good.slice();
        bad[i] ^= mask;
        Deno.writeFileSync(path, bad);
        const record = starts.findIndex((s, k) => i >= s && i < starts[k + 1]);
        const r = attempt(() => [...new tf.data.TFRecordDataset(path, { bufferSize: 7 })]);
        const want = new RegExp(
          `^tfrecord: ${path}: record ${record} at byte ${
            starts[record]
          }: (length|data) checksum mismatch`,
        );
        if (!r.error || !want.test(r.error)) {
          throw new Error(
            `flip ${mask} at byte ${i}: got ${r.error ?? "no error"}, wanted ${want}`,
          );
        }
      }
    }
  }),
);

Deno.test(
  "TFRecord: every truncation is an error naming the file and offset, or a shorter file at a record boundary",
  withDir(async (dir) => {
    const path = `${dir}/r.tfrecord`;
    const good = (() => {
      const w = new tf.io.TFRecordWriter(path);
      RECORDS.forEach((r) => w.write(r));
      w.close();
      return Deno.readFileSync(path);
    })();
    const starts = [0];
    for (const r of RECORDS) starts.push(starts[starts.length - 1] + 16 + r.length);
    for (let n = 0; n < good.length; n++) {
      Deno.writeFileSync(path, good.subarray(0, n));
      const ds = new tf.data.TFRecordDataset(path, { bufferSize: 5 });
      const r = attempt(() => [...ds]);
      const boundary = starts.indexOf(n);
      if (boundary >= 0) {
        if (!r.value || !same(r.value, RECORDS.slice(0, boundary))) {
          throw new Error(`cut at ${n}: ${r.error}`);
        }
        continue;
      }
      const record = starts.findIndex((s, k) => n > s && n < starts[k + 1]);
      const want = new RegExp(
        `^tfrecord: ${path}: record ${record} at byte ${starts[record]}: truncated`,
      );
      if (!r.error || !want.test(r.error)) {
        throw new Error(`cut at ${n}: got ${r.error}, wanted ${want}`);
      }
      let asyncError = "";
      try {
        await ds.toArrayAsync();
      } catch (error) {
        asyncError = (error as Error).message;
      }
      assertEquals(asyncError, r.error);
    }
  }),
);

Deno.test(
  "GZIP TFRecord: flips and truncations are errors naming the file, or the same records",
  withDir((dir) => {
    const path = `${dir}/r.tfrecord.gz`;
    const w = new tf.io.TFRecordWriter(path, { compressionType: "GZIP" });
    RECORDS.forEach((r) => w.write(r));
    w.close();
    const good = Deno.readFileSync(path);
    const read =
      () => [...new tf.data.TFRecordDataset(path, { compressionType: "GZIP", bufferSize: 6 })];
    const pattern = new RegExp(
      `^(TFRecordDataset: ${path}: GZIP data is corrupt or truncated at compressed byte \\d+|` +
        `tfrecord: ${path} \\(GZIP; offsets uncompressed\\): record \\d at byte \\d+)`,
    );
    let unchanged = 0;
    for (let i = 0; i < good.length; i++) {
      const bad = good.slice();
      bad[i] ^= 0xff;
      Deno.writeFileSync(path, bad);
      const r = attempt(read);
      if (r.value && same(r.value, RECORDS)) unchanged++;
      else if (!r.error || !pattern.test(r.error)) {
        throw new Error(`flip at ${i}: ${r.error ?? "wrong records"}`);
      }
    }
    // Only the gzip header's time, flags and OS bytes are not covered by a check.
    if (unchanged > 6) throw new Error(`${unchanged} flips went unnoticed`);
    for (let n = 0; n < good.length; n++) {
      Deno.writeFileSync(path, good.subarray(0, n));
      const r = attempt(read);
      if (n === 0 ? !(r.value?.length === 0) : !r.error || !pattern.test(r.error)) {
        throw new Error(`cut at ${n}: ${r.error ?? "no error"}`);
      }
    }
  }),
);

/** An IDX file: header then big-endian data. */
function idxFile(type: number, shape: number[], values: number[]): Uint8Array {
  const size = { 0x08: 1, 0x09: 1, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 }[type]!;
  const out = new Uint8Array(4 + 4 * shape.length + size * values.length);
  const view = new DataView(out.buffer);
  out.set([0, 0, type, shape.length]);
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  const start = 4 + 4 * shape.length;
  values.forEach((v, i) => {
    const at = start + i * size;
    if (type === 0x08) view.setUint8(at, v);
    else if (type === 0x09) view.setInt8(at, v);
    else if (type === 0x0b) view.setInt16(at, v);
    else if (type === 0x0c) view.setInt32(at, v);
    else if (type === 0x0d) view.setFloat32(at, v);
    else view.setFloat64(at, v);
  });
  return out;
}

Deno.test(
  "IDX: every type, gzip or raw, and the real Fashion-MNIST files",
  withDir((dir) => {
    const cases: [number, tf.DType, number[]][] = [
      [0x08, "uint8", [0, 7, 255, 3, 4, 5]],
      [0x09, "int32", [-128, 7, 127, 3, -4, 5]],
      [0x0b, "int32", [-30000, 7, 30000, 3, -4, 5]],
      [0x0c, "int32", [-2e9, 7, 2e9, 3, -4, 5]],
      [0x0d, "float32", [1.5, -2.25, 3, 0, 1e10, -0.5]],
      [0x0e, "float64", [Math.PI, -2.25, 3, 0, 1e300, -0.5]],
    ];
    for (const [type, dtype, values] of cases) {
      const t = tf.io.decodeIdx(idxFile(type, [2, 3], values));
      assertEquals([t.dtype, t.shape, Array.from(t.dataSync(), Number)], [dtype, [2, 3], values]);
    }
    Deno.writeFileSync(`${dir}/x.idx.gz`, new Uint8Array(gzip(idxFile(0x08, [3], [1, 2, 3]))));
    assertEquals(Array.from(tf.io.loadIdx(`${dir}/x.idx.gz`).dataSync(), Number), [1, 2, 3]);
    const fashion = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz";
    if (exists(fashion)) {
      const labels = tf.io.loadIdx(fashion);
      assertEquals([labels.dtype, labels.shape], ["uint8", [10000]]);
      assertEquals(Math.max(...labels.dataSync() as Uint8Array), 9);
    }
    assertThrowsMatch(() => tf.io.loadIdx(`${dir}/missing`), /^loadIdx: cannot read .*missing/);
    assertThrowsMatch(
      () => tf.io.decodeIdx([1, 2] as never),
      /^decodeIdx: bytes must be a Uint8Array/,
    );
  }),
);

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function gzip(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(zlib.gzipSync(bytes));
}

Deno.test(
  "IDX: every flip of the header is an error naming the file and offset; data flips read as written",
  withDir((dir) => {
    const good = idxFile(0x0c, [2, 3], [1, -2, 3, 400000, 5, -6]);
    const path = `${dir}/x.idx`;
    for (let i = 0; i < good.length; i++) {
      const bad = good.slice();
      bad[i] ^= 0xff;
      Deno.writeFileSync(path, bad);
      const r = attempt(() => tf.io.loadIdx(path));
      if (i < 12) {
        if (!r.error || !new RegExp(`^loadIdx: ${path}: .* at byte \\d+$`).test(r.error)) {
          throw new Error(`flip at ${i}: ${r.error ?? "no error"}`);
        }
      } else {
        const want = Array.from(
          { length: 6 },
          (_, k) => new DataView(bad.buffer).getInt32(12 + 4 * k),
        );
        assertEquals(Array.from(r.value!.dataSync(), Number), want);
      }
    }
    for (let n = 0; n < good.length; n++) {
      Deno.writeFileSync(path, good.subarray(0, n));
      const r = attempt(() => tf.io.loadIdx(path));
      if (!r.error || !new RegExp(`^loadIdx: ${path}: .*truncated.* at byte ${n}$`).test(r.error)) {
        throw new Error(`cut at ${n}: ${r.error ?? "no error"}`);
      }
    }
    const zipped = gzip(good);
    for (let i = 0; i < zipped.length; i++) {
      const bad = zipped.slice();
      bad[i] ^= 0xff;
      Deno.writeFileSync(path, bad);
      const r = attempt(() => tf.io.loadIdx(path));
      if (r.value) {
        assertEquals(Array.from(r.value.dataSync(), Number), [1, -2, 3, 400000, 5, -6]);
      } else if (
        !/^loadIdx: .*x\.idx(: gzip data is corrupt or truncated at compressed byte \d+|( \(gunzipped\))?: .* at byte \d+$)/
          .test(r.error!)
      ) {
        throw new Error(`gzip flip at ${i}: ${r.error}`);
      }
    }
  }),
);

const DTYPE_VALUES: [tf.DType, number[] | bigint[] | boolean[]][] = [
  ["float32", [1.5, -2, 3.25, 0, 1e-3, 7]],
  ["float64", [Math.PI, -2, 1e300, 0, -1e-300, 7]],
  ["int32", [1, -2, 2147483647, 0, -2147483648, 7]],
  ["int64", [1n, -2n, 9007199254740993n, 0n, -(2n ** 63n), 7n]],
  ["uint8", [1, 2, 255, 0, 128, 7]],
  ["bool", [true, false, true, true, false, false]],
];

Deno.test(".npy: every dtype and order round-trips; headers of versions 2.0 and big-endian data read", () => {
  for (const [dtype, values] of DTYPE_VALUES) {
    const x = tf.constant(values as never, dtype).reshape([2, 3]);
    for (const fortranOrder of [false, true]) {
      const bytes = tf.io.encodeNpy(x, { fortranOrder });
      assertEquals(
        bytes.length % 64,
        (6 * (dtype === "bool" || dtype === "uint8" ? 1 : dtype.endsWith("64") ? 8 : 4)) % 64,
      );
      const y = tf.io.decodeNpy(bytes);
      assertEquals([y.dtype, y.shape, y.numpy()], [dtype, [2, 3], x.numpy()]);
    }
  }
  for (const shape of [[], [0], [1, 0, 2], [2, 1, 2, 1, 2]]) {
    const x = tf.ones(shape, "int32");
    assertEquals(tf.io.decodeNpy(tf.io.encodeNpy(x)).shape, shape);
  }
  const header = (dict: string, major = 1) => {
    const len = major === 1 ? 2 : 4;
    const total = Math.ceil((8 + len + dict.length + 1) / 64) * 64;
    const h = dict.padEnd(total - 8 - len - 1) + "\n";
    const out = new Uint8Array(total);
    out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
    if (major === 1) new DataView(out.buffer).setUint16(8, h.length, true);
    else new DataView(out.buffer).setUint32(8, h.length, true);
    out.set(text.encode(h), 8 + len);
    return out;
  };
  const be = new Uint8Array([
    ...header("{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }", 2),
    0,
    0,
    1,
    2,
    0xff,
    0xff,
    0xff,
    0xfe,
  ]);
  assertEquals(Array.from(tf.io.decodeNpy(be).dataSync(), Number), [258, -2]);
  const loose = new Uint8Array([
    ...header('{"shape": (1L, 2), "fortran_order": True, "descr": "|b1"}'),
    0,
    5,
  ]);
  assertEquals(tf.io.decodeNpy(loose).numpy(), [[false, true]]);
  assertThrowsMatch(
    () =>
      tf.io.decodeNpy(
        new Uint8Array([
          ...header("{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }"),
          0,
          0,
        ]),
        "half.npy",
      ),
    /^decodeNpy: half\.npy: header: dtype '<f2' is not supported \(supported: <f4, <f8, <i4, <i8, \|u1, \|b1\) at byte 10$/,
  );
  assertThrowsMatch(() => tf.io.encodeNpy("x" as never), /^encodeNpy: /);
  assertThrowsMatch(() => tf.io.loadNpy(""), /^loadNpy: path must be a non-empty string/);
});

Deno.test(
  ".npy: header flips and truncations are errors naming the file and offset; data flips read as written",
  withDir((dir) => {
    for (const [dtype, values] of DTYPE_VALUES) {
      const x = tf.constant(values as never, dtype).reshape([3, 2]);
      const good = tf.io.encodeNpy(x);
      const dataStart = good.length -
        x.size * (dtype === "bool" || dtype === "uint8" ? 1 : dtype.endsWith("64") ? 8 : 4);
      const path = `${dir}/x.npy`;
      for (let i = 0; i < good.length; i++) {
        const bad = good.slice();
        bad[i] ^= 0xff;
        Deno.writeFileSync(path, bad);
        const r = attempt(() => tf.io.loadNpy(path));
        if (i < dataStart) {
          if (!r.error || !new RegExp(`^loadNpy: ${path}: .* at byte \\d+$`).test(r.error)) {
            throw new Error(`${dtype}: flip at ${i}: ${r.error ?? "no error"}`);
          }
          continue;
        }
        const want = tf.io.decodeNpy(bad).dataSync();
        const got = r.value!.dataSync();
        const raw = (a: ArrayBufferView) =>
          Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
        if (dtype === "bool") assertEquals(got[i - dataStart], 1); // a flipped byte is non-zero
        else assertEquals(raw(got), raw(new Uint8Array(bad.subarray(dataStart))));
        assertEquals(Array.from(got as ArrayLike<unknown>), Array.from(want as ArrayLike<unknown>));
      }
      for (let n = 0; n < good.length; n++) {
        Deno.writeFileSync(path, good.subarray(0, n));
        const r = attempt(() => tf.io.loadNpy(path));
        if (!r.error || !new RegExp(`^loadNpy: ${path}: .* at byte \\d+$`).test(r.error)) {
          throw new Error(`${dtype}: cut at ${n}: ${r.error ?? "no error"}`);
        }
      }
    }
  }),
);

Deno.test(
  ".npz: round trip; flips and truncations are errors naming the file, or the same arrays",
  withDir((dir) => {
    const arrays = {
      a: tf.constant([[1, 2], [3, 4]], "int32"),
      b: tf.constant([true, false]),
      c: tf.ones([]),
    };
    const path = `${dir}/x.npz`;
    tf.io.saveNpz(path, arrays);
    const back = tf.io.loadNpz(path);
    assertEquals(Object.keys(back), ["a", "b", "c"]);
    for (const k of ["a", "b", "c"] as const) assertEquals(back[k].numpy(), arrays[k].numpy());
    const good = Deno.readFileSync(path);
    let unchanged = 0;
    for (let i = 0; i < good.length; i++) {
      const bad = good.slice();
      bad[i] ^= 0xff;
      Deno.writeFileSync(path, bad);
      const r = attempt(() => tf.io.loadNpz(path));
      if (r.value) {
        unchanged++;
        for (const k of ["a", "b", "c"] as const) {
          assertEquals(r.value[k].numpy(), arrays[k].numpy());
        }
      } else if (!new RegExp(`^loadNpz: ${path}: .* at byte \\d+$`).test(r.error!)) {
        throw new Error(`flip at ${i}: ${r.error}`);
      }
    }
    // Fields the reader does not use: versions, flags, dates and the local headers' copies.
    if (unchanged > 3 * 40) {
      throw new Error(`${unchanged} flips went unnoticed`);
    }
    for (let n = 0; n < good.length; n++) {
      Deno.writeFileSync(path, good.subarray(0, n));
      const r = attempt(() => tf.io.loadNpz(path));
      if (!r.error || !new RegExp(`^loadNpz: ${path}: .* at byte \\d+$`).test(r.error)) {
        throw new Error(`cut at ${n}: ${r.error ?? "no error"}`);
      }
    }
    assertThrowsMatch(
      () => tf.io.encodeNpz({ "a/b": tf.ones([1]) }),
      /^encodeNpz: array name "a\/b" must be non-empty/,
    );
    assertThrowsMatch(() => tf.io.encodeNpz([] as never), /^encodeNpz: arrays must be an object/);
  }),
);
