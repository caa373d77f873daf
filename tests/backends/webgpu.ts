/**
 * The WebGPU device for tests: admits a software adapter (Mesa's llvmpipe in CI,
 * EAGER_ALLOW_SOFTWARE_GPU=1), gives Mesa a runtime directory (without one it prints an error
 * line and works all the same), and finds the adapter. Returns tf.numGpus(): 0 where no adapter
 * exists, and the test files then report their device tests as ignored, by name.
 * @module
 */
import { initGpus } from "../../mod.ts";
import type { Backend } from "../../src/backend/backend.ts";
import { cpuBackend } from "../../src/backend/cpu/backend.ts";
import { cpuView } from "./stand_in.ts";
import type { TypedArray } from "../../src/dtype.ts";
import type { Tensor } from "../../src/tensor.ts";

export async function useWebGpu(): Promise<number> {
  Deno.env.set("EAGER_ALLOW_SOFTWARE_GPU", "1");
  // NOTE: the whole suite's process aborted at exit now and then (glibc: "double free or
  // corruption", "corrupted size vs. prev_size"). A core dump (2026-12-05) showed a Deno thread
  // exiting while glibc ran a thread-specific-data destructor (`free`) on memory already freed;
  // the key was created after the EGL stack's, when Deno's WebGPU made a Vulkan instance. Each
  // test file's worker makes and drops its own instance, loading and unloading Mesa's implicit
  // Vulkan layer VK_LAYER_MESA_device_select (which keeps thread-specific data) and probing
  // wgpu's GL backend through EGL. The tests need neither: one software adapter, Vulkan only.
  Deno.env.set("NODEVICE_SELECT", "1");
  Deno.env.set("DENO_WEBGPU_BACKEND", "vulkan");
  if (!Deno.env.get("XDG_RUNTIME_DIR")) Deno.env.set("XDG_RUNTIME_DIR", Deno.makeTempDirSync());
  return await initGpus();
}

/** Host copies of what the WebGPU run's placement uploaded, by device storage. */
const uploaded = new WeakMap<object, TypedArray>();

/**
 * The placement of the op suites' WebGPU run (EAGER_TEST_BACKEND=webgpu, tests/helpers.ts):
 * new tensors go to `gpu`, but those of float64, a dtype WGSL cannot hold, to the CPU. The
 * suites build their float64 references with the same calls as their inputs; this keeps the
 * references, and those cases run on the CPU as in the CPU run. Every other dtype runs on
 * the device. It also keeps a host copy of each upload, so that a suite can compute its
 * reference from the inputs it made (`uploadedValues`); results are only read back from the
 * device.
 */
export function webGpuTestPlacement(gpu: Backend): Backend {
  const isFloat64 = (arg: unknown) => arg === "float64" || arg instanceof Float64Array;
  // The methods that make new storage without tensor inputs (creation and random ops).
  const makers = new Set(["allocate", "allocateOutput", "upload", "randomFill"]);
  const cpu = cpuBackend as unknown as Record<string | symbol, unknown>;
  return new Proxy(gpu, {
    get(target, name) {
      const method = (target as unknown as Record<string | symbol, unknown>)[name];
      if (typeof method !== "function") return method;
      return (...args: unknown[]) => {
        if (makers.has(name as string) && args.some(isFloat64)) {
          return (cpu[name] as (...a: unknown[]) => unknown).apply(cpuBackend, args);
        }
        const made = method.apply(target, args);
        if (name === "upload") uploaded.set(made as object, (args[0] as TypedArray).slice());
        return made;
      };
    },
  });
}

/**
 * The values of a device tensor that views storage the test placement uploaded (an input the
 * suite made, in any layout), dense and row-major; undefined for anything a kernel wrote.
 */
export function uploadedValues(t: Tensor): TypedArray | undefined {
  const host = uploaded.get(t.storage as object);
  if (!host) return undefined;
  return cpuBackend.readSync(cpuView(t, host) as unknown as Tensor, t.dtype, "uploadedValues");
}
