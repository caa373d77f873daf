/**
 * tf.random's categorical, gamma, poisson and stateless draws, tested statistically with
 * fixed seeds (means and variances within 5 standard errors, a chi-square on categorical
 * frequencies), for reproducibility, and for argument errors; gamma's gradients against
 * TensorFlow's RandomGammaGrad (tests/fixtures/gamma_grad.json) and Monte Carlo means.
 */
import * as tf from "../mod.ts";
import { randomGammaGrad } from "../src/ops/random_more/gamma_poisson.ts";
import { expectMatches, type FixtureJson, tensorOf } from "./fixture_json.ts";
import gammaGradJson from "./fixtures/gamma_grad.json" with { type: "json" };
import { assertClose, assertEquals, assertThrowsMatch, ON_WEBGPU } from "./helpers.ts";

const gammaGradFixtures = gammaGradJson as {
  cases: { name: string; alpha: FixtureJson; sample: FixtureJson; grad: FixtureJson }[];
};

/** The samplers' widest float: float64, but float32 where results go to WebGPU. */
const WIDE = ON_WEBGPU ? "float32" : "float64";

/** t's values as numbers, read without blocking (every device). */
async function values(t: tf.Tensor): Promise<number[]> {
  return Array.from(await t.data(), Number);
}

async function moments(t: tf.Tensor): Promise<[number, number]> {
  const v = await values(t);
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1);
  return [mean, variance];
}

/** Mean within 5 standard errors and variance within 10% (plus 5 of its standard errors). */
async function assertMoments(t: tf.Tensor, mean: number, variance: number, what: string) {
  const [m, v] = await moments(t);
  const n = t.size;
  if (Math.abs(m - mean) > 5 * Math.sqrt(variance / n)) {
    throw new Error(`${what}: mean ${m}, expected ${mean}`);
  }
  if (Math.abs(v - variance) > 0.1 * variance) {
    throw new Error(`${what}: variance ${v}, expected ${variance}`);
  }
}

/** Pearson's chi-square of counts of `draws` (values 0..k-1) against probabilities p. */
async function chiSquare(draws: tf.Tensor, p: number[]): Promise<number> {
  const counts = new Array(p.length).fill(0);
  for (const d of await values(draws)) counts[d]++;
  return counts.reduce((s, c, i) => s + (c - draws.size * p[i]) ** 2 / (draws.size * p[i]), 0);
}

const same = async (a: tf.Tensor, b: tf.Tensor) => assertEquals(await values(a), await values(b));

Deno.test("statelessUniform and statelessNormal: pure functions of the seed pair", async () => {
  const a = tf.random.statelessUniform([1000], { seed: [1, 2] });
  tf.random.setSeed(5);
  await same(a, tf.random.statelessUniform([1000], { seed: [1, 2] }));
  tf.random.setSeed(null);
  const b = tf.random.statelessUniform([1000], { seed: [2, 1] });
  const [av, bv] = [await values(a), await values(b)];
  assertEquals(av.some((v, i) => v !== bv[i]), true);
  await same(
    tf.random.statelessNormal([7], { seed: [3n, 4] }),
    tf.random.statelessNormal([7], { seed: [3, 4] }),
  );
  const u = tf.random.statelessUniform([50000], { seed: [9, 9], minval: -2, maxval: 4 });
  await assertMoments(u, 1, 3, "statelessUniform");
  const d = tf.random.statelessUniform([20000], {
    seed: [1, 1],
    minval: 3,
    maxval: 9,
    dtype: "int32",
  });
  assertEquals(d.dtype, "int32");
  assertEquals(
    (await chiSquare(tf.subtract(d, 3), [1, 1, 1, 1, 1, 1].map((v) => v / 6))) < 20.5,
    true,
  );
  const n = tf.random.statelessNormal([50000], {
    seed: [0, 0],
    mean: 1,
    stddev: 2,
    dtype: "float64",
  });
  assertEquals(n.dtype, "float64");
  await assertMoments(n, 1, 4, "statelessNormal");
  assertEquals(tf.random.statelessNormal([0, 3], { seed: [1, 1] }).shape, [0, 3]);
});

