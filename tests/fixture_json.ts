/**
 * Tensors in the JSON form the fixture scripts (tests/fixtures/make_*_fixtures.py) write, and
 * the comparison of an op's result with one: shared by the tests that replay TensorFlow's
 * values.
 */
import * as tf from "../mod.ts";
import { assertClose, assertThrowsMatch, ON_WEBGPU, tensorFrom } from "./helpers.ts";
import type { DType, TypedArray } from "../src/dtype.ts";

/** A tensor as JSON: non-finite floats as "nan", "inf", "-inf"; int64 values as strings. */
export type FixtureJson = { dtype: string; shape: number[]; values: (number | string | boolean)[] };

/** One op call of a fixture file: its inputs and attributes, TensorFlow's outputs and, for a
 * differentiable op, the weights of the weighted sum whose gradient `grad` TensorFlow gave. */
export type FixtureCase<Attrs> = {
  name: string;
  op: string;
  inputs: FixtureJson[];
  attrs: Attrs;
  outputs: FixtureJson[];
  weights?: FixtureJson;
  grad?: FixtureJson;
};

/** The cases of a fixture file (`{ cases: [...] }`) whose op is a key of `ops`. */
export function casesOf<Attrs>(file: { cases: unknown[] }, ops: object): FixtureCase<Attrs>[] {
  return (file.cases as FixtureCase<Attrs>[]).filter((c) => c.op in ops);
}

const ARRAYS: Record<string, (n: number) => TypedArray> = {
  float32: (n) => new Float32Array(n),
  float64: (n) => new Float64Array(n),
  int32: (n) => new Int32Array(n),
  int64: (n) => new BigInt64Array(n),
  uint8: (n) => new Uint8Array(n),
  bool: (n) => new Uint8Array(n),
};

/** A JSON value as a number ("nan", "inf" and "-inf" included; true is 1). */
export const decode = (v: number | string | boolean): number =>
  v === "nan" ? NaN : v === "inf" ? Infinity : v === "-inf" ? -Infinity : Number(v);

/** The tensor a fixture describes, in its own dtype. */
export function tensorOf(j: FixtureJson): tf.Tensor {
  const a = ARRAYS[j.dtype](j.values.length);
  j.values.forEach((v, i) => {
    if (a instanceof BigInt64Array) a[i] = BigInt(v as string);
    else a[i] = decode(v);
  });
  return tensorFrom(a, j.dtype as DType, j.shape);
}

/** got has want's dtype and values: exactly for integers and bool, within rtol for floats
 * (each compared in its own precision). */
export function expectMatches(got: tf.Tensor, want: FixtureJson, name: string, rtol: number): void {
  if (got.dtype !== want.dtype) throw new Error(`${name}: dtype ${got.dtype}, want ${want.dtype}`);
  const exact = !got.dtype.startsWith("float");
  const dtype = exact ? "float64" : want.dtype as DType;
  assertClose(got, tf.constant(want.values.map(decode), dtype, { shape: want.shape }), {
    rtol: exact ? 0 : rtol,
    atol: exact ? 0 : rtol,
    message: name,
  });
}

/**
 * How the WebGPU run takes a fixture case: "cpu" for one with a float64 tensor (float64 lives
 * on the CPU only, where the CPU run checks it), "gap" for one the device does not compute
 * yet (its name or op listed in `gaps`: it must fail naming the op, as the device's other
 * missing kernels do), else "run".
 */
export function webGpuCase(
  c: {
    name: string;
    op: string;
    inputs: FixtureJson[];
    outputs?: FixtureJson[];
    output?: FixtureJson;
  },
  gaps: readonly string[] = [],
): "cpu" | "gap" | "run" {
  if (!ON_WEBGPU) return "run";
  const all = [...c.inputs, ...(c.outputs ?? []), ...(c.output ? [c.output] : [])];
  if (all.some((j) => j.dtype === "float64")) return "cpu";
  return gaps.includes(c.name) || gaps.includes(c.op) ? "gap" : "run";
}

/** Asserts the WebGPU device's error for a kernel it lacks (webGpuCase's "gap"). */
export function expectGap(run: () => unknown): void {
  assertThrowsMatch(run, /(is not implemented|not available) on .*GPU:0/);
}

/** An op run on a case's inputs and attributes: its outputs. */
export type CaseRun<Attrs> = (xs: tf.Tensor[], attrs: Attrs) => tf.Tensor[];

/**
 * One Deno test per case of `file` whose op is in `ops`: every output equal to TensorFlow's,
 * and, where the case has weights, the gradient of sum(weights * first output) w.r.t. the first
 * input within `gradRtol`.
 */
export function testCases<Attrs>(
  file: { tensorflow: string; cases: unknown[] },
  ops: Record<string, CaseRun<Attrs>>,
  gradRtol: number,
  gaps: readonly string[] = [],
): void {
  for (const c of casesOf<Attrs>(file, ops)) {
    const mode = webGpuCase(c, gaps);
    Deno.test(`${c.op} matches TensorFlow ${file.tensorflow}: ${c.name}`, {
      ignore: mode === "cpu",
    }, () => {
      const xs = c.inputs.map(tensorOf);
      if (mode === "gap") return expectGap(() => ops[c.op](xs, c.attrs));
      const outs = ops[c.op](xs, c.attrs);
      if (outs.length !== c.outputs.length) throw new Error(`${c.name}: ${outs.length} outputs`);
      outs.forEach((o, i) => expectMatches(o, c.outputs[i], `${c.name} output ${i}`, 0));
      if (c.grad && c.weights) {
        const w = tensorOf(c.weights);
        const loss = (t: tf.Tensor) =>
          tf.reduceSum(tf.multiply(w, ops[c.op]([t, ...xs.slice(1)], c.attrs)[0]));
        const [g] = tf.gradientsFunction(loss)(xs[0]);
        expectMatches(g, c.grad, `${c.name} gradient`, gradRtol);
      }
    });
  }
}
