/**
 * tf.linalg's LAPACK ops: values against TensorFlow 2.21 (tests/fixtures/linalg.json, from
 * make_linalg_fixtures.py), decompositions up to the sign of each vector (normalised on
 * both sides) and by reconstruction, errors, and the message without a LAPACK.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import * as tf from "../mod.ts";
import { lapackAvailable } from "../src/backend/cpu/linalg.ts";
import fixtures from "./fixtures/linalg.json" with { type: "json" };
import { assertClose, assertThrowsMatch } from "./helpers.ts";

/** fn throws an Error whose message contains `text`. */
function assertThrows(fn: () => unknown, _kind: unknown, text: string): void {
  assertThrowsMatch(fn, new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
}

/** Deno.test, skipped where no LAPACK is found (the aarch64 suites under qemu have none). */
const test = (name: string, fn: () => void) => Deno.test({ name, ignore: !lapackAvailable(), fn });

type Json = { dtype: string; shape: number[]; values: (number | string)[] };
type Case = {
  op: string;
  name: string;
  inputs: Json[];
  options: Record<string, unknown>;
  outputs?: Record<string, Json>;
  error?: string;
};

const decode = (v: number | string) =>
  v === "nan" ? NaN : v === "inf" ? Infinity : v === "-inf" ? -Infinity : Number(v);
const toTensor = (j: Json) =>
  tf.constant(j.values.map(decode), j.dtype as "float32", { shape: j.shape });
const toArray = (j: Json) => Float64Array.from(j.values.map(decode));

// deno-lint-ignore no-explicit-any
const L = tf.linalg as any;
function run(op: string, xs: tf.Tensor[], options: Record<string, unknown>) {
  const r = op === "solve" || op === "triangularSolve" || op === "lstsq"
    ? L[op](xs[0], xs[1], options)
    : L[op](xs[0], options);
  if (r instanceof tf.Tensor) return { [OUT[op]]: r } as Record<string, tf.Tensor>;
  return r as Record<string, tf.Tensor>;
}
const OUT: Record<string, string> = {
  cholesky: "l",
  solve: "x",
  inv: "x",
  det: "d",
  triangularSolve: "x",
  eigvalsh: "e",
  lstsq: "x",
  pinv: "x",
};

/**
 * Flips column j of the [..., rows, cols] matrices in `cols` (and row or column j of the
 * partners) so that each column's largest entry by magnitude in `ref` is positive.
 */
function normaliseSigns(
  values: Float64Array,
  shape: number[],
  signs: (b: number, j: number) => number,
): Float64Array {
  const [rows, cols] = shape.slice(-2);
  const out = values.slice();
  const batch = rows * cols === 0 ? 0 : values.length / (rows * cols);
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < cols; j++) {
      const s = signs(b, j);
      for (let i = 0; i < rows; i++) out[b * rows * cols + i * cols + j] *= s;
    }
  }
  return out;
}

/** The sign of the largest-magnitude entry of column j in each matrix of `values`. */
function columnSigns(values: Float64Array, shape: number[]) {
  const [rows, cols] = shape.slice(-2);
  return (b: number, j: number) => {
    let best = 0;
    for (let i = 0; i < rows; i++) {
      const v = values[b * rows * cols + i * cols + j];
      if (Math.abs(v) > Math.abs(best) + 1e-6) best = v;
    }
    return best < 0 ? -1 : 1;
  };
}

/** Outputs with each ambiguous vector's sign fixed: q by r's diagonal, v, u by v. */
function canonical(op: string, out: Record<string, { a: Float64Array; shape: number[] }>) {
  const result: Record<string, Float64Array> = {};
  for (const [k, v] of Object.entries(out)) result[k] = v.a;
  if (op === "qr") {
    const { q, r } = out;
    const [k, n] = r.shape.slice(-2);
    const sign = (b: number, j: number) =>
      j < Math.min(k, n) && r.a[b * k * n + j * n + j] < 0 ? -1 : 1;
    result.q = normaliseSigns(q.a, q.shape, sign);
    const rt = normaliseSigns(transposeLast(r.a, r.shape), [...r.shape.slice(0, -2), n, k], sign);
    result.r = transposeLast(rt, [...r.shape.slice(0, -2), n, k]);
  } else if (op === "eigh") {
    result.v = normaliseSigns(out.v.a, out.v.shape, columnSigns(out.v.a, out.v.shape));
  } else if (op === "svd" && out.u) {
    const sign = columnSigns(out.v.a, out.v.shape);
    result.u = normaliseSigns(out.u.a, out.u.shape, sign);
    result.v = normaliseSigns(out.v.a, out.v.shape, sign);
  }
  return result;
}

