/**
 * `deno task bench`: deno-eager side by side with NumPy, measured in the same run on
 * the same machine (DESIGN.md section 7). NumPy runs in a venv this script creates
 * (.venv-bench, git-ignored) from PyPI. Prints a table of times and ratios; absolute
 * numbers vary between machines, the ratios are what we report.
 * @module
 */
import * as tf from "../mod.ts";

const root = new URL("..", import.meta.url).pathname;
const venv = `${root}.venv-bench`;

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "inherit" }).output();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed`);
  return new TextDecoder().decode(out.stdout);
}

async function numpyResults(): Promise<Record<string, number | string> | undefined> {
  try {
    try {
      Deno.statSync(`${venv}/bin/python`);
    } catch {
      console.error("[bench] creating .venv-bench with NumPy from PyPI ...");
      await run("python3", ["-m", "venv", venv]);
      await run(`${venv}/bin/pip`, ["install", "--quiet", "numpy"]);
    }
    return JSON.parse(await run(`${venv}/bin/python`, [`${root}bench/peers/numpy_bench.py`]));
  } catch (error) {
    console.error(`[bench] NumPy unavailable: ${(error as Error).message}`);
    return undefined;
  }
}

/** Best seconds per call over `rounds` rounds of `repeats` calls. */
function best(fn: () => unknown, repeats: number, rounds = 5): number {
  let min = Infinity;
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    for (let i = 0; i < repeats; i++) fn();
    min = Math.min(min, (performance.now() - start) / 1000 / repeats);
  }
  return min;
}

function measureEager(): Record<string, number> {
  const a = tf.constant(new Float32Array([1])), b = tf.constant(new Float32Array([1]));
  best(() => tf.add(a, b), 200_000, 2); // warm up the JIT
  const small = best(() => tf.add(a, b), 1_000_000);
  const m = tf.randomUniform([1024, 1024]);
  tf.matmul(m, m);
  const mm = best(() => tf.matmul(m, m), 10);
  const bigA = tf.ones([16 << 20]), bigB = tf.ones([16 << 20]);
  const big = best(() => tf.add(bigA, bigB), 5);
  return {
    small_add_us: small * 1e6,
    matmul_gflops: 2 * 1024 ** 3 / mm / 1e9,
    add16m_gbps: 3 * 4 * (16 << 20) / big / 1e9,
  };
}

const rows: [string, string, "lower" | "higher", number][] = [
  ["add, 1-element float32 (us/op)", "small_add_us", "lower", 0.5],
  ["matmul 1024x1024 float32 (GFLOP/s)", "matmul_gflops", "higher", 0.95],
  ["add, 16M float32 (GB/s)", "add16m_gbps", "higher", 0.9],
];

/** Autodiff costs (no peer yet: the benchmarks issue adds TensorFlow's). */
function measureAutodiff(): { tapeAddUs: number; gradient10Us: number } {
  const a = tf.constant(new Float32Array([1])), b = tf.constant(new Float32Array([1]));
  const tape = new tf.GradientTape();
  tape.watch(a);
  // Each recorded add is kept by the tape (the input is watched): the cost users pay.
  const tapeAdd = tape.record(() => best(() => tf.add(a, b), 100_000));
  const f = (x: tf.Tensor) => {
    let y = x;
    for (let i = 0; i < 5; i++) y = y.mul(1.01).sin();
    return y;
  };
  const grad = tf.gradientsFunction(f);
  const x = tf.constant(0.5);
  best(() => grad(x), 2_000, 2);
  return { tapeAddUs: tapeAdd * 1e6, gradient10Us: best(() => grad(x), 20_000) * 1e6 };
}

const eager = measureEager();
const autodiff = measureAutodiff();
const numpy = await numpyResults();
console.log(
  `deno-eager vs NumPy ${
    numpy?.numpy ?? "(not available)"
  }, ${navigator.hardwareConcurrency} cores`,
);
console.log("| benchmark | deno-eager | NumPy | ratio | target |");
console.log("|---|---|---|---|---|");
for (const [label, key, better, target] of rows) {
  const ours = eager[key], theirs = numpy ? Number(numpy[key]) : NaN;
  // Ratio > 1 means deno-eager is better.
  const ratio = better === "lower" ? theirs / ours : ours / theirs;
  const goal = better === "lower" ? `<= ${target} us` : `>= ${target * 100}% of NumPy`;
  const met = better === "lower" ? ours <= target : ratio >= target;
  console.log(
    `| ${label} | ${ours.toFixed(3)} | ${theirs.toFixed(3)} | ${ratio.toFixed(2)}x | ${goal} ${
      met ? "(met)" : "(missed)"
    } |`,
  );
}

console.log();
console.log("| autodiff | deno-eager | target |");
console.log("|---|---|---|");
console.log(
  `| add, 1-element float32, recorded by a tape (us/op) | ${autodiff.tapeAddUs.toFixed(3)} | ` +
    `<= 1.5 us ${autodiff.tapeAddUs <= 1.5 ? "(met)" : "(missed)"} |`,
);
console.log(
  `| gradient of a 10-op scalar function (us) | ${autodiff.gradient10Us.toFixed(2)} | - |`,
);
