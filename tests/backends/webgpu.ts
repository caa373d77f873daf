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
  if (!Deno.env.get("XDG_RUNTIME_DIR")) Deno.env.set("XDG_RUNTIME_DIR", Deno.makeTempDirSync());
  return await initGpus();
}
