/**
 * The WebGPU device for tests: admits a software adapter (Mesa's llvmpipe in CI,
 * EAGER_ALLOW_SOFTWARE_GPU=1), gives Mesa a runtime directory (without one it prints an error
 * line and works all the same), and finds the adapter. Returns tf.numGpus(): 0 where no adapter
 * exists, and the test files then report their device tests as ignored, by name.
 * @module
 */
import { initGpus } from "../../mod.ts";

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