Deno.test("categorical draws classes with softmax probabilities", async () => {
  const p = [0.1, 0.2, 0.3, 0.4];
  const logits = [p.map(Math.log), p.map((v) => Math.log(v) + 5)];
  tf.random.setSeed(1);
  const draws = tf.random.categorical(logits, 5000);
  assertEquals(draws.dtype, "int64");
  assertEquals(draws.shape, [2, 5000]);
  // chi-square with 3 degrees of freedom: 16.3 is its 0.1% point.
  assertEquals((await chiSquare(tf.slice(draws, [0, 0], [1, -1]), p)) < 16.3, true);
  assertEquals((await chiSquare(tf.slice(draws, [1, 0], [1, -1]), p)) < 16.3, true);
  tf.random.setSeed(1);
  await same(draws, tf.random.categorical(logits, 5000));
  const again = tf.random.categorical(logits, 5000);
  const [againv, drawsv] = [await values(again), await values(draws)];
  assertEquals(againv.some((v, i) => v !== drawsv[i]), true);
  tf.random.setSeed(null);

  const s = tf.random.statelessCategorical(logits, 5000, { seed: [4, 2], dtype: "int32" });
  assertEquals(s.dtype, "int32");
  await same(s, tf.random.statelessCategorical(logits, 5000, { seed: [4, 2], dtype: "int32" }));
  assertEquals((await chiSquare(tf.slice(s, [0, 0], [1, -1]), p)) < 16.3, true);
});

Deno.test("categorical: -inf and NaN logits, empty draws", async () => {
  const draws = tf.random.categorical(
    [[-Infinity, -Infinity, -Infinity], [0, -Infinity, 1], [NaN, 0, NaN], [NaN, NaN, -Infinity]],
    200,
    { seed: 3, dtype: "int32" },
  );
  const rows = (await draws.array()) as number[][];
  assertEquals(rows[0].every((v) => v === 3), true); // numClasses, as TensorFlow
  assertEquals(rows[1].every((v) => v === 0 || v === 2), true);
  assertEquals(rows[2].every((v) => v === 1), true);
  assertEquals(rows[3].every((v) => v === 3), true);
  assertEquals(tf.random.categorical([[1, 2]], 0).shape, [1, 0]);
  assertEquals(tf.random.categorical(tf.zeros([0, 3]), 4).shape, [0, 4]);
  // Integer logits are accepted, as TensorFlow's Multinomial takes real number types.
  assertEquals(tf.random.categorical(tf.constant([[0, 0]], "int32"), 3).shape, [1, 3]);
});

Deno.test("gamma: moments, broadcasting, dtypes, reproducibility", async () => {
  for (const alpha of [0.3, 1, 2.5, 30]) {
    const beta = 2;
    const g = tf.random.gamma([20000], alpha, { beta, seed: 11, dtype: WIDE });
    await assertMoments(g, alpha / beta, alpha / beta ** 2, `gamma(${alpha}, ${beta})`);
    assertEquals((await values(g)).every((v) => v >= 0), true);
  }
  const shaped = tf.random.gamma([5], [[0.5], [3]], { beta: [1, 2, 4] });
  assertEquals(shaped.shape, [5, 2, 3]);
  assertEquals(shaped.dtype, "float32");
  tf.random.setSeed(3);
  const a = tf.random.gamma([100], 1.5, { seed: 2 });
  tf.random.setSeed(3);
  await same(a, tf.random.gamma([100], 1.5, { seed: 2 }));
  tf.random.setSeed(null);
  const bad = await values(tf.random.gamma([2], [0, -1]));
  assertEquals(bad.every(Number.isNaN), true);
});

Deno.test("poisson: moments, dtypes, reproducibility", async () => {
  for (const lam of [0.5, 4, 9.9, 10, 35, 400]) {
    const d = tf.random.poisson([20000], lam, { seed: 5, dtype: WIDE });
    await assertMoments(d, lam, lam, `poisson(${lam})`);
    assertEquals((await values(d)).every((v) => Number.isInteger(v)), true);
  }
  const i = tf.random.poisson([3], [1, 50], { dtype: "int64", seed: 1 });
  assertEquals(i.dtype, "int64");
  assertEquals(i.shape, [3, 2]);
  assertEquals(await values(tf.random.poisson([4], 0, { dtype: "int32" })), [0, 0, 0, 0]);
  tf.random.setSeed(8);
  const a = tf.random.poisson([50], [2, 20]);
  tf.random.setSeed(8);
  await same(a, tf.random.poisson([50], [2, 20]));
  tf.random.setSeed(null);
});

