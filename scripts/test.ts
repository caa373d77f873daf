/**
 * The test runs behind `deno task test`, one `deno test` each, in this order:
 * 1. the whole suite at the best CPU level this machine has;
 * 2. the kernel suites (KERNEL_SUITES) again at each lower level it has (EAGER_CPU), so
 *    one CI run covers v4, v3 and v2 on an AVX-512 machine;
 * 3. the GEMM suites with no BLAS at all (EAGER_BLAS=none: libeager's built-in GEMM), and
 *    the kernel suites again on the stand-in GPU backend (EAGER_TEST_BACKEND=stand-in,
 *    tests/backends/stand_in.ts), which checks that every op goes through the backend seam
 *    (and tf.function's graphs off the CPU), and most of them once more on the WebGPU device
 *    (WEBGPU_SUITES, EAGER_TEST_BACKEND=webgpu: Mesa's llvmpipe, skipped and said so where
 *    Mesa's Vulkan driver is missing);
 * 4. the aarch64 library: cross-built always (a build failure fails the tests), and its
 *    suites run under qemu (scripts/aarch64.ts) unless the emulator cannot be installed
 *    (no root), which is said and skipped.
 * Every run prints deno test's own summary; .ci/run adds them up. Exits non-zero when any
 * run failed, after running them all.
 * @module
 */
import { runtimeInfo } from "../src/backend/cpu/runtime_info.ts";
import {
  AARCH64_SUITES,
  buildAarch64Library,
  ensureAarch64Emulation,
  runAarch64Tests,
} from "./aarch64.ts";
import { softwareVulkanInstalled } from "./toolchain.ts";

/** Test files of the kernels that differ between CPU levels: ops, conv, matmul, pooling,
 * reductions, softmax, gradients, indexing, random numbers, the fused updates and the fused
 * elementwise chains of traced graphs. */
export const KERNEL_SUITES = [
  "array_test.ts",
  "batch_norm_test.ts",
  "conv_grad_test.ts",
  "conv_test.ts",
  "epilogue_test.ts",
  "function_test.ts",
  "gradients_test.ts",
  "indexing_grad_test.ts",
  "indexing_test.ts",
  "losses_test.ts",
  "math_test.ts",
  "matmul_test.ts",
  "nn_test.ts",
  "optimizers_test.ts",
  "random_test.ts",
  "recurrent_test.ts",
  "reduce_test.ts",
  "tape_test.ts",
  "tf_fixtures_test.ts",
  "tf_grads_test.ts",
  // issue 22's ops: their kernels, and the compositions the stand-in GPU checks at the seam
  "activations_test.ts",
  "conv3d_test.ts",
  "conv_more_test.ts",
  "counting_test.ts",
  "einsum_test.ts",
  "image_test.ts",
  "linalg_grad_test.ts",
  "linalg_structure_test.ts",
  "linalg_test.ts",
  "ops_fuzz_test.ts",
  "random_more_test.ts",
  "scan_test.ts",
  "segment_test.ts",
  "sort_test.ts",
];

/**
 * The kernel suites that run again with the WebGPU device as the default (EAGER_TEST_BACKEND=
 * webgpu, Mesa's llvmpipe here: tests/helpers.ts). Left out, each for a reason of its own:
 * linalg_test and linalg_grad_test (the decompositions are not on the device yet: they name
 * it) and ops_fuzz_test (every op's argument errors, 33 s on llvmpipe). Their cases of the
 * device's op families are checked by backend_test.ts's cross-check.
 */
export const WEBGPU_SUITES = KERNEL_SUITES.filter((f) =>
  !["linalg_test.ts", "linalg_grad_test.ts", "ops_fuzz_test.ts"].includes(f)
);

/** Test files whose products go through eager_gemm (matmul, conv's im2col paths, layers). */
export const GEMM_SUITES = [
  "conv_grad_test.ts",
  "conv_test.ts",
  "layers_test.ts",
  "matmul_test.ts",
  "tf_fixtures_test.ts",
];

/**
 * The whole suite's longest files, started first. deno test --parallel runs files in the order
 * given (each once), one per core; in alphabetical order the WebGPU training file (333 s of
 * its tests' time in ci-fresh, 2026-12-06) started late and ran on alone for minutes: the
 * suite took 9m49s for 804 s of test time on 2 cores.
 */
const LONGEST_FILES = [
  "webgpu_training_test.ts",
  "checkpoint_interop_test.ts",
  "distribute_test.ts",
  "rnn_ptb_test.ts",
];

const root = new URL("..", import.meta.url).pathname;

interface Run {
  name: string;
  env: Record<string, string>;
  files: string[];
}

/** What one run left for the closing summary: whether it passed, how it ended, and the lines
 * that name its failures (CI shows only the tail of the log, so they are repeated there). */
