import { strictEqual } from "node:assert/strict";
import { formatArray, type FormatDType, formatTensor } from "../src/format.ts";
// Generated from real NumPy by tests/fixtures/make_format_fixtures.py.
import cases from "./fixtures/format.json" with { type: "json" };

type Encoded = number | string | boolean;

interface Case {
  name: string;
  dtype: FormatDType;
  shape: number[];
  values: Encoded[];
  expected: string;
}

/** Floats arrive as numbers, with "nan", "inf", "-inf" and "-0" spelled out as strings. */
function decodeFloat(v: Encoded): number {
  if (v === "-0") return -0;
  return typeof v === "string" ? Number(v.replace("inf", "Infinity").replace("nan", "NaN")) : +v;
}

/** Puts the fixture values in the typed array a tensor of that dtype would hold. */
function decode(dtype: FormatDType, values: Encoded[]): ArrayLike<number | bigint | boolean> {
  switch (dtype) {
    case "float32":
      return Float32Array.from(values, decodeFloat);
    case "float64":
      return Float64Array.from(values, decodeFloat);
    case "int32":
      return Int32Array.from(values, Number);
    case "int64":
      return BigInt64Array.from(values, (v) => BigInt(v as string));
    case "uint8":
      return Uint8Array.from(values, Number);
    case "bool":
      return Uint8Array.from(values, (v) => (v ? 1 : 0));
  }
}

Deno.test("formatTensor matches NumPy/TensorFlow fixtures", async (t) => {
  for (const c of cases as Case[]) {
    await t.step(c.name, () => {
      strictEqual(formatTensor(c.dtype, c.shape, decode(c.dtype, c.values)), c.expected);
    });
  }
});

Deno.test("formatTensor: the documented examples", () => {
  strictEqual(
    formatTensor("int32", [2, 2], new Int32Array([16, 19, 36, 43])),
    "tf.Tensor(\n[[16 19]\n [36 43]], shape=(2, 2), dtype=int32)",
  );
  strictEqual(
    formatTensor("float32", [], new Float32Array([6])),
    "tf.Tensor(6.0, shape=(), dtype=float32)",
  );
  strictEqual(
    formatTensor("float32", [2], new Float32Array([1, 2.5])),
    "tf.Tensor([1.  2.5], shape=(2,), dtype=float32)",
  );
  strictEqual(
    formatTensor("bool", [2], [true, false]),
    "tf.Tensor([ True False], shape=(2,), dtype=bool)",
  );
  strictEqual(
    formatTensor("float32", [0, 3], new Float32Array()),
    "tf.Tensor([], shape=(0, 3), dtype=float32)",
  );
});

Deno.test("formatArray: float32 prints float32 shortest digits", () => {
  strictEqual(formatArray("float32", [], [0.1]), "0.1");
  strictEqual(formatArray("float64", [], [Math.fround(0.1)]), "0.10000000149011612");
  strictEqual(formatArray("float32", [3], [0.1, 0.2, 1 / 3]), "[0.1        0.2        0.33333334]");
});

Deno.test("formatArray: plain arrays of numbers, bigints and booleans", () => {
  strictEqual(
    formatArray("int64", [2], [2n ** 60n, -1n]),
    "[1152921504606846976                  -1]",
  );
  strictEqual(formatArray("int64", [2], [7, -1]), "[ 7 -1]");
  strictEqual(formatArray("bool", [2, 1], [0, 1]), "[[False]\n [ True]]");
  strictEqual(formatArray("uint8", [], [200]), "200");
  strictEqual(formatArray("bool", [], [true]), "True");
});

Deno.test("formatArray: -0, nan and inf in scalars and arrays", () => {
  strictEqual(formatArray("float64", [], [-0]), "-0.0");
  strictEqual(formatArray("float32", [], [-Infinity]), "-inf");
  strictEqual(formatArray("float64", [3], [-0, NaN, 2]), "[-0. nan  2.]");
  strictEqual(formatArray("float32", [2], [Infinity, 1e-9]), "[   inf 1.e-09]");
});