Deno.test("random sampling ops reject malformed arguments naming the op", () => {
  assertThrowsMatch(() => tf.random.categorical([1, 2], 3), /^categorical: logits must be/);
  assertThrowsMatch(() => tf.random.categorical([[1, 2]], -1), /^categorical: numSamples/);
  assertThrowsMatch(() => tf.random.categorical(tf.zeros([2, 0]), 1), /^categorical: .*class/);
  assertThrowsMatch(
    () => tf.random.categorical([[1, 2]], 1, { dtype: "float32" }),
    /^categorical: dtype must be int32 or int64/,
  );
  assertThrowsMatch(
    () => tf.random.statelessCategorical([[1, 2]], 1, { seed: [1] as unknown as [1, 2] }),
    /^statelessCategorical: seed must be a pair/,
  );
  assertThrowsMatch(
    () => tf.random.statelessUniform([2], { seed: [1, 2], dtype: "int32" }),
    /^statelessUniform: maxval must be given/,
  );
  assertThrowsMatch(
    () => tf.random.statelessUniform([2], { seed: [1, 2], minval: 2, maxval: 1 }),
    /^statelessUniform: minval \(2\) must be less than maxval/,
  );
  assertThrowsMatch(
    () => tf.random.statelessNormal([2], { seed: [1, 2], stddev: -1 }),
    /^statelessNormal: stddev must be >= 0/,
  );
  assertThrowsMatch(() => tf.random.statelessNormal([-1], { seed: [1, 2] }), /^statelessNormal/);
  assertThrowsMatch(
    () => tf.random.gamma([2], 1, { dtype: "int32" }),
    /^gamma: dtype must be float32 or float64/,
  );
  assertThrowsMatch(() => tf.random.gamma([2], [1, 2], { beta: [1, 2, 3] }), /^gamma/);
  assertThrowsMatch(() => tf.random.poisson([2], 1, { dtype: "bool" }), /^poisson: dtype/);
});

// randomGammaGrad runs on the host (as TensorFlow's CPU kernel): the CPU run checks it.
Deno.test(
  "randomGammaGrad: TensorFlow 2.21's values on a grid of alphas and samples, and its edges",
  {
    ignore: ON_WEBGPU,
  },
  () => {
    for (const c of gammaGradFixtures.cases) {
      const got = randomGammaGrad(tensorOf(c.alpha), tensorOf(c.sample));
      // float32: TensorFlow's kernel computes in float32, ours in float64 then rounds
      expectMatches(
        got,
        c.grad,
        `randomGammaGrad ${c.name}`,
        c.alpha.dtype === "float32" ? 2e-4 : 1e-9,
      );
    }
  },
);

Deno.test("gamma: gradients w.r.t. alpha (implicit reparameterisation) and beta, as TensorFlow's", () => {
  // d E[x] / d alpha = 1 / beta: the mean of many draws' gradients, within Monte Carlo error.
  const alpha = tf.constant([0.3, 2, 7], "float64"), beta = tf.constant(2, "float64");
  const tape = new tf.GradientTape({ persistent: true });
  tape.watch([alpha, beta]);
  const draws = tape.record(() =>
    tf.random.gamma([100_000], alpha, { beta, seed: 5, dtype: "float64" })
  );
  const mean = tape.record(() => tf.reduceSum(tf.reduceMean(draws, 0)));
  assertClose(tape.gradient(mean, alpha)!, [0.5, 0.5, 0.5], { rtol: 0, atol: 0.01 });
  // Each draw is standard / beta: d/dbeta = -draw / beta, summed over every draw.
  const drawSum = (draws.dataSync() as Float64Array).reduce((a, b) => a + b, 0);
  assertClose(tape.gradient(tape.record(() => tf.reduceSum(draws)), beta)!, -drawSum / 2, {
    rtol: 1e-9,
  });
  if (ON_WEBGPU) return; // below: float32 parameters, which the host sampler cannot read there
  // Per draw, the alpha gradient is randomGammaGrad of the standard draw over beta, summed over
  // the sample dims and back over alpha's broadcast against beta.
  const a = tf.constant([0.5, 3]), b = tf.constant([[1], [2]]);
  const t2 = new tf.GradientTape({ persistent: true });
  t2.watch([a, b]);
  const s = t2.record(() => tf.random.gamma([4], a, { beta: b, seed: 1 }));
  assertEquals(s.shape, [4, 2, 2]);
  const standard = tf.multiply(s, b);
  const perDraw = tf.divide(randomGammaGrad(tf.broadcastTo(a, [2, 2]), standard), b);
  assertClose(t2.gradient(s, a)!, tf.reduceSum(perDraw, [0, 1]), { rtol: 1e-5 });
  assertClose(
    t2.gradient(s, b)!,
    tf.reshape(tf.reduceSum(tf.divide(tf.neg(s), b), [0, 2]), [2, 1]),
    {
      rtol: 1e-5,
    },
  );
});
