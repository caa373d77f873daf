/**
 * Replays tests/fixtures/einsum.json (from make_einsum_fixtures.py): each case's output,
 * and for cases with weights the gradient of sum(weights * output) w.r.t. each float input,
 * against the values TensorFlow computed. Shared by the einsum, linalg_structure and
 * activations tests.
 */
import * as tf from "../mod.ts";
import fixtures from "./fixtures/einsum.json" with { type: "json" };
import { assertClose, tensorFrom } from "./helpers.ts";
import type { DType, TypedArray } from "../src/dtype.ts";

type Json = { dtype: string; shape: number[]; values: (number | string | boolean)[] };
/** One fixture case. */
export type Case = {
  name: string;
  op: string;
  inputs: Json[];
  attrs: Record<string, unknown>;
  output: Json;
  weights?: Json;
  grads?: (Json | null)[];
};

const ARRAYS: Record<string, (n: number) => TypedArray> = {
  float32: (n) => new Float32Array(n),
  float64: (n) => new Float64Array(n),
  int32: (n) => new Int32Array(n),
  int64: (n) => new BigInt64Array(n),
  uint8: (n) => new Uint8Array(n),
  bool: (n) => new Uint8Array(n),
};
const decode = (v: number | string | boolean) =>
  v === "nan" ? NaN : v === "inf" ? Infinity : v === "-inf" ? -Infinity : Number(v);

function tensorOf(j: Json): tf.Tensor {
  const a = ARRAYS[j.dtype](j.values.length);
  j.values.forEach((v, i) => {
    if (a instanceof BigInt64Array) a[i] = BigInt(v as string);
    else a[i] = decode(v);
  });
  return tensorFrom(a, j.dtype as DType, j.shape);
}

function expectMatches(got: tf.Tensor, want: Json, name: string, rtol: number): void {
  if (got.dtype !== want.dtype) throw new Error(`${name}: dtype ${got.dtype}, want ${want.dtype}`);
  const exact = !got.dtype.startsWith("float");
  const dtype = exact ? "float64" : want.dtype as DType;
  assertClose(got, tf.constant(want.values.map(decode), dtype, { shape: want.shape }), {
    rtol: exact ? 0 : rtol,
    atol: exact ? 0 : rtol,
    message: name,
  });
}

/** The TensorFlow version that wrote the fixtures. */
export const TF_VERSION: string = fixtures.tensorflow;

/**
 * Registers one Deno test per fixture case whose op is a key of `ops`; each op maps the
 * case's inputs and attrs to the output. `rtol64` is the float64 tolerance.
 */
export function replay(
  ops: Record<string, (inputs: tf.Tensor[], attrs: Record<string, unknown>) => tf.Tensor>,
  rtol64 = 1e-11,
): void {
  for (const c of (fixtures.cases as unknown as Case[]).filter((c) => c.op in ops)) {
    Deno.test(`${c.op} matches TensorFlow ${TF_VERSION}: ${c.name}`, () => {
      const inputs = c.inputs.map(tensorOf);
      const run = (xs: tf.Tensor[]) => ops[c.op](xs, c.attrs);
      const f32 = c.output.dtype === "float32";
      const rtol = f32 ? 2e-5 : rtol64;
      expectMatches(run(inputs), c.output, c.name, rtol);
      if (!c.weights || !c.grads) return;
      const w = tensorOf(c.weights);
      const floats = inputs.flatMap((t, i) => t.dtype.startsWith("float") ? [i] : []);
      const loss = (...ts: tf.Tensor[]) => {
        const xs = [...inputs];
        floats.forEach((i, k) => xs[i] = ts[k]);
        return tf.reduceSum(tf.multiply(w, run(xs)));
      };
      const grads = tf.gradientsFunction(loss)(...floats.map((i) => inputs[i]));
      floats.forEach((i, k) => {
        const want = c.grads![i];
        if (want) expectMatches(grads[k], want, `${c.name}: gradient ${i}`, rtol * 10);
      });
    });
  }
}
