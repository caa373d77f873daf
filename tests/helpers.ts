/**
 * Test helpers: closeness checks against reference values, in the spirit of tinygrad's
 * helper_test_op (one call per case).
 * @module
 */
import { AssertionError, deepStrictEqual } from "node:assert";
import { Tensor } from "../src/tensor.ts";
import type { NestedArray } from "../src/tensor.ts";
import { useStandIn } from "./backends/stand_in.ts";
import { gpuBackends, placement, setDefaultPlacement } from "../src/backend/registry.ts";
import { CPU_DEVICE } from "../src/backend/cpu/backend.ts";
import { uploadedValues, useWebGpu, webGpuTestPlacement } from "./backends/webgpu.ts";
import type { DType, TypedArray } from "../src/dtype.ts";

/**
 * The device the op suites run on: the CPU, or with EAGER_TEST_BACKEND=stand-in the
 * stand-in backend (tests/backends/stand_in.ts) as GPU:0 and the default device.
 */
export const TEST_BACKEND = Deno.env.get("EAGER_TEST_BACKEND") ?? "cpu";
if (TEST_BACKEND === "stand-in") useStandIn({ asDefault: true });
else if (TEST_BACKEND === "webgpu") await useWebGpuAsDefault();
else if (TEST_BACKEND !== "cpu") throw new Error(`EAGER_TEST_BACKEND: unknown ${TEST_BACKEND}`);

async function useWebGpuAsDefault(): Promise<void> {
  if ((await useWebGpu()) === 0) {
    throw new Error(
      "EAGER_TEST_BACKEND=webgpu: no WebGPU adapter (apt-get install mesa-vulkan-drivers)",
    );
  }
  setDefaultPlacement(webGpuTestPlacement(gpuBackends()[0]));
  deferChecksToTestEnd();
}

/** Checks waiting for values read asynchronously; each test awaits them before it ends. */
let pendingChecks: Promise<void>[] = [];

/** Queues `check` (which reads a device asynchronously); its failure says where `helper` was
 * called. */
function defer(helper: string, check: () => Promise<void>): void {
  const where = new Error(`${helper} called here`);
  pendingChecks.push(
    check().catch((error) => {
      (error as Error).message += `\n${where.stack}`;
      throw error;
    }),
  );
}

/** Wraps Deno.test so that every test awaits the checks it queued (see assertClose). */
function deferChecksToTestEnd(): void {
  const register = Deno.test.bind(Deno);
  // deno-lint-ignore no-explicit-any
  const wrapFn = (fn: any) => async (t: Deno.TestContext) => {
    let error: unknown, threw = false;
    try {
      await fn(t);
    } catch (e) {
      [error, threw] = [e, true];
    }
    const checks = pendingChecks;
    pendingChecks = [];
    const failed = (await Promise.allSettled(checks)).find((r) => r.status === "rejected");
    if (threw) throw error;
    if (failed) throw (failed as PromiseRejectedResult).reason;
  };
  // deno-lint-ignore no-explicit-any
  (Deno as any).test = (...args: any[]) => {
    const i = args.findIndex((a) => typeof a === "function");
    if (i >= 0) args[i] = wrapFn(args[i]);
    else args[args.length - 1] = { ...args[args.length - 1], fn: wrapFn(args[args.length - 1].fn) };
    // deno-lint-ignore no-explicit-any
    return (register as any)(...args);
  };
}

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

/** Whether the test device is WebGPU (EAGER_TEST_BACKEND=webgpu). */
export const ON_WEBGPU = TEST_BACKEND === "webgpu";

/**
 * The dtypes of `dtypes` the test device holds: all of them, but float64 on WebGPU (WGSL has
 * no 64-bit float; backend_test.ts checks that every op family refuses it there by name).
 */
export function deviceDTypes<D extends DType>(dtypes: readonly D[]): D[] {
  return ON_WEBGPU ? dtypes.filter((d) => d !== "float64") : [...dtypes];
}

/**
 * t on the test device: in the WebGPU run, a CPU tensor (a float32 one cast from a float64
 * reference, say) is copied to the device; elsewhere t itself.
 */
export function toTestDevice(t: Tensor): Tensor {
  return ON_WEBGPU && t.backend.readsSynchronously ? t.gpu() : t;
}

/**
 * A tensor a differentiated function captures, made by `make` once per device it is asked on
 * (the default device when called): in the WebGPU run grad_helpers evaluates a function on the
 * device in float32 and on the CPU in float64. `make` gets the float dtype of that device.
 */