function transposeLast(a: Float64Array, shape: number[]): Float64Array {
  const [m, n] = shape.slice(-2);
  const out = new Float64Array(a.length);
  const batch = m * n === 0 ? 0 : a.length / (m * n);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) out[b * m * n + j * m + i] = a[b * m * n + i * n + j];
    }
  }
  return out;
}

/** Columns of full factors beyond min(m, n) are not unique: compared by reconstruction only. */
const UNIQUE_ONLY = new Set(["tall full float32", "full float32 5x3", "rank deficient values"]);

for (const c of fixtures.cases as unknown as Case[]) {
  test(`${c.op} matches TensorFlow ${fixtures.tensorflow}: ${c.name}`, () => {
    const xs = c.inputs.map(toTensor);
    if (c.error !== undefined) {
      const core = c.error.replace(/^\{\{[^}]*\}\}\s*/, "").split(".")[0] + ".";
      assertThrows(() => run(c.op, xs, c.options), Error, `${c.op}: ${core}`);
      return;
    }
    const got = run(c.op, xs, c.options);
    if (c.name === "not positive definite") {
      // TensorFlow fills the failed factor with NaN (its upper triangle is left unset).
      assert(c.outputs!.l.values.includes("nan"));
      assert(Array.from(got.l.dataSync() as Float32Array).every(Number.isNaN));
      return;
    }
    const f32 = xs[0].dtype === "float32";
    const hard = c.name.includes("ill-conditioned") || c.name.includes("rank deficient");
    const tol = f32 ? { rtol: 2e-3, atol: 2e-4 } : { rtol: hard ? 1e-5 : 1e-7, atol: 1e-8 };
    const mine: Record<string, { a: Float64Array; shape: number[] }> = {};
    const theirs: Record<string, { a: Float64Array; shape: number[] }> = {};
    for (const [k, want] of Object.entries(c.outputs!)) {
      assertEquals(got[k].shape, want.shape, `${k}'s shape`);
      assertEquals(got[k].dtype, want.dtype, `${k}'s dtype`);
      mine[k] = { a: Float64Array.from(got[k].dataSync() as Float32Array), shape: want.shape };
      theirs[k] = { a: toArray(want), shape: want.shape };
    }
    const a = canonical(c.op, mine), b = canonical(c.op, theirs);
    for (const k of Object.keys(a)) {
      if (UNIQUE_ONLY.has(c.name) && (k === "q" || k === "u" || k === "v")) continue;
      const shape = mine[k].shape;
      assertClose(
        tf.constant(a[k], "float64", { shape }),
        tf.constant(b[k], "float64", { shape }),
        {
          ...tol,
          message: `${c.op} ${c.name}: ${k}`,
        },
      );
    }
    if ((c.op === "qr" || c.op === "svd" && got.u) && !c.name.includes("NaN")) {
      reconstructs(c.op, xs[0], got, tol);
    }
  });
}

function reconstructs(
  op: string,
  x: tf.Tensor,
  got: Record<string, tf.Tensor>,
  tol: { rtol: number; atol: number },
) {
  const back = op === "qr" ? tf.matmul(got.q, got.r) : tf.matmul(
    tf.multiply(sliceCols(got.u, got.s.shape.at(-1)!), tf.expandDims(got.s, -2)),
    sliceCols(got.v, got.s.shape.at(-1)!),
    {
      transposeB: true,
    },
  );
  assertClose(back, x, { ...tol, atol: tol.atol * 10 });
  const q = op === "qr" ? got.q : got.u;
  const qtq = tf.matmul(q, q, { transposeA: true });
  assertClose(
    qtq,
    tf.linalg.eye(q.shape.at(-1)!, undefined, { batchShape: q.shape.slice(0, -2), dtype: q.dtype }),
    {
      ...tol,
      atol: tol.atol * 10,
    },
  );
}

