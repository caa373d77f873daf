/**
 * Throws many malformed calls at the ops: every one must either work or raise an Error
 * whose message names the op. A crash of the process fails the whole run.
 */
import * as tf from "../mod.ts";
import { rng } from "./helpers.ts";

const next = rng(12345);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];

// NOTE: no sizes between 2^31 and the element limit: a call asking for 8 GB legitimately
// allocates it, which makes a slow fuzzer, not a finding.
const WEIRD_NUMBERS = [0, -1, 1, 2, 3, NaN, Infinity, -Infinity, 0.5, -7, 2 ** 40, 2 ** 53, 1e300];
const DTYPES = ["float32", "float64", "int32", "int64", "uint8", "bool", "float16", "", undefined];

function randomShape(): number[] {
  const rank = Math.floor(next() * 10);
  return Array.from(
    { length: rank },
    () => (next() < 0.1 ? pick(WEIRD_NUMBERS) : Math.floor(next() * 4)),
  );
}

function randomTensor(): unknown {
  const kind = Math.floor(next() * 8);
  try {
    switch (kind) {
      case 0:
        return pick(WEIRD_NUMBERS);
      case 1:
        return [[1, 2], [3]];
      case 2:
        return pick(["a", undefined, {}, [undefined], [[[]]], Symbol.iterator]);
      case 3:
        return tf.zeros(
          randomShape().map((d) => Math.abs(Math.floor(d)) % 4),
          pick(["float32", "int32", "bool", "int64", "uint8", "float64"]),
        );
      case 4:
        return tf.constant([NaN, Infinity, -Infinity, 1]);
      case 5:
        return tf.range(12).reshape([3, 4]).transpose();
      case 6:
        return tf.reverse(tf.ones([2, 3, 1]), [0, 1]);
      default:
        return tf.broadcastTo([1, 2, 3], [2, 3]);
    }
  } catch {
    return 1;
  }
}

function randomArg(): unknown {
  const kind = Math.floor(next() * 6);
  if (kind === 0) return randomTensor();
  if (kind === 1) return randomShape();
  if (kind === 2) return pick(WEIRD_NUMBERS);
  if (kind === 3) return pick(DTYPES);
  if (kind === 4) {
    return {
      keepDims: next() < 0.5,
      axis: pick(WEIRD_NUMBERS),
      transposeA: true,
      mode: pick(["REFLECT", "X"]),
    };
  }
  return [[pick(WEIRD_NUMBERS), 1], [0, pick(WEIRD_NUMBERS)]];
}

function describe(a: unknown): string {
  if (a instanceof tf.Tensor) return `Tensor${JSON.stringify(a.shape)}:${a.dtype}`;
  try {
    return JSON.stringify(a) ?? String(a);
  } catch {
    return typeof a;
  }
}

// deno-lint-ignore no-explicit-any
const OPS: [string, (...args: any[]) => unknown][] = Object.entries(tf)
  .filter(([name, v]) =>
    typeof v === "function" && /^[a-z]/.test(name) &&
    !["setNumThreads", "device"].includes(name)
  )
  // deno-lint-ignore no-explicit-any
  .map(([name, v]) => [name, v as any]);
// The namespaces' functions too (their classes are constructed in their own tests).
for (
  const [prefix, namespace] of Object.entries({
    nn: tf.nn,
    math: tf.math,
    linalg: tf.linalg,
    image: tf.image,
    random: tf.random,
    losses: tf.losses,
    layers: tf.layers,
    train: tf.train,
    initializers: tf.initializers,
    summary: tf.summary,
    io: tf.io,
    data: tf.data,
  })
) {
  for (const [name, v] of Object.entries(namespace)) {
    // These write files or directories named by their (here random) string arguments.
    const writes = ["createSummaryFileWriter", "saveNpy", "saveNpz"].includes(name);
    if (typeof v !== "function" || !/^[a-z]/.test(name) || writes) continue;
    // deno-lint-ignore no-explicit-any
    OPS.push([`${prefix}.${name}`, v as any]);
  }
}

Deno.test("200,000 malformed op calls raise clear errors and never crash the process", () => {
  let errors = 0;
  const bad = new Map<string, string>();
  const slow: string[] = [];
  for (let i = 0; i < 200_000; i++) {
    const [name, fn] = pick(OPS);
    const args = Array.from({ length: Math.floor(next() * 4) }, randomArg);
    const start = performance.now();
    try {
      const out = fn(...args);
      if (out instanceof tf.Tensor) out.dataSync();
    } catch (error) {
      errors++;

      const message = error instanceof Error ? error.message : `a non-Error: ${String(error)}`;
      // An error must say which op failed (the op's own name or the op it called).
      if (
        !(error instanceof Error) ||
        (!/^[a-zA-Z0-9_.]+: /.test(message) && !/libeager/.test(message))
      ) {
        bad.set(name, `${name}(${args.map(describe).join(", ")}) threw "${message}"`);
      }
    }
    const ms = performance.now() - start;
    if (ms > 50) slow.push(`${ms.toFixed(0)} ms ${name}(${args.map(describe).join(", ")})`);
  }
  if (slow.length) console.log(slow.slice(0, 20).join("\n"));
  if (bad.size > 0) throw new Error([...bad.values()].join("\n"));
  if (errors === 0) throw new Error("the fuzzer produced no errors: it is not fuzzing");
});

// deno-lint-ignore no-explicit-any
type AnyClass = new (...args: any[]) => any;
const CLASSES: [string, AnyClass][] = [
  ...Object.entries(tf.layers),
  ...Object.entries(tf.train),
  ...Object.entries(tf.metrics),
].filter(([name, v]) =>
  typeof v === "function" && /^[A-Z]/.test(name) &&
  !["Layer", "Optimizer", "Metric", "MeanMetric"].includes(name)
) as [string, AnyClass][];

Deno.test("20,000 malformed layer, optimizer and metric constructions and calls raise clear errors", () => {
  const bad = new Map<string, string>();
  let errors = 0;
  for (let i = 0; i < 20_000; i++) {
    const [name, Class] = pick(CLASSES);
    const args = Array.from({ length: Math.floor(next() * 3) }, randomArg);
    const callArgs = Array.from({ length: 1 + Math.floor(next() * 2) }, randomArg);
    let stage = "new";
    try {
      const object = new Class(...args);
      stage = "call";
      if (object instanceof tf.layers.Layer) object.apply(callArgs[0], callArgs[1] as never);
      else if ("applyGradients" in object) object.applyGradients(callArgs[0], callArgs[1]);
      else object.update(callArgs[0], callArgs[1]);
    } catch (error) {
      errors++;
      const message = error instanceof Error ? error.message : `a non-Error: ${String(error)}`;
      if (!(error instanceof Error) || !/^[a-zA-Z0-9_.]+: /.test(message)) {
        bad.set(
          `${name} ${stage}`,
          `${stage} ${name}(${args.map(describe).join(", ")}) then (${
            callArgs.map(describe).join(", ")
          }) threw "${message}"`,
        );
      }
    }
  }
  if (bad.size > 0) throw new Error([...bad.values()].join("\n"));
  if (errors === 0) throw new Error("the fuzzer produced no errors: it is not fuzzing");
});
