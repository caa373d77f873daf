/**
 * Our record and array files against the real programs: TFRecord files and Examples
 * written by TensorFlow (the committed fixture from tests/fixtures/make_data_fixtures.py,
 * and fresh ones) read correctly; TensorFlow's tf.data.TFRecordDataset and
 * tf.io.parse_single_example read ours; .npy and .npz files round-trip with NumPy for
 * every dtype, C and Fortran order. Python side: tests/interop/data_interop.py.
 */
import * as tf from "../mod.ts";
import { runPython } from "./python_env.ts";
import { assertEquals } from "./helpers.ts";

const FIXTURES = new URL("./fixtures/data/", import.meta.url).pathname;
const COMPRESSIONS = { plain: "", gz: "GZIP", zlib: "ZLIB" } as const;

interface ExampleJson {
  floats: (number | string)[];
  ints: string[];
  bytes: string[];
  label: string[];
}
interface Written {
  examples: ExampleJson[];
  raw: string[];
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
const fnum = (
  v: number | string,
) => (typeof v === "number" ? v : Number(v.replace("inf", "Infinity")));

const SPEC = {
  floats: tf.io.VarLenFeature("float32"),
  ints: tf.io.VarLenFeature("int64"),
  bytes: tf.io.VarLenFeature("string"),
  label: tf.io.FixedLenFeature([], "int64"),
};

/** Reads TensorFlow's files in `dir` with TFRecordDataset + parseExample and compares. */
async function checkTensorFlowFiles(dir: string, written: Written): Promise<void> {
  for (const [suffix, compressionType] of Object.entries(COMPRESSIONS)) {
    const path = `${dir}/examples.${suffix}.tfrecord`;
    const ds = new tf.data.TFRecordDataset(path, { compressionType });
    const rows = [...ds].map((r) => tf.io.parseSingleExample(r, SPEC));
    assertEquals(rows.length, written.examples.length);
    rows.forEach((row, i) => {
      const want = written.examples[i];
      const values = (k: string) => (row[k] as tf.io.SparseTensor).values;
      assertEquals(
        Array.from((values("floats") as tf.Tensor).dataSync(), Number),
        want.floats.map(fnum),
      );
      assertEquals(Array.from((values("ints") as tf.Tensor).dataSync(), String), want.ints);
      assertEquals((values("bytes") as Uint8Array[]).map(hex), want.bytes);
      assertEquals(String((row.label as tf.Tensor).dataSync()[0]), want.label[0]);
    });
    // The batched parse agrees, and async reading too.
    const batch = tf.io.parseExample(await ds.toArrayAsync(), { label: SPEC.label });
    assertEquals(
      Array.from((batch.label as tf.Tensor).dataSync(), String),
      written.examples.map((e) => e.label[0]),
    );
    const raw = [
      ...new tf.data.TFRecordDataset(`${dir}/raw.${suffix}.tfrecord`, { compressionType }),
    ];
    assertEquals(raw.map(hex), written.raw);
  }
}

Deno.test("TFRecord files and Examples written by TensorFlow (committed fixture) read correctly", async () => {
  const written = JSON.parse(Deno.readTextFileSync(`${FIXTURES}tf_records.json`)) as Written;
  await checkTensorFlowFiles(FIXTURES.slice(0, -1), written);
  // The MNIST-sized example through a batched pipeline.
  const ds = new tf.data.TFRecordDataset(`${FIXTURES}examples.plain.tfrecord`).skip(2).batch(1)
    .map((records) =>
      tf.io.parseExample(records, { floats: tf.io.FixedLenFeature([28, 28], "float32") })
    );
  const [image] = [...ds];
  assertEquals((image.floats as tf.Tensor).shape, [1, 28, 28]);
});

Deno.test("TFRecord files and Examples freshly written by TensorFlow read correctly", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "data_interop_tf_" });
  try {
    const written = JSON.parse(
      await runPython("data_interop.py", ["write_records", dir]),
    ) as Written;
    await checkTensorFlowFiles(dir, written);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("TensorFlow reads our TFRecord files (plain, GZIP, ZLIB) and parses our Examples", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "data_interop_ours_" });
  try {
    const rows = Array.from({ length: 5 }, (_, i) => ({
      image: Float32Array.from({ length: 784 }, (_, j) => Math.fround((i * 784 + j) / 1000 - 1)),
      label: BigInt(i) * 1234567890123n - 3n,
      ids: Array.from({ length: i }, (_, k) => k * 10 - 5),
      names: Array.from({ length: i % 3 }, (_, k) => `name ${i}.${k} ✓`),
    }));
    const spec = {
      image: ["fixed", "float32", [28, 28]],
      label: ["fixed", "int64", []],
      ids: ["varlen", "int64", null],
      names: ["varlen", "string", null],
    };
    const records = [new Uint8Array(0), unhex("00ff10"), new Uint8Array(70000).fill(7)];
    const jobs = [];
    for (const [suffix, compressionType] of Object.entries(COMPRESSIONS)) {
      const path = `${dir}/ours.${suffix}.tfrecord`;
      const w = new tf.io.TFRecordWriter(path, { compressionType });
      for (const r of rows) {
        w.write(tf.io.serializeExample({
          image: { floatList: r.image },
          label: { int64List: [r.label] },
          ids: { int64List: r.ids },
          names: { bytesList: r.names },
        }));
      }
      w.close();
      const raw = `${dir}/raw.${suffix}.tfrecord`;
      const rw = new tf.io.TFRecordWriter(raw, { compressionType });
      records.forEach((r) => rw.write(r));
      rw.close();
      jobs.push({ path, compression: compressionType, spec }, {
        path: raw,
        compression: compressionType,
        spec: null,
      });
    }
    const seen = JSON.parse(
      await runPython("data_interop.py", ["read_records", JSON.stringify(jobs)]),
    );
    for (let j = 0; j < jobs.length; j += 2) {
      const examples = seen[j] as Record<string, (number | string)[]>[];
      assertEquals(examples.length, rows.length);
      examples.forEach((s, i) => {
        assertEquals(s.image, Array.from(rows[i].image));
        assertEquals(s.label, [String(rows[i].label)]);
        assertEquals(s.ids, rows[i].ids.map(String));
        assertEquals(s.names, rows[i].names.map((n) => hex(new TextEncoder().encode(n))));
      });
      assertEquals(seen[j + 1], records.map(hex), jobs[j + 1].path);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

interface ArrayJson {
  dtype: string;
  shape: number[];
  fortran: boolean;
  values: (number | string | boolean)[];
}

/** A tensor's values in NumPy's JSON form (int64 as strings, non-finite as strings). */
function valuesJson(t: tf.Tensor): (number | string | boolean)[] {
  const flat = t.dataSync();
  if (t.dtype === "bool") return Array.from(flat as Uint8Array, (v) => v !== 0);
  if (t.dtype === "int64") return Array.from(flat, String);
  return Array.from(flat as Float64Array, (v) => (Number.isFinite(v) ? v : String(v)));
}

Deno.test(".npy and .npz written by NumPy read correctly, every dtype and order", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "npy_interop_np_" });
  try {
    const made = JSON.parse(await runPython("data_interop.py", ["write_npy", dir])) as {
      arrays: Record<string, ArrayJson>;
      npz: string[];
    };
    for (const [name, want] of Object.entries(made.arrays)) {
      const t = tf.io.loadNpy(`${dir}/${name}.npy`);
      assertEquals([t.dtype, t.shape, valuesJson(t)], [want.dtype, want.shape, want.values], name);
    }
    for (const file of ["plain.npz", "compressed.npz"]) {
      const arrays = tf.io.loadNpz(`${dir}/${file}`);
      assertEquals(Object.keys(arrays).sort(), made.npz);
      for (const [name, t] of Object.entries(arrays)) {
        assertEquals(valuesJson(t), made.arrays[name].values, `${file}: ${name}`);
      }
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("NumPy reads our .npy (C and Fortran order) and .npz files, every dtype", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "npy_interop_ours_" });
  try {
    const tensors: Record<string, tf.Tensor> = {
      f32: tf.constant([[1.5, -2, 3e38], [0, -1e-40, 7]], "float32"),
      f64: tf.constant([[Math.PI, -1e308], [Number.MIN_VALUE, 0]], "float64"),
      i32: tf.constant([[2147483647, -2147483648, 0]], "int32"),
      i64: tf.constant([9223372036854775807n, -9223372036854775808n, 5n], "int64").reshape([3, 1]),
      u8: tf.constant([[0, 255], [128, 7]], "uint8"),
      b: tf.constant([[true, false], [false, true]], "bool"),
      scalar: tf.constant(2.5),
      empty: tf.zeros([0, 3], "int32"),
      r3: tf.range(24).reshape([2, 3, 4]),
    };
    for (const [name, t] of Object.entries(tensors)) {
      tf.io.saveNpy(`${dir}/${name}.npy`, t);
      tf.io.saveNpy(`${dir}/${name}_f.npy`, t, { fortranOrder: true });
    }
    tf.io.saveNpz(`${dir}/all.npz`, tensors);
    const seen = JSON.parse(await runPython("data_interop.py", ["read_npy", dir])) as Record<
      string,
      ArrayJson | Record<string, ArrayJson>
    >;
    const npdtype: Record<string, string> = { uint8: "uint8", bool: "bool" };
    for (const [name, t] of Object.entries(tensors)) {
      for (const file of [`${name}.npy`, `${name}_f.npy`]) {
        const s = seen[file] as ArrayJson;
        assertEquals([s.dtype, s.shape, s.values], [
          npdtype[t.dtype] ?? t.dtype,
          t.shape,
          valuesJson(t),
        ], file);
        assertEquals(
          s.fortran,
          file.endsWith("_f.npy") && t.rank >= 2 && t.shape.filter((d) => d > 1).length > 1,
        );
      }
      const z = (seen["all.npz"] as Record<string, ArrayJson>)[name];
      assertEquals([z.shape, z.values], [t.shape, valuesJson(t)], `all.npz: ${name}`);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