function sliceCols(t: tf.Tensor, k: number): tf.Tensor {
  return tf.slice(t, t.shape.map(() => 0), [...t.shape.slice(0, -1), k]);
}

test("eigh reconstructs x from its lower triangle", () => {
  const x = tf.constant([[4, 100], [1, 3]], "float64");
  const { e, v } = tf.linalg.eigh(x);
  const back = tf.matmul(tf.multiply(v, tf.expandDims(e, -2)), v, { transposeB: true });
  assertClose(back, [[4, 1], [1, 3]], { rtol: 1e-12, atol: 1e-12 });
});

test("linalg ops name themselves in argument errors", () => {
  assertThrows(
    () => tf.linalg.cholesky([[1, 2, 3], [4, 5, 6]]),
    RangeError,
    "cholesky: input must be a square",
  );
  assertThrows(() => tf.linalg.inv([1, 2]), RangeError, "inv: input must have rank >= 2");
  assertThrows(() => tf.linalg.det(tf.constant([[1]], "int32")), TypeError, "det: dtype int32");
  assertThrows(
    () => tf.linalg.solve([[1, 0], [0, 1]], [[1], [2], [3]]),
    RangeError,
    "solve: Input matrix and rhs are incompatible. rhs of shape [3,1]",
  );
  assertThrows(
    () => tf.linalg.triangularSolve(tf.ones([2, 2, 2]), tf.ones([2, 3, 1])),
    RangeError,
    "triangularSolve: rhs of shape",
  );
  assertThrows(() => tf.linalg.lstsq([[1, 0], [0, 1]], [[1]]), RangeError, "lstsq: rhs of shape");
  assertThrows(
    () => tf.linalg.lstsq([[1, 0], [0, 1]], [[1], [1]], { l2Regularizer: -1 }),
    RangeError,
    "lstsq: l2Regularizer must be a number >= 0, got -1",
  );
  assertThrows(
    () => tf.linalg.lstsq([[1, 0], [0, 1]], [[1], [1], [1]], { fast: false }),
    RangeError,
    "lstsq: Input matrix and rhs are incompatible. rhs of shape [3,1]",
  );
  assertThrows(() => tf.linalg.inv([[1, 2], [2, 4]]), Error, "inv: Input is not invertible.");
});

test("infinities give NaN as in TensorFlow (LAPACK's iterations never see them)", () => {
  // gesdd and syevd can loop forever on an infinity: these calls used to hang.
  const x = tf.constant([[Infinity, 1], [1, 2]], "float32");
  assertClose(tf.linalg.svd(x, { computeUv: false }).s, [NaN, NaN]);
  assertClose(tf.linalg.svd(x).u!, [[NaN, NaN], [NaN, NaN]]);
  const { e, v } = tf.linalg.eigh(x);
  assertClose(e, [NaN, NaN]);
  assertClose(v, [[1, 0], [0, 1]]);
});

test("empty systems and a full q of a matrix without columns", () => {
  assertEquals(tf.linalg.solve(tf.zeros([2, 0, 0]), tf.zeros([2, 0, 3])).shape, [2, 0, 3]);
  const { q, r } = tf.linalg.qr(tf.zeros([3, 0]), { fullMatrices: true });
  assertClose(q, [[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  assertEquals(r.shape, [3, 0]);
  // No equations: the minimum-norm solution is 0 (TensorFlow 2.21 returns unset memory here).
  const x = tf.linalg.lstsq(tf.zeros([2, 0, 3]), tf.zeros([2, 0, 2]), { fast: false });
  assertClose(x, tf.zeros([2, 3, 2]));
});

Deno.test("without a LAPACK the ops say so, naming the op", async () => {
  const code = `
    import * as tf from "${new URL("../mod.ts", import.meta.url).href}";
    try { tf.linalg.cholesky([[1]]); console.log("no error"); } catch (e) { console.log(e.message); }
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    env: { EAGER_LAPACK: "none" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert(text.startsWith("cholesky: no LAPACK library was found"), text);
});
