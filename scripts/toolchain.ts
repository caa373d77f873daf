/**
 * Installs what building libeager needs, on a bare machine, without touching the
 * system beyond Debian's OpenBLAS and oneDNN packages:
 * - Zig from PyPI (the `ziglang` wheel, pinned) into .toolchain/ (git-ignored);
 * - OpenBLAS (libopenblas0, optional: csrc/blas.c loads it at run time) from Debian when
 *   missing and this runs as root;
 * - (for the tests) Fashion-MNIST, Mesa's software Vulkan and Open MPI, the same way;
 * - libdnnl2 (oneDNN, optional: csrc/kernels/gemm.c loads it at run time for large float32
 *   GEMMs) from Debian when missing and this runs as root.
 * @module
 */

/** The pinned Zig: build.zig uses the 0.15 build API. */
export const ZIG_VERSION = "0.15.2";

const root = new URL("..", import.meta.url).pathname;
const zigDir = `${root}.toolchain/zig-${ZIG_VERSION}`;
export const zigPath = `${zigDir}/ziglang/zig`;

/** Whether `path` exists (any kind of file). */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Where a step runs from, for its messages, and the environment it adds. */
export interface StepOptions {
  /** The bracketed prefix of its messages (default "toolchain"). */
  tag?: string;
  env?: Record<string, string>;
}

/** Runs one install or build step with its output shown; throws naming `what` if it fails. */
export async function run(
  cmd: string,
  args: string[],
  what: string,
  { tag = "toolchain", env = {} }: StepOptions = {},
): Promise<void> {
  console.error(`[${tag}] ${what}: ${cmd} ${args.join(" ")}`);
  const { code } = await new Deno.Command(cmd, { args, env, stdout: "inherit", stderr: "inherit" })
    .output();
  if (code !== 0) throw new Error(`[${tag}] ${what} failed (exit ${code})`);
}

/** Zig from PyPI into .toolchain/, once. Returns the zig binary's path. */
export async function ensureZig(): Promise<string> {
  if (exists(zigPath)) return zigPath;
  const python = exists("/usr/bin/python3") ? "python3" : "python";
  await run(python, [
    "-m",
    "pip",
    "install",
    "--quiet",
    "--disable-pip-version-check",
    "--no-warn-script-location",
    "--target",
    zigDir,
    `ziglang==${ZIG_VERSION}`,
  ], `installing Zig ${ZIG_VERSION} from PyPI`);
  if (!exists(zigPath)) throw new Error(`[toolchain] Zig was installed but ${zigPath} is missing`);
  return zigPath;
}

/** Whether a system OpenBLAS that csrc/blas.c finds with dlopen is installed. */
export function openBlasInstalled(): boolean {
  const arch = Deno.build.arch === "aarch64" ? "aarch64" : "x86_64";
  return ["libopenblas.so.0", "openblas-pthread/libopenblas.so.0"].some((name) =>
    exists(`/usr/lib/${arch}-linux-gnu/${name}`)
  );
}

/**
 * Debian's OpenBLAS, loaded at run time (csrc/blas.c): the build does not need it, and
 * without it matmul and the convolutions run on libeager's built-in GEMM, slower.
 */
export function ensureOpenBlas(): Promise<void> {
  return ensureOptionalPackage(
    "libopenblas0",
    "OpenBLAS",
    openBlasInstalled(),
    "matmul and convolutions run on built-in kernels, slower",
  );
}

/**
 * An optional Debian package: installed when `present` is false and this runs as root;
 * otherwise, or when apt-get fails, `note` (what the project does without it) is printed
 * and nothing fails.
 */
async function ensureOptionalPackage(
  name: string,
  what: string,
  present: boolean,
  note: string,
): Promise<void> {
  if (present) return;
  const missing = `[toolchain] ${what} is missing (\`sudo apt-get install ${name}\`): ${note}`;
  if (Deno.uid() !== 0) {
    console.error(missing);
    return;
  }
  try {
    await run("apt-get", ["update", "-qq"], "updating Debian's package lists");
    await run("apt-get", ["install", "-y", "-qq", name], `installing ${what}`);
  } catch (error) {
    console.error(`${(error as Error).message}\n${missing}`);
  }
}

/** Whether Debian's libdnnl2 (or a libdnnl.so.3, which csrc/kernels/gemm.c also takes) is there. */
export function oneDnnInstalled(): boolean {
  return ["libdnnl.so.2", "libdnnl.so.3"].some((name) =>
    exists(`/usr/lib/x86_64-linux-gnu/${name}`)
  );
}