export function perDevice(make: (float: "float32" | "float64") => Tensor): () => Tensor {
  const made = new Map<string, Tensor>();
  return () => {
    const device = placement().device;
    let t = made.get(device);
    if (!t) {
      t = make(device === CPU_DEVICE ? "float64" : "float32");
      if (t.device !== device) t = t.to(device); // made from a CPU tensor: moved there
      made.set(device, t);
    }
    return t;
  };
}

/**
 * In the WebGPU run, a result checked on the CPU would pass for the wrong reason: every
 * tensor a suite checks must be on the device, but float64 ones (which live on the CPU).
 */
function checkPlaced(t: Tensor, helper: string): void {
  if (ON_WEBGPU && t.backend.readsSynchronously && t.dtype !== "float64") {
    throw new AssertionError({
      message: `${helper}: this ${t.dtype} result is on ${t.device}, not on the WebGPU device`,
    });
  }
}

/**
 * t's values now, for computing a reference: dataSync() where the device reads synchronously;
 * in the WebGPU run, the host copy of an input the suite uploaded. A result a kernel wrote
 * on such a device cannot be read this way: check it with assertClose or checkValues.
 */
export function readNow(t: Tensor): TypedArray {
  if (t.backend.readsSynchronously) return t.dataSync();
  const values = uploadedValues(t);
  if (!values) {
    throw new Error(
      `readNow: this ${t.dtype} ${JSON.stringify(t.shape)} tensor was computed on ${t.device}, ` +
        "which is read asynchronously: check it with assertClose or checkValues",
    );
  }
  return values;
}

/** t's value as numpy() gives it, read as readNow reads (an input the suite made). */
export function numpyNow(t: Tensor): NestedArray {
  if (t.backend.readsSynchronously) return t.numpy();
  return new Tensor(readNow(t), t.dtype, t.shape).numpy(); // a CPU tensor over the copy
}

/** Asserts that two tensors have the same dtype, shape and values (NaN equal to NaN). */
export function assertSame(actual: Tensor, expected: Tensor, message = ""): void {
  const where = message ? `${message}: ` : "";
  if (actual.dtype !== expected.dtype || actual.shape.join(",") !== expected.shape.join(",")) {
    throw new AssertionError({
      message: `${where}${actual.dtype} [${actual.shape}] differs from ${expected.dtype} ` +
        `[${expected.shape}]`,
    });
  }
  assertClose(actual, expected, { rtol: 0, atol: 0, message });
}

/**
 * Runs `check` on t's values: at once where the device reads synchronously, else when they
 * arrive (before the test ends: see deferChecksToTestEnd).
 */
export function checkValues(t: Tensor, check: (values: TypedArray) => void): void {
  checkPlaced(t, "checkValues");
  if (t.backend.readsSynchronously) {
    check(t.dataSync());
    return;
  }
  defer("checkValues", async () => check(await t.data()));
}

/**
 * Asserts that t's value, as numpy() or array() gives it, deep-equals `expected`: at once
 * where the device reads synchronously, else before the test ends.
 */
export function assertArray(t: Tensor, expected: unknown, message?: string): void {
  checkPlaced(t, "assertArray");
  if (t.backend.readsSynchronously) {
    deepStrictEqual(t.numpy(), expected, message);
    return;
  }
  defer("assertArray", async () => deepStrictEqual(await t.array(), expected, message));
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
  options: { rtol?: number; atol?: number; message?: string; onCpu?: boolean } = {},
): void {
  // onCpu: the tensor lives on the CPU by design on every device (an optimizer's beta powers).
  if (!options.onCpu) checkPlaced(actual, "assertClose");
  const readLater = (x: unknown) => x instanceof Tensor && !x.backend.readsSynchronously;
  if (readLater(actual) || readLater(expected)) {
    defer("assertClose", async () => {
      const got = await flatAsync(actual);
      const want = expected instanceof Tensor ? await flatAsync(expected) : flat(expected);
      compareFlat(got, want, expected, options);
    });
    return;
  }
  compareFlat(flat(actual), flat(expected), expected, options);
}

async function flatAsync(t: Tensor): Promise<{ shape: number[]; values: number[] }> {
  return { shape: [...t.shape], values: Array.from(await t.data(), Number) };
}

function compareFlat(
  got: { shape: number[]; values: number[] },
  want: { shape: number[]; values: number[] },
  expected: NestedArray | Tensor,
  { rtol = 1e-5, atol = 1e-6, message = "" } = {},
): void {
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
