/**
 * What this process runs on: the library file, the CPU level of its kernels and the BLAS
 * behind matmul and the convolutions (`deno task bench` prints it in its header).
 * @module
 */
import { CPU_LEVELS, type CpuLevel, levelNames } from "../../native/cpu_level.ts";
import { GemmBackend } from "../../native/codes.ts";
import { libraryPath, native } from "../../native/lib.ts";
import { helperInUse } from "../../native/buffers.ts";

/** The answer of {@linkcode runtimeInfo}. */
export interface RuntimeInfo {
  /** Path of the libeager file in use. */
  library: string;
  /** The instruction-set level the kernels run at (`EAGER_CPU` lowers it). */
  cpuLevel: CpuLevel;
  /** Every level this CPU and this library support, lowest first. */
  cpuLevels: CpuLevel[];
  /** The BLAS found at run time, or "built-in kernels" (`EAGER_BLAS` chooses). */
  blas: string;
  /** Whether large float32 products go to oneDNN (Debian's libdnnl) rather than the BLAS. */
  oneDnn: boolean;
  /** Threads of libeager's own pool. */
  threads: number;
  /**
   * Where large op outputs come from: the path of the output buffer helper
   * (libeager_buffers: unzeroed blocks), or "zero-filled ArrayBuffers" without it.
   */
  outputBuffers: string;
}

/**
 * Describes the native side of this process. Finding the BLAS loads it, if that had not
 * happened yet.
 *
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const info = tf.runtimeInfo();
 * console.log(`${info.cpuLevel} kernels, ${info.blas}`);
 * ```
 */
export function runtimeInfo(): RuntimeInfo {
  const blas = native.eager_blas_name();
  return {
    library: libraryPath() ?? "",
    cpuLevel: CPU_LEVELS[native.eager_cpu_level()],
    cpuLevels: levelNames(native.eager_cpu_levels()),
    blas: blas ? new Deno.UnsafePointerView(blas).getCString() : "unknown",
    oneDnn: native.eager_set_gemm_backend(-1) === GemmBackend.ONEDNN,
    threads: native.eager_num_threads(),
    outputBuffers: helperInUse() ?? "zero-filled ArrayBuffers",
  };
}

/** The eager_cpu code of the level the CPU kernels run at now (the WebGPU random fills round
 * as its float32 uniforms do). */
export function cpuLevelCode(): number {
  return native.eager_cpu_level();
}

export { ensureLibrary, setNumThreads } from "../../native/lib.ts";
