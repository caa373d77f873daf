/**
 * libeager for aarch64, built with the pinned Zig and tested under user-mode emulation
 * (docs/aarch64.md):
 * - `deno run --allow-all scripts/aarch64.ts build [--force]` cross-builds
 *   `zig-out/aarch64/lib/libeager.so` (the host build in zig-out/lib is untouched);
 * - `deno run --allow-all scripts/aarch64.ts test [files...]` builds when needed, then runs
 *   `deno test` with npm's arm64 Deno under Debian's qemu-aarch64 (default: AARCH64_SUITES).
 *
 * What it installs, once: Debian's qemu-user, libc6-arm64-cross and libgcc-s1-arm64-cross
 * (as root; a clear error otherwise) and npm's `@deno/linux-arm64-glibc` into
 * .toolchain/deno-arm64-<version>/ (git-ignored), its tarball checked against a pinned
 * sha512.
 *
 * Decisions, with what was measured on the project's 2-core x86-64 VM (qemu 7.2):
 * - QEMU_CPU=neoverse-n1 (the core of AWS Graviton2 and Ampere Altra; set QEMU_CPU to
 *   override). qemu's default `max` CPU emulates pointer authentication with the QARMA5
 *   cipher, and Debian's arm64 glibc and Deno sign return addresses: JS that allocates ran
 *   5-10x slower (a 262,144-element `Array.from` 3.5 s against 0.74 s; `deno run` of a
 *   one-line script 2.3 s against 1.3 s). `max,pauth-impdef=on` avoids the cipher but ran
 *   the 17 kernel suites in 101-146 s against 87-88 s here.
 * - `deno test --no-check`: type checking is the same on every architecture and
 *   `deno task check` does it on the host; under emulation it cost 70-90 s even for a
 *   one-test file (1.7 s without).
 * - EAGER_BLAS=none: the sysroot has no arm64 BLAS, so every product runs libeager's
 *   built-in GEMM, the path an aarch64 machine without OpenBLAS takes.
 * - A DENO_DIR of its own (.toolchain/deno-arm64-<version>/cache), so the two binaries never
 *   overwrite each other's V8 code cache.
 * - QEMU_LD_PREFIX in the environment rather than `-L`: a child process inherits it, so a
 *   test that spawns `Deno.execPath()` works where binfmt_misc runs arm64 binaries through
 *   qemu. binfmt_misc is not mounted on this VM (nor on most CI containers), so such a child
 *   exits with code 127 and no output: AARCH64_SUITES leaves those files out.
 *
 * Measured: see docs/aarch64.md (deno startup 1.2 s, one-test file 1.7 s, each suite alone
 * 2.4-24 s, AARCH64_SUITES with `--parallel` under 2 minutes, 10 minutes with qemu's
 * default CPU).
 * @module
 */
import { readStamp, sourceDigest } from "./build.ts";
import { writeGenerated } from "./kernel_abi.ts";
import { ensureZig, exists, run } from "./toolchain.ts";

/** The arm64 Deno from npm, the host's version (deno.json's tasks run deno@2.9.6). */
export const DENO_ARM64_VERSION = "2.9.6";
/** npm's `dist.integrity` of `@deno/linux-arm64-glibc@2.9.6`. */
const DENO_ARM64_INTEGRITY =
  "sha512-poqhoH9B3nYloigEMPT5t8HY+wBeiuea1An5Q7fqgJzP0SYmWsoS/oUnWO/pEiA4ofzIBy1Elt/in58xKtxEoQ==";
/** The glibc floor of the build: 2.28 (Debian 10, RHEL 8, Ubuntu 18.10) and newer run it. */
export const AARCH64_TARGET = "aarch64-linux-gnu.2.28";
/** Where Debian's libc6-arm64-cross puts the arm64 loader and libraries. */
export const SYSROOT = "/usr/aarch64-linux-gnu";
const DEBIAN_PACKAGES = ["qemu-user", "libc6-arm64-cross", "libgcc-s1-arm64-cross"];
const QEMU = "qemu-aarch64";

/**
 * Test files run under emulation (about 2 minutes, docs/aarch64.md): every kernel suite
 * (elementwise math, reductions, matmul, conv and pooling, softmax and nn, indexing, random
 * numbers, fused updates, gradients, TensorFlow's fixtures), the ABI check, the fuzz test
 * (malformed calls reach the kernels' status paths), layers and tensor storage. Left out:
 * tests/tape_test.ts and tests/cpu_level_test.ts (they spawn a child deno, see above), the
 * GEMM-backend and output-buffer tests (children too, and x86 libraries), the interop tests
 * (Python), and suites whose code is TypeScript and files, the same on every architecture.
 */