/**
 * Debian's oneDNN (csrc/kernels/gemm.c loads it at run time for large float32 GEMMs). Without it
 * those run on OpenBLAS, slower, and the test that compares the two is skipped.
 */
export function ensureOneDnn(): Promise<void> {
  return ensureOptionalPackage(
    "libdnnl2",
    "oneDNN",
    oneDnnInstalled(),
    "large float32 GEMMs run on OpenBLAS",
  );
}

/** Where Debian's dataset-fashion-mnist puts its IDX files. */
export const FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";

/** Debian's Fashion-MNIST (the examples' `--data fashion` and its test). */
export function ensureFashionMnist(): Promise<void> {
  return ensureOptionalPackage(
    "dataset-fashion-mnist",
    "Fashion-MNIST",
    exists(`${FASHION_MNIST_DIR}/train-images-idx3-ubyte.gz`),
    "its test is skipped",
  );
}

/** Whether Mesa's software Vulkan driver (lavapipe) is installed. */
export function softwareVulkanInstalled(): boolean {
  return exists("/usr/share/vulkan/icd.d/lvp_icd.x86_64.json") ||
    exists("/usr/share/vulkan/icd.d/lvp_icd.aarch64.json");
}

/** Mesa's Vulkan drivers: Deno's WebGPU then finds the llvmpipe software adapter. */
export function ensureSoftwareVulkan(): Promise<void> {
  return ensureOptionalPackage(
    "mesa-vulkan-drivers",
    "Mesa's Vulkan drivers (a software GPU for WebGPU)",
    softwareVulkanInstalled(),
    "the WebGPU tests are reported as ignored and their suites' WebGPU run is skipped",
  );
}

/** Whether Open MPI's launcher and library (or another MPI's mpirun) are installed. */
export function mpiInstalled(): boolean {
  return exists("/usr/bin/mpirun");
}

/**
 * Debian's Open MPI (csrc/mpi.c loads libmpi at run time; tf.distribute's tests start ranks
 * with its mpirun). Without it those tests are reported as ignored.
 */
export function ensureOpenMpi(): Promise<void> {
  return ensureOptionalPackage(
    "openmpi-bin",
    "Open MPI",
    mpiInstalled(),
    "the tf.distribute tests are reported as ignored",
  );
}

/** Where ensureMpich unpacks Debian's MPICH (git-ignored). */
export const MPICH_DIR = `${root}.toolchain/mpich`;

/** MPICH's library, launcher and proxy, if ensureMpich unpacked them. */
export function mpichPaths(): { lib: string; bin: string } | undefined {
  const arch = Deno.build.arch === "aarch64" ? "aarch64" : "x86_64";
  const lib = `${MPICH_DIR}/usr/lib/${arch}-linux-gnu`, bin = `${MPICH_DIR}/usr/bin`;
  return exists(`${lib}/libmpich.so.12`) && exists(`${bin}/mpiexec.hydra`)
    ? { lib, bin }
    : undefined;
}

/**
 * Debian's MPICH (libmpich12, its hydra launcher and the libslurm it links) unpacked into
 * .toolchain/mpich without installing it: installed, its alternatives would take over
 * Open MPI's mpicc and mpiexec. The tests run the collectives under MPICH's ABI with it; its
 * other libraries (hwloc, UCX) come with Open MPI's packages. Without it that test is ignored.
 */
export async function ensureMpich(): Promise<void> {
  if (mpichPaths() || !exists("/usr/bin/apt-get")) return;
  const debs = `${MPICH_DIR}/debs`;
  Deno.mkdirSync(debs, { recursive: true });
  const download = () =>
    new Deno.Command("apt-get", {
      args: ["download", "-qq", "libmpich12", "mpich", "libslurm38"],
      cwd: debs,
      stdout: "null",
      stderr: "piped",
    }).output();
  try {
    console.error("[toolchain] unpacking Debian's MPICH into .toolchain/mpich (for its test)");
    let out = await download();
    if (!out.success && Deno.uid() === 0) {
      await run("apt-get", ["update", "-qq"], "updating Debian's package lists");
      out = await download();
    }
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr).trim());
    for (const entry of Deno.readDirSync(debs)) {
      await run("dpkg-deb", ["-x", `${debs}/${entry.name}`, MPICH_DIR], `unpacking ${entry.name}`);
    }
  } catch (error) {
    console.error(
      `[toolchain] MPICH could not be unpacked (${(error as Error).message}): its test is ignored`,
    );
  }
}

if (import.meta.main && Deno.args[0] === "test-data") {
  await ensureFashionMnist();
  await ensureSoftwareVulkan();
  await ensureOpenMpi();
  await ensureMpich();
}
