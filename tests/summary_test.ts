import * as tf from "../mod.ts";
import { inflateSync } from "node:zlib";
import { readEventFile } from "../src/summary/event_reader.ts";
import { DataType, type EventProto, type SummaryValue } from "../src/summary/protos.ts";
import { histogramBuckets } from "../src/summary/buckets.ts";
import { crc32, encodePng } from "../src/summary/png.ts";
import { TO_TENSOR } from "../src/tensor.ts";
import { assertEquals, assertThrowsMatch } from "./helpers.ts";

const decoder = new TextDecoder();

/** A fresh logdir; removed after fn. */
async function withLogdir(fn: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = Deno.makeTempDirSync({ prefix: "summary_test_" });
  try {
    await fn(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/** The summary values of a file after its header: [step, value]. */
function values(path: string): [number, SummaryValue][] {
  const events = readEventFile(path);
  assertEquals(events[0].fileVersion, "brain.Event:2");
  return events.slice(1).map((e: EventProto) => {
    assertEquals(e.summary?.length, 1);
    return [Number(e.step), e.summary![0]];
  });
}

/** Runs fn with `writer` default and recording on. */
function recording<T>(writer: tf.summary.SummaryWriter, fn: () => T): T {
  return writer.asDefault(() => tf.summary.alwaysRecordSummaries(fn));
}

Deno.test("the writer creates the logdir and a named event file starting with the header", async () => {
  await withLogdir((dir) => {
    const before = Date.now() / 1000;
    const writer = tf.summary.createSummaryFileWriter(`${dir}/a/b`, { filenameSuffix: ".v2" });
    const name = writer.path.split("/").pop()!;
    const match = /^events\.out\.tfevents\.(\d{10})\.(.+)\.(\d+)\.(\d+)\.v2$/.exec(name);
    if (!match) throw new Error(`unexpected file name ${name}`);
    assertEquals(match[2], Deno.hostname());
    assertEquals(Number(match[3]), Deno.pid);
    assertEquals(Math.abs(Number(match[1]) - before) <= 2, true);
    // The header is on disk at once.
    const [header] = readEventFile(writer.path);
    assertEquals(header.fileVersion, "brain.Event:2");
    assertEquals(Math.abs(header.wallTime - before) < 5, true);
    // Two writers in the same directory and second get different files.
    const other = tf.summary.createSummaryFileWriter(`${dir}/a/b`);
    assertEquals(other.path !== writer.path, true);
    writer.close();
    other.close();
  });
});

Deno.test("scalar, histogram, image and text write TensorBoard 2's tensor forms", async () => {
  await withLogdir((dir) => {
    const writer = tf.summary.createSummaryFileWriter(dir);
    const wrote = recording(writer, () => [
      tf.summary.scalar("loss", 0.25, { step: 3 }),
      tf.summary.scalar("acc", tf.constant([[0.5]]), { step: 4n }),
      tf.summary.histogram("w", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { step: 5, buckets: 5 }),
      tf.summary.image("img", tf.zeros([2, 3, 4, 3], "uint8"), { step: 6, maxImages: 1 }),
      tf.summary.text("notes", "**hello**", { step: tf.constant(7, "int64") }),
      tf.summary.text("table", [["a", "b"], ["c", "ü"]], { step: 8 }),
    ]);
    assertEquals(wrote, [true, true, true, true, true, true]);
    writer.close();
    const got = values(writer.path);
    assertEquals(got.map(([step, v]) => [step, v.tag, v.pluginName]), [
      [3, "loss", "scalars"],
      [4, "acc", "scalars"],
      [5, "w", "histograms"],
      [6, "img", "images"],
      [7, "notes", "text"],
      [8, "table", "text"],
    ]);
    assertEquals(got[0][1].tensor, { dtype: DataType.FLOAT, shape: [], values: [0.25] });
    assertEquals(got[1][1].tensor, { dtype: DataType.FLOAT, shape: [], values: [0.5] });
    assertEquals(got[2][1].tensor, {
      dtype: DataType.DOUBLE,
      shape: [5, 3],
      values: [0, 2, 2, 2, 4, 2, 4, 6, 2, 6, 8, 2, 8, 10, 3],
    });
    const img = got[3][1].tensor;
    assertEquals([img.dtype, img.shape], [DataType.STRING, [3]]);
    const strings = img.values as Uint8Array[];
    assertEquals([decoder.decode(strings[0]), decoder.decode(strings[1])], ["4", "3"]);
    assertEquals([...strings[2].subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
    const notes = got[4][1].tensor;
    assertEquals([notes.shape, (notes.values as Uint8Array[]).map((b) => decoder.decode(b))], [
      [],
      ["**hello**"],
    ]);
    const table = got[5][1].tensor;
    assertEquals([table.shape, (table.values as Uint8Array[]).map((b) => decoder.decode(b))], [
      [2, 2],
      ["a", "b", "c", "ü"],
    ]);
  });
});

Deno.test("without a writer and a policy, summaries do nothing and convert nothing", async () => {
  let conversions = 0;
  const spy = {
    [TO_TENSOR]() {
      conversions++;
      return tf.constant(1);
    },
  };
  const all = () => [
    tf.summary.scalar("s", spy),
    tf.summary.histogram("h", spy),
    tf.summary.image("i", spy),
    tf.summary.text("t", "x"),
    tf.summary.scalar("bad step", spy, { step: NaN }),
  ];
  assertEquals(all(), [false, false, false, false, false]);
  assertEquals(tf.summary.alwaysRecordSummaries(all), [false, false, false, false, false]);
  await withLogdir((dir) => {
    const writer = tf.summary.createSummaryFileWriter(dir);
    assertEquals(writer.asDefault(all), [false, false, false, false, false]);
    assertEquals(
      writer.asDefault(() => tf.summary.neverRecordSummaries(all)),
      [false, false, false, false, false],
    );
    // never inside always, and always again inside never: the innermost policy wins.
    const nested = recording(writer, () =>
      tf.summary.neverRecordSummaries(() => [
        tf.summary.shouldRecordSummaries(),
        tf.summary.alwaysRecordSummaries(() => tf.summary.shouldRecordSummaries()),
      ]));
    assertEquals(nested, [false, true]);
    assertEquals(tf.summary.shouldRecordSummaries(), false);
    writer.close();
    assertEquals(readEventFile(writer.path).length, 1);
  });
  assertEquals(conversions, 0);
  // The name is checked even when nothing is recorded.
  assertThrowsMatch(() => tf.summary.scalar(3 as never, 1), /^scalar: name must be a non-empty/);
});

Deno.test("recordSummariesEveryNGlobalSteps records when the step is a multiple of n", async () => {
  tf.train.resetGlobalStep();
  await withLogdir((dir) => {
    const writer = tf.summary.createSummaryFileWriter(dir);
    const step = tf.train.getOrCreateGlobalStep();
    writer.asDefault(() =>
      tf.summary.recordSummariesEveryNGlobalSteps(3, () => {
        for (let i = 0; i < 10; i++) {
          tf.summary.scalar("global", i); // step defaults to the global step
          step.assignAdd(1);
        }
      })
    );
    // An explicit step variable is counted, and is the default step.
    const mine = new tf.Variable(10, { dtype: "int32", trainable: false, name: "my_step" });
    writer.asDefault(() =>
      tf.summary.recordSummariesEveryNGlobalSteps(4, () => {
        for (let i = 0; i < 6; i++) {
          tf.summary.scalar("mine", i);
          mine.assignAdd(1);
        }
      }, { globalStep: mine })
    );
    writer.close();
    assertEquals(values(writer.path).map(([s, v]) => [v.tag, s, v.tensor.values[0]]), [
      ["global", 0, 0],
      ["global", 3, 3],
      ["global", 6, 6],
      ["global", 9, 9],
      ["mine", 12, 2],
    ]);
  });
  tf.train.resetGlobalStep();
});

Deno.test("the default step is the global step's value, else 0", async () => {
  tf.train.resetGlobalStep();
  await withLogdir((dir) => {
    const writer = tf.summary.createSummaryFileWriter(dir);
    recording(writer, () => {
      tf.summary.scalar("a", 1);
      tf.train.getOrCreateGlobalStep().assign(tf.constant(42n, "int64"));
      tf.summary.scalar("b", 2);
      tf.summary.scalar("c", 3, { step: 7 });
    });
    writer.close();
    assertEquals(values(writer.path).map(([s]) => s), [0, 42, 7]);
  });
  tf.train.resetGlobalStep();
});

Deno.test("events are queued until maxQueue are pending, flush() or close()", async () => {
  await withLogdir((dir) => {
    const writer = tf.summary.createSummaryFileWriter(dir, { maxQueue: 3 });
    const count = () => readEventFile(writer.path).length - 1;
    recording(writer, () => {
      tf.summary.scalar("x", 1, { step: 1 });
      tf.summary.scalar("x", 2, { step: 2 });
      assertEquals(count(), 0);
      tf.summary.scalar("x", 3, { step: 3 }); // the third pending event writes the queue
      assertEquals(count(), 3);
      tf.summary.scalar("x", 4, { step: 4 });
      assertEquals(count(), 3);
      writer.flush();
      assertEquals(count(), 4);
      tf.summary.scalar("x", 5, { step: 5 });
    });
    writer.close();
    assertEquals(count(), 5);
    writer.close(); // twice is harmless
    assertThrowsMatch(
      () => writer.asDefault(() => 1),
      /^asDefault: the summary writer of .* closed/,
    );
  });
});

Deno.test("writing to a closed writer is an error naming the op", async () => {
  await withLogdir((dir) => {
    const writer = tf.summary.createSummaryFileWriter(dir);
    recording(writer, () => {
      writer.close();
      assertThrowsMatch(
        () => tf.summary.scalar("x", 1),
        /^scalar: the summary writer of .* closed/,
      );
    });
  });
});

Deno.test("flushMillis: an event arriving after it writes at once; a timer writes the rest", async () => {
  await withLogdir(async (dir) => {
    const now = tf.summary.createSummaryFileWriter(dir, { flushMillis: 0 });
    recording(now, () => tf.summary.scalar("x", 1));
    assertEquals(readEventFile(now.path).length, 2);
    now.close();
    const timed = tf.summary.createSummaryFileWriter(dir, { flushMillis: 50 });
    recording(timed, () => tf.summary.scalar("x", 1));
    assertEquals(readEventFile(timed.path).length, 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assertEquals(readEventFile(timed.path).length, 2);
    // A synchronous loop that outlasts flushMillis writes without the event loop turning.
    recording(timed, () => {
      tf.summary.scalar("y", 1);
      const until = Date.now() + 80;
      while (Date.now() < until) { /* busy: no timer can run */ }
      tf.summary.scalar("y", 2);
    });
    assertEquals(readEventFile(timed.path).length, 4);
    timed.close();
  });
});

Deno.test("pending events are written when the process exits or crashes without close()", async () => {
  for (const ending of ["", "throw new Error('crash');"]) {
    await withLogdir(async (dir) => {
      const script = `
        import * as tf from "${new URL("../mod.ts", import.meta.url).href}";
        const writer = tf.summary.createSummaryFileWriter(${JSON.stringify(dir)});
        writer.asDefault(() => tf.summary.alwaysRecordSummaries(() => {
          for (let i = 0; i < 3; i++) tf.summary.scalar("x", i, { step: i });
        }));
        console.log(writer.path);
        ${ending}
      `;
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["eval", "--quiet", script],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assertEquals(out.success, ending === "", decoder.decode(out.stderr));
      const path = decoder.decode(out.stdout).trim();
      assertEquals(values(path).map(([s]) => s), [0, 1, 2]);
    });
  }
});

Deno.test("a removed event file is started again with a new name and header", async () => {
  await withLogdir((dir) => {
    const writer = tf.summary.createSummaryFileWriter(dir, { maxQueue: 1 });
    const first = writer.path;
    Deno.removeSync(first);
    recording(writer, () => tf.summary.scalar("x", 1, { step: 1 }));
    writer.close();
    assertEquals(writer.path !== first, true);
    assertEquals(values(writer.path).map(([s]) => s), [1]);
  });
});

Deno.test("histogram buckets follow TensorBoard 2.21's rules", () => {
  const rows = (b: Float64Array) =>
    Array.from({ length: b.length / 3 }, (_, i) => [...b.slice(3 * i, 3 * i + 3)]);
  assertEquals(rows(histogramBuckets([], 3)), [[0, 0, 0], [0, 0, 0], [0, 0, 0]]);
  assertEquals(rows(histogramBuckets([1, 2], 0)), []);
  assertEquals(rows(histogramBuckets([5, 5, 5], 3)), [[5, 5, 0], [5, 5, 0], [5, 5, 3]]);
  assertEquals(rows(histogramBuckets([0, 1, 2, 3], 2)), [[0, 1.5, 2], [1.5, 3, 2]]);
  // Non-finite values are left out.
  assertEquals(rows(histogramBuckets([0, NaN, 4, Infinity], 2)), [[0, 2, 1], [2, 4, 1]]);
  assertEquals(rows(histogramBuckets([NaN], 1)), [[0, 0, 0]]);
  // A range that overflows float64 still counts every value.
  const wide = rows(histogramBuckets([-1e308, 1e308, 0], 2));
  assertEquals(wide.map((r) => r[2]), [1, 2]);
  assertEquals([wide[0][0], wide[1][1]], [-1e308, 1e308]);
  // 30 buckets by default, every value counted.
  const values = Array.from({ length: 1000 }, (_, i) => Math.sin(i));
  const total = rows(histogramBuckets(values, 30)).reduce((n, r) => n + r[2], 0);
  assertEquals(total, 1000);
});

/** Decodes our PNGs (filter 0, 8-bit) checking every chunk's CRC-32. */
function decodePng(
  png: Uint8Array,
): { width: number; height: number; channels: number; pixels: Uint8Array } {
  assertEquals([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let pos = 8, width = 0, height = 0, channels = 0;
  const idat: number[] = [];
  const types: string[] = [];
  while (pos < png.length) {
    const length = view.getUint32(pos);
    const type = decoder.decode(png.subarray(pos + 4, pos + 8));
    const data = png.subarray(pos + 8, pos + 8 + length);
    assertEquals(view.getUint32(pos + 8 + length), crc32(png.subarray(pos + 4, pos + 8 + length)));
    types.push(type);
    if (type === "IHDR") {
      width = view.getUint32(pos + 8);
      height = view.getUint32(pos + 12);
      channels = { 0: 1, 4: 2, 2: 3, 6: 4 }[data[9]]!;
      assertEquals([data[8], data[10], data[11], data[12]], [8, 0, 0, 0]);
    }
    if (type === "IDAT") idat.push(...data);
    pos += 12 + length;
  }
  assertEquals(types, ["IHDR", "IDAT", "IEND"]);
  const raw = new Uint8Array(inflateSync(new Uint8Array(idat)));
  const row = width * channels;
  const pixels = new Uint8Array(height * row);
  for (let y = 0; y < height; y++) {
    assertEquals(raw[y * (row + 1)], 0);
    pixels.set(raw.subarray(y * (row + 1) + 1, (y + 1) * (row + 1)), y * row);
  }
  return { width, height, channels, pixels };
}

Deno.test("PNGs decode back to their pixels; CRC-32 is the PNG checksum", () => {
  assertEquals(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  for (const channels of [1, 2, 3, 4]) {
    const pixels = Uint8Array.from({ length: 5 * 7 * channels }, (_, i) => (i * 31) & 0xff);
    const png = encodePng(pixels, 5, 7, channels);
    assertEquals(decodePng(png), { width: 7, height: 5, channels, pixels });
  }
  assertThrowsMatch(() => encodePng(new Uint8Array(3), 1, 1, 5), /^encodePng: channels/);
  assertThrowsMatch(() => encodePng(new Uint8Array(3), 1, 2, 1), /^encodePng: 3 bytes/);
});

Deno.test("image summaries: float pixels map as convert_image_dtype, maxImages caps the batch", async () => {
  await withLogdir((dir) => {
    const writer = tf.summary.createSummaryFileWriter(dir);
    const floats = tf.constant([0, 0.5, 1, -0.1, 2, NaN, 0.999, 0.002], "float32").reshape([
      2,
      2,
      2,
      1,
    ]);
    recording(writer, () => {
      tf.summary.image("f", floats, { step: 1 });
      tf.summary.image("cap", tf.zeros([5, 1, 1, 3], "uint8"), { step: 2 });
      tf.summary.image("none", tf.zeros([0, 2, 2, 1], "uint8"), { step: 3 });
    });
    writer.close();
    const [[, f], [, cap], [, none]] = values(writer.path);
    const pngs = (f.tensor.values as Uint8Array[]).slice(2).map(decodePng);
    assertEquals(pngs.map((p) => [...p.pixels]), [[0, 127, 255, 0], [255, 0, 255, 0]]);
    assertEquals(cap.tensor.shape, [5]); // width, height and the default 3 images
    assertEquals(none.tensor.shape, [2]);
  });
});

Deno.test("bad summary arguments are errors naming the op", async () => {
  assertThrowsMatch(
    () => tf.summary.createSummaryFileWriter(""),
    /^createSummaryFileWriter: logdir/,
  );
  assertThrowsMatch(
    () => tf.summary.createSummaryFileWriter("/tmp/x", { maxQueue: -1 }),
    /^createSummaryFileWriter: maxQueue/,
  );
  assertThrowsMatch(
    () => tf.summary.createSummaryFileWriter("/tmp/x", { flushMillis: NaN }),
    /^createSummaryFileWriter: flushMillis/,
  );
  assertThrowsMatch(
    () => tf.summary.createSummaryFileWriter("/proc/forbidden/dir"),
    /^createSummaryFileWriter: cannot write in \/proc\/forbidden\/dir/,
  );
  assertThrowsMatch(
    () => tf.summary.recordSummariesEveryNGlobalSteps(0, () => 1),
    /^recordSummariesEveryNGlobalSteps: n must be a positive integer/,
  );
  assertThrowsMatch(
    () => tf.summary.recordSummariesEveryNGlobalSteps(2, () => 1, { globalStep: 3 as never }),
    /^recordSummariesEveryNGlobalSteps: globalStep must be a Variable/,
  );
  assertThrowsMatch(() => tf.summary.alwaysRecordSummaries(3 as never), /^alwaysRecordSummaries: /);
  await withLogdir((dir) => {
    const writer = tf.summary.createSummaryFileWriter(dir);
    const cases: [() => unknown, RegExp][] = [
      [() => tf.summary.scalar("x", [1, 2]), /^scalar: value must have one element/],
      [() => tf.summary.scalar("x", "a" as never), /^scalar: cannot convert/],
      [() => tf.summary.scalar("x", 1, { step: 1.5 }), /^scalar: step must be an integer/],
      [
        () => tf.summary.scalar("x", 1, { step: tf.constant(1.5) }),
        /^scalar: step must be an integer scalar/,
      ],
      [() => tf.summary.scalar("x", 1, null as never), /^scalar: options must be an object/],
      [() => tf.summary.histogram("x", [1], { buckets: -1 }), /^histogram: buckets/],
      [() => tf.summary.image("x", tf.zeros([2, 2, 2])), /^image: images must have shape/],
      [() => tf.summary.image("x", tf.zeros([1, 2, 2, 5])), /^image: images must have shape/],
      [
        () => tf.summary.image("x", tf.zeros([1, 2, 2, 1], "int32")),
        /^image: images must be uint8/,
      ],
      [() => tf.summary.image("x", tf.zeros([1, 1, 1, 1]), { maxImages: 0 }), /^image: maxImages/],
      [() => tf.summary.text("x", 3 as never), /^text: data must be a string/],
      [
        () => tf.summary.text("x", [["a"], ["b", "c"]]),
        /^text: the nested arrays are not rectangular/,
      ],
      [() => tf.summary.text("x", [1] as never), /^text: every element must be a string/],
    ];
    recording(writer, () => {
      for (const [fn, pattern] of cases) assertThrowsMatch(fn, pattern);
    });
    writer.close();
    assertEquals(readEventFile(writer.path).length, 1);
  });
});

Deno.test("every byte flip and truncation of an event file is a clear error (or a prefix)", async () => {
  await withLogdir((dir) => {
    const writer = tf.summary.createSummaryFileWriter(dir);
    recording(writer, () => {
      tf.summary.scalar("loss", 0.5, { step: 1 });
      tf.summary.histogram("w", [1, 2, 3], { step: 2, buckets: 2 });
      tf.summary.text("t", "hi", { step: 3 });
    });
    writer.close();
    const good = Deno.readFileSync(writer.path);
    const expected = readEventFile(writer.path);
    const bad = `${dir}/events.out.tfevents.corrupt`;
    const check = (bytes: Uint8Array, what: string) => {
      Deno.writeFileSync(bad, bytes);
      try {
        const events = readEventFile(bad);
        // Only a cut between records reads: a prefix of the events, never other values.
        assertEquals(events, expected.slice(0, events.length), what);
        if (events.length === expected.length) throw new Error(`${what} was not noticed`);
      } catch (error) {
        const message = (error as Error).message;
        if (!/^readEventFile: tfrecord: .*corrupt: record \d+ at byte \d+: /.test(message)) {
          throw new Error(`${what}: unclear error "${message}"`);
        }
      }
    };
    for (let i = 0; i < good.length; i++) {
      const flipped = good.slice();
      flipped[i] ^= 0x10;
      check(flipped, `flipping byte ${i}`);
    }
    for (let n = 0; n < good.length; n++) check(good.slice(0, n), `truncating to ${n} bytes`);
  });
});
