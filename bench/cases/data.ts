/**
 * Input pipelines: records per second reading a TFRecord file of 10,000 MNIST-sized
 * tf.train.Examples (784 floats and an int64 label each, 32 MB) and parsing them, ours
 * (TFRecordDataset, batch 100, tf.io.parseExample; synchronous iteration) beside
 * TensorFlow's tf.data on the same file in the same run (TFRecordDataset, batch 100,
 * map(tf.io.parse_example) with AUTOTUNE parallel calls, prefetch; iterated eagerly,
 * bench/peers/tf_data.py). One call reads the whole file once.
 * @module
 */
import * as tf from "../../mod.ts";
import { interopPython } from "../../tests/python_env.ts";
import { type Case, type Column, MARK, measure, type Result } from "../harness.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const RECORDS = 10_000;
const BATCH = 100;
const FEATURES = {
  image: tf.io.FixedLenFeature([784], "float32"),
  label: tf.io.FixedLenFeature([], "int64"),
};

let file: string | undefined;

/** The shared record file, written once per run (removed when the process ends). */
function recordFile(): string {
  if (file) return file;
  const dir = Deno.makeTempDirSync({ prefix: "bench_tfrecord_" });
  globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
  file = `${dir}/mnist.tfrecord`;
  const w = new tf.io.TFRecordWriter(file);
  const image = new Float32Array(784);
  for (let i = 0; i < RECORDS; i++) {
    for (let j = 0; j < 784; j++) image[j] = ((i * 31 + j * 7) % 256) / 255;
    w.write(
      tf.io.serializeExample({ image: { floatList: image }, label: { int64List: [i % 10] } }),
    );
  }
  w.close();
  return file;
}

/** Reads and parses the whole file once; returns the number of records. */
function readAll(path: string): number {
  const ds = new tf.data.TFRecordDataset(path).batch(BATCH)
    .map((records) => tf.io.parseExample(records, FEATURES));
  let n = 0;
  for (const batch of ds) n += (batch.label as tf.Tensor).size;
  if (n !== RECORDS) throw new Error(`tfrecord_read: read ${n} records, expected ${RECORDS}`);
  return n;
}

async function tfrecordRead(column: Column, budget: number): Promise<Result> {
  const path = recordFile();
  if (column === "ours") {
    return { column, stats: measure({ fn: () => readAll(path), inner: RECORDS }, budget) };
  }
  const args = [`${ROOT}bench/peers/tf_data.py`, path, `${RECORDS}`, `${BATCH}`, `${budget}`];
  const out = await new Deno.Command(await interopPython(), {
    args,
    env: { TF_CPP_MIN_LOG_LEVEL: "3", CUDA_VISIBLE_DEVICES: "" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const line = new TextDecoder().decode(out.stdout).split("\n").find((l) => l.startsWith(MARK));
  if (!out.success || !line) {
    throw new Error(`tf_data.py failed:\n${new TextDecoder().decode(out.stderr).slice(-2000)}`);
  }
  return JSON.parse(line.slice(MARK.length)) as Result;
}

/** The input-pipeline case. */
export const dataCases: Case[] = [
  {
    id: "tfrecord_read",
    label: `TFRecord read + parseExample, ${RECORDS} MNIST-sized Examples, batch ${BATCH}`,
    group: "data",
    kind: "tfrecord_read",
    params: { records: RECORDS, batch: BATCH },
    rate: "records/s",
    processColumns: ["ours", "tensorflow"],
    process: tfrecordRead,
  },
];