interface Outcome {
  name: string;
  ok: boolean;
  ending?: string;
  failures?: string[];
}

// deno test colours its output; failures are found in the text without the colour codes.
// deno-lint-ignore no-control-regex
const COLOUR = /\x1b\[[0-9;]*m/g;
const MAX_ERROR_LINES = 60;

/** The lines naming failed tests, and the start of deno test's ERRORS section. */
function failureLines(log: string): string[] {
  const lines = log.replace(COLOUR, "").split("\n");
  const failed = lines.filter((line) => / \.\.\. FAILED/.test(line));
  const errors = lines.indexOf("ERRORS");
  const section = errors < 0 ? [] : lines.slice(errors, errors + MAX_ERROR_LINES);
  return [...failed, ...section];
}

/** Runs deno test with its output streamed through, keeping a copy to find failures in. */
async function denoTest(run: Run): Promise<Outcome> {
  console.log(`\n[test] ${run.name}`);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["test", "--allow-all", "--parallel", ...run.files],
    cwd: root,
    env: { EAGER_POISON_OUTPUTS: "1", ...run.env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let log = "";
  const decoder = new TextDecoder();
  const copy = async (stream: ReadableStream<Uint8Array>, sink: typeof Deno.stdout) => {
    for await (const chunk of stream) {
      await sink.write(chunk);
      log += decoder.decode(chunk, { stream: true });
    }
  };
  const [status] = await Promise.all([
    child.status,
    copy(child.stdout, Deno.stdout),
    copy(child.stderr, Deno.stderr),
  ]);
  if (status.success) return { name: run.name, ok: true };
  const ending = status.signal ? `killed by ${status.signal}` : `exit code ${status.code}`;
  return { name: run.name, ok: false, ending, failures: failureLines(log) };
}

function runs(): Run[] {
  const info = runtimeInfo();
  const kernels = KERNEL_SUITES.map((f) => `tests/${f}`);
  const list: Run[] = [{
    name: `whole suite at ${info.cpuLevel}`,
    env: {},
    files: [...LONGEST_FILES.map((f) => `tests/${f}`), "tests/"],
  }];
  for (const level of info.cpuLevels.filter((l) => l !== info.cpuLevel).reverse()) {
    list.push({ name: `kernel suites at ${level}`, env: { EAGER_CPU: level }, files: kernels });
  }
  list.push({
    name: "GEMM suites without a BLAS (built-in GEMM)",
    env: { EAGER_BLAS: "none" },
    files: GEMM_SUITES.map((f) => `tests/${f}`),
  });
  list.push({
    name: "kernel suites on the stand-in GPU backend (the backend seam)",
    env: { EAGER_TEST_BACKEND: "stand-in" },
    files: [...kernels, "tests/backend_test.ts", "tests/dispose_test.ts"],
  });
  if (softwareVulkanInstalled()) {
    list.push({
      name: "kernel suites on the WebGPU device (Mesa's llvmpipe)",
      env: { EAGER_TEST_BACKEND: "webgpu" },
      files: WEBGPU_SUITES.map((f) => `tests/${f}`),
    });
  } else {
    console.log("[test] kernel suites on the WebGPU device: skipped, no Mesa Vulkan driver");
  }
  return list;
}

/** Step 4: the aarch64 build, and its suites under emulation. */
async function aarch64(results: Outcome[]): Promise<void> {
  console.log("\n[test] aarch64: cross-build");
  try {
    await buildAarch64Library();
    results.push({ name: "aarch64 cross-build", ok: true });
  } catch (error) {
    console.log(`[test] aarch64 build failed: ${(error as Error).message}`);
    results.push({ name: "aarch64 cross-build", ok: false });
    return;
  }
  try {
    await ensureAarch64Emulation();
  } catch (error) {
    console.log(`[test] aarch64 suites skipped: ${(error as Error).message}`);
    return;
  }
  console.log("\n[test] aarch64 suites under qemu (EAGER_BLAS=none: no arm64 BLAS here)");
  const code = await runAarch64Tests(AARCH64_SUITES);
  results.push({ name: "aarch64 suites under qemu", ok: code === 0, ending: `exit code ${code}` });
}

if (import.meta.main) {
  const results: Outcome[] = [];
  for (const run of runs()) results.push(await denoTest(run));
  await aarch64(results);
  console.log("\n[test] runs:");
  for (const { name, ok, ending } of results) {
    console.log(`[test]   ${ok ? "ok    " : "FAILED"} ${name}${ok ? "" : ` (${ending})`}`);
  }
  for (const { name, ok, failures } of results) {
    if (ok || !failures?.length) continue;
    console.log(`\n[test] what failed in ${name}:`);
    for (const line of failures) console.log(`[test]   ${line}`);
  }
  if (results.some(({ ok }) => !ok)) Deno.exit(1);
}