export const AARCH64_SUITES = [
  "array_test.ts",
  "batch_norm_test.ts",
  "conv_grad_test.ts",
  "conv_test.ts",
  "epilogue_test.ts",
  "fuzz_test.ts",
  "gradients_test.ts",
  "image_test.ts",
  "indexing_grad_test.ts",
  "indexing_test.ts",
  "layers_test.ts",
  "losses_test.ts",
  "math_test.ts",
  "matmul_test.ts",
  "native_test.ts",
  "nn_test.ts",
  "ops_fuzz_test.ts",
  "optimizers_test.ts",
  "random_test.ts",
  "recurrent_test.ts",
  "reduce_test.ts",
  "scan_test.ts",
  "segment_test.ts",
  "sort_test.ts",
  "tensor_test.ts",
  "tf_fixtures_test.ts",
  "tf_grads_test.ts",
].map((name) => `tests/${name}`);

const root = new URL("..", import.meta.url).pathname;
const denoDir = `${root}.toolchain/deno-arm64-${DENO_ARM64_VERSION}`;
/** The arm64 Deno binary, once ensureAarch64Emulation() has run. */
export const denoArm64Path = `${denoDir}/deno`;
/** The install prefix of the aarch64 build (zig-out/lib stays the host's). */
export const aarch64Prefix = `${root}zig-out/aarch64`;
/** The aarch64 library that buildAarch64Library() makes. */
export const aarch64LibPath = `${aarch64Prefix}/lib/libeager.so`;
const stampPath = `${aarch64Prefix}/lib/.sources`;

/** A step of this script: toolchain.ts's run, its messages tagged [aarch64]. */
function step(cmd: string, args: string[], what: string, env: Record<string, string> = {}) {
  return run(cmd, args, what, { tag: "aarch64", env });
}

function onPath(name: string): boolean {
  const dirs = (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":");
  return dirs.some((dir) => exists(`${dir}/${name}`));
}

/** Debian's qemu-user and arm64 runtime libraries, installed when missing (needs root). */
async function ensureDebianPackages(): Promise<void> {
  const present = onPath(QEMU) && exists(`${SYSROOT}/lib/ld-linux-aarch64.so.1`) &&
    exists(`${SYSROOT}/lib/libgcc_s.so.1`);
  if (present) return;
  const install = `apt-get install -y ${DEBIAN_PACKAGES.join(" ")}`;
  if (Deno.uid() !== 0) {
    throw new Error(
      `[aarch64] qemu-aarch64 or the arm64 C runtime is missing: run \`sudo ${install}\``,
    );
  }
  const quiet = { DEBIAN_FRONTEND: "noninteractive" };
  await step("apt-get", ["update", "-qq"], "updating Debian's package lists", quiet);
  await step(
    "apt-get",
    ["install", "-y", "-qq", "--no-install-recommends", ...DEBIAN_PACKAGES],
    "installing qemu-user and the arm64 C runtime",
    quiet,
  );
}

async function sha512Integrity(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-512", Deno.readFileSync(path));
  return `sha512-${btoa(String.fromCharCode(...new Uint8Array(digest)))}`;
}

/**
 * npm's arm64 Deno into .toolchain/, once. `npm pack` fetches the tarball without
 * installing it, so npm's os/cpu check for this x86-64 host never applies.
 */
async function ensureDenoArm64(): Promise<void> {
  if (exists(denoArm64Path)) return;
  if (!onPath("npm")) throw new Error("[aarch64] npm is missing: it fetches the arm64 Deno");
  const parent = `${root}.toolchain`;
  Deno.mkdirSync(parent, { recursive: true });
  const work = Deno.makeTempDirSync({ dir: parent, prefix: ".deno-arm64-" });
  try {
    const spec = `@deno/linux-arm64-glibc@${DENO_ARM64_VERSION}`;
    await step("npm", ["pack", "--silent", "--pack-destination", work, spec], `fetching ${spec}`);
    const tarball = `${work}/deno-linux-arm64-glibc-${DENO_ARM64_VERSION}.tgz`;
    const integrity = await sha512Integrity(tarball);
    if (integrity !== DENO_ARM64_INTEGRITY) {
      throw new Error(`[aarch64] ${spec} has ${integrity}, expected ${DENO_ARM64_INTEGRITY}`);
    }
    await step("tar", ["-xzf", tarball, "-C", work, "package/deno"], "unpacking the arm64 Deno");
    Deno.mkdirSync(`${work}/out`);
    Deno.renameSync(`${work}/package/deno`, `${work}/out/deno`);
    // NOTE: rename of a whole folder, so a half-unpacked binary never looks installed.
    Deno.renameSync(`${work}/out`, denoDir);
  } finally {
    Deno.removeSync(work, { recursive: true });
  }
}

/** The environment every emulated process gets (see the module's decisions). */
function emulationEnv(): Record<string, string> {
  return {
    QEMU_LD_PREFIX: SYSROOT,
    QEMU_CPU: Deno.env.get("QEMU_CPU") ?? "neoverse-n1",
    DENO_DIR: `${denoDir}/cache`,
  };
}

