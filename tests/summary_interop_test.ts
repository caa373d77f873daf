/**
 * TensorBoard and TensorFlow read the event files we write: tests/interop/read_events.py
 * reads a logdir with TensorBoard's data provider (what its dashboards use) and with
 * TensorFlow's summary_iterator and TFRecordDataset, and prints what they saw.
 */
import * as tf from "../mod.ts";
import { runPython } from "./python_env.ts";
import { histogramBuckets } from "../src/summary/buckets.ts";
import { assertEquals } from "./helpers.ts";
import { randomValues } from "./helpers.ts";

interface Seen {
  files: string[];
  summary_iterator: {
    step: number;
    wall_time: number;
    file_version?: string;
    tags?: string[];
    plugins?: string[];
  }[];
  tfrecord_count: number;
  plugins: string[];
  scalars: Record<string, [number, number][]>;
  histograms: Record<string, [number, number[][]][]>;
  text: Record<string, [number, number[], string[]][]>;
  images: Record<string, [number, string, string, [number[], number[]][]][]>;
  reference_buckets: Record<string, number[][]>;
}

const rows = (b: Float64Array) =>
  Array.from({ length: b.length / 3 }, (_, i) => [...b.slice(3 * i, 3 * i + 3)]);

Deno.test("TensorBoard and TensorFlow read our scalars, histograms, images and text", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "summary_interop_" });
  try {
    const histData: Record<string, number[]> = {
      "weights/normal": randomValues(1000, 7, -3, 3).map((x) => x * x * Math.sign(x)),
      "weights/ints": [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89],
      "weights/single": [2.5, 2.5, 2.5],
      "weights/empty": [],
    };
    const rgb = Uint8Array.from({ length: 2 * 4 * 5 * 3 }, (_, i) => (i * 37 + 11) & 0xff);
    const gray = tf.constant(randomValues(3 * 6 * 1, 3, -0.2, 1.2), "float32").reshape([
      1,
      3,
      6,
      1,
    ]);
    const rgba = Uint8Array.from({ length: 2 * 2 * 4 }, (_, i) => (i * 53) & 0xff);

    const writer = tf.summary.createSummaryFileWriter(dir, { maxQueue: 4 });
    const loss = new tf.metrics.Mean("metrics/loss");
    writer.asDefault(() =>
      tf.summary.alwaysRecordSummaries(() => {
        for (let step = 0; step < 5; step++) {
          tf.summary.scalar("loss", 1 / (step + 1), { step });
          loss.update([step, step + 1]);
          tf.summary.scalar("metrics/loss", loss.result({ writeSummary: false }), { step });
        }
        for (const [tag, values] of Object.entries(histData)) {
          tf.summary.histogram(tag, tf.constant(values, "float64"), { step: 7 });
        }
        tf.summary.image("rgb", tf.constant(rgb, "uint8").reshape([2, 4, 5, 3]), { step: 8 });
        tf.summary.image("gray", gray, { step: 8 });
        tf.summary.image("rgba", tf.constant(rgba, "uint8").reshape([1, 2, 2, 4]), { step: 9 });
        tf.summary.text("notes", "# Title\nsome *markdown* ü", { step: 10 });
        tf.summary.text("table", [["a", "b"], ["c", "d"]], { step: 11 });
      })
    );
    writer.close();

    const dataFile = `${dir}/../${dir.split("/").pop()}_hist.json`;
    Deno.writeTextFileSync(dataFile, JSON.stringify(histData));
    let seen: Seen;
    try {
      seen = JSON.parse(await runPython("read_events.py", [dir, dataFile]));
    } finally {
      Deno.removeSync(dataFile);
    }

    // TensorFlow's readers: the framing, the header, every event's step and tag.
    assertEquals(seen.files, [writer.path.split("/").pop()]);
    const events = seen.summary_iterator;
    assertEquals(events[0].file_version, "brain.Event:2");
    assertEquals(seen.tfrecord_count, events.length);
    assertEquals(events.length, 1 + 10 + 4 + 3 + 2);
    assertEquals(events.slice(1, 3).map((e) => [e.step, e.tags, e.plugins]), [
      [0, ["loss"], ["scalars"]],
      [0, ["metrics/loss"], ["scalars"]],
    ]);

    // TensorBoard's data provider, as its dashboards read it.
    for (const plugin of ["scalars", "histograms", "images", "text"]) {
      assertEquals(seen.plugins.includes(plugin), true, `plugin ${plugin} not listed`);
    }
    assertEquals(seen.scalars.loss, [0, 1, 2, 3, 4].map((s) => [s, Math.fround(1 / (s + 1))]));
    assertEquals(seen.scalars["metrics/loss"], [0, 1, 2, 3, 4].map((s) => [s, (s + 1) / 2]));

    for (const [tag, values] of Object.entries(histData)) {
      const ours = rows(histogramBuckets(values, 30));
      assertEquals(seen.histograms[tag], [[7, ours]], tag);
      // Our bucketing against TensorBoard's own (tf.summary.histogram's _buckets).
      const theirs = seen.reference_buckets[tag];
      assertEquals(theirs.length, ours.length, tag);
      theirs.forEach((row, i) => {
        assertEquals(row[2], ours[i][2], `${tag} bucket ${i} count`);
        for (const j of [0, 1]) {
          const ok = Math.abs(row[j] - ours[i][j]) <= 1e-12 * Math.max(1, Math.abs(row[j]));
          assertEquals(ok, true, `${tag} bucket ${i} edge ${j}: ${ours[i][j]} vs ${row[j]}`);
        }
      });
    }

    const grayPixels = [...(gray.dataSync() as Float32Array)].map((v) =>
      Math.trunc(Math.min(Math.max(v * 255.5, 0), 255))
    );
    assertEquals(seen.images.rgb, [[8, "5", "4", [
      [[4, 5, 3], [...rgb.subarray(0, 60)]],
      [[4, 5, 3], [...rgb.subarray(60)]],
    ]]]);
    assertEquals(seen.images.gray, [[8, "6", "3", [[[3, 6, 1], grayPixels]]]]);
    assertEquals(seen.images.rgba, [[9, "2", "2", [[[2, 2, 4], [...rgba]]]]]);

    assertEquals(seen.text.notes, [[10, [], ["# Title\nsome *markdown* ü"]]]);
    assertEquals(seen.text.table, [[11, [2, 2], ["a", "b", "c", "d"]]]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
