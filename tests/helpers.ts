/**
 * Test helpers: closeness checks against reference values, in the spirit of tinygrad's
 * helper_test_op (one call per case).
 * @module
 */
import { AssertionError } from "node:assert";
import { Tensor } from "../src/tensor.ts";
import type { NestedArray } from "../src/tensor.ts";
import { useStandIn } from "./backends/stand_in.ts";
import { placement } from "../src/backend/registry.ts";
import type { DType, TypedArray } from "../src/dtype.ts";

/**
 * The device the op suites run on: the CPU, or with EAGER_TEST_BACKEND=stand-in the
 * stand-in backend (tests/backends/stand_in.ts) as GPU:0 and the default device.
 */
export const TEST_BACKEND = Deno.env.get("EAGER_TEST_BACKEND") ?? "cpu";
if (TEST_BACKEND === "stand-in") useStandIn({ asDefault: true });
else if (TEST_BACKEND !== "cpu") throw new Error(`EAGER_TEST_BACKEND: unknown ${TEST_BACKEND}`);

/**
 * A tensor over a copy of `values` with the given layout, on the default device (the
 * test backend's): what `new Tensor(values, ...)` makes on the CPU.
 */
export function tensorFrom(
  values: TypedArray,
  dtype: DType,
  shape: readonly number[],
  strides?: readonly number[],
  offset?: number,
): Tensor {
  return new Tensor(placement().upload(values, "tensorFrom"), dtype, shape, strides, offset);
}

/** Flattens nested JS arrays (or a tensor) into numbers, with the shape. */
export function flat(value: NestedArray | Tensor): { shape: number[]; values: number[] } {
  if (value instanceof Tensor) {
    return { shape: [...value.shape], values: Array.from(value.dataSync(), Number) };
  }
  const shape: number[] = [];
  let probe: NestedArray = value;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const values = (Array.isArray(value) ? value.flat(Infinity as 1) : [value]) as (
    | number
    | boolean
    | bigint
  )[];
  return { shape, values: values.map(Number) };
}

/** Asserts that a tensor matches expected values (and shape) within tolerances. */
export function assertClose(
  actual: Tensor,
  expected: NestedArray | Tensor,
  { rtol = 1e-5, atol = 1e-6, message = "" } = {},
): void {
  const want = flat(expected);
  const got = flat(actual);
  const where = message ? `${message}: ` : "";
  if (expected instanceof Tensor || Array.isArray(expected)) {
    if (got.shape.join(",") !== want.shape.join(",")) {
      throw new AssertionError({
        message: `${where}shape [${got.shape}] differs from expected [${want.shape}]`,
      });
    }
  }
  if (got.values.length !== want.values.length) {
    throw new AssertionError({
      message: `${where}${got.values.length} values, expected ${want.values.length}`,
    });
  }
  for (let i = 0; i < want.values.length; i++) {
    const a = got.values[i], e = want.values[i];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (a === e) continue;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      throw new AssertionError({
        message: `${where}element ${i}: got ${a}, expected ${e} (rtol ${rtol}, atol ${atol})`,
      });
    }
  }
}

/** Asserts that fn throws an Error whose message matches `pattern`. */
export function assertThrowsMatch(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (error) {
    const message = (error as Error).message;
    if (!pattern.test(message)) {
      throw new AssertionError({ message: `error "${message}" does not match ${pattern}` });
    }
    return;
  }
  throw new AssertionError({ message: `expected an error matching ${pattern}` });
}

/** A seeded pseudo-random source for test data (mulberry32). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n uniform values in [lo, hi) from a seeded source. */
export function randomValues(n: number, seed: number, lo = -1, hi = 1): number[] {
  const next = rng(seed);
  return Array.from({ length: n }, () => lo + (hi - lo) * next());
}

/**
 * Runs deno with `args` in a process of its own (with only `env` when `clearEnv`) and
 * returns its trimmed stdout; a failed run throws with its stderr.
 */
export async function denoOutput(
  args: string[],
  env: Record<string, string> = {},
  clearEnv = false,
): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    env,
    clearEnv,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`the probe failed: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout).trim();
}

export { deepStrictEqual as assertEquals, strictEqual as assertStrictEquals } from "node:assert";
