/**
 * Helpers of the checkpoint tests: variables with fixed names, values of every dtype and
 * shape (special values included), and byte-exact comparisons.
 * @module
 */
import * as tf from "../mod.ts";
import { AssertionError } from "node:assert";
import { rng } from "./helpers.ts";

/** A Variable named exactly `name` (not made unique), so tests can reuse names. */
export function fixed(name: string, value: tf.TensorLike, dtype?: tf.DType): tf.Variable {
  return new tf.Variable(value, { name, dtype, exactName: true, trainable: false });
}

/** The bytes of a tensor's or variable's value. */
export function bytesOf(t: tf.Tensor | tf.Variable): Uint8Array {
  const flat = t.dataSync();
  return new Uint8Array(flat.buffer, flat.byteOffset, flat.byteLength).slice();
}

/** Hex of a tensor's bytes (as the interop scripts print them). */
export function hexOf(t: tf.Tensor | tf.Variable): string {
  return Array.from(bytesOf(t), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Asserts two values have the same dtype, shape and bytes (NaN payloads and -0 too). */
export function assertSameValue(
  actual: tf.Tensor | tf.Variable,
  expected: tf.Tensor | tf.Variable,
  what = "",
): void {
  const a = `${actual.dtype}[${actual.shape}] ${hexOf(actual)}`;
  const e = `${expected.dtype}[${expected.shape}] ${hexOf(expected)}`;
  if (a !== e) throw new AssertionError({ message: `${what}: got ${a}, expected ${e}` });
}

const DTYPES: tf.DType[] = ["float32", "float64", "int32", "int64", "uint8", "bool"];
const SHAPES = [[], [0], [1], [5], [2, 0, 3], [2, 3], [2, 3, 4], [1, 1, 1, 7]];

/** n values of a dtype, led by its special values (NaN, -0, infinities, extremes). */
function values(dtype: tf.DType, n: number, seed: number): tf.Tensor {
  const next = rng(seed);
  const special: Record<tf.DType, number[]> = {
    float32: [NaN, -0, Infinity, -Infinity, 3.4028234663852886e38, 1e-45],
    float64: [NaN, -0, Infinity, -Infinity, Number.MAX_VALUE, 5e-324],
    int32: [-2147483648, 2147483647, 0, -1],
    int64: [],
    uint8: [0, 255, 128],
    bool: [1, 0],
  };
  if (dtype === "int64") {
    const big = [-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n];
    const out = BigInt64Array.from(
      { length: n },
      (_, i) => i < big.length ? big[i] : BigInt(Math.floor((next() - 0.5) * 2 ** 52)),
    );
    return tf.constant(out);
  }
  const data = Array.from({ length: n }, (_, i) => {
    if (i < special[dtype].length) return special[dtype][i];
    const x = next();
    if (dtype === "bool") return x < 0.5 ? 1 : 0;
    if (dtype === "uint8") return Math.floor(x * 256);
    if (dtype === "int32") return Math.floor((x - 0.5) * 2 ** 32);
    return (x - 0.5) * 1e3;
  });
  if (dtype === "bool") return tf.constant(data.map((v) => v === 1), "bool");
  return tf.constant(data, dtype);
}

/** One variable per dtype and shape, named `<dtype>/<shape>` (e.g. `int64/2x3`). */
export function everyDTypeAndShape(seed = 1): tf.Variable[] {
  const out: tf.Variable[] = [];
  for (const dtype of DTYPES) {
    for (const shape of SHAPES) {
      const n = shape.reduce((a, b) => a * b, 1);
      const name = `${dtype}/${shape.length ? shape.join("x") : "scalar"}`;
      out.push(fixed(name, values(dtype, n, seed++).reshape(shape)));
    }
  }
  return out;
}

/** A zero variable with the dtype, shape and name of `v`. */
export function zeroLike(v: tf.Variable): tf.Variable {
  return fixed(v.name, tf.zeros([...v.shape], v.dtype));
}

/** A temporary folder for one test, removed by the returned function. */
export function tempDir(prefix: string): [string, () => void] {
  const dir = Deno.makeTempDirSync({ prefix });
  return [dir, () => Deno.removeSync(dir, { recursive: true })];
}
