/**
 * Replays tests/fixtures/einsum.json (from make_einsum_fixtures.py): each case's output,
 * and for cases with weights the gradient of sum(weights * output) w.r.t. each float input,
 * against the values TensorFlow computed. Shared by the einsum, linalg_structure and
 * activations tests.
 */
import * as tf from "../mod.ts";
import {
  expectGap,
  expectMatches,
  type FixtureJson,
  tensorOf,
  webGpuCase,
} from "./fixture_json.ts";
import fixtures from "./fixtures/einsum.json" with { type: "json" };

type Json = FixtureJson;
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

/** The TensorFlow version that wrote the fixtures. */
export const TF_VERSION: string = fixtures.tensorflow;

/**
 * Registers one Deno test per fixture case whose op is a key of `ops`; each op maps the
 * case's inputs and attrs to the output. `rtol64` is the float64 tolerance; `gaps` names the
 * cases the WebGPU device does not compute yet (see webGpuCase).
 */
export function replay(
  ops: Record<string, (inputs: tf.Tensor[], attrs: Record<string, unknown>) => tf.Tensor>,
  rtol64 = 1e-11,
  gaps: readonly string[] = [],
): void {
  for (const c of (fixtures.cases as unknown as Case[]).filter((c) => c.op in ops)) {
    const mode = webGpuCase(c, gaps);
    Deno.test(`${c.op} matches TensorFlow ${TF_VERSION}: ${c.name}`, {
      ignore: mode === "cpu",
    }, () => {
      const inputs = c.inputs.map(tensorOf);
      const run = (xs: tf.Tensor[]) => ops[c.op](xs, c.attrs);
      if (mode === "gap") return expectGap(() => run(inputs));
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