/**
 * Installs what emulation needs when missing (Debian packages as root, the arm64 Deno from
 * npm) and checks that the arm64 Deno starts. Returns the arm64 Deno's path.
 * @example
 * ```ts
 * import { ensureAarch64Emulation } from "./aarch64.ts";
 * const deno = await ensureAarch64Emulation(); // .toolchain/deno-arm64-2.9.6/deno
 * ```
 */
export async function ensureAarch64Emulation(): Promise<string> {
  await ensureDebianPackages();
  await ensureDenoArm64();
  const out = await new Deno.Command(QEMU, {
    args: [denoArm64Path, "--version"],
    env: emulationEnv(),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success || !text.includes("aarch64")) {
    const stderr = new TextDecoder().decode(out.stderr);
    throw new Error(`[aarch64] ${QEMU} ${denoArm64Path} --version failed: ${stderr}${text}`);
  }
  return denoArm64Path;
}

/**
 * Cross-builds libeager for aarch64 into zig-out/aarch64/ with the pinned Zig, unless the
 * library there was built from the current sources (scripts/build.ts's digest, kept in
 * zig-out/aarch64/lib/.sources with the target). Returns the library's path.
 * @example
 * ```ts
 * import { buildAarch64Library } from "./aarch64.ts";
 * const lib = await buildAarch64Library(); // zig-out/aarch64/lib/libeager.so
 * ```
 */
export async function buildAarch64Library(force = false): Promise<string> {
  for (const path of writeGenerated()) console.error(`[aarch64] regenerated ${path}`);
  const stamp = `${await sourceDigest()} ${AARCH64_TARGET}`;
  if (!force && readStamp(aarch64LibPath, stampPath) === stamp) return aarch64LibPath;
  const zig = await ensureZig();
  await step(zig, [
    "build",
    `-Dtarget=${AARCH64_TARGET}`,
    "-Doptimize=ReleaseFast",
    "--prefix",
    aarch64Prefix,
  ], "cross-building libeager");
  Deno.writeTextFileSync(stampPath, stamp + "\n");
  return aarch64LibPath;
}

/** Options of runAarch64Tests. */
export interface Aarch64TestOptions {
  /** More environment for the tests (EAGER_POISON_OUTPUTS=1 and EAGER_BLAS=none are set). */
  env?: Record<string, string>;
  /** Pass `--parallel` to deno test (default true: qemu runs each guest thread on a core). */
  parallel?: boolean;
  /** The aarch64 library to test (default: the build's, aarch64LibPath; or dist/'s file). */
  library?: string;
}

/**
 * Runs `deno test --allow-all --no-check` on `files` with the arm64 Deno under
 * qemu-aarch64, EAGER_LIB naming the aarch64 library, output streamed. Sets emulation up
 * when missing; the library must be built (buildAarch64Library, or `deno task dist` for
 * the release file). Returns the exit code.
 * @example
 * ```ts
 * import { AARCH64_SUITES, buildAarch64Library, runAarch64Tests } from "./aarch64.ts";
 * await buildAarch64Library();
 * const code = await runAarch64Tests(AARCH64_SUITES);
 * ```
 */
export async function runAarch64Tests(
  files: string[],
  { env = {}, parallel = true, library = aarch64LibPath }: Aarch64TestOptions = {},
): Promise<number> {
  if (!exists(library)) {
    throw new Error(
      `[aarch64] ${library} is missing: run \`deno run -A scripts/aarch64.ts build\``,
    );
  }
  const deno = await ensureAarch64Emulation();
  const args = [deno, "test", "--allow-all", "--no-check", ...(parallel ? ["--parallel"] : [])];
  console.error(`[aarch64] ${QEMU} ${[...args, ...files].join(" ")}`);
  const { code } = await new Deno.Command(QEMU, {
    args: [...args, ...files],
    cwd: root,
    env: {
      ...emulationEnv(),
      EAGER_LIB: library,
      EAGER_BLAS: "none",
      EAGER_POISON_OUTPUTS: "1",
      ...env,
    },
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  return code;
}

async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === "build") {
    console.error(`[aarch64] ${await buildAarch64Library(rest.includes("--force"))} is up to date`);
    return 0;
  }
  if (command === "test") {
    await buildAarch64Library();
    // runAarch64Tests runs in the repository root: files named here are the caller's.
    const files = rest.map((file) => new URL(file, `file://${Deno.cwd()}/`).pathname);
    return await runAarch64Tests(files.length ? files : AARCH64_SUITES);
  }
  console.error("usage: deno run --allow-all scripts/aarch64.ts build [--force] | test [files...]");
  return 2;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    console.error((error as Error).message);
    Deno.exit(1);
  }
}
